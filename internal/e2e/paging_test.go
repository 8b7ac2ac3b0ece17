package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// TestPagesMatchAFullSort: every page of both lists, in every sort and order, is the
// slice of one full sort of the matching rows (sort value, NULLs last, then the
// tie-breaker), and every total is the count of all of them. Pages past row 1,000 are
// found in two steps (the sort value of the page's last row first), so the fixture is
// over 1,000 rows of mostly ties: few distinct times, confidences, durations and
// satisfactions, and NULLs.
func TestPagesMatchAFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2025, 4, 1, 10, 0, 0, 0, time.UTC)
	var b strings.Builder
	confs := []string{"", "0", "0.25", "0.5", "0.5", "0.75", "1"}
	perm := r.Perm(100000)
	for i := 0; i < 1500; i++ {
		at := base.Add(time.Duration(r.IntN(30)) * 7 * time.Minute).Format(time.RFC3339Nano)
		conf := ""
		if c := confs[r.IntN(len(confs))]; c != "" {
			conf = `,"confidence":` + c
		}
		session := fmt.Sprintf("s-%04d", r.IntN(1100))
		b.WriteString(smLine("message", fmt.Sprintf(`"messageId":"m-%05d","sessionCode":%q,"direction":"USER","createdAt":%q,"content":"x","type":"TEXT"%s`,
			perm[i], session, at, conf)))
	}
	for i := 0; i < 1100; i++ {
		start := base.Add(time.Duration(r.IntN(25)) * 11 * time.Minute)
		end := ""
		if r.IntN(4) > 0 {
			end = `,"endedAt":` + fmt.Sprintf("%q", start.Add(time.Duration(r.IntN(5))*time.Minute).Format(time.RFC3339Nano))
		}
		sat := ""
		if r.IntN(3) > 0 {
			sat = fmt.Sprintf(`,"satisfaction":%d`, 1+r.IntN(5))
		}
		b.WriteString(smLine("conversation", fmt.Sprintf(`"sessionCode":"s-%04d","startedAt":%q%s%s`, i, start.Format(time.RFC3339Nano), end, sat)))
	}
	l := newSmLake(t)
	l.load("a.ndjson", b.String())
	wh := l.open()
	l.rollup(wh, false)
	if err := wh.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k := warehouse.TenantKey{Org: smOrg, Env: smEnv, Bot: smBot}
	q := warehouse.Query{Tenant: k, Start: base.Unix()/3600 - 1, End: base.Unix()/3600 + 6}
	for h := range q.Mask {
		q.Mask[h] = true
	}
	all := func(table, col, tie string, desc bool) []string {
		dir := "ASC"
		if desc {
			dir = "DESC"
		}
		cond := ""
		if table == "messages" {
			cond = " AND direction = 'USER'"
		}
		rows, err := wh.DB().SQL.Query("SELECT " + tie + " FROM " + table + " WHERE bot_uuid = '" + smBot + "'" + cond +
			" ORDER BY " + col + " " + dir + " NULLS LAST, " + tie + " ASC")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	pages := 0
	for _, index := range []bool{false, true} {
		if index {
			if err := wh.BuildListIndex(ctx); err != nil {
				t.Fatal(err)
			}
			if !wh.ListIndexBuilt() {
				t.Fatal("the list index was not built")
			}
		}
		checkPages(t, wh, q, all, &pages)
	}
	t.Logf("%d pages checked, in DuckDB and from the list index", pages)
}

func checkPages(t *testing.T, wh *warehouse.Warehouse, q warehouse.Query, all func(table, col, tie string, desc bool) []string, pages *int) {
	ctx := context.Background()
	for _, c := range []struct {
		list, sort, table, col, tie string
	}{
		{"messages", "deliveredAt", "messages", "created_at", "message_id"},
		{"messages", "confidence", "messages", "confidence", "message_id"},
		{"conversations", "conversationStartedAt", "conversation_facts", "started_at", "session_code"},
		{"conversations", "duration", "conversation_facts", "duration_s", "session_code"},
		{"conversations", "satisfaction", "conversation_facts", "satisfaction", "session_code"},
		{"conversations", "userMessages", "conversation_facts", "user_messages", "session_code"},
		{"conversations", "flowsTravelled", "conversation_facts", "flows_travelled", "session_code"},
	} {
		for _, desc := range []bool{false, true} {
			want := all(c.table, c.col, c.tie, desc)
			if len(want) < 1000 {
				t.Fatalf("%s: only %d rows", c.list, len(want))
			}
			for _, size := range []int{20, 100, 333} {
				for off := 0; off <= len(want); off += size {
					f := warehouse.ListFilter{Query: q, Sort: c.sort, Desc: desc, Offset: off, Max: size}
					var got []string
					var total int64
					var err error
					if c.list == "messages" {
						var rows []warehouse.MessageRow
						total, rows, err = wh.ListMessages(ctx, f)
						for _, r := range rows {
							got = append(got, r.MessageID)
						}
					} else {
						var rows []warehouse.ConversationRow
						total, rows, err = wh.ListConversations(ctx, f)
						for _, r := range rows {
							got = append(got, r.SessionCode)
						}
					}
					if err != nil {
						t.Fatal(err)
					}
					exp := want[off:min(off+size, len(want))]
					if total != int64(len(want)) || !slices.Equal(got, exp) {
						t.Fatalf("%s sort=%s desc=%v size=%d offset=%d: total %d, rows %v; want %d, %v", c.list, c.sort, desc, size, off, total, got, len(want), exp)
					}
					*pages++
				}
			}
		}
	}
}
