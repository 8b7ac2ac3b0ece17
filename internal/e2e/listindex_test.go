package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
	ds := newDatasetWith(t, landing, false)
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
		channel_uuid, flows_travelled_names, epoch_us(started_at) FROM conversation_facts`)
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
		a := r.IntN(len(s))
		b := a + 1 + r.IntN(len(s)-a)
		for !utf8.ValidString(s[a:b]) && b < len(s) {
			b++
		}
		p := s[a:b]
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

	type answer struct {
		total int64
		rows  []warehouse.ConversationRow
	}
	var want []answer
	for _, f := range filters {
		total, rows, err := wh.ListConversations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, answer{total, rows})
	}
	if err := wh.BuildListIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if !wh.ListIndexBuilt() {
		t.Fatal("the list index was not built")
	}
	nonEmpty := 0
	for i, f := range filters {
		total, rows, err := wh.ListConversations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if total != want[i].total || !reflect.DeepEqual(normalise(rows), normalise(want[i].rows)) {
			t.Fatalf("filter %d %+v:\nindex  %d %s\nduckdb %d %s", i, f, total, describeRows(rows), want[i].total, describeRows(want[i].rows))
		}
		if len(rows) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < len(filters)/4 {
		t.Fatalf("only %d of %d pages had rows: the fixture does not exercise the lists", nonEmpty, len(filters))
	}
	t.Logf("%d lists compared, %d with rows", len(filters), nonEmpty)
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
