package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dashboard-analytics/dashboard/etl"
)

func init() {
	register("purge", command{
		summary: "remove a tenant (--org, optionally --env and --bot) from the lake, quarantine, warehouse and reports",
		flags: func(fs *flag.FlagSet, env *cmdEnv) {
			env.extra["org"] = fs.String("org", "", "organization UUID (required)")
			env.extra["env"] = fs.String("env", "", "environment UUID (optional)")
			env.extra["bot"] = fs.String("bot", "", "bot UUID (optional; needs --env)")
		},
		run: func(ctx context.Context, env *cmdEnv) error {
			t := etl.TenantFilter{Org: strings.ToLower(*env.extra["org"].(*string)), Env: strings.ToLower(*env.extra["env"].(*string)),
				Bot: strings.ToLower(*env.extra["bot"].(*string))}
			var u [36]byte
			switch {
			case !etl.ParseUUID([]byte(t.Org), &u):
				return errors.New("--org: a UUID is required")
			case t.Env != "" && !etl.ParseUUID([]byte(t.Env), &u):
				return errors.New("--env: not a UUID")
			case t.Bot != "" && (t.Env == "" || !etl.ParseUUID([]byte(t.Bot), &u)):
				return errors.New("--bot: a UUID, with --env")
			}
			s := &env.settings
			wh, err := openWarehouse(ctx, env) // first: fails fast if a server holds it
			if err != nil {
				return err
			}
			defer wh.Close()
			lr, err := etl.Purge(ctx, s.LakeDir(), s.QuarantineDir(), t, s.MemoryLimit)
			if err != nil {
				return err
			}
			wr, err := wh.Purge(ctx, t.Org, t.Env, t.Bot)
			if err != nil {
				return err
			}
			files := 0
			for _, r := range wr.Reports {
				if err := os.Remove(filepath.Join(s.ReportsDir(), r.ID+"."+r.Spec.Export)); err == nil {
					files++
				}
			}
			fmt.Fprintf(env.stdout, "purge %s/%s/%s: lake messages=%d conversations=%d channels=%d (partitions rewritten=%d); quarantine lines=%d; report files=%d\n",
				t.Org, orAll(t.Env), orAll(t.Bot), lr.Messages, lr.Conversations, lr.Channels, lr.Partitions, lr.QuarantineLines, files)
			names := make([]string, 0, len(wr.Rows))
			for k := range wr.Rows {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				fmt.Fprintf(env.stdout, "  warehouse %-22s %d rows\n", k, wr.Rows[k])
			}
			fmt.Fprintln(env.stdout, "landing/ files are the producer's and are left as they are; extract does not read a loaded file again unless it changes.")
			return nil
		},
	})
}

func orAll(s string) string {
	if s == "" {
		return "*"
	}
	return s
}
