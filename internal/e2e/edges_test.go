package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/dashboard-analytics/dashboard/api"
)

// The edges fixture (testdata/edges) holds three tenants whose identifiers collide:
// A = (orgA, env, bot) and B = (orgB, env, bot) share the env and bot UUIDs, session
// codes (S-1, S-2, S-4), message ids (m01, m02, b01), channel UUIDs (ch1, chU) and intent
// names; C = (orgA, env, botC) has a catalog entry and no data. In A, chU is not in the
// catalog (in B it is "B Known"). Every expected number below was worked out by hand from
// the fixture; the comments say from which lines.
const (
	orgA   = "0a000000-0000-4000-8000-00000000000a"
	orgB   = "0b000000-0000-4000-8000-00000000000b"
	envE   = "0e000000-0000-4000-8000-00000000000e"
	botF   = "0f000000-0000-4000-8000-00000000000f"
	botC   = "0c000000-0000-4000-8000-00000000000c"
	ch1    = "c1000000-0000-4000-8000-000000000001"
	ch2    = "c2000000-0000-4000-8000-000000000002"
	chU    = "c9000000-0000-4000-8000-000000000009"
	chNone = "c1000000-0000-4000-8000-0000000000ff" // a well-formed UUID of no channel
)

var (
	tenantA = "/org/" + orgA + "/env/" + envE + "/bot/" + botF
	tenantB = "/org/" + orgB + "/env/" + envE + "/bot/" + botF
	tenantC = "/org/" + orgA + "/env/" + envE + "/bot/" + botC
	// rangeR is 2025-12-30 .. 2026-01-02: [Dec 30 00:00, Jan 3 00:00), 96 hours, crossing
	// a month and a year; its previous period is [Dec 26, Dec 30).
	rangeR = "startDate=2025-12-30&endDate=2026-01-02"
)

const (
	webJSON     = `{"uuid":"` + ch1 + `","botUuid":"` + botF + `","name":"Web","description":"site","channelType":{"id":2,"name":"Web Chat","image":"","channelClassification":{"id":2,"name":"Web"}}}`
	alphaJSON   = `{"uuid":"` + ch2 + `","botUuid":"` + botF + `","name":"Alpha","description":null,"channelType":{"id":1,"name":"WhatsApp","image":"wa.png","channelClassification":{"id":1,"name":"Messaging"}}}`
	unknownJSON = `{"uuid":"` + chU + `","botUuid":"` + botF + `","name":"` + chU + `","description":null,"channelType":null}`
	zetaJSON    = `{"uuid":"` + ch1 + `","botUuid":"` + botF + `","name":"Zeta B","description":"B web","channelType":{"id":3,"name":"Telegram","image":"tg.png","channelClassification":{"id":1,"name":"Messaging"}}}`
	bKnownJSON  = `{"uuid":"` + chU + `","botUuid":"` + botF + `","name":"B Known","description":null,"channelType":{"id":4,"name":"Messenger","image":"fb.png","channelClassification":{"id":3,"name":"Social"}}}`
)

type answer struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

func call(t *testing.T, method, url string, header map[string]string) answer {
	t.Helper()
	a := fetch(t, method, url, header)
	if err := json.Unmarshal(a.raw, &a.body); err != nil {
		t.Fatalf("%s %s: answer is not JSON (%v): %.300s", method, url, err, a.raw)
	}
	return a
}

// rawHead sends HEAD path on a connection of its own and reads to its end: the status,
// the header, and whatever came after the header (a HEAD answer has nothing there).
func rawHead(t *testing.T, base, path, acceptEncoding string) (int, http.Header, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "HEAD " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	if acceptEncoding != "" {
		req += "Accept-Encoding: " + acceptEncoding + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := strings.Cut(string(all), "\r\n\r\n")
	if !ok {
		t.Fatalf("HEAD %s: no end of header in %q", path, all)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(head+"\r\n\r\n")), &http.Request{Method: "HEAD"})
	if err != nil {
		t.Fatalf("HEAD %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, rest
}

// fetch is call without reading the body as JSON.
func fetch(t *testing.T, method, url string, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, raw: raw}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad expected JSON: %v\n%s", err, s)
	}
	return v
}

// at walks a decoded JSON value: keys for objects, ints for arrays.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// exact checks numbers that diff would compare with a tolerance.
func exact(t *testing.T, body any, want map[string]float64) {
	t.Helper()
	for path, w := range want {
		var p []any
		for _, k := range strings.Split(path, ".") {
			p = append(p, k)
		}
		if g, ok := at(body, p...).(float64); !ok || g != w {
			t.Errorf("%s = %v, want exactly %v", path, at(body, p...), w)
		}
	}
}

func day(d string) string   { return d + "T00:00:00.000Z" }
func month(m string) string { return m + "-01T00:00:00.000Z" }

// points builds [{"date": …, "value": …}] from "date=value" pairs of days or months.
func points(pairs ...any) []any {
	var out []any
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, map[string]any{"date": pairs[i], "value": float64(pairs[i+1].(int))})
	}
	return out
}

func weeks(triples ...any) []any {
	var out []any
	for i := 0; i < len(triples); i += 3 {
		out = append(out, map[string]any{"monthDate": month(triples[i].(string)), "weekNumber": float64(triples[i+1].(int)),
			"value": float64(triples[i+2].(int))})
	}
	return out
}

// hours lists the hours of [from, to) (RFC 3339) whose hour passes sh..eh, with the
// given values ("2025-12-30T10" → 2) and 0 elsewhere.
func hours(t *testing.T, from, to string, sh, eh int, values map[string]int) []any {
	t.Helper()
	f, err1 := time.Parse(time.RFC3339, from)
	e, err2 := time.Parse(time.RFC3339, to)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	used := 0
	out := []any{}
	for h := f; h.Before(e); h = h.Add(time.Hour) {
		pass := sh <= h.Hour() && h.Hour() <= eh
		if sh > eh {
			pass = h.Hour() >= sh || h.Hour() <= eh
		}
		if !pass {
			continue
		}
		v, ok := values[h.Format("2006-01-02T15")]
		if ok {
			used++
		}
		out = append(out, map[string]any{"date": h.Format("2006-01-02T15:04:05.000Z"), "value": float64(v)})
	}
	if used != len(values) {
		t.Fatalf("test bug: %d of the hour values are outside the series", len(values)-used)
	}
	return out
}

func sum(series any) float64 {
	var s float64
	for _, p := range series.([]any) {
		s += p.(map[string]any)["value"].(float64)
	}
	return s
}

// check asks for path and compares the answer with want (want ⊆ answer, as diff does).
func check(t *testing.T, base, path string, status int, want any) answer {
	t.Helper()
	a := call(t, "GET", base+path, nil)
	if a.status != status {
		t.Fatalf("GET %s: status %d, want %d: %.500s", path, a.status, status, a.raw)
	}
	if s, ok := want.(string); ok {
		want = mustJSON(t, s)
	}
	if want != nil {
		if d := diff("", want, a.body); d != "" {
			t.Errorf("GET %s:\n%s", path, d)
		}
	}
	return a
}

// ids returns the value of key in each row of a page's content.
func ids(t *testing.T, a answer, key string) []string {
	t.Helper()
	content, ok := at(a.body, "content").([]any)
	if !ok {
		t.Fatalf("not a page: %.300s", a.raw)
	}
	var out []string
	for _, row := range content {
		v, _ := row.(map[string]any)[key].(string)
		out = append(out, v)
	}
	return out
}

func row(t *testing.T, a answer, key, value string) any {
	t.Helper()
	for _, r := range at(a.body, "content").([]any) {
		if r.(map[string]any)[key] == value {
			return r
		}
	}
	t.Fatalf("no row with %s=%s in %s", key, value, short(a.body))
	return nil
}

func TestEdges(t *testing.T) {
	ds := newDataset(t, "testdata/edges")
	if ds.run.Quarantined != 0 {
		t.Fatalf("the edges fixture has %d quarantined lines; see %s", ds.run.Quarantined, ds.dir)
	}
	base := ds.srv.URL

	t.Run("summary", func(t *testing.T) {
		// A's earliest row is the BOT message b-first (sub-millisecond digits truncated);
		// B's is its conversation S-old; C has only a catalog entry.
		check(t, base, tenantA+"/dashboard/summary", 200, `{"hasData":true,"firstDataSet":"2025-12-20T08:00:00.123Z"}`)
		check(t, base, tenantB+"/dashboard/summary", 200, `{"hasData":true,"firstDataSet":"2025-11-01T00:00:00.000Z"}`)
		check(t, base, tenantC+"/dashboard/summary", 200, `{"hasData":false,"firstDataSet":null}`)
		// Path UUIDs in any case name the same tenant.
		check(t, base, "/org/"+strings.ToUpper(orgA)+"/env/"+strings.ToUpper(envE)+"/bot/"+strings.ToUpper(botF)+"/dashboard/summary", 200,
			`{"hasData":true,"firstDataSet":"2025-12-20T08:00:00.123Z"}`)
	})

	t.Run("messages over a month and year boundary", func(t *testing.T) {
		// USER messages of A in R: m01 m02 (Dec 30 10h), m03 (11h), m04 (21h), m05 (22h),
		// m06 m07 (Dec 31 23h; m07 is written 00:30+01:00), m08 (Jan 1 01h), m09 (03h),
		// m10 (04h), m12 (Jan 2 22h); m11 (22:00-03:00 = Jan 3 01h) is outside. BOT lines
		// never count. Previous period: p01 p02 p03.
		want := mustJSON(t, `{"resource":"ANALYTIC_MESSAGES","periodOverview":{"totalAmount":11,"hasRelativeData":true,
			"relativeIncrease":266.67,"hasIncreased":true,"relativeStartDate":"2025-12-26T00:00:00.000Z","relativeEndDate":"2025-12-29T23:59:59.999Z"},
			"trafficAnalyticsDTO":{"averageHoursValue":0.11,"averageDaysValue":2.75,"averageWeeksValue":5.5,"averageMonthsValue":5.5}}`)
		dto := at(want, "trafficAnalyticsDTO").(map[string]any)
		dto["hours"] = hours(t, "2025-12-30T00:00:00Z", "2026-01-03T00:00:00Z", 0, 23, map[string]int{
			"2025-12-30T10": 2, "2025-12-30T11": 1, "2025-12-30T21": 1, "2025-12-30T22": 1, "2025-12-31T23": 2,
			"2026-01-01T01": 1, "2026-01-01T03": 1, "2026-01-01T04": 1, "2026-01-02T22": 1})
		dto["days"] = points(day("2025-12-30"), 5, day("2025-12-31"), 2, day("2026-01-01"), 3, day("2026-01-02"), 1)
		dto["weeks"] = weeks("2025-12", 5, 7, "2026-01", 1, 4)
		dto["months"] = points(month("2025-12"), 7, month("2026-01"), 4)
		a := check(t, base, tenantA+"/dashboard/messages?"+rangeR, 200, want)
		exact(t, a.body, map[string]float64{"periodOverview.relativeIncrease": 266.67, "trafficAnalyticsDTO.averageHoursValue": 0.11,
			"trafficAnalyticsDTO.averageDaysValue": 2.75, "trafficAnalyticsDTO.averageWeeksValue": 5.5})
		if len(at(a.body, "trafficAnalyticsDTO", "hours").([]any)) != 96 {
			t.Errorf("hours: want 96 buckets")
		}
	})

	t.Run("hour filter wraps midnight", func(t *testing.T) {
		// 22..3: m05 (22h), m06 m07 (23h), m08 (01h), m09 (03:59:59), m12 (22h); not m10
		// (04:00:00) nor m04 (21:59:59.999). Previous: p02 (23h), p03 (02h).
		q := rangeR + "&startHour=22&endHour=3"
		want := mustJSON(t, `{"resource":"ANALYTIC_MESSAGES","periodOverview":{"totalAmount":6,"hasRelativeData":true,
			"relativeIncrease":200.0,"hasIncreased":true},
			"trafficAnalyticsDTO":{"averageHoursValue":0.25,"averageDaysValue":1.5,"averageWeeksValue":3.0,"averageMonthsValue":3.0}}`)
		dto := at(want, "trafficAnalyticsDTO").(map[string]any)
		dto["hours"] = hours(t, "2025-12-30T00:00:00Z", "2026-01-03T00:00:00Z", 22, 3, map[string]int{
			"2025-12-30T22": 1, "2025-12-31T23": 2, "2026-01-01T01": 1, "2026-01-01T03": 1, "2026-01-02T22": 1})
		dto["days"] = points(day("2025-12-30"), 1, day("2025-12-31"), 2, day("2026-01-01"), 2, day("2026-01-02"), 1)
		dto["weeks"] = weeks("2025-12", 5, 3, "2026-01", 1, 3)
		dto["months"] = points(month("2025-12"), 3, month("2026-01"), 3)
		a := check(t, base, tenantA+"/dashboard/messages?"+q, 200, want)
		if n := len(at(a.body, "trafficAnalyticsDTO", "hours").([]any)); n != 24 {
			t.Errorf("hours: %d buckets, want 4 days × 6 hours", n)
		}
		exact(t, a.body, map[string]float64{"periodOverview.relativeIncrease": 200})

		// Users in the window: u2 (m05, m06), u3 (m07, m08, m09), u1 (m12).
		wantU := mustJSON(t, `{"resource":"ANALYTIC_USERS","periodOverview":{"totalAmount":3,"hasRelativeData":true,"relativeIncrease":50.0,"hasIncreased":true}}`)
		wantU.(map[string]any)["trafficAnalyticsDTO"] = map[string]any{
			"days":   points(day("2025-12-30"), 1, day("2025-12-31"), 2, day("2026-01-01"), 1, day("2026-01-02"), 1),
			"weeks":  weeks("2025-12", 5, 2, "2026-01", 1, 2),
			"months": points(month("2025-12"), 2, month("2026-01"), 2),
		}
		check(t, base, tenantA+"/dashboard/users?"+q, 200, wantU)

		// Conversations started in the window: S-3 (22:00), S-5 (23:29), S-6 (03:58),
		// S-7 and S-9 (22:29); the previous period's S-P (12:00) does not pass.
		check(t, base, tenantA+"/dashboard/conversations?"+q, 200, `{"resource":"ANALYTIC_CONVERSATION",
			"periodOverview":{"totalAmount":5,"hasRelativeData":false,"relativeIncrease":0,"hasIncreased":true},
			"channelAnalytics":[{"channelName":"Alpha","days":[{"value":0},{"value":0},{"value":1},{"value":1}]},
				{"channelName":"Web","days":[{"value":1},{"value":1},{"value":0},{"value":0}]},
				{"channelName":"`+chU+`","channelType":null,"days":[{"value":0},{"value":0},{"value":0},{"value":1}]}]}`)

		// Accuracy: understood m07 m08 m09 m12 of 6 = 66.67; previous p02 of p02 p03 = 50.0.
		a = check(t, base, tenantA+"/dashboard/accuracy?"+q, 200, `{"rateCurrent":66.67,"ratePrevious":50.0,"hasIncreased":true,"relativeIncrease":16.67}`)
		exact(t, a.body, map[string]float64{"rateCurrent": 66.67, "ratePrevious": 50, "relativeIncrease": 16.67})

		// The window applies to the lists too.
		a = check(t, base, tenantA+"/messages/list?"+q+"&size=100&order=ASC", 200, `{"totalElements":6}`)
		if got := strings.Join(ids(t, a, "messageId"), ","); got != "m05,m06,m07,m08,m09,m12" {
			t.Errorf("messages in 22..3: %s", got)
		}
		a = check(t, base, tenantA+"/conversations/list?"+q+"&size=100&order=ASC", 200, `{"totalElements":5}`)
		if got := strings.Join(ids(t, a, "sessionCode"), ","); got != "S-3,S-5,S-6,S-7,S-9" {
			t.Errorf("conversations in 22..3: %s", got)
		}
		// A one-hour window.
		check(t, base, tenantA+"/dashboard/messages?"+rangeR+"&startHour=10&endHour=10", 200,
			`{"periodOverview":{"totalAmount":2},"trafficAnalyticsDTO":{"days":[{"value":2},{"value":0},{"value":0},{"value":0}]}}`)
	})

	t.Run("distinct users across buckets", func(t *testing.T) {
		// u1 sends m01 m02 (10h) and m03 (11h) on Dec 30 and m12 on Jan 2; u2 m04 m05
		// (Dec 30) and m06 (Dec 31); u3 m07 (Dec 31) and m08 m09 m10 (Jan 1). Each user
		// counts once per bucket and once in totalAmount. Previous: u4, u5.
		want := mustJSON(t, `{"resource":"ANALYTIC_USERS","periodOverview":{"totalAmount":3,"hasRelativeData":true,"relativeIncrease":50.0,
			"hasIncreased":true,"relativeStartDate":"2025-12-26T00:00:00.000Z","relativeEndDate":"2025-12-29T23:59:59.999Z"},
			"trafficAnalyticsDTO":{"averageHoursValue":0.1,"averageDaysValue":1.5,"averageWeeksValue":2.5,"averageMonthsValue":2.5}}`)
		dto := at(want, "trafficAnalyticsDTO").(map[string]any)
		dto["hours"] = hours(t, "2025-12-30T00:00:00Z", "2026-01-03T00:00:00Z", 0, 23, map[string]int{
			"2025-12-30T10": 1, "2025-12-30T11": 1, "2025-12-30T21": 1, "2025-12-30T22": 1, "2025-12-31T23": 2,
			"2026-01-01T01": 1, "2026-01-01T03": 1, "2026-01-01T04": 1, "2026-01-02T22": 1})
		dto["days"] = points(day("2025-12-30"), 2, day("2025-12-31"), 2, day("2026-01-01"), 1, day("2026-01-02"), 1)
		dto["weeks"] = weeks("2025-12", 5, 3, "2026-01", 1, 2)
		dto["months"] = points(month("2025-12"), 3, month("2026-01"), 2)
		a := check(t, base, tenantA+"/dashboard/users?"+rangeR, 200, want)
		exact(t, a.body, map[string]float64{"periodOverview.relativeIncrease": 50, "trafficAnalyticsDTO.averageHoursValue": 0.1})
		// One day holding u1's two hours: 1 user, and 1 in each hour.
		check(t, base, tenantA+"/dashboard/users?startDate=2025-12-30T10:00:00Z&endDate=2025-12-30T11:59:59Z", 200,
			`{"periodOverview":{"totalAmount":1},"trafficAnalyticsDTO":{"hours":[{"value":1},{"value":1}],"days":[{"value":1}]}}`)
	})

	t.Run("conversations per channel with an unknown channel", func(t *testing.T) {
		// S-2 S-6 S-7 on Alpha, S-1 S-3 S-5 on Web, S-9 on chU (not in A's catalog, though
		// B's catalog names it). Names sort in code points: "Alpha" < "Web" < "c9…".
		a := check(t, base, tenantA+"/dashboard/conversations?"+rangeR, 200, `{"resource":"ANALYTIC_CONVERSATION",
			"periodOverview":{"totalAmount":7,"hasRelativeData":true,"relativeIncrease":600.0,"hasIncreased":true,
				"relativeStartDate":"2025-12-26T00:00:00.000Z","relativeEndDate":"2025-12-29T23:59:59.999Z"},
			"channelAnalytics":[
			 {"channelType":"WhatsApp","channelName":"Alpha",
			  "days":[{"date":"2025-12-30T00:00:00.000Z","value":1},{"date":"2025-12-31T00:00:00.000Z","value":0},{"date":"2026-01-01T00:00:00.000Z","value":1},{"date":"2026-01-02T00:00:00.000Z","value":1}],
			  "weeks":[{"monthDate":"2025-12-01T00:00:00.000Z","weekNumber":5,"value":1},{"monthDate":"2026-01-01T00:00:00.000Z","weekNumber":1,"value":2}],
			  "months":[{"date":"2025-12-01T00:00:00.000Z","value":1},{"date":"2026-01-01T00:00:00.000Z","value":2}]},
			 {"channelType":"Web Chat","channelName":"Web",
			  "days":[{"value":2},{"value":1},{"value":0},{"value":0}],"weeks":[{"value":3},{"value":0}],"months":[{"value":3},{"value":0}]},
			 {"channelType":null,"channelName":"`+chU+`",
			  "days":[{"value":0},{"value":0},{"value":0},{"value":1}],"weeks":[{"value":0},{"value":1}],"months":[{"value":0},{"value":1}]}]}`)
		for i, c := range at(a.body, "channelAnalytics").([]any) {
			hs := at(c, "hours").([]any)
			if len(hs) != 96 || sum(hs) != sum(at(c, "days")) {
				t.Errorf("channel %d: %d hours summing to %v, days sum %v", i, len(hs), sum(hs), sum(at(c, "days")))
			}
		}
		// Only the unknown channel.
		check(t, base, tenantA+"/dashboard/conversations?"+rangeR+"&channelUuids="+strings.ToUpper(chU), 200,
			`{"periodOverview":{"totalAmount":1,"hasRelativeData":false},"channelAnalytics":[{"channelType":null,"channelName":"`+chU+`"}]}`)
	})

	t.Run("accuracy", func(t *testing.T) {
		// Understood in R: m01 m03 m07 m08 m09 m12 of 11 = 54.545… → 54.55; previous p02 of
		// 3 = 33.33; the increase is taken from the rounded rates.
		a := check(t, base, tenantA+"/dashboard/accuracy?"+rangeR, 200, `{"rateCurrent":54.55,"ratePrevious":33.33,"hasIncreased":true,
			"relativeIncrease":21.22,"relativeStartDate":"2025-12-26T00:00:00.000Z","relativeEndDate":"2025-12-29T23:59:59.999Z"}`)
		exact(t, a.body, map[string]float64{"rateCurrent": 54.55, "ratePrevious": 33.33, "relativeIncrease": 21.22})
		// No USER message at all: 0, not NaN.
		check(t, base, tenantA+"/dashboard/accuracy?"+rangeR+"&channelUuids="+chNone, 200,
			`{"rateCurrent":0,"ratePrevious":0,"hasIncreased":false,"relativeIncrease":0}`)
	})

	t.Run("stacking", func(t *testing.T) {
		// Intents: Web m01 m02 m07 saudacao, m08 fatura (m05's "" does not count); Alpha
		// m03 m04 m09 m12 fatura, m10 saudacao; chU's m06 has none.
		check(t, base, tenantA+"/dashboard/stacking/intents?"+rangeR, 200, `{"resource":"ANALYTIC_INTENTS","channelList":[
			{"name":"Alpha","topicBreakdown":[{"name":"fatura","channelValue":4,"totalValue":5},{"name":"saudacao","channelValue":1,"totalValue":4}]},
			{"name":"Web","topicBreakdown":[{"name":"fatura","channelValue":1,"totalValue":5},{"name":"saudacao","channelValue":3,"totalValue":4}]}]}`)
		// totalValue is over the filtered channels only.
		check(t, base, tenantA+"/dashboard/stacking/intents?"+rangeR+"&channelUuids=%20"+ch2+"%20,,", 200, `{"channelList":[
			{"name":"Alpha","topicBreakdown":[{"name":"fatura","channelValue":4,"totalValue":4},{"name":"saudacao","channelValue":1,"totalValue":1}]}]}`)
		// Flows, once per distinct flow of a conversation (S-1 travels Boas-vindas twice);
		// ties of totalValue by name.
		check(t, base, tenantA+"/dashboard/stacking/flows?"+rangeR, 200, `{"resource":"ANALYTIC_FLOWS","channelList":[
			{"name":"Alpha","topicBreakdown":[{"name":"Fatura","channelValue":2,"totalValue":3},{"name":"Suporte","channelValue":1,"totalValue":3}]},
			{"name":"Web","topicBreakdown":[{"name":"Fatura","channelValue":1,"totalValue":3},{"name":"Suporte","channelValue":1,"totalValue":3},{"name":"Boas-vindas","channelValue":1,"totalValue":1}]},
			{"name":"`+chU+`","topicBreakdown":[{"name":"Suporte","channelValue":1,"totalValue":3}]}]}`)
		// The hour filter applies: 22..3 keeps m05 (no intent) m06 (none) m07 m08 m09 m12.
		check(t, base, tenantA+"/dashboard/stacking/intents?"+rangeR+"&startHour=22&endHour=3", 200, `{"channelList":[
			{"name":"Alpha","topicBreakdown":[{"name":"fatura","channelValue":2,"totalValue":3}]},
			{"name":"Web","topicBreakdown":[{"name":"fatura","channelValue":1,"totalValue":3},{"name":"saudacao","channelValue":1,"totalValue":1}]}]}`)
	})

	t.Run("channel filters", func(t *testing.T) {
		// Upper case, spaces and empty elements: Alpha only (m03 m04 m09 m10 m12; previous p02).
		q := rangeR + "&channelUuids=" + url.QueryEscape(" "+strings.ToUpper(ch2)+" ,,")
		a := check(t, base, tenantA+"/dashboard/messages?"+q, 200, `{"periodOverview":{"totalAmount":5,"hasRelativeData":true,"relativeIncrease":400.0},
			"trafficAnalyticsDTO":{"days":[{"value":2},{"value":0},{"value":2},{"value":1}]}}`)
		exact(t, a.body, map[string]float64{"periodOverview.relativeIncrease": 400})
		// Only commas = all channels.
		check(t, base, tenantA+"/dashboard/messages?"+rangeR+"&channelUuids=,,,", 200, `{"periodOverview":{"totalAmount":11}}`)
		check(t, base, tenantA+"/dashboard/messages?"+rangeR+"&channelUuids=", 200, `{"periodOverview":{"totalAmount":11}}`)
		// Two channels, one of them repeated as a second parameter.
		check(t, base, tenantA+"/dashboard/messages?"+rangeR+"&channelUuids="+ch1+"&channelUuids="+chU, 200, `{"periodOverview":{"totalAmount":6}}`)
		// B's channel named "B Known" is chU: A's chU filter sees only A's m06.
		check(t, base, tenantA+"/messages/list?"+rangeR+"&channelUuids="+chU, 200,
			`{"totalElements":1,"content":[{"messageId":"m06","channel":`+unknownJSON+`}]}`)

		// A UUID that names no channel matches nothing: zero series, empty lists.
		none := rangeR + "&channelUuids=" + chNone
		a = check(t, base, tenantA+"/dashboard/messages?"+none, 200, `{"periodOverview":{"totalAmount":0,"hasRelativeData":false,"relativeIncrease":0,"hasIncreased":false},
			"trafficAnalyticsDTO":{"days":[{"value":0},{"value":0},{"value":0},{"value":0}],"weeks":[{"value":0},{"value":0}],"months":[{"value":0},{"value":0}],
			"averageHoursValue":0,"averageDaysValue":0,"averageWeeksValue":0,"averageMonthsValue":0}}`)
		if hs := at(a.body, "trafficAnalyticsDTO", "hours").([]any); len(hs) != 96 || sum(hs) != 0 {
			t.Errorf("hours: %d buckets summing to %v", len(hs), sum(hs))
		}
		check(t, base, tenantA+"/dashboard/users?"+none, 200, `{"periodOverview":{"totalAmount":0}}`)
		check(t, base, tenantA+"/dashboard/conversations?"+none, 200, `{"periodOverview":{"totalAmount":0},"channelAnalytics":[]}`)
		check(t, base, tenantA+"/dashboard/stacking/intents?"+none, 200, `{"channelList":[]}`)
		check(t, base, tenantA+"/dashboard/stacking/flows?"+none, 200, `{"channelList":[]}`)
		check(t, base, tenantA+"/conversations/list?"+none, 200, `{"content":[],"totalElements":0,"totalPages":0,"empty":true}`)
		check(t, base, tenantA+"/messages/list?"+none, 200, `{"content":[],"totalElements":0,"totalPages":0,"empty":true}`)
	})

	t.Run("weeks of a month starting on a Sunday", func(t *testing.T) {
		// 2026-03-01 is a Sunday: week 1 is that one day, week 6 is Mar 30-31. q01 q02 on
		// Mar 1, q03 Mar 2 (Monday, week 2), q04 Mar 31. Previous period [Jan 29, Mar 1) is empty.
		a := check(t, base, tenantA+"/dashboard/messages?startDate=2026-03-01&endDate=2026-03-31", 200, `{"periodOverview":{"totalAmount":4,
			"hasRelativeData":false,"relativeIncrease":0,"hasIncreased":true,"relativeStartDate":"2026-01-29T00:00:00.000Z","relativeEndDate":"2026-02-28T23:59:59.999Z"},
			"trafficAnalyticsDTO":{"weeks":[
			 {"monthDate":"2026-03-01T00:00:00.000Z","weekNumber":1,"value":2},{"monthDate":"2026-03-01T00:00:00.000Z","weekNumber":2,"value":1},
			 {"monthDate":"2026-03-01T00:00:00.000Z","weekNumber":3,"value":0},{"monthDate":"2026-03-01T00:00:00.000Z","weekNumber":4,"value":0},
			 {"monthDate":"2026-03-01T00:00:00.000Z","weekNumber":5,"value":0},{"monthDate":"2026-03-01T00:00:00.000Z","weekNumber":6,"value":1}],
			 "months":[{"date":"2026-03-01T00:00:00.000Z","value":4}],"averageWeeksValue":0.67,"averageMonthsValue":4.0}}`)
		if n := len(at(a.body, "trafficAnalyticsDTO", "days").([]any)); n != 31 {
			t.Errorf("%d days, want 31", n)
		}
		if v := at(a.body, "periodOverview", "relativeIncrease"); v != 0.0 {
			t.Errorf("relativeIncrease without relative data: %v", v)
		}
		check(t, base, tenantA+"/dashboard/users?startDate=2026-03-01&endDate=2026-03-31", 200,
			`{"periodOverview":{"totalAmount":2,"hasRelativeData":false},"trafficAnalyticsDTO":{"weeks":[{"value":2},{"value":1},{"value":0},{"value":0},{"value":0},{"value":1}]}}`)
		// Feb 27 .. Mar 2: Feb's week 5 (Feb 23-28), then Mar's weeks 1 and 2.
		check(t, base, tenantA+"/dashboard/messages?startDate=2026-02-27&endDate=2026-03-02", 200, `{"periodOverview":{"totalAmount":3,"hasRelativeData":false},
			"trafficAnalyticsDTO":{"days":[{"date":"2026-02-27T00:00:00.000Z","value":0},{"date":"2026-02-28T00:00:00.000Z","value":0},
			 {"date":"2026-03-01T00:00:00.000Z","value":2},{"date":"2026-03-02T00:00:00.000Z","value":1}],
			 "weeks":[{"monthDate":"2026-02-01T00:00:00.000Z","weekNumber":5,"value":0},{"monthDate":"2026-03-01T00:00:00.000Z","weekNumber":1,"value":2},
			 {"monthDate":"2026-03-01T00:00:00.000Z","weekNumber":2,"value":1}],
			 "months":[{"date":"2026-02-01T00:00:00.000Z","value":0},{"date":"2026-03-01T00:00:00.000Z","value":3}]}}`)
	})

	t.Run("previous period", func(t *testing.T) {
		// Jan 3..Jan 6: only m11 (Jan 3 01h); previous = R with 11 → -90.91.
		a := check(t, base, tenantA+"/dashboard/messages?startDate=2026-01-03&endDate=2026-01-06", 200, `{"periodOverview":{"totalAmount":1,
			"hasRelativeData":true,"relativeIncrease":-90.91,"hasIncreased":false,"relativeStartDate":"2025-12-30T00:00:00.000Z","relativeEndDate":"2026-01-02T23:59:59.999Z"}}`)
		exact(t, a.body, map[string]float64{"periodOverview.relativeIncrease": -90.91})
		// Hour 10 of Dec 30 holds S-1; the hour before holds nothing.
		check(t, base, tenantA+"/dashboard/conversations?startDate=2025-12-30T10:00:00Z&endDate=2025-12-30T10:00:00Z", 200,
			`{"periodOverview":{"totalAmount":1,"hasRelativeData":false,"relativeIncrease":0,"hasIncreased":true,
			"relativeStartDate":"2025-12-30T09:00:00.000Z","relativeEndDate":"2025-12-30T09:59:59.999Z"}}`)
		// Same count now and before (u1 in hour 11 and in hour 10): no increase.
		a = check(t, base, tenantA+"/dashboard/users?startDate=2025-12-30T11:00:00Z&endDate=2025-12-30T11:00:00Z", 200,
			`{"periodOverview":{"totalAmount":1,"hasRelativeData":true,"relativeIncrease":0,"hasIncreased":false}}`)
		exact(t, a.body, map[string]float64{"periodOverview.relativeIncrease": 0})
		// Fewer now: m03 in hour 11, m01 m02 in hour 10.
		a = check(t, base, tenantA+"/dashboard/messages?startDate=2025-12-30T11:00:00Z&endDate=2025-12-30T11:59:59.999Z", 200,
			`{"periodOverview":{"totalAmount":1,"hasRelativeData":true,"relativeIncrease":-50.0,"hasIncreased":false}}`)
		exact(t, a.body, map[string]float64{"periodOverview.relativeIncrease": -50})
		// Hour-granular range: 10:30..10:40 is the whole hour 10 (m01 10:15, m02 10:45).
		check(t, base, tenantA+"/dashboard/messages?startDate=2025-12-30T10:30:00Z&endDate=2025-12-30T10:40:00Z", 200,
			`{"periodOverview":{"totalAmount":2,"hasRelativeData":false},"trafficAnalyticsDTO":{"hours":[{"date":"2025-12-30T10:00:00.000Z","value":2}],
			"days":[{"date":"2025-12-30T00:00:00.000Z","value":2}]}}`)
	})

	t.Run("date-only and offset dates", func(t *testing.T) {
		plain := call(t, "GET", base+tenantA+"/dashboard/messages?"+rangeR, nil)
		for _, q := range []string{
			"startDate=2025-12-30T03:00:00%2B03:00&endDate=2026-01-02T20:59:59.999-03:00",
			// An unencoded '+' arrives as a space and is read as '+'.
			"startDate=2025-12-30T03:00:00+03:00&endDate=2026-01-03T02:59:59.999+03:00",
			"startDate=2025-12-30T01:59:59.999999%2B01:00&endDate=2026-01-02T23:00:00Z",
			"startDate=2025-12-30t00:00:00z&endDate=2026-01-02T23:59:59.999999999Z",
		} {
			a := call(t, "GET", base+tenantA+"/dashboard/messages?"+q, nil)
			if a.status != 200 || !bytes.Equal(a.raw, plain.raw) {
				t.Errorf("%s: status %d, answer differs from the plain-date one:\n%.300s", q, a.status, a.raw)
			}
		}
		// An offset moves m11 (2026-01-02T22:00:00-03:00) into Jan 3: the range
		// 19:00-03:00 .. 23:59:59-03:00 is [Jan 2 22:00Z, Jan 3 03:00Z) and holds m12 and m11.
		check(t, base, tenantA+"/messages/list?startDate=2026-01-02T19:00:00-03:00&endDate=2026-01-02T23:59:59-03:00&order=ASC", 200,
			`{"totalElements":2,"content":[{"messageId":"m12","deliveredAt":"2026-01-02T22:30:00.000Z"},{"messageId":"m11","deliveredAt":"2026-01-03T01:00:00.000Z"}]}`)
	})

	t.Run("tenant isolation", func(t *testing.T) {
		check(t, base, tenantB+"/dashboard/messages?"+rangeR, 200, `{"periodOverview":{"totalAmount":2,"hasRelativeData":false},
			"trafficAnalyticsDTO":{"days":[{"value":1},{"value":1},{"value":0},{"value":0}]}}`)
		check(t, base, tenantB+"/dashboard/users?"+rangeR, 200, `{"periodOverview":{"totalAmount":2}}`)
		check(t, base, tenantB+"/dashboard/conversations?"+rangeR, 200, `{"periodOverview":{"totalAmount":3,"hasRelativeData":false},"channelAnalytics":[
			{"channelType":"Messenger","channelName":"B Known","days":[{"value":0},{"value":1},{"value":0},{"value":0}]},
			{"channelType":"Telegram","channelName":"Zeta B","days":[{"value":1},{"value":1},{"value":0},{"value":0}]}]}`)
		check(t, base, tenantB+"/dashboard/accuracy?"+rangeR, 200, `{"rateCurrent":50.0,"ratePrevious":0,"hasIncreased":true,"relativeIncrease":50.0}`)
		check(t, base, tenantB+"/dashboard/stacking/intents?"+rangeR, 200, `{"channelList":[
			{"name":"B Known","topicBreakdown":[{"name":"outro","channelValue":1,"totalValue":1}]},
			{"name":"Zeta B","topicBreakdown":[{"name":"saudacao","channelValue":1,"totalValue":1}]}]}`)
		check(t, base, tenantB+"/dashboard/stacking/flows?"+rangeR, 200, `{"channelList":[
			{"name":"B Known","topicBreakdown":[{"name":"Outro","channelValue":1,"totalValue":1}]},
			{"name":"Zeta B","topicBreakdown":[{"name":"Fatura","channelValue":1,"totalValue":1}]}]}`)
		// B's S-1 counts its March message too (userMessages looks at the whole session).
		check(t, base, tenantB+"/conversations/list?"+rangeR, 200, `{"totalElements":3,"content":[
			{"sessionCode":"S-4","businessKey":"B-S4","userMessage":null,"userMessages":0,"channel":`+zetaJSON+`},
			{"sessionCode":"S-2","businessKey":"B2","channel":`+bKnownJSON+`},
			{"sessionCode":"S-1","businessKey":"B-ΟΔΟΣ","userMessage":"B ΟΔΟΣ","satisfaction":2,"userMessages":2,"durationInSeconds":120,"channel":`+zetaJSON+`}]}`)
		check(t, base, tenantB+"/messages/list?"+rangeR, 200, `{"totalElements":2,"content":[
			{"messageId":"m02","businessKey":"B2","channel":`+bKnownJSON+`,"answerNames":[],"answerTexts":[],"answerButtons":[]},
			{"messageId":"m01","businessKey":"B-ΟΔΟΣ","answerNames":["B-oi"],"answerTexts":["B reply"],"answerButtons":[],"channel":`+zetaJSON+`}]}`)
		check(t, base, tenantB+"/conversations/details?sessionCode=S-1", 200, `{"sessionCode":"S-1","startedAt":"2025-12-30T10:29:00.000Z","channel":`+zetaJSON+`,
			"messages":[{"messageId":"m01","sender":"USER"},{"messageId":"b01","sender":"BOT"},{"messageId":"m20","sender":"USER"}]}`)
		// B's S-4 is a conversation without messages; A's S-4 has a message and no conversation.
		check(t, base, tenantB+"/conversations/details?sessionCode=S-4", 200, `{"sessionCode":"S-4","startedAt":"2025-12-31T20:00:00.000Z","channel":`+zetaJSON+`,"messages":[]}`)
		check(t, base, tenantA+"/conversations/details?sessionCode=S-old", 404, nil)
		check(t, base, tenantB+"/conversations/details?sessionCode=S-9", 404, nil)
		// Searches never cross tenants.
		a := check(t, base, tenantA+"/conversations/list?"+rangeR+"&searchBy=BUSINESS_KEY&searchTerm=%CE%BF%CE%B4%CE%BF%CF%82", 200, `{"totalElements":2}`)
		if got := strings.Join(ids(t, a, "sessionCode"), ","); got != "S-5,S-1" {
			t.Errorf("A's business keys with οδος: %s", got)
		}
		check(t, base, tenantB+"/conversations/list?"+rangeR+"&searchBy=BUSINESS_KEY&searchTerm=%CE%BF%CE%B4%CE%BF%CF%82", 200,
			`{"totalElements":1,"content":[{"sessionCode":"S-1","businessKey":"B-ΟΔΟΣ"}]}`)
		check(t, base, tenantA+"/messages/list?"+rangeR+"&searchBy=ENTITY&searchTerm=cpf", 200, `{"totalElements":1,"content":[{"messageId":"m03"}]}`)
		check(t, base, tenantB+"/messages/list?"+rangeR+"&searchBy=DOCUMENT&searchTerm=MANUAL.PDF", 200, `{"totalElements":1,"content":[{"messageId":"m01","messageText":"B ΟΔΟΣ"}]}`)

		// Nothing of A in any answer for B, and nothing of B in any answer for A.
		aOnly := []string{`"Alpha"`, `"Web"`, "Rua ", "Avenida", `"S-3"`, `"S-5"`, `"S-6"`, `"S-7"`, `"S-9"`, `"m03"`, `"m12"`, "primeiro",
			`"fatura"`, ch2, "2025-12-20", "Olá", "saudação"}
		bOnly := []string{"Zeta B", "B Known", "B-oi", "B reply", "B-S4", "B ΟΔΟΣ", "Telegram", "Messenger", `"outro"`, "2025-11-01", "S-old"}
		paths := []string{"/dashboard/summary", "/dashboard/conversations?" + rangeR, "/dashboard/messages?" + rangeR,
			"/dashboard/users?" + rangeR, "/dashboard/accuracy?" + rangeR, "/dashboard/stacking/intents?" + rangeR,
			"/dashboard/stacking/flows?" + rangeR, "/conversations/list?" + rangeR + "&size=100", "/messages/list?" + rangeR + "&size=100",
			"/conversations/details?sessionCode=S-1", "/conversations/details?sessionCode=S-2", "/conversations/details?sessionCode=S-4",
			"/messages/list?" + rangeR + "&searchBy=SESSION_CODE&searchTerm=S-1", "/conversations/list?" + rangeR + "&searchBy=FLOW&searchTerm=fatura"}
		for _, p := range paths {
			for _, c := range []struct {
				tenant  string
				foreign []string
			}{{tenantB, aOnly}, {tenantA, bOnly}} {
				a := call(t, "GET", base+c.tenant+p, nil)
				if a.status != 200 {
					t.Errorf("%s%s: status %d", c.tenant, p, a.status)
				}
				for _, f := range c.foreign {
					if bytes.Contains(a.raw, []byte(f)) {
						t.Errorf("%s%s shows the other tenant's %s: %.300s", c.tenant, p, f, a.raw)
					}
				}
			}
		}
	})

	t.Run("tenant without data", func(t *testing.T) {
		other := "/org/" + chNone + "/env/" + envE + "/bot/" + botF // UUIDs that hold nothing
		for _, tn := range []string{tenantC, other} {
			check(t, base, tn+"/dashboard/summary", 200, `{"hasData":false,"firstDataSet":null}`)
			for _, ep := range []string{"messages", "users"} {
				want := mustJSON(t, `{"periodOverview":{"totalAmount":0,"hasRelativeData":false,"relativeIncrease":0,"hasIncreased":false},
					"trafficAnalyticsDTO":{"averageHoursValue":0,"averageDaysValue":0,"averageWeeksValue":0,"averageMonthsValue":0}}`)
				dto := at(want, "trafficAnalyticsDTO").(map[string]any)
				dto["hours"] = hours(t, "2025-12-30T00:00:00Z", "2026-01-03T00:00:00Z", 0, 23, nil)
				dto["days"] = points(day("2025-12-30"), 0, day("2025-12-31"), 0, day("2026-01-01"), 0, day("2026-01-02"), 0)
				dto["weeks"] = weeks("2025-12", 5, 0, "2026-01", 1, 0)
				dto["months"] = points(month("2025-12"), 0, month("2026-01"), 0)
				check(t, base, tn+"/dashboard/"+ep+"?"+rangeR, 200, want)
			}
			check(t, base, tn+"/dashboard/conversations?"+rangeR, 200, `{"resource":"ANALYTIC_CONVERSATION","periodOverview":{"totalAmount":0},"channelAnalytics":[]}`)
			check(t, base, tn+"/dashboard/accuracy?"+rangeR, 200, `{"rateCurrent":0,"ratePrevious":0,"hasIncreased":false,"relativeIncrease":0}`)
			check(t, base, tn+"/dashboard/stacking/intents?"+rangeR, 200, `{"resource":"ANALYTIC_INTENTS","channelList":[]}`)
			check(t, base, tn+"/dashboard/stacking/flows?"+rangeR, 200, `{"resource":"ANALYTIC_FLOWS","channelList":[]}`)
			emptyPage := `{"content":[],"totalElements":0,"totalPages":0,"size":5,"number":1,"numberOfElements":0,"first":true,"last":true,"empty":true}`
			check(t, base, tn+"/conversations/list?"+rangeR, 200, emptyPage)
			check(t, base, tn+"/messages/list?"+rangeR, 200, emptyPage)
			check(t, base, tn+"/conversations/details?sessionCode=S-1", 404, `{"status":404,"error":"Not Found","path":"`+tn+`/conversations/details"}`)
		}
	})

	t.Run("conversations list", func(t *testing.T) {
		all := tenantA + "/conversations/list?" + rangeR + "&size=100"
		check(t, base, all+"&searchBy=SESSION_CODE&searchTerm=s-1", 200, `{"totalElements":1,"content":[{"sessionCode":"S-1","businessKey":"Rua ΟΔΟΣ 1",
			"userMessage":"Olá, bom dia","satisfaction":5,"userMessages":2,"flowsTravelled":2,"flowsTravelledNames":["Boas-vindas","Fatura"],
			"conversationStartedAt":"2025-12-30T10:14:00.000Z","durationInSeconds":390,"channel":`+webJSON+`,"tags":["vip","b2b"]}]}`)
		// S-9: no messages, unknown channel, no business key, satisfaction or tags.
		check(t, base, all+"&searchBy=SESSION_CODE&searchTerm=S-9", 200, `{"totalElements":1,"content":[{"sessionCode":"S-9","businessKey":null,
			"userMessage":null,"satisfaction":null,"userMessages":0,"flowsTravelled":1,"flowsTravelledNames":["Suporte"],
			"conversationStartedAt":"2026-01-02T22:29:00.000Z","durationInSeconds":0,"channel":`+unknownJSON+`,"tags":[]}]}`)
		// S-3: empty flows; S-2: duration to its last message (21:59:59.999 → 39599 s,
		// truncated); S-7: to its last message, a BOT one on Jan 3, outside the range; S-5
		// starts Dec 31 23:29Z, written with +01:00.
		check(t, base, all+"&sort=conversationStartedAt&order=ASC", 200, `{"totalElements":7,"content":[
			{"sessionCode":"S-1"},
			{"sessionCode":"S-2","businessKey":"100%_off 'promo'","userMessage":"100% de desconto_já","satisfaction":null,"userMessages":2,"durationInSeconds":39599,"channel":`+alphaJSON+`,"tags":[]},
			{"sessionCode":"S-3","businessKey":null,"userMessage":"οδος","satisfaction":1,"userMessages":1,"flowsTravelled":0,"flowsTravelledNames":[],"durationInSeconds":0},
			{"sessionCode":"S-5","conversationStartedAt":"2025-12-31T23:29:00.000Z","durationInSeconds":6360,"userMessage":"oi"},
			{"sessionCode":"S-6","durationInSeconds":180,"flowsTravelledNames":["Fatura","Suporte"]},
			{"sessionCode":"S-7","userMessages":2,"userMessage":"dentro","durationInSeconds":12660},
			{"sessionCode":"S-9"}]}`)

		sorts := []struct{ sort, order, want string }{
			{"", "", "S-7,S-9,S-6,S-5,S-3,S-2,S-1"},
			{"conversationStartedAt", "DESC", "S-7,S-9,S-6,S-5,S-3,S-2,S-1"},
			{"conversationStartedAt", "asc", "S-1,S-2,S-3,S-5,S-6,S-7,S-9"},
			{"satisfaction", "ASC", "S-3,S-5,S-1,S-6,S-2,S-7,S-9"},
			{"SATISFACTION", "DESC", "S-1,S-6,S-5,S-3,S-2,S-7,S-9"},
			{"satisfaction", "", "S-1,S-6,S-5,S-3,S-2,S-7,S-9"},
			{"userMessages", "ASC", "S-9,S-3,S-1,S-2,S-5,S-6,S-7"},
			{"usermessages", "DESC", "S-1,S-2,S-5,S-6,S-7,S-3,S-9"},
			{"flowsTravelled", "ASC", "S-3,S-7,S-2,S-5,S-9,S-1,S-6"},
			{"flowsTravelled", "DESC", "S-1,S-6,S-2,S-5,S-9,S-3,S-7"},
			{"duration", "ASC", "S-3,S-9,S-6,S-1,S-5,S-7,S-2"},
			{"duration", "DESC", "S-2,S-7,S-5,S-1,S-6,S-3,S-9"},
		}
		for _, s := range sorts {
			a := check(t, base, all+"&sort="+s.sort+"&order="+s.order, 200, nil)
			if got := strings.Join(ids(t, a, "sessionCode"), ","); got != s.want {
				t.Errorf("sort=%s&order=%s: %s, want %s", s.sort, s.order, got, s.want)
			}
		}

		searches := []struct{ by, term, want string }{
			{"SESSION_CODE", "s-", "S-7,S-9,S-6,S-5,S-3,S-2,S-1"},
			{"session_code", "S-1", "S-1"},
			{"BUSINESS_KEY", "οδος", "S-5,S-1"}, // final sigma
			{"BUSINESS_KEY", "ΟΔΟΣ", "S-5,S-1"},
			{"BUSINESS_KEY", "οδοσ", "S-5,S-1"},
			{"BUSINESS_KEY", "%", "S-2"},
			{"BUSINESS_KEY", "_", "S-2"},
			{"BUSINESS_KEY", "'", "S-2"},
			{"BUSINESS_KEY", "1_0", ""}, // as LIKE it would match "100…"
			{"BUSINESS_KEY", "0%_O", "S-2"},
			{"BUSINESS_KEY", "PROMO", "S-7,S-2"},
			{"FLOW", "FATURA", "S-6,S-2,S-1"},
			{"flow", "suporte", "S-9,S-6,S-5"},
			{"FLOW", "fat", ""}, // equal, not contains
		}
		for _, s := range searches {
			a := check(t, base, all+"&searchBy="+s.by+"&searchTerm="+url.QueryEscape(s.term), 200, nil)
			if got := strings.Join(ids(t, a, "sessionCode"), ","); got != s.want {
				t.Errorf("searchBy=%s&searchTerm=%s: %q, want %q", s.by, s.term, got, s.want)
			}
		}
		// searchTerm without searchBy is ignored.
		check(t, base, all+"&searchTerm=zzz", 200, `{"totalElements":7}`)
	})

	t.Run("paging", func(t *testing.T) {
		p := tenantA + "/conversations/list?" + rangeR + "&size=3"
		sortObj := `{"sorted":true,"unsorted":false,"empty":false}`
		a := check(t, base, p, 200, `{"totalElements":7,"totalPages":3,"size":3,"number":1,"numberOfElements":3,"first":true,"last":false,"empty":false,
			"sort":`+sortObj+`,"pageable":{"pageNumber":1,"pageSize":3,"offset":0,"paged":true,"unpaged":false,"sort":`+sortObj+`}}`)
		if got := strings.Join(ids(t, a, "sessionCode"), ","); got != "S-7,S-9,S-6" {
			t.Errorf("page 1: %s", got)
		}
		a = check(t, base, p+"&page=2", 200, `{"number":2,"first":false,"last":false,"numberOfElements":3,"pageable":{"pageNumber":2,"offset":3}}`)
		if got := strings.Join(ids(t, a, "sessionCode"), ","); got != "S-5,S-3,S-2" {
			t.Errorf("page 2: %s", got)
		}
		check(t, base, p+"&page=3", 200, `{"content":[{"sessionCode":"S-1"}],"totalElements":7,"totalPages":3,"number":3,"numberOfElements":1,
			"first":false,"last":true,"empty":false,"pageable":{"pageNumber":3,"offset":6}}`)
		check(t, base, p+"&page=4", 200, `{"content":[],"totalElements":7,"totalPages":3,"number":4,"numberOfElements":0,
			"first":false,"last":true,"empty":true,"pageable":{"pageNumber":4,"pageSize":3,"offset":9}}`)
		check(t, base, p+"&page=1000000", 200, `{"content":[],"totalElements":7,"empty":true,"last":true}`)
		check(t, base, tenantA+"/messages/list?"+rangeR+"&size=5&page=3", 200, `{"content":[{"messageId":"m01"}],"totalElements":11,"totalPages":3,"last":true}`)
		check(t, base, tenantA+"/messages/list?"+rangeR+"&size=5&page=4", 200, `{"content":[],"totalElements":11,"empty":true}`)
		check(t, base, tenantA+"/messages/list?"+rangeR+"&size=100", 200, `{"totalElements":11,"totalPages":1,"size":100,"first":true,"last":true}`)
		// Defaults: page 1, size 5.
		check(t, base, tenantA+"/messages/list?"+rangeR, 200, `{"size":5,"number":1,"numberOfElements":5,"totalPages":3}`)
		// A page far past the end, whose offset fits in 64 bits.
		check(t, base, tenantA+"/conversations/list?"+rangeR+"&page=92233720368547759&size=100", 200, `{"content":[],"empty":true}`)
	})

	t.Run("page whose offset overflows", func(t *testing.T) {
		// (2^63-1 - 1) × 100 does not fit in 64 bits; it is still only a page past the end.
		for _, ep := range []string{"/conversations/list", "/messages/list"} {
			a := call(t, "GET", base+tenantA+ep+"?"+rangeR+"&page=9223372036854775807&size=100", nil)
			if a.status != 200 {
				t.Errorf("%s page=2^63-1&size=100: status %d, want 200 (an empty page): %s", ep, a.status, a.raw)
				continue
			}
			if d := diff("", mustJSON(t, `{"content":[],"empty":true,"number":9223372036854775807}`), a.body); d != "" {
				t.Errorf("%s: %s", ep, d)
			}
			if off, _ := at(a.body, "pageable", "offset").(float64); off < 0 {
				t.Errorf("%s: negative offset %v", ep, off)
			}
		}
		// Past int64 too: "page >= 1", so an empty page, its number echoed as sent (the
		// offset is exact; the raw bytes are compared, float64 would round them).
		for _, ep := range []string{"/conversations/list", "/messages/list", "/reports/list"} {
			a := call(t, "GET", base+tenantA+ep+"?"+rangeR+"&page=099999999999999999999&size=100", nil)
			for _, want := range []string{`"content":[]`, `"pageNumber":99999999999999999999,`, `"offset":9999999999999999999800,`,
				`"number":99999999999999999999,`, `"last":true`, `"first":false`, `"empty":true`} {
				if a.status != 200 || !strings.Contains(string(a.raw), want) {
					t.Errorf("%s page=099999999999999999999&size=100: status %d, want 200 with %s: %s", ep, a.status, want, a.raw)
				}
			}
		}
		check(t, base, tenantA+"/reports/list?page=9223372036854775807&size=100", 200, `{"content":[],"empty":true,"totalElements":0}`)
		check(t, base, tenantA+"/reports/list", 200, `{"content":[],"totalPages":0,"first":true,"last":true,"size":5,"number":1}`)
	})

	t.Run("messages list", func(t *testing.T) {
		all := tenantA + "/messages/list?" + rangeR + "&size=100"
		a := check(t, base, all, 200, `{"totalElements":11}`)
		// m01's replies: b99 (10:15:01), then b00a and b01 (both 10:15:05, by messageId), then
		// b98 days later; the card b00a gives "" to answerTexts and no answerName.
		if d := diff("", mustJSON(t, `{"messageId":"m01","messageText":"Olá, bom dia","sessionCode":"S-1","businessKey":"Rua ΟΔΟΣ 1",
			"minimumConfidenceAchieved":true,"confidence":0.9,"nlpResponses":[{"responseType":"INTENT","paragraphNumber":0,"responseName":"saudacao"}],
			"answerNames":["primeiro","oi","tarde"],"answerTexts":["Primeiro","","Olá!","Late"],"answerButtons":["Card A","Card B","Menu"],
			"deliveredAt":"2025-12-30T10:15:00.000Z","channel":`+webJSON+`,"tags":["t2","t1"]}`), row(t, a, "messageId", "m01")); d != "" {
			t.Errorf("m01:\n%s", d)
		}
		// m06's session S-4 has no conversation (B has one named S-4): businessKey null.
		if d := diff("", mustJSON(t, `{"messageId":"m06","messageText":"sem conversa","sessionCode":"S-4","businessKey":null,
			"minimumConfidenceAchieved":false,"confidence":null,"nlpResponses":[],"answerNames":[],"answerTexts":[],"answerButtons":[],
			"deliveredAt":"2025-12-31T23:30:00.000Z","channel":`+unknownJSON+`,"tags":[]}`), row(t, a, "messageId", "m06")); d != "" {
			t.Errorf("m06:\n%s", d)
		}
		// m02's own replyTo and buttons are BOT-only fields: ignored.
		if d := diff("", mustJSON(t, `{"messageId":"m02","deliveredAt":"2025-12-30T10:45:00.500Z","answerNames":[],"answerTexts":[],"answerButtons":[],
			"nlpResponses":[{"responseType":"FALLBACK","paragraphNumber":0,"responseName":"fallback"}]}`), row(t, a, "messageId", "m02")); d != "" {
			t.Errorf("m02:\n%s", d)
		}

		sorts := []struct{ sort, order, want string }{
			// m06 and m07 are the same instant (m07 written with +01:00): by messageId.
			{"", "", "m12,m10,m09,m08,m06,m07,m05,m04,m03,m02,m01"},
			{"deliveredAt", "ASC", "m01,m02,m03,m04,m05,m06,m07,m08,m09,m10,m12"},
			{"DELIVEREDAT", "desc", "m12,m10,m09,m08,m06,m07,m05,m04,m03,m02,m01"},
			// m07 and m08 tie at 0.7; m04 and m06 have none and go last.
			{"confidence", "DESC", "m01,m03,m07,m08,m09,m12,m02,m10,m05,m04,m06"},
			{"confidence", "ASC", "m05,m10,m02,m12,m09,m07,m08,m03,m01,m04,m06"},
		}
		for _, s := range sorts {
			a := check(t, base, all+"&sort="+s.sort+"&order="+s.order, 200, nil)
			if got := strings.Join(ids(t, a, "messageId"), ","); got != s.want {
				t.Errorf("sort=%s&order=%s: %s, want %s", s.sort, s.order, got, s.want)
			}
		}

		searches := []struct{ q, want string }{
			{"searchBy=QUESTION&searchTerm=ΟΔΟΣ", "m05,m02"},
			{"searchBy=QUESTION&searchTerm=οδος", "m05,m02"},
			{"searchBy=question&searchTerm=οδοσ", "m05,m02"},
			{"searchBy=QUESTION&searchTerm=%", "m03"},
			{"searchBy=QUESTION&searchTerm=_", "m03"},
			{"searchBy=QUESTION&searchTerm='", "m04"},
			{"searchBy=QUESTION&searchTerm=1_0", ""},
			{"searchBy=QUESTION&searchTerm=0%_", ""},
			{"searchBy=QUESTION&searchTerm=o_J", "m03"},
			{"searchBy=INTENT&searchTerm=SAUDACAO", "m10,m07,m02,m01"},
			{"searchBy=INTENT&searchTerm=fat", ""},
			{"searchBy=ENTITY&searchTerm=cpf", "m03"},
			{"searchBy=ENTITY&searchTerm=SAUDAÇÃO", "m01"},
			{"searchBy=DOCUMENT&searchTerm=manual.PDF", "m03"},
			{"searchBy=DOCUMENT&searchTerm=fallback", ""},
			{"searchBy=SESSION_CODE&searchTerm=s-1", "m02,m01"},
			{"searchTerm=zzz", "m12,m10,m09,m08,m06,m07,m05,m04,m03,m02,m01"},
			{"nlpResponseFilters=FOUND", "m12,m09,m08,m07,m03,m01"},
			{"nlpResponseFilters=none", "m10,m06,m05,m04,m02"},
			{"nlpResponseFilters=FOUND,NONE", "m12,m10,m09,m08,m06,m07,m05,m04,m03,m02,m01"},
			{"nlpResponseFilters=ALL,found", "m12,m10,m09,m08,m06,m07,m05,m04,m03,m02,m01"},
			{"nlpResponseFilters=%20found%20,%20,", "m12,m09,m08,m07,m03,m01"},
			{"nlpResponseFilters=FOUND&searchBy=INTENT&searchTerm=saudacao", "m07,m01"},
		}
		for _, s := range searches {
			q := s.q
			if k, v, ok := strings.Cut(q, "searchTerm="); ok {
				rest := ""
				if i := strings.Index(v, "&"); i >= 0 {
					v, rest = v[:i], v[i:]
				}
				q = k + "searchTerm=" + url.QueryEscape(v) + rest
			}
			a := check(t, base, all+"&"+q, 200, nil)
			if got := strings.Join(ids(t, a, "messageId"), ","); got != s.want {
				t.Errorf("%s: %q, want %q", s.q, got, s.want)
			}
		}
	})

	t.Run("arrow answers", func(t *testing.T) {
		for _, c := range []struct{ list, id, time string }{
			{"/messages/list", "messageId", "deliveredAt"},
			{"/conversations/list", "sessionCode", "conversationStartedAt"},
		} {
			for _, q := range []string{"&size=100", "&size=3&page=2&sort=" + map[string]string{"messageId": "confidence", "sessionCode": "duration"}[c.id] + "&order=ASC"} {
				arrowMatchesJSON(t, base, tenantA+c.list+"?"+rangeR+q, nil, c.id, c.time)
			}
		}
		// A larger page cap than JSON's 100; past it, a JSON 400.
		big := base + tenantA + "/messages/list?" + rangeR + "&size=5000"
		if ids, _ := arrowColumns(t, big, "messageId", "deliveredAt"); len(ids) != 11 {
			t.Errorf("size=5000: %d rows", len(ids))
		}
		a := call(t, "GET", big+"00", map[string]string{"Accept": api.ArrowStream})
		checkBad(t, a, "arrow size 500000", tenantA+"/messages/list", "size")
		// JSON when the client prefers it.
		if a := call(t, "GET", big[:len(big)-2], map[string]string{"Accept": "application/json, " + api.ArrowStream + ";q=0.1"}); a.status != 200 ||
			!strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
			t.Errorf("json preferred: %d %s", a.status, a.header.Get("Content-Type"))
		}
	})

	t.Run("details", func(t *testing.T) {
		check(t, base, tenantA+"/conversations/details?sessionCode=S-1", 200, `{"sessionCode":"S-1","startedAt":"2025-12-30T10:14:00.000Z","channel":`+webJSON+`,
			"messages":[
			 {"messageId":"m01","content":"Olá, bom dia","isNe":false,"intent":"saudacao","type":"TEXT","buttons":[],"entities":["saudação"],
			  "nlpResponses":[{"responseType":"INTENT","paragraphNumber":0,"responseName":"saudacao"}],"hasButton":false,"createdAt":"2025-12-30T10:15:00.000Z","sender":"USER"},
			 {"messageId":"b99","content":"Primeiro","isNe":false,"intent":null,"type":"TEXT","buttons":[],"entities":[],"nlpResponses":[],"hasButton":false,
			  "createdAt":"2025-12-30T10:15:01.000Z","sender":"BOT"},
			 {"messageId":"b00a","content":"","isNe":false,"intent":null,"type":"CAROUSEL",
			  "buttons":[{"name":"Card A","value":null,"action":null},{"name":"Card B","value":"b","action":"postback"}],"entities":[],"nlpResponses":[],
			  "hasButton":true,"createdAt":"2025-12-30T10:15:05.000Z","sender":"BOT"},
			 {"messageId":"b01","content":"Olá!","isNe":false,"intent":null,"type":"TEXT","buttons":[{"name":"Menu","value":"menu","action":"postback"}],
			  "entities":[],"nlpResponses":[],"hasButton":true,"createdAt":"2025-12-30T10:15:05.000Z","sender":"BOT"},
			 {"messageId":"m02","content":"ΟΔΟΣ fechada?","isNe":true,"intent":"saudacao","type":"TEXT","buttons":[],"entities":[],
			  "nlpResponses":[{"responseType":"FALLBACK","paragraphNumber":0,"responseName":"fallback"}],"hasButton":false,"createdAt":"2025-12-30T10:45:00.500Z","sender":"USER"},
			 {"messageId":"b98","content":"Late","sender":"BOT","createdAt":"2026-01-05T00:00:00.000Z"}]}`)
		// An empty intent is written null.
		check(t, base, tenantA+"/conversations/details?sessionCode=S-3", 200, `{"messages":[{"messageId":"m05","intent":null,"isNe":true,"sender":"USER"}]}`)
		// Messages but no conversation record: the first message's time and channel.
		check(t, base, tenantA+"/conversations/details?sessionCode=S-4", 200, `{"sessionCode":"S-4","startedAt":"2025-12-31T23:30:00.000Z",
			"channel":`+unknownJSON+`,"messages":[{"messageId":"m06","content":"sem conversa","intent":null,"isNe":true,"sender":"USER","createdAt":"2025-12-31T23:30:00.000Z"}]}`)
		check(t, base, tenantA+"/conversations/details?sessionCode=S-0", 200, `{"sessionCode":"S-0","startedAt":"2025-12-20T08:00:00.123Z","channel":`+webJSON+`,
			"messages":[{"messageId":"b-first","sender":"BOT","isNe":false,"createdAt":"2025-12-20T08:00:00.123Z"}]}`)
		// A conversation without messages.
		check(t, base, tenantA+"/conversations/details?sessionCode=S-9", 200, `{"sessionCode":"S-9","startedAt":"2026-01-02T22:29:00.000Z","channel":`+unknownJSON+`,"messages":[]}`)
		// S-7's m11 lies outside any range asked: details are not ranged.
		check(t, base, tenantA+"/conversations/details?sessionCode=S-7", 200, `{"messages":[{"messageId":"m12"},{"messageId":"m11"},{"messageId":"b-s7"}]}`)
		check(t, base, tenantA+"/conversations/details?sessionCode=nope", 404, `{"status":404,"error":"Not Found","path":"`+tenantA+`/conversations/details"}`)
		check(t, base, tenantA+"/conversations/details?sessionCode=s-1", 404, nil) // session codes are exact
		for _, q := range []string{"", "?sessionCode=", "?sessioncode=S-1"} {
			a := check(t, base, tenantA+"/conversations/details"+q, 400, `{"status":400,"error":"Bad Request","path":"`+tenantA+`/conversations/details"}`)
			if m, _ := at(a.body, "message").(string); !strings.HasPrefix(m, "sessionCode") {
				t.Errorf("details%s: message %q does not name sessionCode", q, m)
			}
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		badErrors(t, base)
	})

	t.Run("parameters not read may hold any bytes", func(t *testing.T) {
		for _, q := range []string{"&x%C3=1", "&searchTerm=%FF%FE", "&%FF=%FF"} {
			for _, ep := range []string{"/conversations/list", "/messages/list", "/dashboard/users"} {
				if a := call(t, "GET", base+tenantA+ep+"?"+rangeR+q, nil); a.status != 200 {
					t.Errorf("%s%s: status %d: %.200s", ep, q, a.status, a.raw)
				}
			}
		}
	})

	t.Run("unknown routes and methods", func(t *testing.T) {
		for _, p := range []string{"/nope", tenantA + "/dashboard/nope", tenantA + "/dashboard/summary/extra", "/org/" + orgA + "/dashboard/summary",
			tenantA + "/conversations/details/", "/", tenantA + "//dashboard/summary", "/org/" + orgA + "/env/" + envE + "/bot/" + botF + "/./dashboard/summary"} {
			a := check(t, base, p+"?x=1", 404, `{"status":404,"error":"Not Found","path":"`+p+`"}`)
			if m, _ := at(a.body, "message").(string); m == "" {
				t.Errorf("%s: 404 without a message", p)
			}
		}
		for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
			for _, p := range []string{tenantA + "/dashboard/summary", tenantA + "/conversations/list", "/healthz", "/openapi.json"} {
				a := call(t, m, base+p+"?"+rangeR, nil)
				if a.status != 405 {
					t.Errorf("%s %s: status %d, want 405", m, p, a.status)
					continue
				}
				if d := diff("", mustJSON(t, `{"status":405,"error":"Method Not Allowed","path":"`+p+`"}`), a.body); d != "" {
					t.Errorf("%s %s: %s", m, p, d)
				}
				if allow := a.header.Get("Allow"); allow != "GET, HEAD" { // RFC 9110: a 405 lists the methods
					t.Errorf("%s %s: Allow %q, want GET, HEAD", m, p, allow)
				}
			}
		}
		// HEAD is GET without the body (RFC 9110 §9.3.2), whatever GET answers; where GET
		// is no route, HEAD is none either. Sent on a bare connection: Go's client never
		// reads a HEAD answer's body, so a body sent would go unseen.
		for _, c := range []struct {
			path   string
			status int
		}{
			{"/healthz", 200}, {"/openapi.json", 200}, {tenantA + "/dashboard/summary", 200},
			{tenantA + "/conversations/list?" + rangeR, 200}, {tenantA + "/dashboard/messages?" + rangeR + "&startHour=x", 400},
			{tenantA + "/messages/request_report", 405}, {"/nope", 404},
		} {
			for _, gz := range []string{"", "gzip"} {
				get := fetch(t, "GET", base+c.path, map[string]string{"Accept-Encoding": gz})
				status, header, rest := rawHead(t, base, c.path, gz)
				if status != c.status || get.status != c.status || rest != "" {
					t.Errorf("HEAD %s: %d with %q after the header (GET %d), want %d and no body", c.path, status, rest, get.status, c.status)
				}
				keys := []string{"Content-Type", "Content-Length", "Content-Encoding", "Vary"}
				if c.status == 404 || c.status == 405 {
					keys = nil // the message names the method: lengths differ
				}
				for _, k := range keys {
					if header.Get(k) != get.header.Get(k) {
						t.Errorf("HEAD %s (%q): %s %q, GET's %q", c.path, gz, k, header.Get(k), get.header.Get(k))
					}
				}
				if want := map[int]string{200: "", 400: "", 404: "", 405: "POST"}[c.status]; header.Get("Allow") != want {
					t.Errorf("HEAD %s: Allow %q, want %q", c.path, header.Get("Allow"), want)
				}
			}
		}
	})

	t.Run("checks in order: 401, 400, 403, 400", func(t *testing.T) {
		srv := httptest.NewServer(api.New(ds.wh, api.Config{MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000,
			Tokens: map[string][]string{"tok-a": {strings.ToUpper(orgA)}, "tok-ab": {orgA, orgB}}}, nil).Handler())
		defer srv.Close()
		badPath := "/org/nope/env/" + envE + "/bot/" + botF
		good := "/dashboard/messages?" + rangeR
		bad := "/dashboard/messages?startDate=x&endDate=2025-12-31"
		cases := []struct {
			name, method, path, auth string
			status                   int
			message                  string // prefix
		}{
			{"unknown route before token", "GET", tenantA + "/nope", "", 404, ""},
			{"wrong method before token", "POST", tenantA + good, "", 405, ""},
			{"no token", "GET", tenantA + good, "", 401, ""},
			{"no token, bad path UUID", "GET", badPath + good, "", 401, ""},
			{"no token, bad parameter", "GET", tenantA + bad, "", 401, ""},
			{"unknown token, bad path UUID", "GET", badPath + bad, "Bearer nope", 401, ""},
			{"empty bearer", "GET", tenantA + good, "Bearer ", 401, ""},
			{"not a bearer token", "GET", tenantA + good, "Basic dG9rLWE6", 401, ""},
			{"token, bad path UUID", "GET", badPath + bad, "Bearer tok-a", 400, "orgUUID"},
			{"token, bad env UUID", "GET", "/org/" + orgB + "/env/x/bot/" + botF + bad, "Bearer tok-a", 400, "envUUID"},
			{"token for another org, bad parameter", "GET", tenantB + bad, "Bearer tok-a", 403, ""},
			{"token for another org", "GET", tenantB + good, "Bearer tok-a", 403, ""},
			{"token for another org, details", "GET", tenantB + "/conversations/details", "Bearer tok-a", 403, ""},
			{"token, bad parameter", "GET", tenantA + bad, "Bearer tok-a", 400, "startDate"},
			{"token, details without sessionCode", "GET", tenantA + "/conversations/details", "Bearer tok-a", 400, "sessionCode"},
			{"token", "GET", tenantA + good, "Bearer tok-a", 200, ""},
			{"token, the scheme in any case", "GET", tenantA + good, "BEARER tok-a", 200, ""},
			{"token, the scheme in lower case", "GET", tenantA + good, "bearer tok-a", 200, ""},
			{"token, upper-case org in the path", "GET", "/org/" + strings.ToUpper(orgA) + "/env/" + envE + "/bot/" + botF + good, "Bearer tok-a", 200, ""},
			{"token of two orgs", "GET", tenantB + good, "Bearer tok-ab", 200, ""},
			{"open route", "GET", "/healthz", "", 200, ""},
			{"open route with a bad token", "GET", "/openapi.json", "Bearer nope", 200, ""},
			{"token, broken escape in a parameter", "GET", tenantA + "/dashboard/messages?" + rangeR + "&startHour=%zz", "Bearer tok-a", 400, "startHour"},
			{"no token, broken escape in a parameter", "GET", tenantA + "/dashboard/messages?" + rangeR + "&startHour=%zz", "", 401, ""},
			{"admin: no token, bad parameter", "GET", "/admin/jobs?limit=%zz", "", 401, ""},
			{"admin: unknown token", "GET", "/admin/jobs?limit=x", "Bearer nope", 401, ""},
			{"admin: token, broken escape", "GET", "/admin/jobs?limit=%zz", "Bearer tok-a", 400, "limit"},
			{"admin: token, bad limit", "GET", "/admin/jobs?limit=0", "Bearer tok-a", 400, "limit"},
			{"admin: token", "GET", "/admin/jobs?limit=3&job=incremental", "Bearer tok-a", 200, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := map[string]string{}
				if c.auth != "" {
					h["Authorization"] = c.auth
				}
				a := call(t, c.method, srv.URL+c.path, h)
				if a.status != c.status {
					t.Fatalf("status %d, want %d: %s", a.status, c.status, a.raw)
				}
				if c.status == 200 {
					return
				}
				p, _, _ := strings.Cut(c.path, "?")
				if d := diff("", map[string]any{"status": float64(c.status), "error": http.StatusText(c.status), "path": p}, a.body); d != "" {
					t.Error(d)
				}
				if m, _ := at(a.body, "message").(string); m == "" || !strings.HasPrefix(m, c.message) {
					t.Errorf("message %q, want it to start with %q", m, c.message)
				}
				if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q", ct)
				}
			})
		}
	})
}

// badErrors asks every endpoint with every kind of bad parameter: 400 with the error
// shape, and a message that starts with the parameter's name.
func badErrors(t *testing.T, base string) {
	type bad struct{ query, param string }
	rangeBad := []bad{
		{"endDate=2025-12-31", "startDate"},
		{"startDate=2025-12-30", "endDate"},
		{"startDate=&endDate=2025-12-31", "startDate"},
		{"startDate=2025-12-30&endDate=", "endDate"},
		{"startDate=30%2F12%2F2025&endDate=2025-12-31", "startDate"},
		{"startDate=2025-02-30&endDate=2025-12-31", "startDate"},
		{"startDate=2025-12-30&endDate=2025-12-31T10:00:00", "endDate"},
		{"startDate=2025-12-30&endDate=2025-12-31T10:00:00.Z", "endDate"},
		{"startDate=2025-12-31&endDate=2025-12-30", "endDate"},
		{"startDate=2025-12-30T10:30:00Z&endDate=2025-12-30T10:29:59Z", "endDate"},
		{"startDate=2025-01-01&endDate=2026-01-02", "endDate"},
		{"startDate=2025-01-01T00:00:00Z&endDate=2026-01-02T00:00:00.001Z", "endDate"},
		// Compared as sent, nanoseconds included.
		{"startDate=2024-02-28T00:00:00.000000001Z&endDate=2024-02-28T00:00:00Z", "endDate"},
		{"startDate=2024-02-28T00:00:00.000000002Z&endDate=2024-02-28T00:00:00.000000001Z", "endDate"},
		{"startDate=2025-01-01T00:00:00Z&endDate=2026-01-02T00:00:00.000000001Z", "endDate"},
		{rangeR + "&startHour=24", "startHour"},
		{rangeR + "&startHour=-1", "startHour"},
		{rangeR + "&startHour=x", "startHour"},
		{rangeR + "&endHour=24", "endHour"},
		{rangeR + "&endHour=-1", "endHour"},
		{rangeR + "&endHour=3.5", "endHour"},
		{rangeR + "&channelUuids=nope", "channelUuids"},
		{rangeR + "&channelUuids=" + ch1 + ",%7B" + ch2 + "%7D", "channelUuids"},
		// An offset that carries the instant past 9999-12-31 in UTC.
		{"startDate=9999-12-31T22:00:00Z&endDate=9999-12-31T23:59:59.999-00:30", "endDate"},
		{"startDate=0001-01-01T00:30:00%2B01:00&endDate=0001-01-02", "startDate"},
		// Bytes that are not UTF-8 once decoded, in a parameter read.
		{rangeR + "&startHour=%FF", "startHour"},
		{rangeR + "&channelUuids=%FF", "channelUuids"},
		// Pairs Go's query parser drops (a ';', a broken escape): a filter sent is read,
		// never silently gone.
		{rangeR + "&channelUuids=" + ch1 + ";x", "channelUuids"},
		{rangeR + "&channelUuids=not-a-uuid;", "channelUuids"},
		{rangeR + "&channelUuids=%zz", "channelUuids"},
		{rangeR + "&channelUuids=" + ch1 + "%", "channelUuids"},
		{rangeR + "&startHour=%zz", "startHour"},
		{rangeR + "&startHour=5;", "startHour"},
		{rangeR + "&endHour=25;x", "endHour"},
		{"startDate=2025-12-30%zz&endDate=2025-12-31", "startDate"},
		{"startDate=2025-12-30;&endDate=2025-12-31", "startDate"},
	}
	listBad := []bad{
		{rangeR + "&page=0", "page"},
		{rangeR + "&page=-1", "page"},
		{rangeR + "&page=x", "page"},
		{rangeR + "&page=-99999999999999999999", "page"},
		{rangeR + "&page=99999999999999999999x", "page"},
		{rangeR + "&size=0", "size"},
		{rangeR + "&size=101", "size"},
		{rangeR + "&size=x", "size"},
		{rangeR + "&sort=nope", "sort"},
		{rangeR + "&order=sideways", "order"},
		{rangeR + "&searchBy=nope&searchTerm=x", "searchBy"},
		{rangeR + "&searchBy=SESSION_CODE", "searchTerm"},
		{rangeR + "&searchBy=SESSION_CODE&searchTerm=", "searchTerm"},
		{rangeR + "&searchBy=SESSION_CODE&searchTerm=%FF%FE", "searchTerm"},
		{rangeR + "&searchBy=SESSION_CODE&searchTerm=a%C3", "searchTerm"},
		{rangeR + "&searchBy=SESSION_CODE&searchTerm=a%z", "searchTerm"},
		{rangeR + "&page=2;", "page"},
		{rangeR + "&size=%", "size"},
	}
	endpoints := map[string][]bad{
		"/dashboard/conversations":    rangeBad,
		"/dashboard/messages":         rangeBad,
		"/dashboard/users":            rangeBad,
		"/dashboard/accuracy":         rangeBad,
		"/dashboard/stacking/intents": rangeBad,
		"/dashboard/stacking/flows":   rangeBad,
		"/conversations/list": append(append(append([]bad{}, rangeBad...), listBad...),
			bad{rangeR + "&searchBy=QUESTION&searchTerm=x", "searchBy"},
			bad{rangeR + "&searchBy=INTENT&searchTerm=x", "searchBy"},
			bad{rangeR + "&sort=deliveredAt", "sort"},
			bad{rangeR + "&sort=confidence", "sort"}),
		"/messages/list": append(append(append([]bad{}, rangeBad...), listBad...),
			bad{rangeR + "&searchBy=FLOW&searchTerm=x", "searchBy"},
			bad{rangeR + "&searchBy=BUSINESS_KEY&searchTerm=x", "searchBy"},
			bad{rangeR + "&sort=duration", "sort"},
			bad{rangeR + "&sort=satisfaction", "sort"},
			bad{rangeR + "&nlpResponseFilters=SOME", "nlpResponseFilters"},
			bad{rangeR + "&nlpResponseFilters=FOUND,x", "nlpResponseFilters"}),
		"/conversations/details": {{"", "sessionCode"}, {"sessionCode=", "sessionCode"}, {"sessionCode=G1%FF", "sessionCode"},
			{"sessionCode=%C3%28", "sessionCode"}},
	}
	for ep, cases := range endpoints {
		for _, c := range cases {
			p := tenantA + ep
			a := call(t, "GET", base+p+"?"+c.query, nil)
			checkBad(t, a, p+"?"+c.query, p, c.param)
		}
	}
	// A parameter no route reads is ignored, whatever its bytes; a ';' is a character.
	for _, ep := range []string{"/dashboard/conversations", "/conversations/list"} {
		p := tenantA + ep
		want := call(t, "GET", base+p+"?"+rangeR, nil)
		got := call(t, "GET", base+p+"?"+rangeR+"&x=%zz&y=1;2&%zz=3;&", nil)
		if got.status != 200 || !bytes.Equal(got.raw, want.raw) {
			t.Errorf("%s with ignored junk parameters: %d %.200s, want the answer without them", p, got.status, got.raw)
		}
	}
	// A path UUID that is not a UUID, on every tenant route.
	for _, ep := range []string{"/dashboard/summary", "/messages/report_configurations", "/conversations/report_configurations",
		"/dashboard/conversations", "/dashboard/messages", "/dashboard/users", "/dashboard/accuracy", "/dashboard/stacking/intents",
		"/dashboard/stacking/flows", "/conversations/list", "/messages/list", "/conversations/details"} {
		for _, c := range []struct{ path, param string }{
			{"/org/nope/env/" + envE + "/bot/" + botF, "orgUUID"},
			{"/org/" + orgA + "/env/" + envE + "0/bot/" + botF, "envUUID"},
			{"/org/" + orgA + "/env/" + envE + "/bot/{" + botF[1:] + "}", "botUUID"},
			{"/org/" + orgA + "/env/" + envE + "/bot/urn:uuid:" + botF, "botUUID"},
		} {
			p := c.path + ep
			a := call(t, "GET", base+p+"?"+rangeR+"&sessionCode=S-1", nil)
			u, _ := url.Parse(base + p)
			checkBad(t, a, p, u.Path, c.param)
		}
	}
}

func checkBad(t *testing.T, a answer, what, path, param string) {
	t.Helper()
	if a.status != 400 {
		t.Errorf("%s: status %d, want 400: %.300s", what, a.status, a.raw)
		return
	}
	m, ok := a.body.(map[string]any)
	if !ok || len(m) != 4 {
		t.Errorf("%s: error shape %s", what, a.raw)
		return
	}
	if d := diff("", map[string]any{"status": 400.0, "error": "Bad Request", "path": path}, m); d != "" {
		t.Errorf("%s: %s", what, d)
	}
	if msg, _ := m["message"].(string); !strings.HasPrefix(msg, param) {
		t.Errorf("%s: message %q does not name %s", what, msg, param)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	if bytes.Contains(a.raw, []byte("goroutine")) || bytes.Contains(a.raw, []byte(".go:")) {
		t.Errorf("%s: a stack trace in the answer", what)
	}
}

// arrowMatchesJSON checks that a list's Arrow answer has the rows of its JSON answer
// (which must match want), in the same order, with the same times (milliseconds).
func arrowMatchesJSON(t *testing.T, base, path string, want any, idCol, timeCol string) {
	t.Helper()
	j := check(t, base, path, 200, want)
	ids, times := arrowColumns(t, base+path, idCol, timeCol)
	var wantIDs, wantTimes []string
	for _, r := range at(j.body, "content").([]any) {
		wantIDs = append(wantIDs, at(r, idCol).(string))
		wantTimes = append(wantTimes, at(r, timeCol).(string))
	}
	if fmt.Sprint(ids) != fmt.Sprint(wantIDs) || fmt.Sprint(times) != fmt.Sprint(wantTimes) {
		t.Errorf("%s: arrow %v %v, json %v %v", path, ids, times, wantIDs, wantTimes)
	}
}

// arrowColumns asks url for an Arrow IPC stream and returns two of its columns as
// strings (times as JSON writes them).
func arrowColumns(t *testing.T, url, idCol, timeCol string) (ids, times []string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", api.ArrowStream)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != api.ArrowStream {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s %.200s", url, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	rdr, err := ipc.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		sc := rec.Schema()
		ii, ti := sc.FieldIndices(idCol), sc.FieldIndices(timeCol)
		if len(ii) != 1 || len(ti) != 1 {
			t.Fatalf("arrow schema %v lacks %s or %s", sc, idCol, timeCol)
		}
		idc := rec.Column(ii[0]).(*array.String)
		tc := rec.Column(ti[0]).(*array.Timestamp)
		unit := tc.DataType().(*arrow.TimestampType).Unit
		for i := 0; i < int(rec.NumRows()); i++ {
			ids = append(ids, idc.Value(i))
			times = append(times, tc.Value(i).ToTime(unit).UTC().Format("2006-01-02T15:04:05.000000Z"))
		}
	}
	for i, s := range times { // JSON's form; a time with sub-millisecond digits keeps them here and fails
		if strings.HasSuffix(s, "000Z") {
			times[i] = s[:len(s)-4] + "Z"
		}
	}
	return ids, times
}

// TestArrowTimesInMilliseconds: the Arrow answers carry times truncated to milliseconds,
// as every response does (CONTRACT §7), though the lake keeps microseconds.
func TestArrowTimesInMilliseconds(t *testing.T) {
	landing := t.TempDir()
	var b strings.Builder
	for i, at := range []string{"2025-03-01T10:00:00.123456Z", "2025-03-01T10:00:00.999999Z", "2025-02-28T23:59:59.999500Z", "2025-03-01T11:00:00.0000009+01:00"} {
		b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"m%d","sessionCode":"s%d","direction":"USER","createdAt":%q,"content":"x","type":"TEXT"`, i, i, at)))
		b.WriteString(smLine("conversation", fmt.Sprintf(`"sessionCode":"s%d","startedAt":%q`, i, at)))
	}
	if err := os.WriteFile(filepath.Join(landing, "a.ndjson"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ds := newDataset(t, landing)
	tenant := "/org/" + smOrg + "/env/" + smEnv + "/bot/" + smBot
	for _, c := range []struct{ list, id, time string }{
		{"/messages/list", "messageId", "deliveredAt"},
		{"/conversations/list", "sessionCode", "conversationStartedAt"},
	} {
		arrowMatchesJSON(t, ds.srv.URL, tenant+c.list+"?startDate=2025-02-28&endDate=2025-03-02", `{"totalElements":4}`, c.id, c.time)
	}
}
