package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// jobNames are the jobs that leave run records: run's schedules and the rollup command.
var jobNames = []string{"incremental", "nightly", "report-retention", "rollup"}

func init() {
	register("jobs", command{
		summary: "list job run records, newest first (the running service shows them at GET /admin/jobs)",
		flags: func(fs *flag.FlagSet, env *cmdEnv) {
			env.extra["job"] = fs.String("job", "", "only this job ("+strings.Join(jobNames, ", ")+")")
			env.extra["limit"] = fs.Int("limit", 20, "runs to list")
		},
		run: func(ctx context.Context, env *cmdEnv) error {
			if job := *env.extra["job"].(*string); job != "" && !slices.Contains(jobNames, job) {
				return fmt.Errorf("--job: no job %q (the jobs: %s)", job, strings.Join(jobNames, ", "))
			}
			wh, err := openWarehouse(ctx, env)
			if err != nil {
				return err
			}
			defer wh.Close()
			runs, err := wh.Runs(ctx, *env.extra["job"].(*string), *env.extra["limit"].(*int))
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tJOB\tTRIGGER\tSTARTED\tTOOK\tSTATUS\tROWS IN\tLOADED\tDUPLICATES\tSUPERSEDED\tQUARANTINED\tERROR")
			for _, r := range runs {
				took := "-"
				if r.Finished != nil {
					took = r.Finished.Sub(r.Started).Round(time.Millisecond).String()
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", r.ID, r.Job, r.Trigger,
					r.Started.Format(time.RFC3339), took, r.Status, r.RowsIn, r.Loaded, r.Duplicates, r.Superseded, r.Quarantined, r.Error)
			}
			return tw.Flush()
		},
	})
}
