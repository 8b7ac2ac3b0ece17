package jobs

import (
	"context"
	"fmt"
	"log/slog"

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
			Duplicates: run.Duplicates, Quarantined: run.Quarantined, Detail: run.Summary()}
	}
	if err != nil {
		return out, err
	}
	res, err := wh.Rollup(ctx, o)
	out.Detail += "; " + res.String()
	return out, err
}

// Incremental is the frequent job: load what landed and roll up the days it touched.
func Incremental(spec string, eo etl.Options, wh *warehouse.Warehouse) Job {
	return Job{Name: "incremental", Spec: spec, Run: func(ctx context.Context) (Outcome, error) {
		return ExtractAndRollup(ctx, eo, wh, warehouse.RollupOptions{})
	}}
}

// Nightly compacts the lake and rolls every day up again.
func Nightly(spec string, eo etl.Options, memoryLimit string, wh *warehouse.Warehouse, log *slog.Logger) Job {
	return Job{Name: "nightly", Spec: spec, Run: func(ctx context.Context) (Outcome, error) {
		c, err := etl.Compact(ctx, eo.LakeDir, memoryLimit, log)
		if err != nil {
			return Outcome{}, err
		}
		out, err := ExtractAndRollup(ctx, eo, wh, warehouse.RollupOptions{Full: true})
		out.Detail = fmt.Sprintf("compacted %d partitions (%d files); %s", c.Partitions, c.FilesIn, out.Detail)
		return out, err
	}}
}
