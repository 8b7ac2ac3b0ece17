package etl

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// CompactResult says what a compaction did.
type CompactResult struct {
	Partitions int // partitions rewritten
	FilesIn    int
	Took       time.Duration
}

// Compact rewrites every partition that holds more than one file (the appends of
// incremental extracts) as one file sorted by tenant and time, zstd-compressed, and
// swaps it in atomically. It takes the lake's writer lock, so it never races an extract.
func Compact(ctx context.Context, lakeRoot, memoryLimit string, log *slog.Logger) (CompactResult, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	var res CompactResult
	lake := newLake(lakeRoot)
	db, done, err := lake.openRewrite(ctx, memoryLimit)
	if err != nil {
		return res, err
	}
	defer done()
	runID := "compact-" + start.UTC().Format("20060102T150405.000000000Z")
	for _, k := range []keyed{messagesMerge, conversationsMerge} {
		parts, err := os.ReadDir(lake.path(k.name))
		if err != nil {
			return res, err
		}
		for _, p := range parts {
			if !p.IsDir() {
				continue
			}
			dir := lake.path(k.name, p.Name())
			files, err := parquetFiles(dir)
			if err != nil {
				return res, err
			}
			if len(files) < 2 {
				continue
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			stage := lake.path(stagingDir, runID, k.name, p.Name())
			if err := os.MkdirAll(stage, 0o755); err != nil {
				return res, err
			}
			// The day is the directory, never a column of a file: read without Hive
			// partitioning, and drop the `date` that compactions before this one wrote.
			q := fmt.Sprintf(`COPY (SELECT COLUMNS(c -> c <> 'date') FROM read_parquet(%s, hive_partitioning=false, union_by_name=true) ORDER BY %s) TO %s (FORMAT parquet, COMPRESSION zstd)`,
				duck.LiteralList(files), k.sortBy, duck.Literal(filepath.Join(stage, "part-"+runID+".parquet")))
			if _, err := db.SQL.ExecContext(ctx, q); err != nil {
				return res, fmt.Errorf("compact %s/%s: %w", k.name, p.Name(), err)
			}
			day := p.Name()[len("date="):]
			if _, err := publish([]string{day}, filepath.Dir(stage), "", lake.path(k.name), lake.path(stagingDir, runID, "old")); err != nil {
				return res, fmt.Errorf("compact %s/%s: %w", k.name, p.Name(), err)
			}
			res.Partitions++
			res.FilesIn += len(files)
		}
	}
	res.Took = time.Since(start)
	log.Info("lake compacted", "partitions", res.Partitions, "files_in", res.FilesIn, "took", res.Took.Round(time.Millisecond))
	return res, os.RemoveAll(lake.path(stagingDir, runID))
}
