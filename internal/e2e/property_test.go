package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/etl/generate"
	"github.com/dashboard-analytics/dashboard/internal/duck"
)

const hourUs = int64(time.Hour / time.Microsecond)

// lakeTenant is a tenant of the generated lake and the channels its rows name.
type lakeTenant struct {
	org, env, bot string
	channels      []string
}

func (lt lakeTenant) path() string { return "/org/" + lt.org + "/env/" + lt.env + "/bot/" + lt.bot }

// propQuery is one random dashboard request and the rules it stands for: hours
// [start, end) since the epoch, an hour window, a channel filter (nil = all).
type propQuery struct {
	tenant         lakeTenant
	query          string // the query string as sent
	start, end     int64
	sh, eh         int
	channels       []string
	describeInputs string
}

func (q propQuery) passes(hourOfDay int) bool {
	if q.sh <= q.eh {
		return q.sh <= hourOfDay && hourOfDay <= q.eh
	}
	return hourOfDay >= q.sh || hourOfDay <= q.eh
}

// where is the SQL of the query's rules over a lake dataset whose time column is col.
func (q propQuery) where(col string, start, end int64) (string, []any) {
	var b strings.Builder
	args := []any{q.tenant.org, q.tenant.env, q.tenant.bot, start * hourUs, end * hourUs}
	b.WriteString("org_uuid = ? AND env_uuid = ? AND bot_uuid = ? AND epoch_us(" + col + ") >= ? AND epoch_us(" + col + ") < ?")
	var hs []string
	for h := 0; h < 24; h++ {
		if q.passes(h) {
			hs = append(hs, fmt.Sprint(h))
		}
	}
	b.WriteString(" AND (epoch_us(" + col + ") // " + fmt.Sprint(hourUs) + ") % 24 IN (" + strings.Join(hs, ",") + ")")
	if q.channels != nil {
		b.WriteString(" AND channel_uuid IN (" + strings.TrimSuffix(strings.Repeat("?,", len(q.channels)), ",") + ")")
		for _, c := range q.channels {
			args = append(args, c)
		}
	}
	return b.String(), args
}

// formatInstant writes us in one of the forms the API accepts, chosen by r.
func formatInstant(r *rand.Rand, us int64) (string, bool) {
	zones := []int{0, 3 * 3600, -5 * 3600, 5*3600 + 45*60, -(3*3600 + 30*60), 3600}
	tz := time.FixedZone("", zones[r.IntN(len(zones))])
	t := time.UnixMicro(us).In(tz)
	layouts := []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05.000000Z07:00"}
	l := layouts[r.IntN(len(layouts))]
	// Only layouts that keep every digit of us are exact.
	if t.Truncate(time.Second).UnixMicro() != us && !strings.Contains(l, ".000000") {
		l = "2006-01-02T15:04:05.000000Z07:00"
	}
	s := t.Format(l)
	return s, strings.Contains(s, "+") && r.IntN(2) == 0 // sometimes an unencoded '+'
}

func randomQuery(r *rand.Rand, tenants []lakeTenant, genStart time.Time) propQuery {
	var q propQuery
	q.tenant = tenants[r.IntN(len(tenants))]
	v := []string{}
	startDay := genStart.AddDate(0, 0, r.IntN(48)-4)
	var startUs, endUs int64
	var startS, endS string
	var rawStart, rawEnd bool
	if r.IntN(3) == 0 {
		startUs = startDay.UnixMicro()
		startS = startDay.Format("2006-01-02")
	} else {
		startUs = startDay.UnixMicro() + r.Int64N(24*hourUs)
		startUs -= startUs % 1000 * int64(r.IntN(2)) // sometimes whole milliseconds
		startS, rawStart = formatInstant(r, startUs)
	}
	lengthHours := r.Int64N(24 * 21)
	if r.IntN(5) == 0 {
		lengthHours = r.Int64N(6)
	}
	if r.IntN(3) == 0 {
		endDay := time.UnixMicro(startUs + lengthHours*hourUs).UTC().Truncate(24 * time.Hour)
		endUs = endDay.UnixMicro() + 24*hourUs - 1000
		endS = endDay.Format("2006-01-02")
		if endUs < startUs {
			endUs, endS = startUs, startS
		}
	} else {
		endUs = startUs + lengthHours*hourUs + r.Int64N(hourUs)
		endS, rawEnd = formatInstant(r, endUs)
	}
	q.start = floorDiv(startUs, hourUs)
	q.end = floorDiv(endUs, hourUs) + 1
	add := func(k, s string, raw bool) {
		if raw {
			v = append(v, k+"="+s) // '+' arrives as a space
		} else {
			v = append(v, k+"="+url.QueryEscape(s))
		}
	}
	add("startDate", startS, rawStart)
	add("endDate", endS, rawEnd)
	q.sh, q.eh = 0, 23
	if r.IntN(10) >= 3 {
		q.sh, q.eh = r.IntN(24), r.IntN(24)
		add("startHour", fmt.Sprint(q.sh), false)
		add("endHour", fmt.Sprint(q.eh), false)
	}
	if r.IntN(10) >= 4 {
		var sent []string
		q.channels = []string{}
		for _, c := range q.tenant.channels {
			if r.IntN(2) == 0 {
				q.channels = append(q.channels, c)
				if r.IntN(3) == 0 {
					c = strings.ToUpper(c)
				}
				sent = append(sent, " "+c)
			}
		}
		if r.IntN(8) == 0 || len(sent) == 0 {
			u := fmt.Sprintf("%08x-0000-4000-8000-%012x", r.Uint32(), r.Uint64()&0xffffffffffff) // no channel
			q.channels = append(q.channels, u)
			sent = append(sent, u)
		}
		add("channelUuids", strings.Join(sent, ",")+",", false)
	}
	q.query = strings.Join(v, "&")
	q.describeInputs = fmt.Sprintf("%s%s (hours [%s, %s), %d..%d, channels %v)", q.tenant.path(), "?"+q.query,
		time.UnixMicro(q.start*hourUs).UTC().Format(time.RFC3339), time.UnixMicro(q.end*hourUs).UTC().Format(time.RFC3339), q.sh, q.eh, q.channels)
	return q
}

func floorDiv(a, b int64) int64 {
	d := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		d--
	}
	return d
}

// roundHundredths is num/den rounded half away from zero, in hundredths (exact).
func roundHundredths(num, den int64) int64 {
	r := new(big.Rat).SetFrac64(num*100, den)
	half := big.NewRat(1, 2)
	if r.Sign() < 0 {
		r.Sub(r, half)
	} else {
		r.Add(r, half)
	}
	q := new(big.Int).Quo(r.Num(), r.Denom()) // truncates toward zero
	return q.Int64()
}

func hundredths(v any) int64 { return int64(math.Round(v.(float64) * 100)) }

func values(series any) []int64 {
	var out []int64
	for _, p := range series.([]any) {
		out = append(out, int64(p.(map[string]any)["value"].(float64)))
	}
	return out
}

func total(vs []int64) int64 {
	var s int64
	for _, v := range vs {
		s += v
	}
	return s
}

// TestPropertiesAgainstTheLake generates a data set, runs it through extract and rollup,
// and checks ~100 random requests against sums of their own series and against DuckDB
// queries straight over the lake's Parquet files.
func TestPropertiesAgainstTheLake(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads 20k messages")
	}
	ctx := context.Background()
	genStart := time.Date(2026, 1, 26, 0, 0, 0, 0, time.UTC)
	landing := filepath.Join(t.TempDir(), "landing")
	st, err := generate.Generate(ctx, generate.Options{Seed: 5, Messages: 20000, Days: 40, Start: genStart, Gzip: false, Workers: 2}, landing)
	if err != nil {
		t.Fatal(err)
	}
	ds := newDataset(t, landing)
	if ds.run.Quarantined != 0 {
		t.Fatalf("%d generated lines quarantined", ds.run.Quarantined)
	}
	t.Logf("generated %d messages, %d conversations; %d lines", st.Messages, st.Conversations, st.Lines)

	db, err := duck.Open(ctx, duck.Options{Threads: 1, MemoryLimit: "512MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lake := filepath.Join(ds.dir, "lake")
	// The lake's Parquet files, read once straight into this separate DuckDB (never
	// through the warehouse).
	for _, ds := range []string{"messages", "conversations"} {
		if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE lake_"+ds+" AS SELECT * FROM read_parquet("+
			duck.Literal(filepath.Join(lake, ds, "*", "*.parquet"))+", hive_partitioning=true)"); err != nil {
			t.Fatal(err)
		}
	}
	msgs, convs := "lake_messages", "lake_conversations"

	// The lake holds each message once.
	var rows, distinct int64
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT (org_uuid, env_uuid, bot_uuid, message_id)) FROM "+msgs).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != distinct || rows != st.Messages {
		t.Fatalf("lake messages: %d rows, %d distinct, generated %d", rows, distinct, st.Messages)
	}

	tenants := lakeTenants(t, db, msgs, convs)
	if len(tenants) < 3 {
		t.Fatalf("only %d tenants in the lake", len(tenants))
	}

	r := rand.New(rand.NewPCG(5, 2026))
	const n = 100
	var nonEmpty int
	for i := 0; i < n; i++ {
		q := randomQuery(r, tenants, genStart)
		ok := t.Run(fmt.Sprint(i), func(t *testing.T) {
			if checkQuery(t, db, ds.srv.URL, msgs, convs, q) {
				nonEmpty++
			}
		})
		if !ok {
			t.Logf("query %d: %s", i, q.describeInputs)
		}
	}
	if nonEmpty < n/2 {
		t.Errorf("only %d of %d random queries found any message: the generator and the queries do not overlap", nonEmpty, n)
	}
}

func lakeTenants(t *testing.T, db *duck.DB, msgs, convs string) []lakeTenant {
	t.Helper()
	rs, err := db.SQL.Query(`SELECT org_uuid, env_uuid, bot_uuid, list(DISTINCT channel_uuid ORDER BY channel_uuid) FROM (
		SELECT org_uuid, env_uuid, bot_uuid, channel_uuid FROM ` + msgs + ` UNION ALL SELECT org_uuid, env_uuid, bot_uuid, channel_uuid FROM ` + convs + `)
		GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []lakeTenant
	for rs.Next() {
		var lt lakeTenant
		var chs any
		if err := rs.Scan(&lt.org, &lt.env, &lt.bot, &chs); err != nil {
			t.Fatal(err)
		}
		for _, c := range chs.([]any) {
			lt.channels = append(lt.channels, c.(string))
		}
		out = append(out, lt)
	}
	return out
}

// lakeCounts are direct counts over the lake for one period.
type lakeCounts struct {
	userMessages, understood, users, conversations int64
	msgDays, userDays, convDays                    map[int64]int64 // by day number
	convChannels                                   []int64         // per-channel totals, sorted
	intents, flows                                 map[string]int64
}

func countLake(t *testing.T, db *duck.DB, msgs, convs string, q propQuery, start, end int64) lakeCounts {
	t.Helper()
	c := lakeCounts{msgDays: map[int64]int64{}, userDays: map[int64]int64{}, convDays: map[int64]int64{}, intents: map[string]int64{}, flows: map[string]int64{}}
	where, args := q.where("created_at", start, end)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.SQL.QueryRow(`SELECT count(*), count(*) FILTER (WHERE coalesce(minimum_confidence_achieved, false)), count(DISTINCT user_id)
		FROM `+msgs+` WHERE direction = 'USER' AND `+where, args...).Scan(&c.userMessages, &c.understood, &c.users))
	scan := func(query string, args []any, fn func(*sql.Rows) error) {
		t.Helper()
		rs, err := db.SQL.Query(query, args...)
		must(err)
		defer rs.Close()
		for rs.Next() {
			must(fn(rs))
		}
		must(rs.Err())
	}
	scan(`SELECT epoch_us(created_at) // 86400000000 AS d, count(*), count(DISTINCT user_id) FROM `+msgs+`
		WHERE direction = 'USER' AND `+where+` GROUP BY d`, args, func(rs *sql.Rows) error {
		var d, m, u int64
		err := rs.Scan(&d, &m, &u)
		c.msgDays[d], c.userDays[d] = m, u
		return err
	})
	scan(`SELECT intent, count(*) FROM `+msgs+` WHERE direction = 'USER' AND intent <> '' AND `+where+` GROUP BY intent`, args, func(rs *sql.Rows) error {
		var name string
		var n int64
		err := rs.Scan(&name, &n)
		c.intents[name] = n
		return err
	})
	cwhere, cargs := q.where("started_at", start, end)
	must(db.SQL.QueryRow(`SELECT count(*) FROM `+convs+` WHERE `+cwhere, cargs...).Scan(&c.conversations))
	scan(`SELECT epoch_us(started_at) // 86400000000 AS d, count(*) FROM `+convs+` WHERE `+cwhere+` GROUP BY d`, cargs, func(rs *sql.Rows) error {
		var d, n int64
		err := rs.Scan(&d, &n)
		c.convDays[d] = n
		return err
	})
	scan(`SELECT count(*) AS n FROM `+convs+` WHERE `+cwhere+` GROUP BY channel_uuid ORDER BY n`, cargs, func(rs *sql.Rows) error {
		var n int64
		err := rs.Scan(&n)
		c.convChannels = append(c.convChannels, n)
		return err
	})
	scan(`SELECT flow, count(*) FROM (SELECT unnest(list_distinct(flows)) AS flow FROM `+convs+` WHERE `+cwhere+`) GROUP BY flow`, cargs, func(rs *sql.Rows) error {
		var name string
		var n int64
		err := rs.Scan(&name, &n)
		c.flows[name] = n
		return err
	})
	return c
}

// checkQuery asks the four dashboard endpoints (and stacking) and compares; it reports
// whether the range held any USER message.
func checkQuery(t *testing.T, db *duck.DB, base, msgs, convs string, q propQuery) bool {
	cur := countLake(t, db, msgs, convs, q, q.start, q.end)
	l := q.end - q.start
	prev := countLake(t, db, msgs, convs, q, q.start-l, q.start)

	wantHours := 0
	days := map[int64]bool{}
	for h := q.start; h < q.end; h++ {
		if q.passes(int(h % 24)) {
			wantHours++
		}
		days[floorDiv(h, 24)] = true
	}
	var dayList []int64
	for d := range days {
		dayList = append(dayList, d)
	}
	sort.Slice(dayList, func(i, j int) bool { return dayList[i] < dayList[j] })

	checkSeries := func(what string, series any, totalAmount int64, byDay map[int64]int64, distinct bool) {
		t.Helper()
		hs, ds, ws, ms := values(at(series, "hours")), values(at(series, "days")), values(at(series, "weeks")), values(at(series, "months"))
		if len(hs) != wantHours || len(ds) != len(dayList) {
			t.Errorf("%s: %d hours and %d days, want %d and %d", what, len(hs), len(ds), wantHours, len(dayList))
		}
		if !distinct {
			if total(hs) != totalAmount || total(ds) != totalAmount || total(ws) != totalAmount || total(ms) != totalAmount {
				t.Errorf("%s: totalAmount %d; hours sum %d, days %d, weeks %d, months %d", what, totalAmount, total(hs), total(ds), total(ws), total(ms))
			}
		} else if total(ds) < totalAmount || total(hs) < total(ds) || total(ms) > total(ds) {
			t.Errorf("%s: distinct users %d; hours sum %d, days %d, weeks %d, months %d", what, totalAmount, total(hs), total(ds), total(ws), total(ms))
		}
		for i, d := range dayList {
			if i < len(ds) && byDay != nil {
				date, _ := at(series, "days", i, "date").(string)
				if want := time.UnixMicro(d * 24 * hourUs).UTC().Format("2006-01-02T15:04:05.000Z"); date != want {
					t.Errorf("%s: day %d is %s, want %s", what, i, date, want)
				}
				if ds[i] != byDay[d] {
					t.Errorf("%s: day %s = %d, lake %d", what, time.UnixMicro(d*24*hourUs).UTC().Format("2006-01-02"), ds[i], byDay[d])
				}
			}
		}
	}
	checkOverview := func(what string, body any, current, previous int64) {
		t.Helper()
		po := at(body, "periodOverview")
		if got := int64(at(po, "totalAmount").(float64)); got != current {
			t.Errorf("%s: totalAmount %d, lake %d", what, got, current)
		}
		if got := at(po, "hasRelativeData"); got != (previous > 0) {
			t.Errorf("%s: hasRelativeData %v, previous %d", what, got, previous)
		}
		want := int64(0)
		if previous > 0 {
			want = roundHundredths((current-previous)*100, previous)
		}
		// relativeIncrease is a rounded percentage; compare in hundredths, exactly.
		if got := hundredths(at(po, "relativeIncrease")); got != want {
			t.Errorf("%s: relativeIncrease %v, want %d/100 (current %d, previous %d)", what, at(po, "relativeIncrease"), want, current, previous)
		}
		if got := at(po, "hasIncreased"); got != (current > previous) {
			t.Errorf("%s: hasIncreased %v (current %d, previous %d)", what, got, current, previous)
		}
	}

	get := func(ep string) any {
		t.Helper()
		a := call(t, "GET", base+q.tenant.path()+"/dashboard/"+ep+"?"+q.query, nil)
		if a.status != 200 {
			t.Fatalf("%s: status %d: %s", ep, a.status, a.raw)
		}
		return a.body
	}

	// The lists' totals (taken from the snapshot when there is no search) are the lake's.
	for _, lc := range []struct {
		path string
		want int64
	}{
		{"/conversations/list?size=1&", cur.conversations},
		{"/messages/list?size=1&", cur.userMessages},
		{"/messages/list?size=1&nlpResponseFilters=FOUND&", cur.understood},
		{"/messages/list?size=1&nlpResponseFilters=NONE&", cur.userMessages - cur.understood},
	} {
		a := call(t, "GET", base+q.tenant.path()+lc.path+q.query, nil)
		if got, _ := at(a.body, "totalElements").(float64); a.status != 200 || int64(got) != lc.want {
			t.Errorf("%s: status %d, totalElements %v, lake %d", lc.path, a.status, at(a.body, "totalElements"), lc.want)
		}
	}

	m := get("messages")
	checkOverview("messages", m, cur.userMessages, prev.userMessages)
	checkSeries("messages", at(m, "trafficAnalyticsDTO"), cur.userMessages, cur.msgDays, false)

	u := get("users")
	checkOverview("users", u, cur.users, prev.users)
	checkSeries("users", at(u, "trafficAnalyticsDTO"), cur.users, cur.userDays, true)

	c := get("conversations")
	checkOverview("conversations", c, cur.conversations, prev.conversations)
	var perChannel []int64
	convDays := map[int64]int64{}
	for _, ch := range at(c, "channelAnalytics").([]any) {
		dv := values(at(ch, "days"))
		perChannel = append(perChannel, total(dv))
		for i, d := range dayList {
			if i < len(dv) {
				convDays[d] += dv[i]
			}
		}
		checkSeries("conversations channel "+fmt.Sprint(at(ch, "channelName")), ch, total(dv), nil, false)
	}
	sort.Slice(perChannel, func(i, j int) bool { return perChannel[i] < perChannel[j] })
	if fmt.Sprint(perChannel) != fmt.Sprint(cur.convChannels) {
		t.Errorf("conversations per channel %v, lake %v", perChannel, cur.convChannels)
	}
	for d, n := range cur.convDays {
		if convDays[d] != n {
			t.Errorf("conversations on day %d: %d, lake %d", d, convDays[d], n)
		}
	}

	a := get("accuracy")
	rate := func(understood, all int64) int64 {
		if all == 0 {
			return 0
		}
		return roundHundredths(understood*100, all)
	}
	rc, rp := rate(cur.understood, cur.userMessages), rate(prev.understood, prev.userMessages)
	if got := hundredths(at(a, "rateCurrent")); got != rc {
		t.Errorf("accuracy rateCurrent %v, want %d/100 (%d of %d)", at(a, "rateCurrent"), rc, cur.understood, cur.userMessages)
	}
	if got := hundredths(at(a, "ratePrevious")); got != rp {
		t.Errorf("accuracy ratePrevious %v, want %d/100 (%d of %d)", at(a, "ratePrevious"), rp, prev.understood, prev.userMessages)
	}
	if got := hundredths(at(a, "relativeIncrease")); got != rc-rp || at(a, "hasIncreased") != (rc > rp) {
		t.Errorf("accuracy relativeIncrease %v hasIncreased %v, want %d/100", at(a, "relativeIncrease"), at(a, "hasIncreased"), rc-rp)
	}

	for _, s := range []struct {
		ep   string
		want map[string]int64
	}{{"stacking/intents", cur.intents}, {"stacking/flows", cur.flows}} {
		body := get(s.ep)
		totals := map[string]int64{}
		sums := map[string]int64{}
		for _, ch := range at(body, "channelList").([]any) {
			for _, tp := range at(ch, "topicBreakdown").([]any) {
				name := at(tp, "name").(string)
				sums[name] += int64(at(tp, "channelValue").(float64))
				tv := int64(at(tp, "totalValue").(float64))
				if old, ok := totals[name]; ok && old != tv {
					t.Errorf("%s: %s has totalValue %d and %d", s.ep, name, old, tv)
				}
				totals[name] = tv
			}
		}
		if fmt.Sprint(totals) != fmt.Sprint(s.want) || fmt.Sprint(sums) != fmt.Sprint(s.want) {
			t.Errorf("%s: totalValues %v, channel sums %v, lake %v", s.ep, totals, sums, s.want)
		}
	}
	return cur.userMessages > 0
}
