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
	return etl.Options{
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
