package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dashboard-analytics/dashboard/config"
)

// BenchmarkIncrementalRollup measures the rollup of one new day in a long-lived process
// (as `dashboard run` does it: caches warm, the default checkpoint threshold), on a copy
// of a real data set:
// DASHBOARD_BENCH_DIR=DIR go test -run X -bench IncrementalRollup ./warehouse
// Each round takes the lake's last day of messages and conversations out and rolls up
// (untimed), then puts it back and rolls up (timed). DIR's lake is changed while it
// runs (and put back after): give it a copy, or a data set built again at will (make
// bench's).
func BenchmarkIncrementalRollup(b *testing.B) {
	dir := benchDir(b)
	ctx := context.Background()
	lake := filepath.Join(dir, "lake")
	var day string
	for _, ds := range []string{"messages", "conversations"} {
		parts, err := lakePartitions(filepath.Join(lake, ds))
		if err != nil || len(parts) == 0 {
			b.Fatalf("%s partitions of %s: %v", ds, lake, err)
		}
		days := make([]string, 0, len(parts))
		for d := range parts {
			days = append(days, d)
		}
		day = max(day, slices.Max(days))
	}
	aside := b.TempDir()
	move := func(out bool) {
		for _, ds := range []string{"messages", "conversations"} {
			in, away := filepath.Join(lake, ds, "date="+day), filepath.Join(aside, ds)
			if !out {
				in, away = away, in
			}
			if err := os.Rename(in, away); err != nil && !os.IsNotExist(err) {
				b.Fatal(err)
			}
		}
	}
	w, err := Open(ctx, Options{Dir: filepath.Join(dir, "warehouse"), LakeDir: lake,
		CheckpointThreshold: config.Default().CheckpointThreshold})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	defer move(false)
	var last RollupResult
	for b.Loop() {
		b.StopTimer()
		move(true)
		if _, err := w.Rollup(ctx, RollupOptions{}); err != nil {
			b.Fatal(err)
		}
		move(false)
		b.StartTimer()
		if last, err = w.Rollup(ctx, RollupOptions{}); err != nil {
			b.Fatal(err)
		}
		if last.MessageDays != 1 {
			b.Fatalf("the rollup touched %d message days, not the one put back", last.MessageDays)
		}
	}
	wal := int64(-1)
	if st, err := os.Stat(filepath.Join(dir, "warehouse", File+".wal")); err == nil {
		wal = st.Size()
	}
	b.Logf("%s: %s; WAL %d bytes", day, last, wal)
}
