package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

func openWarehouse(t *testing.T, dir string) *warehouse.Warehouse {
	t.Helper()
	wh, err := warehouse.Open(context.Background(), warehouse.Options{Dir: filepath.Join(dir, "warehouse"), LakeDir: filepath.Join(dir, "lake"), MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return wh
}

// waitRuns polls the run records until n runs of job are finished.
func waitRuns(t *testing.T, wh *warehouse.Warehouse, job string, n int) []warehouse.JobRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		runs, err := wh.Runs(context.Background(), job, 100)
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, r := range runs {
			if r.Status != "RUNNING" {
				done++
			}
		}
		if done >= n {
			return runs
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %d runs of %s", n, job)
	return nil
}

const tenantLine = `"orgUuid":"11111111-1111-4111-8111-111111111111","envUuid":"22222222-2222-4222-8222-222222222222","botUuid":"33333333-3333-4333-8333-333333333333"`

func landMessages(t *testing.T, dir, name string, ids ...string) {
	t.Helper()
	var b []byte
	for _, id := range ids {
		b = append(b, fmt.Sprintf(`{"kind":"message",%s,"messageId":%q,"sessionCode":"s1","channelUuid":"44444444-4444-4444-8444-444444444444","userId":"u1","direction":"USER","createdAt":"2026-01-05T10:00:00Z","content":"oi","type":"TEXT","minimumConfidenceAchieved":true}`+"\n", tenantLine, id)...)
	}
	if err := os.MkdirAll(filepath.Join(dir, "landing"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "landing", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func userMessages(t *testing.T, wh *warehouse.Warehouse) int64 {
	t.Helper()
	snap := wh.Snapshot()
	k := warehouse.TenantKey{Org: "11111111-1111-4111-8111-111111111111", Env: "22222222-2222-4222-8222-222222222222", Bot: "33333333-3333-4333-8333-333333333333"}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Unix() / 3600
	var all [24]bool
	for i := range all {
		all[i] = true
	}
	return snap.Total(warehouse.Query{Tenant: k, Start: start, End: start + 24, Mask: all}, warehouse.UserMessages)
}

// TestFilesLandingBetweenTicks drives the real incremental job with an injected clock.
func TestFilesLandingBetweenTicks(t *testing.T) {
	dir := t.TempDir()
	wh := openWarehouse(t, dir)
	runner := NewRunner(wh, nil, nil)
	eo := etl.Options{LandingDir: filepath.Join(dir, "landing"), LakeDir: filepath.Join(dir, "lake"), QuarantineDir: filepath.Join(dir, "quarantine"), MemoryLimit: "1GB"}
	s, err := NewScheduler(runner, []Job{Incremental("*/5 * * * *", eo, wh)})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 6, 0, 1, 0, 0, time.UTC)
	s.Tick(clock) // sets the clock; nothing due
	landMessages(t, dir, "a.ndjson", "m1", "m2")
	s.Tick(clock.Add(2 * time.Minute)) // 00:03: not due yet
	time.Sleep(50 * time.Millisecond)
	if runs, _ := wh.Runs(context.Background(), "incremental", 10); len(runs) != 0 {
		t.Fatalf("a job ran before its schedule: %+v", runs)
	}
	s.Tick(clock.Add(4 * time.Minute)) // 00:05: due
	waitRuns(t, wh, "incremental", 1)
	s.Wait() // the run is recorded DONE a moment before its skip-if-running guard is free
	if n := userMessages(t, wh); n != 2 {
		t.Fatalf("after the first tick: %d USER messages, want 2", n)
	}
	landMessages(t, dir, "b.ndjson", "m3", "m2") // m2 is a duplicate
	conv := func(updated string) string {
		return fmt.Sprintf(`{"kind":"conversation",%s,"sessionCode":"s1","channelUuid":"44444444-4444-4444-8444-444444444444","userId":"u1","startedAt":"2026-01-05T09:59:00Z","updatedAt":%q}`, tenantLine, updated)
	}
	// The older state of s1 is superseded; the bad line is quarantined.
	if err := os.WriteFile(filepath.Join(dir, "landing", "c.ndjson"), []byte(conv("2026-01-05T10:05:00Z")+"\n"+conv("2026-01-05T10:01:00Z")+"\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Tick(clock.Add(9 * time.Minute)) // 00:10
	runs := waitRuns(t, wh, "incremental", 2)
	if n := userMessages(t, wh); n != 3 {
		t.Fatalf("after the second tick: %d USER messages, want 3", n)
	}
	if r := runs[0]; r.Status != "DONE" || r.Duplicates != 1 || r.Loaded != 2 || r.Superseded != 1 || r.Quarantined != 1 || r.Trigger != "schedule" ||
		r.RowsIn != r.Loaded+r.Duplicates+r.Superseded+r.Quarantined {
		t.Fatalf("second run record: %+v; want 1 duplicate, 2 loaded, 1 superseded, 1 quarantined, and rows in = their sum", r)
	}
}

// TestSlowJobNotStartedTwice: a tick that comes while the job still runs is skipped.
func TestSlowJobNotStartedTwice(t *testing.T) {
	wh := openWarehouse(t, t.TempDir())
	runner := NewRunner(wh, nil, nil)
	release := make(chan struct{})
	var started atomic.Int32
	slow := Job{Name: "slow", Spec: "* * * * *", Run: func(ctx context.Context) (Outcome, error) {
		started.Add(1)
		<-release
		return Outcome{}, nil
	}}
	s, err := NewScheduler(runner, []Job{slow})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	s.Tick(clock)
	s.Tick(clock.Add(time.Minute))
	for started.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	s.Tick(clock.Add(2 * time.Minute))
	s.Tick(clock.Add(3 * time.Minute))
	time.Sleep(100 * time.Millisecond)
	if n := started.Load(); n != 1 {
		t.Fatalf("slow job started %d times while running, want 1", n)
	}
	close(release)
	waitRuns(t, wh, "slow", 1)
	s.Wait()
	s.Tick(clock.Add(4 * time.Minute))
	waitRuns(t, wh, "slow", 2)
	if n := started.Load(); n != 2 {
		t.Fatalf("after it finished, the next tick started it %d times in all, want 2", n)
	}
}

// TestPanickingJobRecordedFailed: a panic is a FAILED record, and the next tick runs again.
func TestPanickingJobRecordedFailed(t *testing.T) {
	wh := openWarehouse(t, t.TempDir())
	runner := NewRunner(wh, nil, nil)
	var calls atomic.Int32
	flaky := Job{Name: "flaky", Spec: "*/5 * * * *", Run: func(ctx context.Context) (Outcome, error) {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return Outcome{RowsIn: 7}, nil
	}}
	s, err := NewScheduler(runner, []Job{flaky})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	s.Tick(clock)
	s.Tick(clock.Add(5 * time.Minute))
	waitRuns(t, wh, "flaky", 1)
	s.Wait()
	s.Tick(clock.Add(10 * time.Minute))
	runs := waitRuns(t, wh, "flaky", 2)
	if runs[1].Status != "FAILED" || runs[1].Error != "panic: boom" {
		t.Errorf("first run: %+v, want FAILED with the panic", runs[1])
	}
	if runs[0].Status != "DONE" || runs[0].RowsIn != 7 {
		t.Errorf("second run: %+v, want DONE", runs[0])
	}
}

// TestErrorRecorded: a job's error is its run's error.
func TestErrorRecorded(t *testing.T) {
	wh := openWarehouse(t, t.TempDir())
	runner := NewRunner(wh, nil, nil)
	err := runner.Do(Job{Name: "bad", Run: func(ctx context.Context) (Outcome, error) { return Outcome{}, errors.New("disk full") }}, "manual")
	if err == nil {
		t.Fatal("no error")
	}
	runs := waitRuns(t, wh, "bad", 1)
	if runs[0].Status != "FAILED" || runs[0].Error != "disk full" || runs[0].Trigger != "manual" || runs[0].Finished == nil {
		t.Errorf("run: %+v", runs[0])
	}
}

// TestNightlyRetention: the nightly job drops lake days older than the retention, and
// the full rollup after it drops them from the summaries; newer days stay.
func TestNightlyRetention(t *testing.T) {
	dir := t.TempDir()
	wh := openWarehouse(t, dir)
	runner := NewRunner(wh, nil, nil)
	eo := etl.Options{LandingDir: filepath.Join(dir, "landing"), LakeDir: filepath.Join(dir, "lake"), QuarantineDir: filepath.Join(dir, "quarantine"), MemoryLimit: "1GB"}
	landMessages(t, dir, "a.ndjson", "m1", "m2") // 2026-01-05
	old := []byte(`{"kind":"message",` + tenantLine + `,"messageId":"old","sessionCode":"s0","channelUuid":"44444444-4444-4444-8444-444444444444","userId":"u1","direction":"USER","createdAt":"2025-06-01T10:00:00Z","content":"oi","type":"TEXT"}` + "\n")
	if err := os.WriteFile(filepath.Join(dir, "landing", "old.ndjson"), old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runner.Do(Incremental("", eo, wh), "manual"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lake", "messages", "date=2025-06-01")); err != nil {
		t.Fatalf("old partition missing before the sweep: %v", err)
	}
	now := func() time.Time { return time.Date(2026, 1, 10, 2, 0, 0, 0, time.UTC) }
	if err := runner.Do(Nightly("", eo, "1GB", Retention{LakeDays: 90}, wh, nil, now), "manual"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lake", "messages", "date=2025-06-01")); !os.IsNotExist(err) {
		t.Fatalf("old partition still in the lake: %v", err)
	}
	if n := userMessages(t, wh); n != 2 {
		t.Fatalf("the kept day has %d USER messages, want 2", n)
	}
	var left int64
	if err := wh.DB().SQL.QueryRow("SELECT count(*) FROM messages WHERE day = DATE '2025-06-01'").Scan(&left); err != nil || left != 0 {
		t.Fatalf("old day still in the facts: %d %v", left, err)
	}
	runs := waitRuns(t, wh, "nightly", 1)
	if runs[0].Status != "DONE" || !strings.Contains(runs[0].Detail, "retention removed 1 partitions") {
		t.Errorf("nightly run: %+v", runs[0])
	}
}

// receive is <-c, or a failure after 10 s.
func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// lakeJobs are two lake jobs due at 02:00 that say when they start and run until
// released, counting overlaps.
type lakeJobs struct {
	started  chan string
	release  chan struct{}
	in, over atomic.Int32
}

func newLakeJobs() *lakeJobs {
	return &lakeJobs{started: make(chan string, 2), release: make(chan struct{})}
}

func (l *lakeJobs) job(name string) Job {
	return Job{Name: name, Spec: "0 2 * * *", Lake: true, Run: func(ctx context.Context) (Outcome, error) {
		if l.in.Add(1) > 1 {
			l.over.Add(1)
		}
		defer l.in.Add(-1)
		l.started <- name
		<-l.release
		return Outcome{}, nil
	}}
}

// TestLakeJobsTakeTurns: two lake jobs due at the same tick run one after the other (the
// second waits, and its record starts after the first's ends); a job that does not touch
// the lake runs beside them.
func TestLakeJobsTakeTurns(t *testing.T) {
	wh := openWarehouse(t, t.TempDir())
	clock := time.Date(2026, 1, 1, 1, 59, 30, 0, time.UTC)
	var tick atomic.Int64 // the runner's clock: the test moves it
	tick.Store(clock.UnixNano())
	runner := NewRunner(wh, nil, func() time.Time { return time.Unix(0, tick.Load()).UTC() })
	l := newLakeJobs()
	other := Job{Name: "other", Spec: "0 2 * * *", Run: func(ctx context.Context) (Outcome, error) { return Outcome{}, nil }}
	s, err := NewScheduler(runner, []Job{l.job("nightly"), l.job("incremental"), other})
	if err != nil {
		t.Fatal(err)
	}
	s.Tick(clock)
	s.Tick(clock.Add(time.Minute)) // 02:00:30: all three due
	first := receive(t, l.started, "the first lake job")
	waitRuns(t, wh, "other", 1) // not held up by the lake
	time.Sleep(100 * time.Millisecond)
	select {
	case second := <-l.started:
		t.Fatalf("%s started while %s held the lake", second, first)
	default:
	}
	tick.Add(int64(time.Minute)) // the first ends a minute later
	l.release <- struct{}{}
	second := receive(t, l.started, "the second lake job")
	close(l.release)
	s.Wait()
	if first == second || l.over.Load() != 0 {
		t.Fatalf("runs %s, %s; %d overlaps", first, second, l.over.Load())
	}
	r1, r2 := waitRuns(t, wh, first, 1), waitRuns(t, wh, second, 1)
	if len(r1) != 1 || len(r2) != 1 || r1[0].Status != "DONE" || r2[0].Status != "DONE" || r1[0].Finished == nil ||
		r2[0].Started.Before(*r1[0].Finished) {
		t.Errorf("%s %+v; %s %+v: the second's record must start when the first's ends", first, r1, second, r2)
	}
}

// TestDrainStartsNoWaitingJob: a lake job waiting when the service stops (Pause: SIGTERM)
// does not start when the lake frees; Stop returns once the running one ends; a job
// waiting when the runner is cancelled gives up too. Neither is recorded.
func TestDrainStartsNoWaitingJob(t *testing.T) {
	wh := openWarehouse(t, t.TempDir())
	runner := NewRunner(wh, nil, nil)
	l := newLakeJobs()
	s, err := NewScheduler(runner, []Job{l.job("nightly"), l.job("incremental")})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 1, 1, 59, 30, 0, time.UTC)
	s.Tick(clock)
	s.Tick(clock.Add(time.Minute))
	first := receive(t, l.started, "the first lake job")
	time.Sleep(50 * time.Millisecond) // the other is waiting for the lake
	s.Pause()
	close(l.release)
	stopped := make(chan struct{})
	go func() { s.Stop(context.Background()); close(stopped) }()
	receive(t, stopped, "Stop")
	s.Wait()
	select {
	case second := <-l.started:
		t.Fatalf("%s started after the drain (%s held the lake)", second, first)
	default:
	}
	for _, job := range []string{"nightly", "incremental"} {
		runs, err := wh.Runs(context.Background(), job, 10)
		if want := map[bool]int{true: 1, false: 0}[job == first]; err != nil || len(runs) != want {
			t.Errorf("%s: %d records, want %d (%v)", job, len(runs), want, err)
		}
	}
	if err := runner.Do(Job{Name: "late", Run: func(ctx context.Context) (Outcome, error) {
		t.Error("a job started after the drain")
		return Outcome{}, nil
	}}, "manual"); !errors.Is(err, ErrDraining) {
		t.Errorf("a job after the drain: %v, want ErrDraining", err)
	}

	// Cancelled while waiting (a fresh runner).
	runner = NewRunner(wh, nil, nil)
	hold, holding, held := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		held <- runner.Do(Job{Name: "holder", Lake: true, Run: func(ctx context.Context) (Outcome, error) {
			close(holding)
			<-hold
			return Outcome{}, nil
		}}, "manual")
	}()
	receive(t, holding, "the holder")
	waited := make(chan error)
	go func() {
		waited <- runner.Do(Job{Name: "waiter", Lake: true, Run: func(ctx context.Context) (Outcome, error) {
			t.Error("the waiter ran")
			return Outcome{}, nil
		}}, "manual")
	}()
	time.Sleep(50 * time.Millisecond)
	runner.Cancel()
	if err := receive(t, waited, "the waiter"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while waiting: %v", err)
	}
	close(hold)
	if err := receive(t, held, "the holder's end"); err != nil {
		t.Errorf("holder: %v", err)
	}
	if runs, _ := wh.Runs(context.Background(), "waiter", 10); len(runs) != 0 {
		t.Errorf("the waiter was recorded: %+v", runs)
	}
}

// TestNightlyAndIncrementalAtTheSameTick: the default schedules meet at 02:00; with
// files landed, both real jobs run (one after the other) and both succeed.
func TestNightlyAndIncrementalAtTheSameTick(t *testing.T) {
	dir := t.TempDir()
	wh := openWarehouse(t, dir)
	runner := NewRunner(wh, nil, nil)
	eo := etl.Options{LandingDir: filepath.Join(dir, "landing"), LakeDir: filepath.Join(dir, "lake"), QuarantineDir: filepath.Join(dir, "quarantine"), MemoryLimit: "1GB"}
	s, err := NewScheduler(runner, []Job{Incremental("*/5 * * * *", eo, wh), Nightly("0 2 * * *", eo, "1GB", Retention{}, wh, nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 6, 1, 59, 30, 0, time.UTC)
	s.Tick(clock)
	for round, ids := range [][]string{{"m1", "m2"}, {"m3"}} {
		landMessages(t, dir, fmt.Sprintf("r%d.ndjson", round), ids...)
		s.Tick(clock.Add(time.Duration(round)*24*time.Hour + time.Minute)) // 02:00:30
		for _, job := range []string{"incremental", "nightly"} {
			for _, r := range waitRuns(t, wh, job, round+1) {
				if r.Status != "DONE" {
					t.Errorf("round %d: %s %s: %s", round, job, r.Status, r.Error)
				}
			}
		}
		s.Wait()
	}
	if n := userMessages(t, wh); n != 3 {
		t.Errorf("USER messages %d, want 3", n)
	}
}

// TestUnreadFileFailsTheRunNotTheRollup: a landing file the system will not let the
// extract read fails the incremental run (naming it), but what was read is rolled up;
// the next run, the file readable again, loads it.
func TestUnreadFileFailsTheRunNotTheRollup(t *testing.T) {
	dir := t.TempDir()
	wh := openWarehouse(t, dir)
	runner := NewRunner(wh, nil, nil)
	landMessages(t, dir, "a.ndjson", "m1", "m2")
	landMessages(t, dir, "b.ndjson", "m3")
	refuse := true
	eo := etl.Options{LandingDir: filepath.Join(dir, "landing"), LakeDir: filepath.Join(dir, "lake"), QuarantineDir: filepath.Join(dir, "quarantine"), MemoryLimit: "1GB",
		Open: func(path string) (io.ReadCloser, error) {
			if refuse && filepath.Base(path) == "b.ndjson" {
				return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
			}
			return os.Open(path)
		}}
	if err := runner.Do(Incremental("", eo, wh), "manual"); err == nil || !strings.Contains(err.Error(), "b.ndjson") {
		t.Fatalf("first run: %v, want an error naming b.ndjson", err)
	}
	if n := userMessages(t, wh); n != 2 {
		t.Errorf("after the first run: %d USER messages rolled up, want 2", n)
	}
	if runs := waitRuns(t, wh, "incremental", 1); runs[0].Status != "FAILED" || !strings.Contains(runs[0].Error, "permission denied") {
		t.Errorf("first run record: %+v", runs[0])
	}
	refuse = false
	if err := runner.Do(Incremental("", eo, wh), "manual"); err != nil {
		t.Fatal(err)
	}
	if n := userMessages(t, wh); n != 3 {
		t.Errorf("after the second run: %d USER messages, want 3", n)
	}
}
