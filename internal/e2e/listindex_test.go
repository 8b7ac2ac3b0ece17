package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/etl/generate"
	"github.com/dashboard-analytics/dashboard/internal/calendar"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

// TestListIndexMatchesDuckDB: conversations/list from the in-memory list index gives
// the same total and the same rows, field by field, as the same list in DuckDB, for
// random tenants, ranges (hours to a year), hour windows (wrapping midnight too),
// channel subsets (unknown channels too), every sort in both orders, every searchBy
// with terms cut from the data in changed case, and pages from the first to past the
// end.
func TestListIndexMatchesDuckDB(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads 20k messages")
	}
	ctx := context.Background()
	genStart := time.Date(2026, 1, 26, 0, 0, 0, 0, time.UTC)
	landing := filepath.Join(t.TempDir(), "landing")
	if _, err := generate.Generate(ctx, generate.Options{Seed: 9, Messages: 20000, Days: 40, Start: genStart, Workers: 2}, landing); err != nil {
		t.Fatal(err)
	}
	writeUnicodeTenant(t, filepath.Join(landing, "unicode.ndjson"), genStart)
	ds := newDatasetWith(t, landing, false)
	if ds.run.Quarantined != 0 {
		t.Fatalf("%d fixture lines quarantined", ds.run.Quarantined)
	}
	wh := ds.wh

	type tenant struct {
		key                  warehouse.TenantKey
		channels             []string
		codes, keys, flows   []string
		firstHour, lastHours int64
	}
	var tenants []*tenant
	byKey := map[warehouse.TenantKey]*tenant{}
	rows, err := wh.DB().SQL.QueryContext(ctx, `SELECT org_uuid, env_uuid, bot_uuid, session_code, coalesce(business_key, ''),
		channel_uuid, flows_travelled_names, epoch_us(started_at) FROM conversation_facts
		ORDER BY org_uuid, env_uuid, bot_uuid, session_code`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k warehouse.TenantKey
		var code, bk, ch string
		var flows any
		var at int64
		if err := rows.Scan(&k.Org, &k.Env, &k.Bot, &code, &bk, &ch, &flows, &at); err != nil {
			t.Fatal(err)
		}
		tn := byKey[k]
		if tn == nil {
			tn = &tenant{key: k, firstHour: at / hourUs, lastHours: at / hourUs}
			byKey[k] = tn
			tenants = append(tenants, tn)
		}
		tn.firstHour, tn.lastHours = min(tn.firstHour, at/hourUs), max(tn.lastHours, at/hourUs)
		tn.codes = append(tn.codes, code)
		if bk != "" {
			tn.keys = append(tn.keys, bk)
		}
		if l, ok := flows.([]any); ok {
			for _, f := range l {
				tn.flows = append(tn.flows, f.(string))
			}
		}
		if !containsString(tn.channels, ch) {
			tn.channels = append(tn.channels, ch)
		}
	}
	rows.Close()
	if len(tenants) < 2 {
		t.Fatalf("%d tenants", len(tenants))
	}

	r := rand.New(rand.NewPCG(11, 12))
	cut := func(s string) string { // a random piece of s, its case changed at random
		if s == "" {
			return "x"
		}
		rs := []rune(s)
		a := r.IntN(len(rs))
		p := string(rs[a : a+1+r.IntN(len(rs)-a)])
		switch r.IntN(3) {
		case 0:
			p = strings.ToUpper(p)
		case 1:
			p = strings.ToLower(p)
		}
		return p
	}
	sorts := []string{"satisfaction", "userMessages", "flowsTravelled", "conversationStartedAt", "duration"}
	var filters []warehouse.ListFilter
	for range 1000 {
		tn := tenants[r.IntN(len(tenants))]
		if r.IntN(2) == 0 { // the large bot half the time
			for _, x := range tenants {
				if len(x.codes) > len(tn.codes) {
					tn = x
				}
			}
		}
		var f warehouse.ListFilter
		f.Tenant = tn.key
		if r.IntN(8) == 0 {
			f.Tenant.Bot = "00000000-0000-0000-0000-000000000000" // no such tenant
		}
		span := []int64{3, 24, 24 * 7, 24 * 30, 24 * 30, 24 * 366, 24 * 366}[r.IntN(7)]
		f.Start = tn.firstHour - 24 + r.Int64N(tn.lastHours-tn.firstHour+48)
		f.End = f.Start + span
		f.Mask = calendar.NewMask(0, 23)
		if r.IntN(2) == 0 {
			f.Mask = calendar.NewMask(r.IntN(24), r.IntN(24))
		}
		if r.IntN(2) == 0 {
			f.Channels = []string{}
			for _, c := range tn.channels {
				if r.IntN(2) == 0 {
					f.Channels = append(f.Channels, c)
				}
			}
			if r.IntN(4) == 0 {
				f.Channels = append(f.Channels, "11111111-2222-3333-4444-555555555555")
			}
		}
		f.Sort, f.Desc = sorts[r.IntN(len(sorts))], r.IntN(2) == 0
		switch r.IntN(6) {
		case 0:
			f.SearchBy, f.Term = "SESSION_CODE", cut(tn.codes[r.IntN(len(tn.codes))])
		case 1:
			if len(tn.keys) > 0 {
				f.SearchBy, f.Term = "BUSINESS_KEY", cut(tn.keys[r.IntN(len(tn.keys))])
			}
		case 2:
			if len(tn.flows) > 0 {
				f.SearchBy, f.Term = "FLOW", strings.ToUpper(tn.flows[r.IntN(len(tn.flows))])
			}
		case 3:
			f.SearchBy, f.Term = []string{"SESSION_CODE", "BUSINESS_KEY", "FLOW"}[r.IntN(3)], []string{"%", "_", "'", "zz-none"}[r.IntN(4)]
		}
		f.Max = []int{1, 5, 20, 100}[r.IntN(4)]
		f.Offset = f.Max * []int{0, 0, 0, 1, 2, 5, 400}[r.IntN(7)]
		filters = append(filters, f)
	}

	msgFilters := messageFilters(t, wh, r, cut, filters)
	convs := listPass[warehouse.ConversationRow]{name: "conversations", table: "conversation_facts", col: "started_at",
		filters: filters, list: wh.ListConversations, normalise: normalise, describe: describeRows}
	msgs := listPass[warehouse.MessageRow]{name: "messages", table: "messages", col: "created_at",
		filters: msgFilters, list: wh.ListMessages, normalise: normaliseMessages, describe: describeMessages}
	convs.record(t) // in DuckDB
	msgs.record(t)
	transcripts := recordTranscripts(t, wh, r)
	if err := wh.BuildListIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if !wh.ListIndexBuilt() {
		t.Fatal("the list index was not built")
	}
	nConvs, nMsgs := convs.compare(t, wh), msgs.compare(t, wh)
	t.Logf("%d conversation lists compared (%d with rows), %d message lists (%d with rows)", len(filters), nConvs, len(msgFilters), nMsgs)
	transcripts.compare(t, wh)

	// Again with block counts for every tenant of 128 rows or more (blocks of 8 rows),
	// as the large tenants of a real data set have them (512-row blocks from 8,192).
	if err := wh.Close(); err != nil {
		t.Fatal(err)
	}
	wh, err = warehouse.Open(ctx, warehouse.Options{Dir: filepath.Join(ds.dir, "warehouse"), LakeDir: filepath.Join(ds.dir, "lake"),
		MemoryLimit: "1GB", ListBlockRows: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := wh.BuildListIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if !wh.ListIndexBuilt() {
		t.Fatal("the list index with small blocks was not built")
	}
	convs.list, msgs.list = wh.ListConversations, wh.ListMessages
	convs.compare(t, wh)
	msgs.compare(t, wh)
}

// transcriptAsk is one conversations/details question and its answer in DuckDB.
type transcriptAsk struct {
	k       warehouse.TenantKey
	session string
	want    *warehouse.Transcript
}

type transcriptPass []transcriptAsk

// recordTranscripts answers in DuckDB every session of every tenant (with a
// conversation record, messages or both), and sessions asked of another tenant, with
// their case changed or a character more (most of which do not exist; the answers
// are compared whichever they are).
func recordTranscripts(t *testing.T, wh *warehouse.Warehouse, r *rand.Rand) transcriptPass {
	rows, err := wh.DB().SQL.Query(`SELECT org_uuid, env_uuid, bot_uuid, session_code FROM messages
		UNION SELECT org_uuid, env_uuid, bot_uuid, session_code FROM conversations ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	var asks transcriptPass
	var tenants []warehouse.TenantKey
	for rows.Next() {
		var a transcriptAsk
		if err := rows.Scan(&a.k.Org, &a.k.Env, &a.k.Bot, &a.session); err != nil {
			t.Fatal(err)
		}
		if len(tenants) == 0 || tenants[len(tenants)-1] != a.k {
			tenants = append(tenants, a.k)
		}
		asks = append(asks, a)
	}
	rows.Close()
	for range min(len(asks), 2000) {
		b := asks[r.IntN(len(asks))]
		switch r.IntN(3) {
		case 0:
			b.k = tenants[r.IntN(len(tenants))]
		case 1:
			b.session = strings.ToUpper(b.session)
		default:
			b.session += "0"
		}
		asks = append(asks, b)
	}
	for i := range asks {
		if asks[i].want, err = wh.Details(context.Background(), asks[i].k, asks[i].session); err != nil {
			t.Fatal(err)
		}
	}
	return asks
}

// compare asks every question again (of the list index) and fails on any difference.
func (p transcriptPass) compare(t *testing.T, wh *warehouse.Warehouse) {
	found, messages, ties, bots := 0, 0, 0, 0
	for _, a := range p {
		got, err := wh.Details(context.Background(), a.k, a.session)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, a.want) {
			t.Fatalf("%+v %q:\nindex  %s\nduckdb %s", a.k, a.session, describeTranscript(got), describeTranscript(a.want))
		}
		if got == nil {
			continue
		}
		found++
		messages += len(got.Messages)
		for i, m := range got.Messages {
			if i > 0 && m.CreatedAt == got.Messages[i-1].CreatedAt {
				ties++
			}
			if !m.User && len(m.Buttons) > 0 {
				bots++
			}
		}
	}
	if found < len(p)/3 || found == len(p) || ties == 0 || bots == 0 {
		t.Fatalf("%d of %d transcripts found, %d messages, %d ties, %d BOT messages with buttons: the fixture does not exercise transcripts",
			found, len(p), messages, ties, bots)
	}
	t.Logf("%d transcripts compared (%d found, %d messages, %d tied times)", len(p), found, messages, ties)
}

func describeTranscript(t *warehouse.Transcript) string {
	if t == nil {
		return "nil"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s", t.SessionCode, t.StartedAt, t.ChannelUUID)
	for _, m := range t.Messages {
		fmt.Fprintf(&b, "\n  %+v", m)
	}
	return b.String()
}

// listPass is one list's filters, their answers in DuckDB (record), and their
// comparison with the list index (compare).
type listPass[R any] struct {
	name, table, col string
	filters          []warehouse.ListFilter
	list             func(context.Context, warehouse.ListFilter) (int64, []R, error)
	normalise        func([]R) []R
	describe         func([]R) string
	totals           []int64
	rows             [][]R
}

func (p *listPass[R]) record(t *testing.T) {
	for _, f := range p.filters {
		total, rows, err := p.list(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		p.totals, p.rows = append(p.totals, total), append(p.rows, rows)
	}
}

// compare lists every filter again and fails on any difference from the recorded
// answer; a count without a search is also checked against the table. It returns how
// many pages had rows, failing when too few did to exercise the list.
func (p *listPass[R]) compare(t *testing.T, wh *warehouse.Warehouse) int {
	nonEmpty := 0
	for i, f := range p.filters {
		if f.SearchBy == "" {
			if n := directCount(t, wh, p.table, p.col, f); n != p.totals[i] {
				t.Fatalf("%s filter %d %+v: the lists count %d, the table %d", p.name, i, f, p.totals[i], n)
			}
		}
		total, rows, err := p.list(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if total != p.totals[i] || !reflect.DeepEqual(p.normalise(rows), p.normalise(p.rows[i])) {
			t.Fatalf("%s filter %d %+v:\nindex  %d %s\nduckdb %d %s", p.name, i, f, total, p.describe(rows), p.totals[i], p.describe(p.rows[i]))
		}
		if len(rows) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < len(p.filters)/4 {
		t.Fatalf("%s: only %d of %d pages had rows: the fixture does not exercise the list", p.name, nonEmpty, len(p.filters))
	}
	return nonEmpty
}

// messageFilters are random messages/list filters: the ranges, hour windows and
// channels of the conversation filters, with every searchBy (terms cut from the
// tenant's messages), nlpResponseFilters, sorts and pages.
func messageFilters(t *testing.T, wh *warehouse.Warehouse, r *rand.Rand, cut func(string) string, base []warehouse.ListFilter) []warehouse.ListFilter {
	type values struct{ codes, texts, intents, entities, documents []string }
	byTenant := map[warehouse.TenantKey]*values{}
	rows, err := wh.DB().SQL.Query(`SELECT org_uuid, env_uuid, bot_uuid, session_code, content, coalesce(intent, ''),
		coalesce(entities, []), [n.response_name FOR n IN coalesce(nlp_responses, []) IF n.response_type = 'DOCUMENT']
		FROM messages WHERE direction = 'USER' ORDER BY org_uuid, env_uuid, bot_uuid, message_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k warehouse.TenantKey
		var code, text, intent string
		var entities, documents any
		if err := rows.Scan(&k.Org, &k.Env, &k.Bot, &code, &text, &intent, &entities, &documents); err != nil {
			t.Fatal(err)
		}
		v := byTenant[k]
		if v == nil {
			v = &values{}
			byTenant[k] = v
		}
		v.codes, v.texts, v.intents = append(v.codes, code), append(v.texts, text), append(v.intents, intent)
		for _, l := range []struct {
			from any
			to   *[]string
		}{{entities, &v.entities}, {documents, &v.documents}} {
			if xs, ok := l.from.([]any); ok {
				for _, x := range xs {
					*l.to = append(*l.to, x.(string))
				}
			}
		}
	}
	any1 := func(l []string) string {
		if len(l) == 0 {
			return "none"
		}
		return l[r.IntN(len(l))]
	}
	flip := func(s string) string {
		if r.IntN(2) == 0 {
			return strings.ToUpper(s)
		}
		return strings.ToLower(s)
	}
	var out []warehouse.ListFilter
	for _, f := range base {
		f.SearchBy, f.Term = "", ""
		f.Sort, f.Desc = []string{"deliveredAt", "confidence"}[r.IntN(2)], r.IntN(2) == 0
		f.NLP = []string{"", "", "FOUND", "NONE"}[r.IntN(4)]
		v := byTenant[f.Tenant]
		if v == nil {
			v = &values{}
		}
		switch r.IntN(8) {
		case 0:
			f.SearchBy, f.Term = "SESSION_CODE", cut(any1(v.codes))
		case 1:
			f.SearchBy, f.Term = "QUESTION", cut(any1(v.texts))
		case 2:
			f.SearchBy, f.Term = "INTENT", flip(any1(v.intents))
		case 3:
			f.SearchBy, f.Term = "ENTITY", flip(any1(v.entities))
		case 4:
			f.SearchBy, f.Term = "DOCUMENT", flip(any1(v.documents))
		case 5:
			f.SearchBy, f.Term = "QUESTION", unicodeTexts[r.IntN(len(unicodeTexts))]
		}
		if f.SearchBy != "" && f.Term == "" {
			f.Term = "x"
		}
		out = append(out, f)
	}
	// The unicode tenant, with its own texts as terms.
	k := warehouse.TenantKey{Org: smOrg, Env: smEnv, Bot: smBot}
	for range 300 {
		f := base[r.IntN(len(base))]
		f.Tenant, f.Channels = k, nil
		f.Start = time.Date(2026, 1, 25, 0, 0, 0, 0, time.UTC).Unix() / 3600
		f.End = f.Start + 24*60
		if r.IntN(2) == 0 {
			f.Start, f.End = -24-r.Int64N(3), 24+r.Int64N(3)
		}
		f.Sort, f.Desc = []string{"deliveredAt", "confidence"}[r.IntN(2)], r.IntN(2) == 0
		f.NLP = []string{"", "FOUND", "NONE"}[r.IntN(3)]
		if r.IntN(3) == 0 { // no search: the count comes from the snapshot
			f.SearchBy, f.Term = "", ""
			out = append(out, f)
			continue
		}
		term := unicodeTexts[r.IntN(len(unicodeTexts))]
		if term != "" && r.IntN(2) == 0 {
			term = cut(term)
		}
		if term == "" {
			term = "ǆ"
		}
		f.SearchBy, f.Term = []string{"SESSION_CODE", "QUESTION", "INTENT", "ENTITY", "DOCUMENT"}[r.IntN(5)], term
		f.Offset = f.Max * r.IntN(3)
		out = append(out, f)
	}
	return out
}

// normaliseMessages makes nil and empty lists equal (both are written []).
func normaliseMessages(rows []warehouse.MessageRow) []warehouse.MessageRow {
	out := make([]warehouse.MessageRow, len(rows))
	for i, r := range rows {
		for _, l := range []*[]string{&r.Tags, &r.Entities, &r.AnswerNames, &r.AnswerTexts, &r.AnswerButtons} {
			if *l == nil {
				*l = []string{}
			}
		}
		if r.NLPResponses == nil {
			r.NLPResponses = []warehouse.NLPResponse{}
		}
		out[i] = r
	}
	return out
}

func describeMessages(rows []warehouse.MessageRow) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "\n  %+v", r)
	}
	return b.String()
}

// directCount counts the rows of f's tenant, range, hour window (UTC hours, floored
// before 1970), channels and nlpResponseFilters in table, without a search: what the
// lists take from the snapshot's counts.
func directCount(t *testing.T, wh *warehouse.Warehouse, table, col string, f warehouse.ListFilter) int64 {
	q := "SELECT count(*) FROM " + table + " WHERE org_uuid = ? AND env_uuid = ? AND bot_uuid = ? AND epoch_us(" + col + ") >= ? AND epoch_us(" + col + ") < ?"
	args := []any{f.Tenant.Org, f.Tenant.Env, f.Tenant.Bot, f.Start * hourUs, f.End * hourUs}
	var hours []string
	for h, ok := range f.Mask {
		if ok {
			hours = append(hours, fmt.Sprint(h))
		}
	}
	q += fmt.Sprintf(" AND ((((epoch_us(%[1]s) - ((epoch_us(%[1]s) %% %[2]d) + %[2]d) %% %[2]d) // %[2]d) %% 24) + 24) %% 24 IN (%[3]s)", col, hourUs, strings.Join(hours, ","))
	if f.Channels != nil {
		q += " AND list_contains(?, channel_uuid)"
		args = append(args, f.Channels)
	}
	if table == "messages" {
		q += " AND direction = 'USER'"
		switch f.NLP {
		case "FOUND":
			q += " AND minimum_confidence_achieved"
		case "NONE":
			q += " AND NOT coalesce(minimum_confidence_achieved, false)"
		}
	}
	var n int64
	if err := wh.DB().SQL.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// normalise makes nil and empty lists equal (both are written []).
func normalise(rows []warehouse.ConversationRow) []warehouse.ConversationRow {
	out := make([]warehouse.ConversationRow, len(rows))
	for i, r := range rows {
		if r.Tags == nil {
			r.Tags = []string{}
		}
		if r.FlowsTravelledNames == nil {
			r.FlowsTravelledNames = []string{}
		}
		out[i] = r
	}
	return out
}

func describeRows(rows []warehouse.ConversationRow) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "\n  %s sat=%v um=%d ft=%d at=%d dur=%d", r.SessionCode, deref(r.Satisfaction), r.UserMessages, r.FlowsTravelled, r.StartedAt, r.DurationSeconds)
	}
	return b.String()
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// unicodeTexts are texts whose case folding is not ASCII's: the list index keeps
// their folded form, and searches must find them as DuckDB does.
var unicodeTexts = []string{"İstanbul İİ", "STRASSE straße", "Kelvin \u212a k", "ΣΊΣΥΦΟΣ σίσυφος ς", "café CAFÉ Ça",
	"ǅemal ǆ Ǆ", "ﬁnal ﬁ", "Hello World", "hello world", "ÅNGSTRÖM \u212b", "", "50% off_now 'quoted'"}

// writeUnicodeTenant writes one more tenant, in smLine's tenant, whose texts,
// session codes, business keys, intents, entities and documents are unicodeTexts.
func writeUnicodeTenant(t *testing.T, path string, start time.Time) {
	r := rand.New(rand.NewPCG(21, 22))
	var b strings.Builder
	pick := func() string { return unicodeTexts[r.IntN(len(unicodeTexts))] }
	name := func() string { // names may not be empty
		for {
			if s := pick(); s != "" {
				return s
			}
		}
	}
	for i := range 400 {
		at := start.Add(time.Duration(r.IntN(40*24*60)) * time.Minute)
		if i%4 == 0 { // around the epoch: hours before 1970 too
			at = time.Date(1969, 12, 31, 20, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(8*3600)) * time.Second)
		}
		session := fmt.Sprintf("%s-%d", strings.ReplaceAll(pick(), " ", ""), r.IntN(120))
		if i < 120 {
			bk := ""
			if r.IntN(3) > 0 {
				bk = fmt.Sprintf(`,"businessKey":%s`, jsonString(pick()))
			}
			b.WriteString(smLine("conversation", fmt.Sprintf(`"sessionCode":%s,"startedAt":%q,"updatedAt":%q%s,"flows":[%s]`,
				jsonString(fmt.Sprintf("%s-%d", strings.ReplaceAll(unicodeTexts[i%len(unicodeTexts)], " ", ""), i)),
				at.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), bk, jsonString(pick()))))
		}
		conf := ""
		if r.IntN(4) > 0 {
			conf = fmt.Sprintf(`,"confidence":%g,"minimumConfidenceAchieved":%v`, float64(r.IntN(5))/4, r.IntN(2) == 0)
		}
		b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"u-%04d","sessionCode":%s,"direction":"USER","createdAt":%q,"content":%s,"type":"TEXT","intent":%s,"entities":[%s],"nlpResponses":[{"responseType":"DOCUMENT","paragraphNumber":%d,"responseName":%s}],"tags":[%s]%s`,
			i, jsonString(session), at.Format(time.RFC3339Nano), jsonString(pick()), jsonString(pick()), jsonString(pick()), r.IntN(3), jsonString(name()), jsonString(pick()), conf)))
		if i%40 == 0 { // at the same instant: the transcript orders by message id ("t-" first)
			b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"t-%04d","sessionCode":%s,"direction":"USER","createdAt":%q,"content":"tie","type":"TEXT"`,
				i, jsonString(session), at.Format(time.RFC3339Nano))))
		}
		if r.IntN(2) == 0 {
			b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"r-%04d","sessionCode":%s,"direction":"BOT","createdAt":%q,"content":%s,"type":"TEXT","replyTo":"u-%04d","answerName":%s,"buttons":[{"name":%s,"value":"v","action":"postback"}]`,
				i, jsonString(session), at.Add(time.Second).Format(time.RFC3339Nano), jsonString(pick()), i, jsonString(name()), jsonString(name()))))
		}
	}
	// The same session codes in another bot: a conversation record in one tenant and
	// messages in the other; the messages of shared-1 came on two channels, the later
	// one first in the file (the first message's channel is the transcript's).
	const bot2, ch2 = "0b0b0b0b-0000-4000-8000-000000000001", "0c0c0c0c-0000-4000-8000-000000000002"
	other := func(line string) string {
		return strings.Replace(line, `"botUuid":"`+smBot+`"`, `"botUuid":"`+bot2+`"`, 1)
	}
	onCh2 := func(line string) string {
		return strings.Replace(line, `"channelUuid":"`+smChan+`"`, `"channelUuid":"`+ch2+`"`, 1)
	}
	at := start.Add(26 * time.Hour)
	ts := func(d time.Duration) string { return at.Add(d).Format(time.RFC3339Nano) }
	b.WriteString(other(smLine("conversation", fmt.Sprintf(`"sessionCode":"shared-1","startedAt":%q,"updatedAt":%q`, ts(0), ts(0)))))
	b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"s1-b","sessionCode":"shared-1","direction":"USER","createdAt":%q,"content":"b","type":"TEXT"`, ts(2*time.Second))))
	b.WriteString(onCh2(smLine("message", fmt.Sprintf(`"messageId":"s1-a","sessionCode":"shared-1","direction":"USER","createdAt":%q,"content":"a","type":"TEXT"`, ts(time.Second)))))
	b.WriteString(smLine("conversation", fmt.Sprintf(`"sessionCode":"shared-2","startedAt":%q,"updatedAt":%q`, ts(time.Minute), ts(time.Minute))))
	b.WriteString(other(onCh2(smLine("message", fmt.Sprintf(`"messageId":"s2-a","sessionCode":"shared-2","direction":"BOT","createdAt":%q,"content":"hi","type":"TEXT","buttons":[{"name":"x"}]`, ts(time.Hour))))))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestListsAfterARollupNeverStale: right after a rollup commits, before the list
// index of the new generation is built, lists answer the new data (from DuckDB); once
// it is built, the index answers the same.
func TestListsAfterARollupNeverStale(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	landing := filepath.Join(dir, "landing")
	if err := os.MkdirAll(landing, 0o755); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	write := func(name string, from, n int) {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			at := base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339Nano)
			b.WriteString(smLine("conversation", fmt.Sprintf(`"sessionCode":"s-%03d","startedAt":%q,"updatedAt":%q`, i, at, at)))
			b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"m-%03d","sessionCode":"s-%03d","direction":"USER","createdAt":%q,"content":"hi","type":"TEXT"`, i, i, at)))
		}
		if err := os.WriteFile(filepath.Join(landing, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := etl.Extract(ctx, etl.Options{LandingDir: landing, LakeDir: filepath.Join(dir, "lake"),
			QuarantineDir: filepath.Join(dir, "quarantine"), MemoryLimit: "1GB"}); err != nil {
			t.Fatal(err)
		}
	}
	write("a.ndjson", 0, 10)
	wh, err := warehouse.Open(ctx, warehouse.Options{Dir: filepath.Join(dir, "warehouse"), LakeDir: filepath.Join(dir, "lake"),
		MemoryLimit: "1GB", ListIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if err := wh.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := wh.Rollup(ctx, warehouse.RollupOptions{}); err != nil {
		t.Fatal(err)
	}
	wh.WaitListIndex()
	if !wh.ListIndexBuilt() {
		t.Fatal("no list index after the first rollup")
	}
	f := warehouse.ListFilter{Query: warehouse.Query{Tenant: warehouse.TenantKey{Org: smOrg, Env: smEnv, Bot: smBot},
		Start: base.Unix()/3600 - 1, End: base.Unix()/3600 + 2, Mask: calendar.NewMask(0, 23)}, Sort: "conversationStartedAt", Desc: true, Max: 100}
	check := func(when string, want int64) {
		t.Helper()
		n, rows, err := wh.ListConversations(ctx, f)
		if err != nil || n != want || int64(len(rows)) != want {
			t.Fatalf("%s: conversations %d (%d rows, %v), want %d", when, n, len(rows), err, want)
		}
		g := f
		g.Sort = "deliveredAt"
		n, msgs, err := wh.ListMessages(ctx, g)
		if err != nil || n != want || int64(len(msgs)) != want {
			t.Fatalf("%s: messages %d (%d rows, %v), want %d", when, n, len(msgs), err, want)
		}
	}
	check("after the first rollup", 10)
	write("b.ndjson", 10, 5)
	if _, err := wh.Rollup(ctx, warehouse.RollupOptions{}); err != nil {
		t.Fatal(err)
	}
	check("right after the second rollup", 15) // the index of generation 1 must not answer
	wh.WaitListIndex()
	if !wh.ListIndexBuilt() {
		t.Fatal("no list index after the second rollup")
	}
	check("from the index of the second rollup", 15)
	if st := wh.ListIndexState(); st != "ready" {
		t.Fatalf("list index state %q, want ready", st)
	}
}
