package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/dashboard-analytics/dashboard/api"
	"github.com/dashboard-analytics/dashboard/config"
	"github.com/dashboard-analytics/dashboard/jobs"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

func init() {
	register("rollup", command{
		summary: "lake → summary tables once (the days touched since the last rollup, or --from/--to)",
		flags: func(fs *flag.FlagSet, env *cmdEnv) {
			env.extra["from"] = fs.String("from", "", "first day to roll up again (yyyy-MM-dd)")
			env.extra["to"] = fs.String("to", "", "last day to roll up again (yyyy-MM-dd); default = --from")
			env.extra["full"] = fs.Bool("full", false, "roll up every day of the lake")
		},
		run: func(ctx context.Context, env *cmdEnv) error {
			var o warehouse.RollupOptions
			o.Full = *env.extra["full"].(*bool)
			from, to := *env.extra["from"].(*string), *env.extra["to"].(*string)
			if o.Full && (from != "" || to != "") {
				return errors.New("--full: rolls up every day; give it or --from/--to, not both")
			}
			if from != "" || to != "" {
				if from == "" {
					from = to
				}
				if to == "" {
					to = from
				}
				var err error
				if o.From, err = time.Parse("2006-01-02", from); err != nil {
					return fmt.Errorf("--from: not a date (yyyy-MM-dd): %q", from)
				}
				if o.To, err = time.Parse("2006-01-02", to); err != nil {
					return fmt.Errorf("--to: not a date (yyyy-MM-dd): %q", to)
				}
				if o.To.Before(o.From) {
					return errors.New("--to: before --from")
				}
			}
			wh, err := openWarehouse(ctx, env)
			if err != nil {
				return err
			}
			defer wh.Close()
			// Recorded like a scheduled rollup (trigger "cli"): dashboard jobs and
			// /admin/jobs show it.
			abandonStopped(ctx, env, wh)
			runner := jobs.NewRunner(wh, env.log, nil)
			defer context.AfterFunc(ctx, runner.Cancel)()
			var res warehouse.RollupResult
			err = runner.Do(jobs.Job{Name: "rollup", Run: func(ctx context.Context) (jobs.Outcome, error) {
				var err error
				res, err = wh.Rollup(ctx, o)
				return jobs.Outcome{Detail: res.String()}, err
			}}, "cli")
			if err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, res.String())
			return nil
		},
	})
	register("serve", command{
		summary: "the API alone, over what has been rolled up",
		run: func(ctx context.Context, env *cmdEnv) error {
			if err := checkAddr(env); err != nil {
				return err
			}
			wh, err := openWarehouseFor(ctx, env, true)
			if err != nil {
				return err
			}
			defer wh.Close()
			abandonStopped(ctx, env, wh)
			if err := wh.Refresh(ctx); err != nil {
				return err
			}
			// The demo's kept token, as run takes it up (without configured tokens).
			if _, err := setupDemoToken(env, false); err != nil {
				return err
			}
			srv, err := newAPI(wh, env)
			if err != nil {
				return err
			}
			reports, err := startReports(ctx, env, wh, srv)
			if err != nil {
				return err
			}
			defer stopReports(reports)
			return serveHTTP(ctx, env, srv.Handler(), nil)
		},
	})
}

func openWarehouse(ctx context.Context, env *cmdEnv) (*warehouse.Warehouse, error) {
	return openWarehouseFor(ctx, env, false)
}

// openWarehouseFor opens the warehouse; a server (serving) also keeps the in-memory
// list index unless --no-list-index.
func openWarehouseFor(ctx context.Context, env *cmdEnv, serving bool) (*warehouse.Warehouse, error) {
	s := &env.settings
	if err := s.EnsureLayout(); err != nil {
		return nil, err
	}
	return warehouse.Open(ctx, warehouse.Options{
		Dir: s.WarehouseDir(), LakeDir: s.LakeDir(), Threads: s.Threads, MemoryLimit: s.MemoryLimit,
		CheckpointThreshold: s.CheckpointThreshold, Logger: env.log, ListIndex: serving && !s.NoListIndex,
	})
}

// abandonStopped marks the job runs a stopped process left RUNNING as FAILED: holding the
// warehouse, this process is its only user, so none of them still runs.
func abandonStopped(ctx context.Context, env *cmdEnv, wh *warehouse.Warehouse) {
	if n, err := wh.AbandonRuns(ctx, time.Now()); err == nil && n > 0 {
		env.log.Warn("runs left RUNNING by a stopped process marked FAILED", "runs", n)
	}
}

func newAPI(wh *warehouse.Warehouse, env *cmdEnv) (*api.Server, error) {
	s := &env.settings
	tokens, err := config.ParseTokens(s.AuthTokens)
	if err != nil { // validated at load; never served with none
		return nil, fmt.Errorf("auth-tokens: %w", err)
	}
	// The demo token (setupDemoToken) opens the demo organizations; alone, with no
	// token configured, it is the demo's operator token too (/admin/jobs).
	demo := env.demoTokens
	if len(tokens) == 0 {
		tokens, demo = demo, nil
	}
	origins, err := config.ParseOrigins(s.CORSOrigins)
	if err != nil {
		return nil, fmt.Errorf("cors-origins: %w", err)
	}
	metrics := api.NewMetrics()
	metrics.DirSize("dashboard_lake_bytes", "Size of the Parquet lake on disk.", func() int64 { return dirSize(s.LakeDir()) })
	metrics.DirSize("dashboard_warehouse_bytes", "Size of the DuckDB warehouse on disk.", func() int64 { return dirSize(s.WarehouseDir()) })
	env.metrics = metrics
	return api.New(wh, api.Config{
		MaxRangeDays: s.MaxRangeDays, MaxPageSize: s.MaxPageSize, MaxSample: s.MaxSample,
		RequestTimeout: s.RequestTimeout, MaxHeavy: s.MaxHeavy, Tokens: tokens, NoAuth: s.NoAuth,
		CORSOrigins: origins, DemoTokens: demo,
		Metrics: metrics, MetricsElsewhere: s.MetricsAddr != "",
	}, env.log), nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// startReports starts the report workers (unfinished reports of a previous process
// run again) and connects them to the API.
func startReports(ctx context.Context, env *cmdEnv, wh *warehouse.Warehouse, srv *api.Server) (*jobs.ReportQueue, error) {
	q := jobs.NewReportQueue(wh, env.settings.ReportsDir(), env.settings.ReportWorkers, env.log, nil)
	if m := env.metrics; m != nil {
		q.OnFinish = func(r *warehouse.Report, status string, took time.Duration) {
			m.ReportDuration.WithLabelValues(r.Spec.Kind, r.Spec.Export, status).Observe(took.Seconds())
		}
	}
	if err := q.Start(ctx); err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, q.Pause) // SIGTERM: no report starts while requests drain
	srv.SetReports(q)
	return q, nil
}

func stopReports(q *jobs.ReportQueue) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q.Stop(ctx)
}

// checkAddr binds the API's address (and the metrics address) and lets them go again,
// before any data is touched: a port in use fails the start at once, not after the first
// load, and a client that connects during the start is refused (not left waiting) until
// the API serves.
func checkAddr(env *cmdEnv) error {
	s := &env.settings
	for _, a := range []struct{ name, addr string }{{"addr", s.Addr}, {"metrics-addr", s.MetricsAddr}} {
		if a.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", a.addr)
		if err != nil {
			return fmt.Errorf("%s: %w", a.name, err)
		}
		ln.Close()
	}
	return nil
}

// serveHTTP serves until ctx ends (SIGTERM), then drains in-flight requests.
func serveHTTP(ctx context.Context, env *cmdEnv, h http.Handler, ready func(addr string)) error {
	s := &env.settings
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("addr: %w", err)
	}
	var mln net.Listener
	if s.MetricsAddr != "" && env.metrics != nil {
		if mln, err = net.Listen("tcp", s.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("metrics-addr: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.RequestTimeout + 30*time.Second,
		IdleTimeout:       120 * time.Second,
		// As net/http's default: a request line of ~28,000 channel UUIDs still reaches
		// the router (and its JSON errors); past about 1 MB the server answers a plain 431.
		MaxHeaderBytes: http.DefaultMaxHeaderBytes,
	}
	env.log.Info("api listening", "addr", ln.Addr().String(), "auth", !s.NoAuth)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if mln != nil {
		msrv := &http.Server{Handler: env.metrics.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { errc <- msrv.Serve(mln) }()
		defer msrv.Close()
		env.log.Info("metrics listening", "addr", mln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	env.log.Info("shutting down: draining requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
