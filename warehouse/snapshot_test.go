package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/etl/generate"
	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// servingLake is a data dir and a serving warehouse (its snapshot follows rollups);
// land generates a batch of logs, extracts and rolls it up.
type servingLake struct {
	t  *testing.T
	eo etl.Options
	w  *Warehouse
}

func newServingLake(t *testing.T) *servingLake {
	dir := t.TempDir()
	l := &servingLake{t: t, eo: etl.Options{LandingDir: filepath.Join(dir, "landing"), LakeDir: filepath.Join(dir, "lake"),
		QuarantineDir: filepath.Join(dir, "quarantine"), MemoryLimit: "1GB"}}
	w, err := Open(context.Background(), Options{Dir: filepath.Join(dir, "warehouse"), LakeDir: l.eo.LakeDir, MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.w = w
	return l
}

func (l *servingLake) land(name string, o generate.Options) {
	l.t.Helper()
	ctx := context.Background()
	if _, err := generate.Generate(ctx, o, filepath.Join(l.eo.LandingDir, name)); err != nil {
		l.t.Fatal(err)
	}
	if _, err := etl.Extract(ctx, l.eo); err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.w.Rollup(ctx, RollupOptions{}); err != nil {
		l.t.Fatal(err)
	}
}

// TestIncrementalRefreshEqualsFullLoad: a snapshot refreshed day by day after
// incremental rollups answers exactly like one loaded whole.
func TestIncrementalRefreshEqualsFullLoad(t *testing.T) {
	ctx := context.Background()
	// Two generated batches: the second lands later and overlaps the first's last days.
	l := newServingLake(t)
	w := l.w
	l.land("a", generate.Options{Seed: 3, Messages: 4000, Days: 6, Start: mustDay("2026-03-01")})
	l.land("b", generate.Options{Seed: 4, Messages: 1500, Days: 2, Start: mustDay("2026-03-05")}) // refreshes 2026-03-05..06 only
	incremental := w.Snapshot()
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	full := w.Snapshot()
	if len(incremental.tenants) != len(full.tenants) || len(full.tenants) == 0 {
		t.Fatalf("tenants: %d incremental, %d full", len(incremental.tenants), len(full.tenants))
	}
	for k, ft := range full.tenants {
		it := incremental.tenants[k]
		if it == nil {
			t.Fatalf("tenant %v missing after the incremental refresh", k)
		}
		if it.firstAt != ft.firstAt || it.hasData != ft.hasData {
			t.Errorf("%v: first data %d/%v vs %d/%v", k, it.firstAt, it.hasData, ft.firstAt, ft.hasData)
		}
		// Indices differ between loads (dictionaries): compare by names.
		if a, b := countsByName(it), countsByName(ft); !reflect.DeepEqual(a, b) {
			t.Errorf("%v: hourly counts differ", k)
		}
		if a, b := usersByName(it), usersByName(ft); !reflect.DeepEqual(a, b) {
			t.Errorf("%v: user activity differs (%d vs %d)", k, len(a), len(b))
		}
		if a, b := topicsByName(it, it.intents, it.intentNm), topicsByName(ft, ft.intents, ft.intentNm); !reflect.DeepEqual(a, b) {
			t.Errorf("%v: intents differ", k)
		}
		if a, b := topicsByName(it, it.flows, it.flowNm), topicsByName(ft, ft.flows, ft.flowNm); !reflect.DeepEqual(a, b) {
			t.Errorf("%v: flows differ", k)
		}
	}
}

// TestRefreshAfterAMissedGeneration: a commit the snapshot never loaded (its refresh
// failed, or another process committed) makes the next incremental refresh load all,
// not just the days of its own rollup.
func TestRefreshAfterAMissedGeneration(t *testing.T) {
	ctx := context.Background()
	l := newServingLake(t)
	w := l.w
	l.land("a", generate.Options{Seed: 3, Messages: 3000, Days: 4, Start: mustDay("2026-03-01")})
	// The missed commit: the first day's traffic gone, a new generation, no refresh.
	if _, err := w.db.SQL.ExecContext(ctx, "DELETE FROM message_traffic WHERE CAST(bucket AS DATE) = DATE '2026-03-01'"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.SQL.ExecContext(ctx, "UPDATE rollup_generation SET generation = generation + 1"); err != nil {
		t.Fatal(err)
	}
	l.land("b", generate.Options{Seed: 4, Messages: 500, Days: 1, Start: mustDay("2026-03-04")}) // touches 2026-03-04 only
	after := w.Snapshot()
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	full := w.Snapshot()
	if after.Generation != full.Generation {
		t.Fatalf("generations %d, %d", after.Generation, full.Generation)
	}
	for k, ft := range full.tenants {
		if a, b := countsByName(after.tenants[k]), countsByName(ft); !reflect.DeepEqual(a, b) {
			t.Errorf("%v: hourly counts differ from a full load (%d vs %d hours)", k, len(a), len(b))
		}
	}
}

func mustDay(s string) (t timeT) { t, _ = parseDay(s); return t }

// TestBusiest: the tenant with the most traffic hours, and its last hour.
func TestBusiest(t *testing.T) {
	l := newServingLake(t)
	if _, _, ok := l.w.Snapshot().Busiest(); ok {
		t.Fatal("an empty warehouse has a busiest tenant")
	}
	l.land("a", generate.Options{Seed: 3, Messages: 3000, Days: 4, Start: mustDay("2026-03-01")})
	snap := l.w.Snapshot()
	k, last, ok := snap.Busiest()
	if !ok {
		t.Fatal("no busiest tenant")
	}
	for tk, td := range snap.tenants {
		if len(td.counts) > len(snap.tenants[k].counts) {
			t.Errorf("%v has %d hours, more than the busiest %v", tk, len(td.counts), k)
		}
	}
	if want := snap.tenants[k].counts[len(snap.tenants[k].counts)-1].hour; last != want || last < mustDay("2026-03-04").Unix()/3600 {
		t.Errorf("last hour %d, want %d (on 2026-03-04)", last, want)
	}
}

func countsByName(t *tenantData) []string {
	var out []string
	for _, c := range t.counts {
		out = append(out, sprint(c.hour, t.channels[c.ch].UUID, c.conversations, c.users, c.understood))
	}
	sort.Strings(out)
	return out
}

func usersByName(t *tenantData) []string {
	names := make([]string, len(t.userIdx))
	for u, i := range t.userIdx {
		if int(i) < len(names) {
			names[i] = u
		}
	}
	var out []string
	for _, e := range t.users {
		out = append(out, sprint(e.hour, t.channels[e.ch].UUID, names[e.user]))
	}
	sort.Strings(out)
	return out
}

func topicsByName(t *tenantData, rows []topicCount, names []string) []string {
	var out []string
	for _, c := range rows {
		out = append(out, sprint(c.hour, t.channels[c.ch].UUID, names[c.topic], c.n))
	}
	sort.Strings(out)
	return out
}

// TestRollupWithNothingNewKeepsTheGeneration: a rollup that finds no changed partition
// and no changed channel file makes no new generation (the snapshot and the cached
// answers stay); a changed catalog alone makes one.
func TestRollupWithNothingNewKeepsTheGeneration(t *testing.T) {
	ctx := context.Background()
	l := newServingLake(t)
	l.land("a", generate.Options{Seed: 3, Messages: 2000, Days: 2, Start: mustDay("2026-03-01")})
	before := l.w.Snapshot()
	res, err := l.w.Rollup(ctx, RollupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unchanged || res.Generation != before.Generation || l.w.Snapshot() != before {
		t.Fatalf("a rollup with nothing new: %+v, snapshot generation %d → %d", res, before.Generation, l.w.Snapshot().Generation)
	}
	// Forced days are rolled up again: a new generation.
	if res, err = l.w.Rollup(ctx, RollupOptions{From: mustDay("2026-03-01"), To: mustDay("2026-03-01")}); err != nil || res.Unchanged || res.Generation != before.Generation+1 {
		t.Fatalf("a forced day: %+v, %v", res, err)
	}
	// A channel file alone (a catalog-only landing file): a new generation.
	gen := res.Generation
	line := `{"kind":"channel","orgUuid":"11111111-1111-4111-8111-111111111111","envUuid":"22222222-2222-4222-8222-222222222222","botUuid":"33333333-3333-4333-8333-333333333333","uuid":"44444444-4444-4444-8444-444444444444","name":"New","channelType":{"id":1,"name":"WEBCHAT","image":"","channelClassification":{"id":1,"name":"Chat"}}}` + "\n"
	if err := os.WriteFile(filepath.Join(l.eo.LandingDir, "catalog.ndjson"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := etl.Extract(ctx, l.eo); err != nil {
		t.Fatal(err)
	}
	if res, err = l.w.Rollup(ctx, RollupOptions{}); err != nil || res.Unchanged || res.Generation != gen+1 || l.w.Snapshot().Generation != gen+1 {
		t.Fatalf("a new channel file: %+v, %v", res, err)
	}
}

// TestListIndexServesOnlyTheLastCommit: a list index built for one generation stops
// answering once another is committed, even when no refresh follows (as when the
// refresh after a rollup fails): lists then run in DuckDB.
func TestListIndexServesOnlyTheLastCommit(t *testing.T) {
	ctx := context.Background()
	l := newServingLake(t)
	l.land("a", generate.Options{Seed: 3, Messages: 2000, Days: 3, Start: mustDay("2026-03-01")})
	if err := l.w.BuildListIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if !l.w.ListIndexBuilt() {
		t.Fatal("no list index")
	}
	if _, err := l.w.db.SQL.ExecContext(ctx, "UPDATE rollup_generation SET generation = generation + 1"); err != nil {
		t.Fatal(err)
	}
	if err := l.w.noteCommit(ctx); err != nil {
		t.Fatal(err)
	}
	if l.w.ListIndexBuilt() {
		t.Fatal("the index of the previous generation still answers")
	}
}

// TestListIndexPartsServeAsTheyAreRead: a build publishes the conversations as soon as
// they are read: they answer from memory (here with their DuckDB table gone) while the
// messages, not read yet, still answer from DuckDB, and the index is not reported
// built until every part is.
func TestListIndexPartsServeAsTheyAreRead(t *testing.T) {
	ctx := context.Background()
	l := newServingLake(t)
	l.land("a", generate.Options{Seed: 5, Messages: 2000, Days: 3, Start: mustDay("2026-03-01")})
	if err := l.w.BuildListIndex(ctx); err != nil {
		t.Fatal(err)
	}
	snap := l.w.Snapshot()
	li := snap.lists.Load()
	if li == nil || !li.complete || !l.w.ListIndexBuilt() {
		t.Fatal("no complete list index")
	}
	var k TenantKey
	for k = range li.conv.tenants {
		break
	}
	start := calendar.HourOf(mustDay("2026-02-28").UnixMicro())
	f := ListFilter{Query: Query{Tenant: k, Start: start, End: start + 24*6, Mask: calendar.NewMask(0, 23)}, Sort: "conversationStartedAt", Desc: true, Max: 10}
	wantN, wantConvs, err := l.w.ListConversations(ctx, f)
	if err != nil || wantN == 0 {
		t.Fatalf("conversations: %d, %v", wantN, err)
	}
	fm := f
	fm.Sort = "deliveredAt"
	wantM, wantMsgs, err := l.w.ListMessages(ctx, fm)
	if err != nil || wantM == 0 {
		t.Fatalf("messages: %d, %v", wantM, err)
	}

	snap.lists.Store(&listIndexes{gen: li.gen, conv: li.conv}) // as after the conversations' read
	if l.w.ListIndexBuilt() {
		t.Fatal("an index of the conversations alone is reported built")
	}
	if _, err := l.w.db.SQL.ExecContext(ctx, "ALTER TABLE conversation_facts RENAME TO conversation_facts_away"); err != nil {
		t.Fatal(err)
	}
	n, convs, err := l.w.ListConversations(ctx, f)
	if err != nil || n != wantN || !reflect.DeepEqual(convs, wantConvs) {
		t.Fatalf("conversations from the part read: %d, %v (want %d)", n, err, wantN)
	}
	snap.lists.Store(nil)
	if _, _, err := l.w.ListConversations(ctx, f); err == nil {
		t.Fatal("without the index, conversations answered with their table gone: the check proves nothing")
	}
	if _, err := l.w.db.SQL.ExecContext(ctx, "ALTER TABLE conversation_facts_away RENAME TO conversation_facts"); err != nil {
		t.Fatal(err)
	}
	snap.lists.Store(&listIndexes{gen: li.gen, conv: li.conv})
	m, msgs, err := l.w.ListMessages(ctx, fm)
	if err != nil || m != wantM || !reflect.DeepEqual(msgs, wantMsgs) {
		t.Fatalf("messages from DuckDB beside the part read: %d, %v (want %d)", m, err, wantM)
	}
}
