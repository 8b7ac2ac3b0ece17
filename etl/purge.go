package etl

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// TenantFilter selects an organization, or one of its environments, or one bot.
type TenantFilter struct{ Org, Env, Bot string }

// SQL is the filter as a WHERE condition with its arguments.
func (t TenantFilter) SQL() (string, []any) {
	cond, args := "org_uuid = ?", []any{t.Org}
	if t.Env != "" {
		cond, args = cond+" AND env_uuid = ?", append(args, t.Env)
	}
	if t.Bot != "" {
		cond, args = cond+" AND bot_uuid = ?", append(args, t.Bot)
	}
	return cond, args
}

// PurgeResult says what a purge removed from the lake and the quarantine.
type PurgeResult struct {
	Messages, Conversations, Channels int64
	Partitions                        int
	QuarantineLines                   int64
}

// Purge removes a tenant's rows from the lake (each partition rewritten and swapped in
// atomically) and its lines from the quarantine. It holds the lake's writer lock.
func Purge(ctx context.Context, lakeRoot, quarantineDir string, t TenantFilter, memoryLimit string) (PurgeResult, error) {
	var res PurgeResult
	lake := newLake(lakeRoot)
	db, done, err := lake.openRewrite(ctx, memoryLimit)
	if err != nil {
		return res, err
	}
	defer done()
	runID := "purge-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	cond, args := t.SQL()
	for _, ds := range []string{MessagesDir, ConversationsDir} {
		parts, err := os.ReadDir(lake.path(ds))
		if err != nil && !os.IsNotExist(err) {
			return res, err
		}
		for _, p := range parts {
			if !p.IsDir() || !strings.HasPrefix(p.Name(), "date=") {
				continue
			}
			files, err := parquetFiles(lake.path(ds, p.Name()))
			if err != nil || len(files) == 0 {
				if err != nil {
					return res, err
				}
				continue
			}
			var n int64
			if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+duck.LiteralList(files)+", union_by_name=true) WHERE "+cond, args...).Scan(&n); err != nil {
				return res, fmt.Errorf("purge %s/%s: %w", ds, p.Name(), err)
			}
			if n == 0 {
				continue
			}
			stage := lake.path(stagingDir, runID, ds, p.Name())
			if err := os.MkdirAll(stage, 0o755); err != nil {
				return res, err
			}
			var left int64
			if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+duck.LiteralList(files)+", union_by_name=true) WHERE NOT ("+cond+")", args...).Scan(&left); err != nil {
				return res, err
			}
			if left > 0 {
				q := "COPY (SELECT COLUMNS(c -> c <> 'date') FROM read_parquet(" + duck.LiteralList(files) + ", hive_partitioning=false, union_by_name=true) WHERE NOT (" + cond + ")) TO " +
					duck.Literal(filepath.Join(stage, "part-"+runID+".parquet")) + " (FORMAT parquet, COMPRESSION zstd)"
				if _, err := db.SQL.ExecContext(ctx, q, args...); err != nil {
					return res, fmt.Errorf("purge %s/%s: %w", ds, p.Name(), err)
				}
			} else if err := os.Remove(stage); err != nil {
				return res, err
			}
			day := strings.TrimPrefix(p.Name(), "date=")
			if _, err := publish([]string{day}, filepath.Dir(stage), "", lake.path(ds), lake.path(stagingDir, runID, "old")); err != nil {
				return res, err
			}
			res.Partitions++
			if ds == MessagesDir {
				res.Messages += n
			} else {
				res.Conversations += n
			}
		}
	}
	chans, err := parquetFiles(lake.path(ChannelsDir))
	if err != nil {
		return res, err
	}
	if len(chans) > 0 {
		var n int64
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM read_parquet("+duck.LiteralList(chans)+", union_by_name=true) WHERE "+cond, args...).Scan(&n); err != nil {
			return res, err
		}
		if n > 0 {
			tmp := lake.path(stagingDir, runID, ChannelsFile)
			if err := os.MkdirAll(filepath.Dir(tmp), 0o755); err != nil {
				return res, err
			}
			q := "COPY (SELECT * FROM read_parquet(" + duck.LiteralList(chans) + ", union_by_name=true) WHERE NOT (" + cond + ")) TO " + duck.Literal(tmp) + " (FORMAT parquet, COMPRESSION zstd)"
			if _, err := db.SQL.ExecContext(ctx, q, args...); err != nil {
				return res, err
			}
			if err := syncTree(filepath.Dir(tmp)); err != nil {
				return res, err
			}
			if err := os.Rename(tmp, lake.path(ChannelsDir, ChannelsFile)); err != nil {
				return res, err
			}
			res.Channels = n
		}
	}
	if res.QuarantineLines, err = purgeQuarantine(quarantineDir, t); err != nil {
		return res, err
	}
	return res, os.RemoveAll(lake.path(stagingDir, runID))
}

// purgeQuarantine drops the quarantined lines that name the tenant's UUIDs.
func purgeQuarantine(dir string, t TenantFilter) (int64, error) {
	var removed int64
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".ndjson") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		var keep []byte
		n := int64(0)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<30)
		for sc.Scan() {
			var e QuarantineEntry
			line := sc.Bytes()
			if json.Unmarshal(line, &e) == nil && mentions(e.Raw, t) {
				n++
				continue
			}
			keep = append(append(keep, line...), '\n')
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		removed += n
		if len(keep) == 0 {
			return os.Remove(path)
		}
		return writeFileAtomic(path, keep)
	})
	return removed, err
}

func mentions(raw string, t TenantFilter) bool {
	raw = strings.ToLower(raw)
	for _, id := range []string{t.Org, t.Env, t.Bot} {
		if id != "" && !strings.Contains(raw, id) {
			return false
		}
	}
	return true
}
