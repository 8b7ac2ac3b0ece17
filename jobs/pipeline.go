package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

// ExtractAndRollup extracts what landed, then rolls up the touched days (or all, with
// o.Full). Its outcome is the extract's counts.
func ExtractAndRollup(ctx context.Context, eo etl.Options, wh *warehouse.Warehouse, o warehouse.RollupOptions) (Outcome, error) {
	run, err := etl.Extract(ctx, eo)
	var out Outcome
	if run != nil {
		out = Outcome{RowsIn: run.Lines, Loaded: run.Loaded.Messages + run.Loaded.Conversations + run.Loaded.Channels,
			Duplicates: run.Duplicates, Superseded: run.Superseded, Quarantined: run.Quarantined, Detail: run.Summary()}
	}
	// Files the system would not let the extract read fail the run (and are read again
	// by the next), but what it did load is rolled up all the same: one unreadable file
	// must not hold back everyone's numbers.
	var unread *etl.UnreadError
	if err != nil && !errors.As(err, &unread) {
		return out, err
	}
	res, rerr := wh.Rollup(ctx, o)
	out.Detail += "; " + res.String()
	return out, errors.Join(err, rerr)
}

// Incremental is the frequent job: load what landed and roll up the days it touched.
func Incremental(spec string, eo etl.Options, wh *warehouse.Warehouse) Job {
	return Job{Name: "incremental", Spec: spec, Lake: true, Run: func(ctx context.Context) (Outcome, error) {
		return ExtractAndRollup(ctx, eo, wh, warehouse.RollupOptions{})
	}}
}

// Retention is how long each kind of data is kept (days; 0 = forever).
type Retention struct{ LakeDays, QuarantineDays int }

// Nightly applies the retention, compacts the lake and rolls every day up again (days
// the retention removed leave the summaries and facts too).
func Nightly(spec string, eo etl.Options, memoryLimit string, ret Retention, wh *warehouse.Warehouse, log *slog.Logger, now func() time.Time) Job {
	if now == nil {
		now = time.Now
	}
	return Job{Name: "nightly", Spec: spec, Lake: true, Run: func(ctx context.Context) (Outcome, error) {
		r, err := etl.ApplyRetention(eo.LakeDir, eo.QuarantineDir, now(), ret.LakeDays, ret.QuarantineDays)
		if err != nil {
			return Outcome{}, err
		}
		c, err := etl.Compact(ctx, eo.LakeDir, memoryLimit, log)
		if err != nil {
			return Outcome{}, err
		}
		out, err := ExtractAndRollup(ctx, eo, wh, warehouse.RollupOptions{Full: true})
		out.Detail = fmt.Sprintf("retention removed %d partitions and %d quarantine files; compacted %d partitions (%d files); %s",
			r.Partitions, r.QuarantineFiles, c.Partitions, c.FilesIn, out.Detail)
		return out, err
	}}
}
