// Package jobs runs the service's scheduled work: the incremental extract + rollup, the
// nightly full rollup with lake compaction, and sweeps. It owns the robfig/cron wiring
// (UTC schedules, no job overlapping itself, panics recovered into a FAILED record) and
// the run records. It calls etl and warehouse; nothing calls back into it.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// Outcome is what a job reports for its run record.
type Outcome struct {
	RowsIn, Loaded, Duplicates, Superseded, Quarantined int64
	Detail                                              string
}

// Job is one kind of scheduled work.
type Job struct {
	Name string
	Spec string // cron schedule (UTC); "" = run only on demand
	Run  func(ctx context.Context) (Outcome, error)
	// Lake: the job extracts into or rewrites the lake, which one process writes at a
	// time (a lock). Lake jobs of a runner run one after the other: one due while
	// another runs waits for it (the nightly and the incremental schedules meet at
	// 02:00 every day) instead of failing on the lock.
	Lake bool
}

// Runner runs jobs and records every run in the warehouse.
type Runner struct {
	wh  *warehouse.Warehouse
	log *slog.Logger
	now func() time.Time

	ctx     context.Context // cancelled on Stop: running jobs are asked to stop
	cancel  context.CancelFunc
	running sync.WaitGroup
	lake    chan struct{} // held by the running lake job
	drain   chan struct{} // closed by Drain: no job starts any more
	drained sync.Once
	// OnFinish, when set, is called after every run (metrics).
	OnFinish func(job string, status string, took time.Duration, o Outcome)
}

// NewRunner builds a runner; now is the clock (tests inject one).
func NewRunner(wh *warehouse.Warehouse, log *slog.Logger, now func() time.Time) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{wh: wh, log: log, now: now, ctx: ctx, cancel: cancel, lake: make(chan struct{}, 1), drain: make(chan struct{})}
}

// Cancel cancels the running jobs and every later one (the process is stopping).
func (r *Runner) Cancel() { r.cancel() }

// Drain lets the running jobs finish but starts no other: a job called after it, or
// waiting for the lake, returns ErrDraining unrecorded.
func (r *Runner) Drain() { r.drained.Do(func() { close(r.drain) }) }

// ErrDraining is why a job did not start: the runner is draining (the process stops).
var ErrDraining = errors.New("not started: the service is stopping")

// stopping is ErrDraining or the cancellation when the runner no longer starts jobs.
func (r *Runner) stopping() error {
	select {
	case <-r.drain:
		return ErrDraining
	default:
	}
	return r.ctx.Err()
}

// Do runs a job once and records it: RUNNING, then DONE or FAILED (a panic is a
// failure with its stack in the log, not a crash).
//
// A lake job first waits for the lake job running, if any; its run record starts when
// it does. A job that has not started when the runner drains or is cancelled (called
// after, or still waiting for the lake) returns ErrDraining or the context's error,
// unrecorded: it did not run.
func (r *Runner) Do(job Job, trigger string) (err error) {
	r.running.Add(1)
	defer r.running.Done()
	if err := r.stopping(); err != nil {
		return err
	}
	if job.Lake {
		took := false
		select {
		case r.lake <- struct{}{}:
			took = true
		default:
			r.log.Info("job waits for the lake job running", "job", job.Name, "trigger", trigger)
			select {
			case r.lake <- struct{}{}:
				took = true
			case <-r.ctx.Done():
			case <-r.drain:
			}
		}
		// Given up only when stopping; but a lake freed as the runner stopped may have
		// been taken instead (select picks at random): check again.
		if err := r.stopping(); err != nil {
			if took {
				<-r.lake
			}
			return err
		}
		defer func() { <-r.lake }()
	}
	started := r.now()
	id, rerr := r.wh.StartRun(r.ctx, job.Name, trigger, started)
	if rerr != nil {
		r.log.Error("record job start", "job", job.Name, "err", rerr)
	}
	var out Outcome
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
				r.log.Error("job panicked", "job", job.Name, "panic", p, "stack", string(debug.Stack()))
			}
		}()
		out, err = job.Run(r.ctx)
	}()
	finished := r.now()
	rec := warehouse.JobRun{ID: id, Finished: &finished, Status: "DONE", RowsIn: out.RowsIn, Loaded: out.Loaded,
		Duplicates: out.Duplicates, Superseded: out.Superseded, Quarantined: out.Quarantined, Detail: out.Detail}
	if err != nil {
		rec.Status, rec.Error = "FAILED", err.Error()
	}
	if rerr == nil {
		// Record even when the runner is stopping: a fresh context.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if ferr := r.wh.FinishRun(ctx, rec); ferr != nil {
			r.log.Error("record job end", "job", job.Name, "err", ferr)
		}
		cancel()
	}
	took := finished.Sub(started)
	if err != nil {
		r.log.Error("job failed", "job", job.Name, "trigger", trigger, "took", took.Round(time.Millisecond), "err", err)
	} else {
		r.log.Info("job done", "job", job.Name, "trigger", trigger, "took", took.Round(time.Millisecond), "rows", out.RowsIn, "loaded", out.Loaded, "detail", out.Detail)
	}
	if r.OnFinish != nil {
		r.OnFinish(job.Name, rec.Status, took, out)
	}
	return err
}

// Scheduler runs jobs on their cron schedules (UTC). Start drives them with
// robfig/cron's own timer; Tick drives the very same wrapped jobs from an injected
// clock (tests).
type Scheduler struct {
	runner  *Runner
	cron    *cron.Cron
	entries []*entry
	log     *slog.Logger
	mu      sync.Mutex
	// ticks counts the scheduled runs under way, the skip-if-running guard included.
	ticks sync.WaitGroup
}

type entry struct {
	job      Job
	schedule cron.Schedule
	wrapped  cron.Job // SkipIfStillRunning around the recorded run
	next     time.Time
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Info("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// NewScheduler schedules jobs. Jobs with an empty Spec run only on demand.
func NewScheduler(runner *Runner, jobs []Job) (*Scheduler, error) {
	s := &Scheduler{runner: runner, log: runner.log,
		cron: cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cronLogger{runner.log}))}
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add schedules one more job.
func (s *Scheduler) Add(j Job) error {
	if j.Spec == "" {
		return nil
	}
	sched, err := cron.ParseStandard(j.Spec)
	if err != nil {
		return fmt.Errorf("schedule %s %q: %w", j.Name, j.Spec, err)
	}
	// A run still going when the next tick comes makes that tick skip: a job never
	// overlaps itself.
	guarded := cron.NewChain(cron.SkipIfStillRunning(cronLogger{s.log})).Then(cron.FuncJob(func() { _ = s.runner.Do(j, "schedule") }))
	wrapped := cron.FuncJob(func() {
		s.ticks.Add(1)
		defer s.ticks.Done()
		guarded.Run()
	})
	s.mu.Lock()
	s.entries = append(s.entries, &entry{job: j, schedule: sched, wrapped: wrapped})
	s.mu.Unlock()
	s.cron.Schedule(sched, wrapped)
	return nil
}

// Start starts the schedules on the real clock.
func (s *Scheduler) Start() { s.cron.Start() }

// Tick runs, each in its own goroutine as cron does, every job due in (the previous
// tick, now]. The first Tick only sets the clock.
func (s *Scheduler) Tick(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.next.IsZero() {
			e.next = e.schedule.Next(now)
			continue
		}
		due := false
		for !e.next.After(now) {
			due = true
			e.next = e.schedule.Next(e.next)
		}
		if due {
			go e.wrapped.Run()
		}
	}
}

// Wait waits for the scheduled runs under way to return, their skip-if-running guard
// released: a tick after it is not skipped for them (tests).
func (s *Scheduler) Wait() { s.ticks.Wait() }

// Pause stops scheduling: no job starts after it; running ones go on. Call it as soon
// as the process is asked to stop.
func (s *Scheduler) Pause() { s.cron.Stop(); s.runner.Drain() }

// Stop drains: it stops scheduling and waits for the running jobs to finish, until ctx
// ends; then it cancels them (an extract keeps what it published, a rollup rolls back)
// and waits for them to return, at most 10 s more.
func (s *Scheduler) Stop(ctx context.Context) {
	cctx := s.cron.Stop()
	s.runner.Drain()
	done := make(chan struct{})
	go func() { <-cctx.Done(); s.runner.running.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	s.log.Warn("jobs still running at shutdown: cancelled")
	s.runner.Cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}
