package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dashboard-analytics/dashboard/etl"
)

func init() {
	register("extract", command{
		summary: "landing → lake once, then exit (bad lines are quarantined, not a failure)",
		run: func(ctx context.Context, env *cmdEnv) error {
			s := &env.settings
			if err := s.EnsureLayout(); err != nil {
				return err
			}
			run, err := runExtract(ctx, env)
			if run != nil {
				fmt.Fprintln(env.stdout, run.Summary())
			}
			return err
		},
	})
}

func runExtract(ctx context.Context, env *cmdEnv) (*etl.Run, error) {
	return etl.Extract(ctx, extractOptions(env))
}

func extractOptions(env *cmdEnv) etl.Options {
	s := &env.settings
	// The validated records a run holds take at most a quarter of the memory limit (the
	// rest is DuckDB's, the Arrow builders' and the Parquet writers'); 1 GiB without one.
	var held int64
	if n, ok := s.MemoryBytes(); ok {
		held = max(n/4, 1)
	}
	return etl.Options{
		HeldBytes:     held,
		LandingDir:    s.LandingDir(),
		LakeDir:       s.LakeDir(),
		QuarantineDir: s.QuarantineDir(),
		Workers:       s.Workers,
		MemoryLimit:   s.MemoryLimit,
		Logger:        env.log,
		ProgressEvery: 5 * time.Second,
		Progress: func(p etl.Progress) {
			env.log.Info("extract progress", "files_done", p.FilesDone, "files", p.Files, "lines", p.Lines,
				"lines_per_s", int64(float64(p.Lines)/p.Took.Seconds()))
		},
	}
}
