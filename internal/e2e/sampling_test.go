package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

const (
	smOrg  = "5b7f1c1e-3c53-4c55-9a55-0d4f6f3c0a01"
	smEnv  = "5b7f1c1e-3c53-4c55-9a55-0d4f6f3c0a02"
	smBot  = "5b7f1c1e-3c53-4c55-9a55-0d4f6f3c0a03"
	smChan = "5b7f1c1e-3c53-4c55-9a55-0d4f6f3c0a04"
)

// smLake is a data dir for these tests: landing files loaded one by one, the
// warehouse rolled up after each.
type smLake struct {
	t   *testing.T
	dir string
}

func newSmLake(t *testing.T) *smLake {
	l := &smLake{t: t, dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(l.dir, "landing"), 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

// load writes a landing file and extracts it.
func (l *smLake) load(name, content string) {
	l.t.Helper()
	if err := os.WriteFile(filepath.Join(l.dir, "landing", name), []byte(content), 0o644); err != nil {
		l.t.Fatal(err)
	}
	if _, err := etl.Extract(context.Background(), etl.Options{LandingDir: filepath.Join(l.dir, "landing"),
		LakeDir: filepath.Join(l.dir, "lake"), QuarantineDir: filepath.Join(l.dir, "quarantine"), MemoryLimit: "1GB"}); err != nil {
		l.t.Fatal(err)
	}
}

func (l *smLake) open() *warehouse.Warehouse {
	l.t.Helper()
	wh, err := warehouse.Open(context.Background(), warehouse.Options{Dir: filepath.Join(l.dir, "warehouse"),
		LakeDir: filepath.Join(l.dir, "lake"), MemoryLimit: "1GB"})
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { wh.Close() })
	return wh
}

func (l *smLake) rollup(wh *warehouse.Warehouse, full bool) {
	l.t.Helper()
	if _, err := wh.Rollup(context.Background(), warehouse.RollupOptions{Full: full}); err != nil {
		l.t.Fatal(err)
	}
}

func smLine(kind, fields string) string {
	return fmt.Sprintf(`{"kind":%q,"orgUuid":%q,"envUuid":%q,"botUuid":%q,"channelUuid":%q,"userId":"u1",%s}`,
		kind, smOrg, smEnv, smBot, smChan, fields) + "\n"
}

// TestSampledReportsMatchListOrder: a LATEST or OLDEST report of any size is the head
// of the list in that order, whatever hour the sample ends in (it is picked by a count
// per hour, then the rows of the hour where it ends), with ties on createdAt broken by
// messageId and hours before 1970; and the answers of a message whose BOT reply was
// rolled up before the message itself are in its report row.
func TestSampledReportsMatchListOrder(t *testing.T) {
	// USER messages around midnight of 1970-01-01 and in one busy hour, with ties; one
	// conversation per session. The BOT replies come in a first file, the USER
	// messages of 1969 they answer only in a second one, rolled up later: the replies
	// to the last of those are on 1970-01-01, a day that second rollup does not touch.
	base := time.Date(1969, 12, 31, 22, 59, 59, 0, time.UTC)
	var replies, users, early, convs strings.Builder
	type rec struct {
		at  time.Time
		key string
	}
	var msgs, sessions []rec
	n := 0
	for h := 0; h < 4; h++ {
		for i := 0; i < 3+h; i++ {
			at := base.Add(time.Duration(h)*time.Hour + time.Duration(i/2)*time.Second) // pairs share an instant
			id := fmt.Sprintf("m-%02d-%c", h, 'z'-rune(i))                              // ids against time order
			session := fmt.Sprintf("s-%02d-%d", h, i)
			u := &users
			if at.Year() == 1969 {
				u = &early
			}
			u.WriteString(smLine("message", fmt.Sprintf(`"messageId":%q,"sessionCode":%q,"direction":"USER","createdAt":%q,"content":"hi %d","type":"TEXT","confidence":0.5,"minimumConfidenceAchieved":true`,
				id, session, at.Format(time.RFC3339Nano), n)))
			replies.WriteString(smLine("message", fmt.Sprintf(`"messageId":"r-%s","sessionCode":%q,"direction":"BOT","createdAt":%q,"content":"answer %d","type":"TEXT","replyTo":%q,"answerName":"a%d"`,
				id, session, at.Add(time.Second).Format(time.RFC3339Nano), n, id, n)))
			msgs, sessions = append(msgs, rec{at, id}), append(sessions, rec{at, session})
			convs.WriteString(smLine("conversation", fmt.Sprintf(`"sessionCode":%q,"startedAt":%q`, session, at.Format(time.RFC3339Nano))))
			n++
		}
	}
	ctx := context.Background()
	l := newSmLake(t)
	l.load("1-replies.ndjson", replies.String()+convs.String()+users.String())
	wh := l.open()
	l.rollup(wh, false)
	l.load("2-users.ndjson", early.String())
	l.rollup(wh, false)

	k := warehouse.TenantKey{Org: smOrg, Env: smEnv, Bot: smBot}
	f := warehouse.ListFilter{Query: warehouse.Query{Tenant: k, Start: base.Unix()/3600 - 2, End: base.Unix()/3600 + 8}}
	for h := range f.Mask {
		f.Mask[h] = true
	}
	out := t.TempDir()
	// ids reads a report's first column (messageId or sessionCode) and its answers.
	ids := func(r *warehouse.Report) (col []string, answers map[string]string) {
		r.ID = fmt.Sprintf("%s-%s-%s-%d", r.Spec.Kind, r.Spec.Sampling, r.Spec.Export, r.Spec.SampleSize)
		r.Tenant = k
		path := filepath.Join(out, r.ID+".csv")
		if _, err := wh.ExportFile(ctx, r, path); err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		answers = map[string]string{}
		for i, row := range parseCSV(t, b) {
			if i > 0 {
				col = append(col, row[0])
				if r.Spec.Kind == warehouse.KindMessages {
					answers[row[0]] = row[7]
				}
			}
		}
		return col, answers
	}
	all := func(kind, sampling string) []string {
		col, _ := ids(&warehouse.Report{Spec: warehouse.ReportSpec{Kind: kind, Export: "csv", Filter: f, SampleSize: n + 5, Sampling: sampling}})
		if len(col) != n {
			t.Fatalf("%s %s: %d rows, want %d", kind, sampling, len(col), n)
		}
		return col
	}
	// The list shows the answers too (found by message_at), page by page.
	for page := 0; page*5 < n; page++ {
		lf := f
		lf.Sort, lf.Offset, lf.Max = "deliveredAt", page*5, 5
		_, rows, err := wh.ListMessages(ctx, lf)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if len(r.AnswerNames) != 1 || !strings.HasPrefix(r.AnswerNames[0], "a") {
				t.Fatalf("messages/list page %d: %s has answerNames %v; its reply was rolled up first", page, r.MessageID, r.AnswerNames)
			}
		}
	}
	// expect is the list order in Go: time (newest first for LATEST), ties by key ascending.
	expect := func(kind, sampling string) []string {
		rs := slices.Clone(msgs)
		if kind == warehouse.KindConversations {
			rs = slices.Clone(sessions)
		}
		slices.SortFunc(rs, func(a, b rec) int {
			c := a.at.Compare(b.at)
			if sampling == "LATEST" {
				c = -c
			}
			if c == 0 {
				c = strings.Compare(a.key, b.key)
			}
			return c
		})
		keys := make([]string, len(rs))
		for i, r := range rs {
			keys[i] = r.key
		}
		return keys
	}
	for _, kind := range []string{warehouse.KindMessages, warehouse.KindConversations} {
		for _, sampling := range []string{"LATEST", "OLDEST"} {
			want := expect(kind, sampling)
			if got := all(kind, sampling); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("%s %s, the whole range:\n got %v\nwant %v", kind, sampling, got, want)
			}
			for size := 1; size <= n; size++ {
				got, answers := ids(&warehouse.Report{Spec: warehouse.ReportSpec{Kind: kind, Export: "csv", Filter: f, SampleSize: size, Sampling: sampling}})
				if strings.Join(got, ",") != strings.Join(want[:size], ",") {
					t.Fatalf("%s %s size %d:\n got %v\nwant %v", kind, sampling, size, got, want[:size])
				}
				for _, id := range got {
					if kind == warehouse.KindMessages && !strings.HasPrefix(answers[id], "a") {
						t.Fatalf("%s %s size %d: message %s has answerNames %q; its reply was rolled up first", kind, sampling, size, id, answers[id])
					}
				}
			}
		}
	}
}

// TestMovedMessageKeepsOneAnswerRow: a message moved to another day by a later file
// (earlier in file order, so its record wins) exists twice while a backfill goes chunk
// by chunk; its answers must still be one row, and its report row one row.
func TestMovedMessageKeepsOneAnswerRow(t *testing.T) {
	day := func(d time.Time) string { return d.Format(time.RFC3339Nano) }
	c := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC) // where M ends up, with its reply
	a := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)  // where M was first
	user := func(at time.Time) string {
		return smLine("message", fmt.Sprintf(`"messageId":"m-moved","sessionCode":"s-moved","direction":"USER","createdAt":%q,"content":"moved","type":"TEXT"`, day(at)))
	}
	var b strings.Builder
	b.WriteString(user(a))
	b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"r-moved","sessionCode":"s-moved","direction":"BOT","createdAt":%q,"content":"answer","type":"TEXT","replyTo":"m-moved","answerName":"only"`, day(c))))
	for i := 1; i <= 100; i++ { // more than one chunk of days between c and a
		at := c.AddDate(0, 0, i)
		b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"f-%d","sessionCode":"s-f","direction":"USER","createdAt":%q,"content":"filler","type":"TEXT"`, i, day(at))))
	}
	ctx := context.Background()
	l := newSmLake(t)
	l.load("b.ndjson", b.String())
	wh := l.open()
	l.rollup(wh, false)
	// a.ndjson sorts first: its record of m-moved wins and moves it to day c.
	l.load("a.ndjson", user(c))
	l.rollup(wh, true)
	var n int
	if err := wh.DB().SQL.QueryRowContext(ctx, "SELECT count(*) FROM message_answers WHERE message_id = 'm-moved'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("m-moved has %d answer rows, want 1", n)
	}
	k := warehouse.TenantKey{Org: smOrg, Env: smEnv, Bot: smBot}
	f := warehouse.ListFilter{Query: warehouse.Query{Tenant: k, Start: c.Unix()/3600 - 24, End: a.Unix()/3600 + 24}}
	for h := range f.Mask {
		f.Mask[h] = true
	}
	path := filepath.Join(t.TempDir(), "r.csv")
	r := &warehouse.Report{ID: "moved", Tenant: k, Spec: warehouse.ReportSpec{Kind: warehouse.KindMessages, Export: "csv", Filter: f, SampleSize: 1000, Sampling: "OLDEST"}}
	if _, err := wh.ExportFile(ctx, r, path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var moved [][]string
	for _, row := range parseCSV(t, raw)[1:] {
		if row[0] == "m-moved" {
			moved = append(moved, row)
		}
	}
	if len(moved) != 1 || moved[0][7] != "only" || moved[0][10] != "2025-01-10T12:00:00.000Z" {
		t.Fatalf("m-moved in the report: %v", moved)
	}
}
