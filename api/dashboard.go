package api

import (
	"context"
	"net/http"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

type snapKey struct{}

func withSnapshot(ctx context.Context, s *warehouse.Snapshot) context.Context {
	return context.WithValue(ctx, snapKey{}, s)
}

// snapshotOf is the snapshot a request reads from start to end.
func (s *Server) snapshotOf(r *http.Request) *warehouse.Snapshot {
	if snap, ok := r.Context().Value(snapKey{}).(*warehouse.Snapshot); ok {
		return snap
	}
	return s.wh.Snapshot()
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	has, first := s.snapshotOf(r).Summary(tenantOf(r))
	var j jw
	j.raw(`{"hasData":`)
	j.bool(has)
	j.raw(`,"firstDataSet":`)
	if has {
		j.time(first)
	} else {
		j.null()
	}
	j.byte('}')
	writeJSON(w, http.StatusOK, j.b)
}

// ExportTypes are the report formats the server writes.
var ExportTypes = []string{"csv", "xlsx", "parquet"}

func (s *Server) reportConfigurations(w http.ResponseWriter, r *http.Request) {
	var j jw
	j.raw(`{"maxSample":`)
	j.int(int64(s.cfg.MaxSample))
	j.raw(`,"availableExportTypes":[`)
	for i, t := range ExportTypes {
		if i > 0 {
			j.byte(',')
		}
		j.str(t)
	}
	j.raw(`]}`)
	writeJSON(w, http.StatusOK, j.b)
}

// analyticsRange parses the shared analytics parameters, answering 400 itself.
func (s *Server) analyticsRange(w http.ResponseWriter, r *http.Request) (Range, *calendar.Calendar, bool) {
	rg, err := s.parseRange(queryInput(r.URL.Query()))
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return rg, nil, false
	}
	return rg, calendar.Build(rg.Start, rg.End, rg.Mask), true
}

func (j *jw) periodOverview(rg Range, current, previous int64) {
	j.raw(`"periodOverview":{"totalAmount":`)
	j.int(current)
	j.raw(`,"hasRelativeData":`)
	j.bool(previous > 0)
	j.raw(`,"relativeIncrease":`)
	if previous > 0 {
		j.hundredths(roundDiv((current-previous)*10000, previous))
	} else {
		j.raw("0.0")
	}
	j.raw(`,"hasIncreased":`)
	j.bool(current > previous)
	j.raw(`,"relativeStartDate":`)
	j.time(rg.RelativeStart())
	j.raw(`,"relativeEndDate":`)
	j.time(rg.RelativeEnd())
	j.byte('}')
}

// labels are the constant part of each point of a calendar's series, formatted once
// per answer: `{"date":"…","value":` (and the week's monthDate and weekNumber). An answer
// with one series per channel copies them instead of formatting every time again.
type labels struct {
	blob                      []byte
	hours, days, weeks, month []int32 // ends in blob, per bucket
}

// hourLabel is the length of `{"date":"yyyy-MM-ddTHH:mm:ss.SSSZ","value":`; the hour's
// two digits are at hourDigits.
const hourLabel, hourDigits = 43, 20

func newLabels(cal *calendar.Calendar) *labels {
	l := &labels{blob: make([]byte, 0, (len(cal.Hours)+len(cal.Days)+len(cal.Months))*hourLabel+len(cal.Weeks)*72),
		hours: make([]int32, 0, len(cal.Hours)), days: make([]int32, 0, len(cal.Days)),
		weeks: make([]int32, 0, len(cal.Weeks)), month: make([]int32, 0, len(cal.Months))}
	j := jw{b: l.blob}
	// An hour's label is the previous one of its day with two digits changed.
	prevDay, prev := int32(-1), 0
	for _, h := range cal.Hours {
		hour := h / calendar.HourMicros // exact: an hour bucket starts on the hour
		if day := cal.DayIdx[hour-cal.Start]; day != prevDay {
			prev, prevDay = len(j.b), day
			j.raw(`{"date":`)
			j.time(h)
			j.raw(`,"value":`)
		} else {
			at := len(j.b)
			j.b = append(j.b, j.b[prev:prev+hourLabel]...)
			hh := calendar.HourOfDay(hour)
			j.b[at+hourDigits], j.b[at+hourDigits+1] = byte('0'+hh/10), byte('0'+hh%10)
			prev = at
		}
		l.hours = append(l.hours, int32(len(j.b)))
	}
	for _, d := range cal.Days {
		j.raw(`{"date":`)
		j.time(d)
		j.raw(`,"value":`)
		l.days = append(l.days, int32(len(j.b)))
	}
	for _, wk := range cal.Weeks {
		j.raw(`{"monthDate":`)
		j.time(wk.MonthStart)
		j.raw(`,"weekNumber":`)
		j.int(int64(wk.Number))
		j.raw(`,"value":`)
		l.weeks = append(l.weeks, int32(len(j.b)))
	}
	for _, m := range cal.Months {
		j.raw(`{"date":`)
		j.time(m)
		j.raw(`,"value":`)
		l.month = append(l.month, int32(len(j.b)))
	}
	l.blob = j.b
	return l
}

// points writes one bucket list: label, value, label, value…
func (j *jw) points(blob []byte, from int32, ends []int32, values []int64) int32 {
	for i, end := range ends {
		if i > 0 {
			j.byte(',')
		}
		j.b = append(j.b, blob[from:end]...)
		j.int(values[i])
		j.byte('}')
		from = end
	}
	return from
}

// series writes "hours", "days", "weeks" and "months".
func (j *jw) series(l *labels, s warehouse.Series) {
	j.raw(`"hours":[`)
	at := j.points(l.blob, 0, l.hours, s.Hours)
	j.raw(`],"days":[`)
	at = j.points(l.blob, at, l.days, s.Days)
	j.raw(`],"weeks":[`)
	at = j.points(l.blob, at, l.weeks, s.Weeks)
	j.raw(`],"months":[`)
	j.points(l.blob, at, l.month, s.Months)
	j.byte(']')
}

func (j *jw) average(key string, values []int64) {
	j.raw(key)
	if len(values) == 0 {
		j.raw("0.0")
		return
	}
	var sum int64
	for _, v := range values {
		sum += v
	}
	j.hundredths(roundDiv(sum*100, int64(len(values))))
}

func (s *Server) dashboardConversations(w http.ResponseWriter, r *http.Request) {
	rg, cal, ok := s.analyticsRange(w, r)
	if !ok {
		return
	}
	snap, k := s.snapshotOf(r), tenantOf(r)
	total, _, channels := snap.Counts(rg.Query(k), cal, warehouse.Conversations, true)
	prev := snap.Total(rg.Previous().Query(k), warehouse.Conversations)
	j := jw{b: getBuf(1024 + len(channels)*(len(cal.Hours)+len(cal.Days))*48)}
	j.raw(`{"resource":"ANALYTIC_CONVERSATION",`)
	j.periodOverview(rg, total, prev)
	j.raw(`,"channelAnalytics":[`)
	l := newLabels(cal)
	for i, c := range channels {
		if i > 0 {
			j.byte(',')
		}
		j.raw(`{"channelType":`)
		if c.Channel.Type != nil {
			j.str(c.Channel.Type.Name)
		} else {
			j.null()
		}
		j.raw(`,"channelName":`)
		j.str(c.Channel.Name)
		j.byte(',')
		j.series(l, c.Series)
		j.byte('}')
	}
	j.raw(`]}`)
	writeJSON(w, http.StatusOK, j.b)
}

func (s *Server) trafficAnswer(w http.ResponseWriter, resource string, rg Range, cal *calendar.Calendar, total, prev int64, series warehouse.Series) {
	j := jw{b: getBuf(1024 + (len(cal.Hours)+len(cal.Days))*48)}
	j.raw(`{"resource":"` + resource + `",`)
	j.periodOverview(rg, total, prev)
	j.raw(`,"trafficAnalyticsDTO":{`)
	j.series(newLabels(cal), series)
	j.average(`,"averageHoursValue":`, series.Hours)
	j.average(`,"averageDaysValue":`, series.Days)
	j.average(`,"averageWeeksValue":`, series.Weeks)
	j.average(`,"averageMonthsValue":`, series.Months)
	j.raw(`}}`)
	writeJSON(w, http.StatusOK, j.b)
}

func (s *Server) dashboardMessages(w http.ResponseWriter, r *http.Request) {
	rg, cal, ok := s.analyticsRange(w, r)
	if !ok {
		return
	}
	snap, k := s.snapshotOf(r), tenantOf(r)
	total, series, _ := snap.Counts(rg.Query(k), cal, warehouse.UserMessages, false)
	prev := snap.Total(rg.Previous().Query(k), warehouse.UserMessages)
	s.trafficAnswer(w, "ANALYTIC_MESSAGES", rg, cal, total, prev, series)
}

func (s *Server) dashboardUsers(w http.ResponseWriter, r *http.Request) {
	rg, cal, ok := s.analyticsRange(w, r)
	if !ok {
		return
	}
	snap, k := s.snapshotOf(r), tenantOf(r)
	total, series := snap.Users(rg.Query(k), cal)
	prev := snap.UsersTotal(rg.Previous().Query(k))
	s.trafficAnswer(w, "ANALYTIC_USERS", rg, cal, total, prev, series)
}

func (s *Server) dashboardAccuracy(w http.ResponseWriter, r *http.Request) {
	rg, _, ok := s.analyticsRange(w, r)
	if !ok {
		return
	}
	snap, k := s.snapshotOf(r), tenantOf(r)
	rate := func(q warehouse.Query) int64 {
		total := snap.Total(q, warehouse.UserMessages)
		if total == 0 {
			return 0
		}
		return roundDiv(snap.Total(q, warehouse.Understood)*10000, total)
	}
	cur, prev := rate(rg.Query(k)), rate(rg.Previous().Query(k))
	var j jw
	j.raw(`{"rateCurrent":`)
	j.hundredths(cur)
	j.raw(`,"ratePrevious":`)
	j.hundredths(prev)
	j.raw(`,"hasIncreased":`)
	j.bool(cur > prev)
	j.raw(`,"relativeIncrease":`)
	j.hundredths(cur - prev)
	j.raw(`,"relativeStartDate":`)
	j.time(rg.RelativeStart())
	j.raw(`,"relativeEndDate":`)
	j.time(rg.RelativeEnd())
	j.byte('}')
	writeJSON(w, http.StatusOK, j.b)
}

func (s *Server) stacking(w http.ResponseWriter, r *http.Request, intents bool) {
	rg, _, ok := s.analyticsRange(w, r)
	if !ok {
		return
	}
	list := s.snapshotOf(r).Stacking(rg.Query(tenantOf(r)), intents)
	j := jw{b: getBuf(1024 + 4096*len(list))}
	if intents {
		j.raw(`{"resource":"ANALYTIC_INTENTS","channelList":[`)
	} else {
		j.raw(`{"resource":"ANALYTIC_FLOWS","channelList":[`)
	}
	for i, c := range list {
		if i > 0 {
			j.byte(',')
		}
		j.raw(`{"name":`)
		j.str(c.Channel.Name)
		j.raw(`,"topicBreakdown":[`)
		for t, tp := range c.Topics {
			if t > 0 {
				j.byte(',')
			}
			j.raw(`{"name":`)
			j.str(tp.Name)
			j.raw(`,"channelValue":`)
			j.int(tp.ChannelValue)
			j.raw(`,"totalValue":`)
			j.int(tp.TotalValue)
			j.byte('}')
		}
		j.raw(`]}`)
	}
	j.raw(`]}`)
	writeJSON(w, http.StatusOK, j.b)
}

func (s *Server) stackingIntents(w http.ResponseWriter, r *http.Request) { s.stacking(w, r, true) }
func (s *Server) stackingFlows(w http.ResponseWriter, r *http.Request)   { s.stacking(w, r, false) }
