package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// TestDeferredCheckpoint: with a checkpoint threshold above what the incremental
// rollups write, their commits leave the changes in the WAL (no checkpoint rewrites the
// tables each time); the files as a crash would leave them (the database file and its
// WAL, copied while the warehouse is open) open to the same tables; a full rollup
// checkpoints at its end, leaving an empty WAL.
func TestDeferredCheckpoint(t *testing.T) {
	l := newSmLake(t)
	whDir := filepath.Join(l.dir, "warehouse")
	open := func(dir, threshold string) *warehouse.Warehouse {
		wh, err := warehouse.Open(context.Background(), warehouse.Options{Dir: dir, LakeDir: filepath.Join(l.dir, "lake"),
			MemoryLimit: "1GB", CheckpointThreshold: threshold})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wh.Close() })
		return wh
	}
	wal := func(dir string) int64 {
		st, err := os.Stat(filepath.Join(dir, warehouse.File+".wal"))
		if err != nil {
			return 0
		}
		return st.Size()
	}
	wh := open(whDir, "1GB")
	var threshold string
	if err := wh.DB().SQL.QueryRow("SELECT current_setting('checkpoint_threshold')").Scan(&threshold); err != nil || threshold != "953.6 MiB" {
		t.Fatalf("checkpoint_threshold is %q (%v), not 1GB", threshold, err)
	}
	day0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for d := range 3 {
		var b []byte
		for i := range 40 {
			at := day0.AddDate(0, 0, d).Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
			session := fmt.Sprintf("s-%d-%d", d, i%7)
			b = fmt.Appendf(b, "%s%s", smLine("conversation", fmt.Sprintf(`"sessionCode":%q,"startedAt":%q,"updatedAt":%q`, session, at, at)),
				smLine("message", fmt.Sprintf(`"messageId":"m-%d-%d","sessionCode":%q,"direction":"USER","createdAt":%q,"content":"hi","type":"TEXT"`, d, i, session, at)))
		}
		l.load(fmt.Sprintf("day%d.ndjson", d), string(b))
		res, err := wh.Rollup(context.Background(), warehouse.RollupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Checkpoint != 0 {
			t.Errorf("day %d: an incremental rollup checkpointed (%s)", d, res)
		}
	}
	if wal(whDir) == 0 {
		t.Fatal("the incremental rollups left nothing in the WAL: their commits checkpointed")
	}
	// What a crash leaves: the files as they are. Opened elsewhere, the WAL is replayed.
	crashed := filepath.Join(t.TempDir(), "warehouse")
	copyTree(t, whDir, crashed)
	replayed := open(crashed, "1GB")
	for _, table := range []string{"messages", "conversations", "conversation_facts", "session_lookup", "message_traffic", "rollup_generation"} {
		if a, b := tableRows(t, wh.DB().SQL, table), tableRows(t, replayed.DB().SQL, table); len(a) == 0 || !slices.Equal(a, b) {
			t.Errorf("%s: %d rows live, %d after the replay", table, len(a), len(b))
		}
	}
	// The same rollups with a threshold below what they write: each commit checkpoints.
	small := filepath.Join(t.TempDir(), "warehouse")
	if res, err := open(small, "1KB").Rollup(context.Background(), warehouse.RollupOptions{}); err != nil || res.MessageDays != 3 {
		t.Fatal(res, err)
	}
	if n := wal(small); n != 0 {
		t.Errorf("with a 1KB threshold the rollup's commit left %d bytes in the WAL", n)
	}
	// The full rollup's checkpoint waits for a reader's transaction to end (a plain
	// CHECKPOINT fails while one runs).
	reader, err := wh.DB().SQL.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRow("SELECT count(*) FROM messages").Scan(&n); err != nil || n == 0 {
		t.Fatal(n, err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		reader.Commit()
	}()
	res, err := wh.Rollup(context.Background(), warehouse.RollupOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Checkpoint == 0 || wal(whDir) != 0 {
		t.Errorf("after a full rollup (%s) the WAL holds %d bytes", res, wal(whDir))
	}
}
