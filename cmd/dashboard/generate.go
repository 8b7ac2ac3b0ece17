package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/dashboard-analytics/dashboard/etl/generate"
)

func init() {
	register("generate", command{
		summary: "write realistic demo logs into landing/ (size and seed are flags)",
		flags: func(fs *flag.FlagSet, env *cmdEnv) {
			env.extra["seed"] = fs.Int64("seed", 42, "random seed: the same seed writes the same files")
			env.extra["messages"] = fs.Int("messages", 100000, "messages to write")
			env.extra["days"] = fs.Int("days", 90, "UTC days covered")
			env.extra["start"] = fs.String("start", "", "first day (yyyy-MM-dd); default: the last --days days ending today")
			env.extra["bad"] = fs.Float64("bad-lines-rate", 0.001, "share of extra bad lines mixed in")
			env.extra["gzip"] = fs.Bool("gzip", true, "write .ndjson.gz files")
		},
		run: func(ctx context.Context, env *cmdEnv) error {
			if err := env.settings.EnsureLayout(); err != nil {
				return err
			}
			o := generate.Options{
				Seed:         *env.extra["seed"].(*int64),
				Messages:     *env.extra["messages"].(*int),
				Days:         *env.extra["days"].(*int),
				BadLinesRate: *env.extra["bad"].(*float64),
				Gzip:         *env.extra["gzip"].(*bool),
				Workers:      env.settings.Workers,
			}
			if s := *env.extra["start"].(*string); s != "" {
				t, err := time.Parse("2006-01-02", s)
				if err != nil {
					return fmt.Errorf("--start: not a date (yyyy-MM-dd): %q", s)
				}
				o.Start = t
			}
			start := time.Now()
			st, err := generate.Generate(ctx, o, env.settings.LandingDir())
			if err != nil {
				return err
			}
			took := time.Since(start)
			fmt.Fprintf(env.stdout, "generate: files=%d lines=%d messages=%d conversations=%d updates=%d channels=%d duplicates=%d bad=%d bytes=%d took=%s (%.0f messages/s)\n",
				st.Files, st.Lines, st.Messages, st.Conversations, st.ConversationUpdates, st.Channels, st.Duplicates, st.BadLines, st.Bytes,
				took.Round(time.Millisecond), float64(st.Messages)/took.Seconds())
			return nil
		},
	})
}
