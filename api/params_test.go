package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// paramServer is a Server with the contract's defaults, enough for the parsers.
func paramServer() *Server {
	return &Server{cfg: Config{MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000}}
}

func ptr(s string) *string { return &s }

func us(t *testing.T, rfc string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, rfc)
	if err != nil {
		t.Fatalf("bad test instant %q: %v", rfc, err)
	}
	return tm.UnixMicro()
}

func checkParamError(t *testing.T, err error, param string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want an error naming %s", param)
	}
	if _, ok := err.(*paramError); !ok {
		t.Errorf("error %T %q is not a parameter error (would not be a 400)", err, err)
	}
	if !strings.HasPrefix(err.Error(), param+": ") {
		t.Errorf("error %q does not start with %q", err, param+": ")
	}
}

func TestParseRangeDates(t *testing.T) {
	s := paramServer()
	cases := []struct {
		name                 string
		start, end           string
		startSent, endSent   string // RFC 3339 UTC
		startHour, endHourEx string // hour bounds [Start, End) as instants
	}{
		{"plain dates", "2025-07-01", "2025-07-01",
			"2025-07-01T00:00:00Z", "2025-07-01T23:59:59.999Z", "2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z"},
		{"plain dates over a year end", "2025-12-30", "2026-01-02",
			"2025-12-30T00:00:00Z", "2026-01-02T23:59:59.999Z", "2025-12-30T00:00:00Z", "2026-01-03T00:00:00Z"},
		{"instants Z with millis", "2025-07-01T10:30:00.000Z", "2025-07-01T12:00:00.000Z",
			"2025-07-01T10:30:00Z", "2025-07-01T12:00:00Z", "2025-07-01T10:00:00Z", "2025-07-01T13:00:00Z"},
		{"instants without fraction", "2025-07-01T10:30:00Z", "2025-07-01T10:59:59Z",
			"2025-07-01T10:30:00Z", "2025-07-01T10:59:59Z", "2025-07-01T10:00:00Z", "2025-07-01T11:00:00Z"},
		{"nine fraction digits truncated to micros", "2025-07-01T10:30:00.123456789Z", "2025-07-01T10:30:00.123456999Z",
			"2025-07-01T10:30:00.123456Z", "2025-07-01T10:30:00.123456Z", "2025-07-01T10:00:00Z", "2025-07-01T11:00:00Z"},
		{"lower-case t and z", "2025-07-01t10:30:00z", "2025-07-01t11:30:00.5z",
			"2025-07-01T10:30:00Z", "2025-07-01T11:30:00.5Z", "2025-07-01T10:00:00Z", "2025-07-01T12:00:00Z"},
		{"positive offset", "2025-07-01T03:00:00+03:00", "2025-07-01T10:15:00.250+03:00",
			"2025-07-01T00:00:00Z", "2025-07-01T07:15:00.25Z", "2025-07-01T00:00:00Z", "2025-07-01T08:00:00Z"},
		{"negative offset crossing the day", "2025-06-30T21:30:00-03:00", "2025-07-01T00:00:00-03:00",
			"2025-07-01T00:30:00Z", "2025-07-01T03:00:00Z", "2025-07-01T00:00:00Z", "2025-07-01T04:00:00Z"},
		{"half-hour offset", "2025-07-01T05:45:00+05:45", "2025-07-01T06:14:59+05:30",
			"2025-07-01T00:00:00Z", "2025-07-01T00:44:59Z", "2025-07-01T00:00:00Z", "2025-07-01T01:00:00Z"},
		{"space where + belongs", "2025-07-01T03:00:00 03:00", "2025-07-01T04:00:00.000 03:00",
			"2025-07-01T00:00:00Z", "2025-07-01T01:00:00Z", "2025-07-01T00:00:00Z", "2025-07-01T02:00:00Z"},
		{"plain start, instant end", "2025-07-01", "2025-07-01T00:00:00Z",
			"2025-07-01T00:00:00Z", "2025-07-01T00:00:00Z", "2025-07-01T00:00:00Z", "2025-07-01T01:00:00Z"},
		{"end equals start", "2025-07-01T10:20:30.400Z", "2025-07-01T10:20:30.400Z",
			"2025-07-01T10:20:30.4Z", "2025-07-01T10:20:30.4Z", "2025-07-01T10:00:00Z", "2025-07-01T11:00:00Z"},
		{"leap day", "2024-02-29", "2024-02-29",
			"2024-02-29T00:00:00Z", "2024-02-29T23:59:59.999Z", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"before the epoch", "1969-12-31T23:30:00Z", "1970-01-01T00:30:00Z",
			"1969-12-31T23:30:00Z", "1970-01-01T00:30:00Z", "1969-12-31T23:00:00Z", "1970-01-01T01:00:00Z"},
		{"exactly 366 days", "2025-01-01T00:00:00Z", "2026-01-02T00:00:00Z",
			"2025-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2025-01-01T00:00:00Z", "2026-01-02T01:00:00Z"},
		{"plain dates, 365 days and a day's end", "2025-01-01", "2026-01-01",
			"2025-01-01T00:00:00Z", "2026-01-01T23:59:59.999Z", "2025-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
		{"plain dates over a leap year", "2024-01-01", "2024-12-31",
			"2024-01-01T00:00:00Z", "2024-12-31T23:59:59.999Z", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := s.parseRange(rangeInput{startDate: ptr(c.start), endDate: ptr(c.end)})
			if err != nil {
				t.Fatalf("parseRange(%q, %q): %v", c.start, c.end, err)
			}
			if got, want := r.StartSent, us(t, c.startSent); got != want {
				t.Errorf("StartSent %s, want %s", time.UnixMicro(got).UTC(), time.UnixMicro(want).UTC())
			}
			if got, want := r.EndSent, us(t, c.endSent); got != want {
				t.Errorf("EndSent %s, want %s", time.UnixMicro(got).UTC(), time.UnixMicro(want).UTC())
			}
			if got, want := r.Start*hourUs, us(t, c.startHour); got != want {
				t.Errorf("Start %s, want %s", time.UnixMicro(got).UTC(), time.UnixMicro(want).UTC())
			}
			if got, want := r.End*hourUs, us(t, c.endHourEx); got != want {
				t.Errorf("End %s, want %s", time.UnixMicro(got).UTC(), time.UnixMicro(want).UTC())
			}
			if r.StartHour != 0 || r.EndHour != 23 || r.Mask != calendar.NewMask(0, 23) || r.Channels != nil {
				t.Errorf("defaults: hours %d..%d mask %v channels %v", r.StartHour, r.EndHour, r.Mask, r.Channels)
			}
		})
	}
}

func TestParseRangePreviousPeriod(t *testing.T) {
	r, err := paramServer().parseRange(rangeInput{startDate: ptr("2025-12-30"), endDate: ptr("2026-01-02")})
	if err != nil {
		t.Fatal(err)
	}
	p := r.Previous()
	if p.End != r.Start || p.End-p.Start != r.End-r.Start {
		t.Errorf("previous [%d,%d) of [%d,%d)", p.Start, p.End, r.Start, r.End)
	}
	if got := time.UnixMicro(r.RelativeStart()).UTC().Format(time.RFC3339Nano); got != "2025-12-26T00:00:00Z" {
		t.Errorf("relativeStartDate %s", got)
	}
	if got := time.UnixMicro(r.RelativeEnd()).UTC().Format(time.RFC3339Nano); got != "2025-12-29T23:59:59.999Z" {
		t.Errorf("relativeEndDate %s", got)
	}
}

func TestParseRangeErrors(t *testing.T) {
	s := paramServer()
	cases := []struct {
		name       string
		start, end *string
		param      string
	}{
		{"missing startDate", nil, ptr("2025-07-01"), "startDate"},
		{"empty startDate", ptr(""), ptr("2025-07-01"), "startDate"},
		{"blank startDate", ptr("   "), ptr("2025-07-01"), "startDate"},
		{"missing endDate", ptr("2025-07-01"), nil, "endDate"},
		{"empty endDate", ptr("2025-07-01"), ptr(""), "endDate"},
		{"startDate not a date", ptr("yesterday"), ptr("2025-07-01"), "startDate"},
		{"startDate month 13", ptr("2025-13-01"), ptr("2025-07-01"), "startDate"},
		{"startDate Feb 30", ptr("2025-02-30"), ptr("2025-07-01"), "startDate"},
		{"startDate Feb 29 of a common year", ptr("2025-02-29"), ptr("2025-07-01"), "startDate"},
		{"endDate without offset", ptr("2025-07-01"), ptr("2025-07-01T10:00:00"), "endDate"},
		{"endDate with hour 24", ptr("2025-07-01"), ptr("2025-07-01T24:00:00Z"), "endDate"},
		{"endDate with 10 fraction digits", ptr("2025-07-01"), ptr("2025-07-01T10:00:00.1234567890Z"), "endDate"},
		{"endDate with empty fraction", ptr("2025-07-01"), ptr("2025-07-01T10:00:00.Z"), "endDate"},
		{"endDate with a space as date separator", ptr("2025-07-01"), ptr("2025-07-01 10:00:00Z"), "endDate"},
		{"endDate with offset hour 24", ptr("2025-07-01"), ptr("2025-07-01T10:00:00+24:00"), "endDate"},
		{"endDate with short offset", ptr("2025-07-01"), ptr("2025-07-01T10:00:00+0300"), "endDate"},
		{"endDate with trailing text", ptr("2025-07-01"), ptr("2025-07-01Z"), "endDate"},
		{"startDate plain date with spaces", ptr(" 2025-07-01"), ptr("2025-07-02"), "startDate"},
		{"endDate before startDate (days)", ptr("2025-07-02"), ptr("2025-07-01"), "endDate"},
		{"endDate before startDate within one hour", ptr("2025-07-01T10:30:00Z"), ptr("2025-07-01T10:29:59.999Z"), "endDate"},
		{"endDate before startDate by offsets", ptr("2025-07-01T10:00:00+03:00"), ptr("2025-07-01T09:00:00+03:00"), "endDate"},
		{"366 days and 1 ms", ptr("2025-01-01T00:00:00Z"), ptr("2026-01-02T00:00:00.001Z"), "endDate"},
		{"plain dates 366 days and a day", ptr("2025-01-01"), ptr("2026-01-02"), "endDate"},
		{"plain dates over a leap year's 366 days", ptr("2024-01-01"), ptr("2025-01-01"), "endDate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.parseRange(rangeInput{startDate: c.start, endDate: c.end})
			checkParamError(t, err, c.param)
		})
	}
}

func TestParseRangeMaxConfigured(t *testing.T) {
	s := &Server{cfg: Config{MaxRangeDays: 7}}
	if _, err := s.parseRange(rangeInput{startDate: ptr("2025-07-01T00:00:00Z"), endDate: ptr("2025-07-08T00:00:00Z")}); err != nil {
		t.Errorf("7 days with a 7-day maximum: %v", err)
	}
	_, err := s.parseRange(rangeInput{startDate: ptr("2025-07-01"), endDate: ptr("2025-07-08")})
	checkParamError(t, err, "endDate")
}

func TestParseRangeHours(t *testing.T) {
	s := paramServer()
	cases := []struct {
		start, end *string
		sh, eh     int
		err        string // parameter named by the error, "" = accepted
	}{
		{nil, nil, 0, 23, ""},
		{ptr(""), ptr(""), 0, 23, ""},
		{ptr("0"), ptr("23"), 0, 23, ""},
		{ptr("5"), ptr("5"), 5, 5, ""},
		{ptr("22"), ptr("3"), 22, 3, ""},
		{ptr("23"), ptr("0"), 23, 0, ""},
		{ptr("07"), nil, 7, 23, ""},
		{nil, ptr("0"), 0, 0, ""},
		{ptr("24"), nil, 0, 0, "startHour"},
		{ptr("-1"), nil, 0, 0, "startHour"},
		{ptr("x"), nil, 0, 0, "startHour"},
		{ptr("1.5"), nil, 0, 0, "startHour"},
		{ptr(" 5"), nil, 0, 0, "startHour"},
		{ptr("99999999999999999999"), nil, 0, 0, "startHour"},
		{nil, ptr("24"), 0, 0, "endHour"},
		{nil, ptr("-1"), 0, 0, "endHour"},
		{nil, ptr("x"), 0, 0, "endHour"},
		{ptr("3"), ptr("twenty"), 0, 0, "endHour"},
	}
	for _, c := range cases {
		name := "startHour=" + deref(c.start) + "&endHour=" + deref(c.end)
		t.Run(name, func(t *testing.T) {
			r, err := s.parseRange(rangeInput{startDate: ptr("2025-07-01"), endDate: ptr("2025-07-02"), startHour: c.start, endHour: c.end})
			if c.err != "" {
				checkParamError(t, err, c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.StartHour != c.sh || r.EndHour != c.eh {
				t.Errorf("hours %d..%d, want %d..%d", r.StartHour, r.EndHour, c.sh, c.eh)
			}
			for h := 0; h < 24; h++ {
				want := c.sh <= h && h <= c.eh
				if c.sh > c.eh {
					want = h >= c.sh || h <= c.eh
				}
				if r.Mask[h] != want {
					t.Errorf("hour %d passes = %v, want %v", h, r.Mask[h], want)
				}
			}
		})
	}
}

func deref(p *string) string {
	if p == nil {
		return "<absent>"
	}
	return *p
}

func TestParseChannels(t *testing.T) {
	const (
		a = "a31db618-84f4-4b4b-948a-84a5b43d4318"
		b = "bdfa7fa4-ffe9-4c11-863d-5f77bb3a6a06"
	)
	cases := []struct {
		name string
		in   []string
		want []string // nil = all channels
		bad  bool
	}{
		{"absent", nil, nil, false},
		{"empty", []string{""}, nil, false},
		{"only commas", []string{",,,"}, nil, false},
		{"only spaces and commas", []string{" , ,\t, "}, nil, false},
		{"one", []string{a}, []string{a}, false},
		{"upper case", []string{strings.ToUpper(a)}, []string{a}, false},
		{"mixed case", []string{"A31Db618-84F4-4b4B-948a-84A5B43d4318"}, []string{a}, false},
		{"trimmed and empty elements", []string{" " + a + " ,, ,\t" + strings.ToUpper(b) + " ,"}, []string{a, b}, false},
		{"repeated parameter", []string{a, "", b}, []string{a, b}, false},
		{"listed twice, in any case", []string{b + "," + a + "," + strings.ToUpper(b), a}, []string{b, a}, false},
		{"not a UUID", []string{a + ",nope"}, nil, true},
		{"braces", []string{"{" + a + "}"}, nil, true},
		{"urn", []string{"urn:uuid:" + a}, nil, true},
		{"no dashes", []string{strings.ReplaceAll(a, "-", "")}, nil, true},
		{"non-hex letter", []string{"g" + a[1:]}, nil, true},
		{"dash misplaced", []string{a[:8] + a[9:10] + "-" + a[10:]}, nil, true},
		{"too long", []string{a + "0"}, nil, true},
		{"inner space", []string{a[:10] + " " + a[11:]}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseChannels("channelUuids", c.in)
			if c.bad {
				checkParamError(t, err, "channelUuids")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (c.want == nil) || strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
	// Through parseRange: the error names channelUuids, and a UUID that names no channel is kept.
	s := paramServer()
	_, err := s.parseRange(rangeInput{startDate: ptr("2025-07-01"), endDate: ptr("2025-07-01"), channels: []string{"x"}})
	checkParamError(t, err, "channelUuids")
	r, err := s.parseRange(rangeInput{startDate: ptr("2025-07-01"), endDate: ptr("2025-07-01"), channels: []string{"00000000-0000-0000-0000-000000000000"}})
	if err != nil || len(r.Channels) != 1 {
		t.Errorf("unknown UUID: %v %v", r.Channels, err)
	}
}

func TestQueryInput(t *testing.T) {
	// An unencoded '+' in the query string arrives as a space.
	q, err := url.ParseQuery("startDate=2025-07-01T03:00:00+03:00&endDate=2025-07-01&startHour=&channelUuids=a&channelUuids=b")
	if err != nil {
		t.Fatal(err)
	}
	in := queryInput(q)
	if in.startDate == nil || *in.startDate != "2025-07-01T03:00:00 03:00" {
		t.Fatalf("startDate %q", deref(in.startDate))
	}
	if in.startHour == nil || *in.startHour != "" || in.endHour != nil {
		t.Errorf("hours %q %q", deref(in.startHour), deref(in.endHour))
	}
	if len(in.channels) != 2 {
		t.Errorf("channels %v", in.channels)
	}
	r, err := paramServer().parseRange(queryInput(q))
	if err == nil {
		t.Fatalf("channel a accepted: %v", r)
	}
	q.Del("channelUuids")
	r, err = paramServer().parseRange(queryInput(q))
	if err != nil {
		t.Fatal(err)
	}
	if got := time.UnixMicro(r.StartSent).UTC().Format(time.RFC3339); got != "2025-07-01T00:00:00Z" {
		t.Errorf("start %s", got)
	}
}

func TestEnumParam(t *testing.T) {
	cases := []struct {
		name, v, def string
		allowed      []string
		want         string
		bad          bool
	}{
		{"sort", "", "conversationStartedAt", conversationSortBy, "conversationStartedAt", false},
		{"sort", "SATISFACTION", "conversationStartedAt", conversationSortBy, "satisfaction", false},
		{"sort", "userMESSAGES", "conversationStartedAt", conversationSortBy, "userMessages", false},
		{"sort", "flowstravelled", "conversationStartedAt", conversationSortBy, "flowsTravelled", false},
		{"sort", "Duration", "conversationStartedAt", conversationSortBy, "duration", false},
		{"sort", "duration", "deliveredAt", messageSortBy, "", true},
		{"sort", "deliveredat", "deliveredAt", messageSortBy, "deliveredAt", false},
		{"sort", "CONFIDENCE", "deliveredAt", messageSortBy, "confidence", false},
		{"sort", "nope", "deliveredAt", messageSortBy, "", true},
		{"sort", " confidence", "deliveredAt", messageSortBy, "", true},
		{"order", "asc", "DESC", []string{"ASC", "DESC"}, "ASC", false},
		{"order", "Desc", "DESC", []string{"ASC", "DESC"}, "DESC", false},
		{"order", "up", "DESC", []string{"ASC", "DESC"}, "", true},
		{"searchBy", "session_code", "", conversationSearch, "SESSION_CODE", false},
		{"searchBy", "Business_Key", "", conversationSearch, "BUSINESS_KEY", false},
		{"searchBy", "flow", "", conversationSearch, "FLOW", false},
		{"searchBy", "QUESTION", "", conversationSearch, "", true},
		{"searchBy", "FLOW", "", messageSearch, "", true},
		{"searchBy", "question", "", messageSearch, "QUESTION", false},
		{"searchBy", "Intent", "", messageSearch, "INTENT", false},
		{"searchBy", "entity", "", messageSearch, "ENTITY", false},
		{"searchBy", "document", "", messageSearch, "DOCUMENT", false},
		{"searchBy", "SESSION-CODE", "", messageSearch, "", true},
	}
	for _, c := range cases {
		t.Run(c.name+"="+c.v, func(t *testing.T) {
			got, err := enumParam(c.name, c.v, c.def, c.allowed...)
			if c.bad {
				checkParamError(t, err, c.name)
				return
			}
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestParseNLPFilters(t *testing.T) {
	cases := []struct {
		in, want string
		bad      bool
	}{
		{"", "", false},
		{"ALL", "", false},
		{"found", "FOUND", false},
		{"None", "NONE", false},
		{"FOUND,NONE", "", false},
		{"none,found", "", false},
		{"ALL,FOUND", "", false},
		{"NONE,all", "", false},
		{" found , ,", "FOUND", false},
		{",,", "", false},
		{"FOUND,FOUND", "FOUND", false},
		{"SOME", "", true},
		{"FOUND,x", "", true},
		{"FOUNDNONE", "", true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseNLPFilters(c.in)
			if c.bad {
				checkParamError(t, err, "nlpResponseFilters")
				return
			}
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestParsePage(t *testing.T) {
	s := paramServer()
	cases := []struct {
		page, size *string
		wantPage   int
		wantSize   int
		bad        string
		wantDigits string // the page as echoed, when beyond int
	}{
		{nil, nil, 1, 5, "", ""},
		{ptr(""), ptr(""), 1, 5, "", ""},
		{ptr("1"), ptr("1"), 1, 1, "", ""},
		{ptr("3"), ptr("100"), 3, 100, "", ""},
		{ptr("1000000"), ptr("7"), 1000000, 7, "", ""},
		{ptr("0"), nil, 0, 0, "page", ""},
		{ptr("-1"), nil, 0, 0, "page", ""},
		{ptr("x"), nil, 0, 0, "page", ""},
		{ptr("1.0"), nil, 0, 0, "page", ""},
		{ptr("99999999999999999999"), nil, math.MaxInt, 5, "", "99999999999999999999"}, // past every end: an empty page
		{ptr("+000099999999999999999999"), ptr("9"), math.MaxInt, 9, "", "99999999999999999999"},
		{ptr("9223372036854775807"), nil, math.MaxInt, 5, "", ""},
		{ptr("-99999999999999999999"), nil, 0, 0, "page", ""},
		{ptr("9999999999999999999x"), nil, 0, 0, "page", ""},
		{ptr("99999999999999999999.0"), nil, 0, 0, "page", ""},
		{nil, ptr("0"), 0, 0, "size", ""},
		{nil, ptr("101"), 0, 0, "size", ""},
		{nil, ptr("-5"), 0, 0, "size", ""},
		{nil, ptr("ten"), 0, 0, "size", ""},
	}
	for _, c := range cases {
		t.Run("page="+deref(c.page)+"&size="+deref(c.size), func(t *testing.T) {
			q := url.Values{}
			if c.page != nil {
				q.Set("page", *c.page)
			}
			if c.size != nil {
				q.Set("size", *c.size)
			}
			page, size, err := s.parsePage(q)
			if c.bad != "" {
				checkParamError(t, err, c.bad)
				return
			}
			if err != nil || page.n != c.wantPage || page.digits != c.wantDigits || size != c.wantSize {
				t.Errorf("got %+v, %d, %v; want %d (%q), %d", page, size, err, c.wantPage, c.wantDigits, c.wantSize)
			}
		})
	}
	// The size cap is the configured one.
	small := &Server{cfg: Config{MaxPageSize: 10}}
	if _, _, err := small.parsePage(url.Values{"size": {"11"}}); err == nil {
		t.Error("size 11 accepted with a maximum of 10")
	}
}

// A page number whose offset does not fit in an int is still only a page past the end:
// its offset saturates instead of wrapping to a negative OFFSET.
func TestPageOffset(t *testing.T) {
	cases := []struct{ page, size, want int }{
		{1, 5, 0}, {2, 5, 5}, {3, 100, 200}, {92233720368547759, 100, 9223372036854775800},
		{92233720368547760, 100, math.MaxInt}, {math.MaxInt, 100, math.MaxInt}, {math.MaxInt, 1, math.MaxInt - 1},
	}
	for _, c := range cases {
		if got := pageOffset(c.page, c.size); got != c.want {
			t.Errorf("pageOffset(%d, %d) = %d, want %d", c.page, c.size, got, c.want)
		}
	}
	var j jw
	j.pageOf(pageNo{n: math.MaxInt}, 100, 7, 0, func() {})
	var page map[string]any
	if err := json.Unmarshal(j.b, &page); err != nil {
		t.Fatalf("%v: %s", err, j.b)
	}
	if !strings.Contains(string(j.b), `"offset":922337203685477580600,`) {
		t.Errorf("offset of page 2^63-1, size 100: %s", j.b)
	}
	// A page beyond int is echoed as sent, its offset exact, and it is the last page.
	j = jw{}
	j.pageOf(pageNo{n: math.MaxInt, digits: "99999999999999999999"}, 5, 7, 0, func() {})
	for _, want := range []string{`"pageNumber":99999999999999999999,`, `"offset":499999999999999999990,`,
		`"number":99999999999999999999,`, `"last":true,`, `"first":false,`, `"totalPages":2,`} {
		if !strings.Contains(string(j.b), want) {
			t.Errorf("page 99999999999999999999, size 5: %s lacks %s", j.b, want)
		}
	}
	if err := json.Unmarshal(j.b, &page); err != nil {
		t.Fatalf("%v: %s", err, j.b)
	}
}

// appendDecimalOffset is math/big's (page-1)×size, in linear time.
func TestAppendDecimalOffset(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pages := []string{"2", "10", "100000000000000000000", "99999999999999999999", "9223372036854775808", "18446744073709551616"}
	for range 2000 {
		d := []byte{byte('1' + rng.IntN(9))}
		for range rng.IntN(60) {
			d = append(d, byte('0'+rng.IntN(10)))
		}
		if rng.IntN(4) == 0 { // many zeros: borrows all the way
			d = append(d[:1], bytes.Repeat([]byte{'0'}, rng.IntN(40))...)
		}
		pages = append(pages, string(d))
	}
	for _, page := range pages {
		for _, size := range []int{1, 5, 7, 10, 100, 99999, 100000, 1 << 40} {
			p, _ := new(big.Int).SetString(page, 10)
			want := p.Mul(p.Sub(p, big.NewInt(1)), big.NewInt(int64(size))).String()
			if got := string(appendDecimalOffset([]byte("x"), page, size)); got != "x"+want {
				t.Fatalf("page %s size %d: %s, want x%s", page, size, got, want)
			}
		}
	}
}

func TestRoundDiv(t *testing.T) {
	cases := []struct{ a, b, want int64 }{
		{0, 7, 0}, {1, 2, 1}, {-1, 2, -1}, {3, 2, 2}, {-3, 2, -2}, {5, 3, 2}, {-5, 3, -2}, {4, 3, 1}, {-4, 3, -1},
		{10000, 32, 313}, // 1/32 = 3.125 % → 3.13: half away from zero
		{-10000, 32, -313},
		{20000, 3, 6667},     // 66.666… %
		{-100000, 11, -9091}, // -90.9090… %
	}
	for _, c := range cases {
		if got := roundDiv(c.a, c.b); got != c.want {
			t.Errorf("roundDiv(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	hund := []struct {
		v    int64
		want string
	}{{0, "0.0"}, {5025, "50.25"}, {5000, "50.0"}, {5020, "50.2"}, {7, "0.07"}, {-7, "-0.07"}, {-9091, "-90.91"}, {313, "3.13"}}
	for _, c := range hund {
		var j jw
		j.hundredths(c.v)
		if string(j.b) != c.want {
			t.Errorf("hundredths(%d) = %s, want %s", c.v, j.b, c.want)
		}
	}
}

// FuzzParseRange feeds arbitrary strings to the range, hour, channel, enum and page
// parsers: they never panic, every error is a parameter error naming its parameter,
// and what they accept is consistent.
func FuzzParseRange(f *testing.F) {
	seeds := [][7]string{
		{"2025-07-01", "2025-07-01", "", "", "", "", ""},
		{"2025-12-30", "2026-01-02", "22", "3", "a31db618-84f4-4b4b-948a-84a5b43d4318", "1", "5"},
		{"2025-07-01T10:30:00.000Z", "2025-07-01T12:00:00.000+03:00", "0", "23", " A31DB618-84F4-4B4B-948A-84A5B43D4318 ,,", "2", "100"},
		{"2025-07-01T03:00:00 03:00", "2025-07-01t04:00:00.123456789z", "23", "0", ",,,", "0", "0"},
		{"2025-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "24", "-1", "nope", "x", "101"},
		{"2024-02-29", "2025-01-01", "x", "", "{a31db618-84f4-4b4b-948a-84a5b43d4318}", "-1", "-1"},
		{"", "2025-07-01", "5", "5", "", "9223372036854775807", "100"},
		{"0001-01-01", "0001-01-01T00:00:00+23:59", "07", "+3", "", "92233720368547759", "100"},
		{"9999-12-31", "9999-12-31T23:59:59.999999999-23:59", "", "", "", "", ""},
		{"2025-07-02", "2025-07-01", "", "", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6])
	}
	s := paramServer()
	maxRange := int64(s.cfg.MaxRangeDays) * 24 * hourUs
	f.Fuzz(func(t *testing.T, startDate, endDate, startHour, endHour, channels, page, size string) {
		in := rangeInput{startDate: &startDate, endDate: &endDate, startHour: &startHour, endHour: &endHour,
			channels: []string{channels}}
		r, err := s.parseRange(in)
		if err != nil {
			checkNamed(t, err, "startDate", "endDate", "startHour", "endHour", "channelUuids")
		} else {
			checkRange(t, r, maxRange)
		}
		// Absent hours and channels are the defaults.
		if r, err := s.parseRange(rangeInput{startDate: &startDate, endDate: &endDate}); err == nil {
			if r.StartHour != 0 || r.EndHour != 23 || r.Channels != nil {
				t.Errorf("defaults: %d..%d %v", r.StartHour, r.EndHour, r.Channels)
			}
			checkRange(t, r, maxRange)
		}

		if p, sz, err := s.parsePage(url.Values{"page": {page}, "size": {size}}); err != nil {
			checkNamed(t, err, "page", "size")
		} else {
			if p.n < 1 || sz < 1 || sz > s.cfg.MaxPageSize || (p.digits != "" && p.n != math.MaxInt) {
				t.Errorf("page %+v size %d accepted", p, sz)
			}
			off := pageOffset(p.n, sz)
			if pn := p.n; off < 0 || (off != math.MaxInt && off != (pn-1)*sz) || (off == math.MaxInt && (pn-1) <= math.MaxInt/sz && (pn-1)*sz != off) {
				t.Errorf("page %+v size %d: offset %d", p, sz, off)
			}
			var j jw // the page object is JSON whatever the page
			j.pageOf(p, sz, 3, 0, func() {})
			var obj map[string]any
			if err := json.Unmarshal(j.b, &obj); err != nil {
				t.Errorf("page %+v size %d: %v: %s", p, sz, err, j.b)
			}
		}

		for _, e := range []struct {
			name    string
			allowed []string
		}{{"sort", conversationSortBy}, {"sort", messageSortBy}, {"searchBy", conversationSearch}, {"searchBy", messageSearch}, {"order", []string{"ASC", "DESC"}}} {
			v, err := enumParam(e.name, page, "DEFAULT", e.allowed...)
			switch {
			case err != nil:
				checkNamed(t, err, e.name)
			case page == "":
				if v != "DEFAULT" {
					t.Errorf("empty %s gave %q", e.name, v)
				}
			case !strings.EqualFold(v, page):
				t.Errorf("%s=%q accepted as %q", e.name, page, v)
			}
		}
		if v, err := parseNLPFilters(channels); err != nil {
			checkNamed(t, err, "nlpResponseFilters")
		} else if v != "" && v != "FOUND" && v != "NONE" {
			t.Errorf("nlpResponseFilters=%q gave %q", channels, v)
		}
	})
}

func checkNamed(t *testing.T, err error, names ...string) {
	t.Helper()
	if _, ok := err.(*paramError); !ok {
		t.Fatalf("error %T %q is not a parameter error", err, err)
	}
	for _, n := range names {
		if strings.HasPrefix(err.Error(), n+": ") {
			return
		}
	}
	t.Fatalf("error %q names none of %v", err, names)
}

func checkRange(t *testing.T, r Range, maxRange int64) {
	t.Helper()
	if r.Start >= r.End {
		t.Fatalf("accepted range [%d, %d) is empty", r.Start, r.End)
	}
	if r.EndSent < r.StartSent || r.EndSent-r.StartSent > maxRange {
		t.Fatalf("accepted instants %d..%d", r.StartSent, r.EndSent)
	}
	if r.Start != calendar.HourOf(r.StartSent) || r.End != calendar.HourOf(r.EndSent)+1 {
		t.Fatalf("hours [%d, %d) of instants %d..%d", r.Start, r.End, r.StartSent, r.EndSent)
	}
	if r.Start*hourUs > r.StartSent || r.End*hourUs <= r.EndSent {
		t.Fatalf("[%d, %d) does not cover %d..%d", r.Start, r.End, r.StartSent, r.EndSent)
	}
	if r.StartHour < 0 || r.StartHour > 23 || r.EndHour < 0 || r.EndHour > 23 {
		t.Fatalf("hours %d..%d", r.StartHour, r.EndHour)
	}
	if r.Mask != calendar.NewMask(r.StartHour, r.EndHour) {
		t.Fatalf("mask %v for %d..%d", r.Mask, r.StartHour, r.EndHour)
	}
	for h := 0; h < 24; h++ {
		want := r.StartHour <= h && h <= r.EndHour
		if r.StartHour > r.EndHour {
			want = h >= r.StartHour || h <= r.EndHour
		}
		if r.Mask[h] != want {
			t.Fatalf("hour %d passes %v for %d..%d", h, r.Mask[h], r.StartHour, r.EndHour)
		}
	}
	for _, c := range r.Channels {
		var u [36]byte
		if !parseUUID(c, &u) || string(u[:]) != c {
			t.Fatalf("channel %q is not a lower-case UUID", c)
		}
	}
	if r.Channels != nil && len(r.Channels) == 0 {
		t.Fatalf("empty non-nil channel list (would match nothing)")
	}
	p := r.Previous()
	if p.End != r.Start || p.End-p.Start != r.End-r.Start || r.RelativeEnd() >= r.Start*hourUs || r.RelativeStart() != p.Start*hourUs {
		t.Fatalf("previous period [%d, %d) of [%d, %d)", p.Start, p.End, r.Start, r.End)
	}
	cal := calendar.Build(r.Start, r.End, r.Mask)
	wantHours := 0
	for h := r.Start; h < r.End; h++ {
		if r.Mask.Pass(h) {
			wantHours++
		}
	}
	if len(cal.Hours) != wantHours || len(cal.Days) == 0 || len(cal.Weeks) == 0 || len(cal.Months) == 0 {
		t.Fatalf("calendar of [%d, %d): %d hours (want %d), %d days, %d weeks, %d months",
			r.Start, r.End, len(cal.Hours), wantHours, len(cal.Days), len(cal.Weeks), len(cal.Months))
	}
}

// FuzzNeedsStrictParse: a query the fast path passes through is one Go's parser reads
// whole (drops no pair).
func FuzzNeedsStrictParse(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a=%zz", "a=1;2", "a=%4", "a=%41%", "startDate=2025-01-01T00:00:00+03:00", "%41=%42"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := url.ParseQuery(raw); err != nil && !needsStrictParse(raw) {
			t.Fatalf("%q: Go's parser says %v, but the fast path would pass it", raw, err)
		}
	})
}

// BenchmarkCalendarAndLabels: the per-request layout of a 30-day and a 1-year range and
// its bucket labels (what every distinct analytics answer pays before counting).
func BenchmarkCalendarAndLabels(b *testing.B) {
	start := time.Date(2026, 1, 7, 0, 0, 0, 0, time.UTC).Unix() / 3600
	for _, days := range []int64{30, 365} {
		b.Run(fmt.Sprintf("%dd", days), func(b *testing.B) {
			for b.Loop() {
				newLabels(calendar.Build(start, start+days*24, calendar.NewMask(0, 23)))
			}
		})
	}
}

// TestLabelsMatchAFullFormat: the hour labels patched from the previous one of their day
// read exactly as formatting each in full (any mask, before 1970, across years).
func TestLabelsMatchAFullFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 5))
	for _, start := range []int64{
		time.Date(2025, 12, 30, 17, 0, 0, 0, time.UTC).Unix() / 3600,
		time.Date(1969, 12, 30, 5, 0, 0, 0, time.UTC).Unix() / 3600,
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 3600,
		time.Date(9999, 12, 29, 3, 0, 0, 0, time.UTC).Unix() / 3600,
	} {
		for range 20 {
			cal := calendar.Build(start, start+int64(1+r.IntN(24*40)), calendar.NewMask(r.IntN(24), r.IntN(24)))
			l := newLabels(cal)
			from := int32(0)
			for i, h := range cal.Hours {
				var j jw
				j.raw(`{"date":`)
				j.time(h)
				j.raw(`,"value":`)
				if got := string(l.blob[from:l.hours[i]]); got != string(j.b) {
					t.Fatalf("hour %d: %s, want %s", h, got, j.b)
				}
				from = l.hours[i]
			}
		}
	}
}
