package warehouse

import (
	"iter"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// Query selects one tenant's events: the hours [Start, End) (hours since the epoch)
// that pass Mask, on the channels listed (nil = all channels).
type Query struct {
	Tenant     TenantKey
	Start, End int64
	Mask       calendar.Mask
	Channels   []string
}

// Series are the bucket values of a calendar, aligned with its Hours, Days, Weeks and Months.
type Series struct {
	Hours, Days, Weeks, Months []int64
}

func newSeries(c *calendar.Calendar) Series {
	return Series{Hours: make([]int64, len(c.Hours)), Days: make([]int64, len(c.Days)),
		Weeks: make([]int64, len(c.Weeks)), Months: make([]int64, len(c.Months))}
}

// ChannelSeries is one channel's series.
type ChannelSeries struct {
	Channel *Channel
	Total   int64
	Series  Series
}

// Metric is a traffic count.
type Metric int

const (
	Conversations Metric = iota // conversations by startedAt
	UserMessages                // USER messages by createdAt
	Understood                  // understood USER messages
)

func (c *hourCounts) value(m Metric) int64 {
	switch m {
	case Conversations:
		return int64(c.conversations)
	case UserMessages:
		return int64(c.users)
	}
	return int64(c.understood)
}

// Summary says whether the bot has data and its earliest instant (microseconds).
func (s *Snapshot) Summary(k TenantKey) (hasData bool, firstAt int64) {
	t := s.tenants[k]
	if t == nil {
		return false, 0
	}
	return t.hasData, t.firstAt
}

// allowed returns which of the tenant's channels pass the channel filter.
func (t *tenantData) allowed(channels []string) []bool {
	ok := make([]bool, len(t.channels))
	if channels == nil {
		for i := range ok {
			ok[i] = true
		}
		return ok
	}
	for _, c := range channels {
		if i, found := t.chanIdx[c]; found {
			ok[i] = true
		}
	}
	return ok
}

func searchHour(n int, hourAt func(int) int64, h int64) int {
	return sort.Search(n, func(i int) bool { return hourAt(i) >= h })
}

// Counts sums a metric over the query's range into the calendar's buckets, over all
// filtered channels and, when perChannel, for each channel with a non-zero total.
func (s *Snapshot) Counts(q Query, cal *calendar.Calendar, m Metric, perChannel bool) (total int64, all Series, channels []ChannelSeries) {
	all = newSeries(cal)
	t := s.tenants[q.Tenant]
	if t == nil {
		return 0, all, nil
	}
	ok := t.allowed(q.Channels)
	var per []*ChannelSeries
	if perChannel {
		per = make([]*ChannelSeries, len(t.channels))
	}
	lo := searchHour(len(t.counts), func(i int) int64 { return t.counts[i].hour }, q.Start)
	for i := lo; i < len(t.counts) && t.counts[i].hour < q.End; i++ {
		c := &t.counts[i]
		if !ok[c.ch] || !q.Mask.Pass(c.hour) {
			continue
		}
		v := c.value(m)
		if v == 0 {
			continue
		}
		off := c.hour - cal.Start
		total += v
		add(&all, cal, off, v)
		if perChannel {
			cs := per[c.ch]
			if cs == nil {
				cs = &ChannelSeries{Channel: t.channels[c.ch], Series: newSeries(cal)}
				per[c.ch] = cs
			}
			cs.Total += v
			add(&cs.Series, cal, off, v)
		}
	}
	for _, cs := range per {
		if cs != nil && cs.Total > 0 {
			channels = append(channels, *cs)
		}
	}
	sort.Slice(channels, func(i, j int) bool { return channelLess(channels[i].Channel, channels[j].Channel) })
	return total, all, channels
}

func add(s *Series, cal *calendar.Calendar, off int64, v int64) {
	if hi := cal.HourIdx[off]; hi >= 0 {
		s.Hours[hi] += v
	}
	s.Days[cal.DayIdx[off]] += v
	s.Weeks[cal.WeekIdx[off]] += v
	s.Months[cal.MonthIdx[off]] += v
}

// Total sums a metric over the query's range (the previous period needs no buckets).
func (s *Snapshot) Total(q Query, m Metric) int64 {
	t := s.tenants[q.Tenant]
	if t == nil {
		return 0
	}
	ok := t.allowed(q.Channels)
	var total int64
	lo := searchHour(len(t.counts), func(i int) int64 { return t.counts[i].hour }, q.Start)
	for i := lo; i < len(t.counts) && t.counts[i].hour < q.End; i++ {
		c := &t.counts[i]
		if ok[c.ch] && q.Mask.Pass(c.hour) {
			total += c.value(m)
		}
	}
	return total
}

// Users counts distinct users exactly: over the whole range and within each bucket.
// One pass over the range's (hour, channel) runs of user ids, in time order: a user
// counts in a bucket the first time it is seen there. One stamp per user, the offset
// of the hour it was last seen in (plus the request's base), tells that for every
// granularity at once: the events come in time order and each bucket is a run of hours,
// so the user is new in the current day (week, month, range) exactly when its stamp is
// below the stamp of the day's first run. 4 bytes a user: a large bot's stamps stay in
// the core's cache.
func (s *Snapshot) Users(q Query, cal *calendar.Calendar) (total int64, series Series) {
	series = newSeries(cal)
	t := s.tenants[q.Tenant]
	if t == nil {
		return 0, series
	}
	ok := t.allowed(q.Channels)
	st, base := getStamps(t.nUsers, len(cal.DayIdx)+1)
	defer stampPool.Put(st)
	// Every stamp this request writes is base + an hour offset, above any an earlier
	// request left: the stamps are never cleared.
	us := st.users
	d, w, m := int32(-1), int32(-1), int32(-1)
	var dT, wT, mT uint32 // the stamp of the current day's (week's, month's) first run
	for r, ids := range t.runsIn(q, ok) {
		off := r.hour - cal.Start
		cur := base + uint32(off)
		hi := cal.HourIdx[off]
		if di := cal.DayIdx[off]; di != d {
			d, dT = di, cur
		}
		if wi := cal.WeekIdx[off]; wi != w {
			w, wT = wi, cur
		}
		if mi := cal.MonthIdx[off]; mi != m {
			m, mT = mi, cur
		}
		var nh, nd, nw, nm int64
		for _, u := range ids {
			// Branch-free: whether a user is new in a bucket is data, not a branch the
			// CPU can predict.
			v := us[u]
			nh += b2i(v < cur)
			nd += b2i(v < dT)
			nw += b2i(v < wT)
			nm += b2i(v < mT)
			total += b2i(v < base)
			us[u] = cur
		}
		if hi >= 0 {
			series.Hours[hi] += nh
		}
		series.Days[d] += nd
		series.Weeks[w] += nw
		series.Months[m] += nm
	}
	return total, series
}

// UsersTotal counts the distinct users of the query's range.
func (s *Snapshot) UsersTotal(q Query) int64 {
	t := s.tenants[q.Tenant]
	if t == nil {
		return 0
	}
	ok := t.allowed(q.Channels)
	st, base := getStamps(t.nUsers, 1)
	defer stampPool.Put(st)
	us := st.users
	var total int64
	for _, ids := range t.runsIn(q, ok) {
		for _, u := range ids {
			total += b2i(us[u] != base)
			us[u] = base
		}
	}
	return total
}

// runsIn yields the user runs of the query's hours that pass its hour window and
// channel filter (ok), with their ids.
func (t *tenantData) runsIn(q Query, ok []bool) iter.Seq2[*userRun, []int32] {
	return func(yield func(*userRun, []int32) bool) {
		lo := searchHour(len(t.runs), func(i int) int64 { return t.runs[i].hour }, q.Start)
		from := int32(0)
		if lo > 0 {
			from = t.runs[lo-1].end
		}
		for i := lo; i < len(t.runs) && t.runs[i].hour < q.End; i++ {
			r := &t.runs[i]
			ids := t.runIDs[from:r.end]
			from = r.end
			if ok[r.ch] && q.Mask.Pass(r.hour) && !yield(r, ids) {
				return
			}
		}
	}
}

// stamps are a request's user stamps, recycled between requests (megabytes for a large
// bot: allocating or clearing them per request made the memory traffic the p99).
// base is above every value written so far: a request takes the values
// [base, base+span) and moves base past them.
type stamps struct {
	users []uint32
	base  uint32
}

// stampPool keeps the stamps between requests. Not a sync.Pool: that one is emptied by
// every garbage collection, and a large bot's stamps are megabytes to allocate again.
// A request holds its stamps only while it counts (no I/O), so a few per core suffice.
var stampPool = &freeList{max: 4 * runtime.GOMAXPROCS(0)}

type freeList struct {
	mu   sync.Mutex
	max  int
	free []*stamps
}

func (f *freeList) Get() *stamps {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.free); n > 0 {
		st := f.free[n-1]
		f.free = f.free[:n-1]
		return st
	}
	return &stamps{}
}

func (f *freeList) Put(st *stamps) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.free) < f.max {
		f.free = append(f.free, st)
	}
}

func getStamps(n, span int) (st *stamps, base uint32) {
	st = stampPool.Get()
	if cap(st.users) < n {
		st.users, st.base = make([]uint32, n), 1
	}
	st.users = st.users[:n]
	if uint64(st.base)+uint64(span) >= math.MaxUint32 { // after ~400k requests
		clear(st.users[:cap(st.users)])
		st.base = 1
	}
	base = st.base
	st.base += uint32(span)
	return st, base
}

var countPool sync.Pool

func getCounts(n int) []int64 {
	if p, _ := countPool.Get().(*[]int64); p != nil && cap(*p) >= n {
		c := (*p)[:n]
		clear(c)
		return c
	}
	return make([]int64, n)
}

// Topic is one intent or flow of a channel.
type Topic struct {
	Name         string
	ChannelValue int64
	TotalValue   int64
}

// StackChannel is one channel's topics.
type StackChannel struct {
	Channel *Channel
	Topics  []Topic
}

// Stacking counts intents (USER messages) or flows (conversations) per channel.
func (s *Snapshot) Stacking(q Query, intents bool) []StackChannel {
	t := s.tenants[q.Tenant]
	if t == nil {
		return nil
	}
	rows, names, days := t.flows, t.flowNm, t.flowDays
	if intents {
		rows, names, days = t.intents, t.intentNm, t.intentDays
	}
	ok := t.allowed(q.Channels)
	nch, ntop := len(t.channels), len(names)
	perChan := map[int32]map[int32]int64{}
	lo := searchHour(len(rows), func(i int) int64 { return rows[i].hour }, q.Start)
	var totals []int64
	if nch*ntop <= 1<<20 {
		// Dense counters [channel][topic], pooled: a map per request made the GC the p99.
		counts := getCounts(nch * ntop)
		defer countPool.Put(&counts)
		totals = getCounts(ntop)
		defer countPool.Put(&totals)
		hi := searchHour(len(rows), func(i int) int64 { return rows[i].hour }, q.End)
		scan := func(i, j int) { // rows i..j-1
			for ; i < j; i++ {
				r := &rows[i]
				if ok[r.ch] && q.Mask.Pass(r.hour) {
					counts[int(r.ch)*ntop+int(r.topic)] += int64(r.n)
					totals[r.topic] += int64(r.n)
				}
			}
		}
		// The whole days inside the range come from the running totals of the hours
		// the window passes; only the hours before the first and after the last are
		// scanned.
		if d0, d1, i0, i1, whole := days.wholeDays(rows, nch*ntop, q.Start, q.End); whole {
			scan(lo, i0)
			if a, b := days.between(d0, d1); a != nil {
				for h := range 24 {
					if !q.Mask[h] {
						continue
					}
					for ch := range nch {
						if !ok[ch] {
							continue
						}
						k0 := h*nch*ntop + ch*ntop
						for k := k0; k < k0+ntop; k++ {
							if n := b[k] - a[k]; n != 0 {
								counts[k-h*nch*ntop] += n
								totals[k-k0] += n
							}
						}
					}
				}
			}
			scan(i1, hi)
		} else {
			scan(lo, hi)
		}
		for ch := 0; ch < nch; ch++ {
			for topic, n := range counts[ch*ntop : (ch+1)*ntop] {
				if n > 0 {
					if perChan[int32(ch)] == nil {
						perChan[int32(ch)] = map[int32]int64{}
					}
					perChan[int32(ch)][int32(topic)] = n
				}
			}
		}
	} else {
		// Very many topics: sparse counters.
		totals = make([]int64, ntop)
		for i := lo; i < len(rows) && rows[i].hour < q.End; i++ {
			r := &rows[i]
			if ok[r.ch] && q.Mask.Pass(r.hour) && r.n != 0 {
				if perChan[r.ch] == nil {
					perChan[r.ch] = map[int32]int64{}
				}
				perChan[r.ch][r.topic] += int64(r.n)
				totals[r.topic] += int64(r.n)
			}
		}
	}
	out := make([]StackChannel, 0, len(perChan))
	for ch, m := range perChan {
		sc := StackChannel{Channel: t.channels[ch]}
		for topic, n := range m {
			if n > 0 {
				sc.Topics = append(sc.Topics, Topic{Name: names[topic], ChannelValue: n, TotalValue: totals[topic]})
			}
		}
		if len(sc.Topics) == 0 {
			continue
		}
		sort.Slice(sc.Topics, func(i, j int) bool {
			a, b := sc.Topics[i], sc.Topics[j]
			if a.TotalValue != b.TotalValue {
				return a.TotalValue > b.TotalValue
			}
			return a.Name < b.Name
		})
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return channelLess(out[i].Channel, out[j].Channel) })
	return out
}

// channelLess orders channels by name (code points), then UUID.
func channelLess(a, b *Channel) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.UUID < b.UUID
}

// b2i is 1 for true: compiled to a flag move, no branch.
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
