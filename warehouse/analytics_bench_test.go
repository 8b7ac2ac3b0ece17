package warehouse

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// BenchmarkDistinct measures the in-memory distinct counts on a real warehouse:
// DASHBOARD_BENCH_DIR=bench-data/m10000000-d365 go test -bench Distinct ./warehouse
// (users, stacked intents and conversations of the large bot, 30 days and a year)
// (the snapshot of the make bench data set; skipped without it).
func BenchmarkDistinct(b *testing.B) {
	dir := benchDir(b)
	ctx := context.Background()
	w, err := Open(ctx, Options{Dir: filepath.Join(dir, "warehouse"), LakeDir: filepath.Join(dir, "lake")})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if err := w.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	snap := w.Snapshot()
	k := TenantKey{Org: "e0292f69-f65b-44e6-9037-8c46e74a8abd", Env: "73259740-7753-4fb8-9a4d-c8f7300d020d", Bot: "a8a3385b-3db2-486b-963c-b5df91911239"}
	t := snap.tenants[k]
	if t == nil {
		b.Fatal("no big tenant")
	}
	first, last := t.users[0].hour, t.users[len(t.users)-1].hour
	b.Logf("users %d, user events %d, hour counts %d, conversations' hours %d..%d", t.nUsers, len(t.users), len(t.counts), first, last)
	if t.intentDays != nil && t.flowDays != nil {
		b.Logf("intent rows %d, running day totals %d (stride %d); flow rows %d, totals %d", len(t.intents),
			len(t.intentDays.cum), t.intentDays.stride, len(t.flows), len(t.flowDays.cum))
	}
	b.Run("day-totals-build", func(b *testing.B) {
		for b.Loop() {
			buildDayTotals(t.intents, len(t.channels), len(t.intentNm))
			buildDayTotals(t.flows, len(t.channels), len(t.flowNm))
		}
	})
	for _, days := range []int64{30, 365} {
		r := rand.New(rand.NewPCG(1, 2))
		queries := make([]Query, 64)
		for i := range queries {
			start := first + r.Int64N(max(1, last-first-days*24))
			q := Query{Tenant: k, Start: start, End: start + days*24}
			sh, eh := r.IntN(24), r.IntN(24)
			if i%2 == 0 {
				sh, eh = 0, 23
			}
			q.Mask = calendar.NewMask(sh, eh)
			queries[i] = q
		}
		b.Run("users-"+itoa(days), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				q := queries[i%len(queries)]
				cal := calendar.Build(q.Start, q.End, q.Mask)
				snap.Users(q, cal)
				q.Start, q.End = 2*q.Start-q.End, q.Start
				snap.UsersTotal(q)
			}
		})
		b.Run("intents-"+itoa(days), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				snap.Stacking(queries[i%len(queries)], true)
			}
		})
		b.Run("conversations-"+itoa(days), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				q := queries[i%len(queries)]
				cal := calendar.Build(q.Start, q.End, q.Mask)
				snap.Counts(q, cal, 0, true)
				q.Start, q.End = 2*q.Start-q.End, q.Start
				snap.Total(q, 0)
			}
		})
	}
}

func itoa(n int64) string {
	if n == 30 {
		return "30d"
	}
	return "365d"
}

// benchDir is the data set of DASHBOARD_BENCH_DIR; the benchmark is skipped without it.
func benchDir(b *testing.B) string {
	dir := os.Getenv("DASHBOARD_BENCH_DIR")
	if dir == "" {
		b.Skip("DASHBOARD_BENCH_DIR is not set")
	}
	return dir
}
