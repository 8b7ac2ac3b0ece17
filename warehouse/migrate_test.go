package warehouse

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrationsLeaveNoWAL: the migrations leave nothing in the WAL, and a run record
// keeps every count.
func TestMigrationsLeaveNoWAL(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "wh")
	w, err := Open(ctx, Options{Dir: dir, MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if st, err := os.Stat(filepath.Join(dir, File+".wal")); err == nil && st.Size() > 0 {
		t.Errorf("after the migrations the WAL holds %d bytes: a kill now could leave DDL DuckDB cannot replay", st.Size())
	}
	id, err := w.StartRun(ctx, "incremental", "manual", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	fin := time.Now()
	if err := w.FinishRun(ctx, JobRun{ID: id, Finished: &fin, Status: "DONE", RowsIn: 7, Loaded: 3, Duplicates: 1, Superseded: 2, Quarantined: 1}); err != nil {
		t.Fatal(err)
	}
	runs, err := w.Runs(ctx, "", 10)
	if err != nil || len(runs) != 1 {
		t.Fatal(runs, err)
	}
	if r := runs[0]; r.RowsIn != r.Loaded+r.Duplicates+r.Superseded+r.Quarantined || r.Superseded != 2 {
		t.Errorf("run %+v", r)
	}
}
