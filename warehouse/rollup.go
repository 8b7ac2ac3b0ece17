package warehouse

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// RollupOptions choose the days to roll up.
type RollupOptions struct {
	// From and To (inclusive, UTC days) force those days to be rolled up again; zero
	// values mean "the days touched since the last rollup".
	From, To time.Time
	// Full rolls up every day of the lake.
	Full bool
}

// RollupResult says what a rollup did.
type RollupResult struct {
	MessageDays      int
	ConversationDays int
	Generation       int64
	Took             time.Duration
}

func (r RollupResult) String() string {
	return fmt.Sprintf("rollup: message_days=%d conversation_days=%d generation=%d took=%s",
		r.MessageDays, r.ConversationDays, r.Generation, r.Took.Round(time.Millisecond))
}

type partition struct {
	day         string // YYYY-MM-DD
	files       []string
	fingerprint string
}

// lakePartitions lists a dataset's day partitions and their fingerprints (file names,
// sizes and modification times): a rewritten or appended partition changes it.
func lakePartitions(root string) (map[string]partition, error) {
	out := map[string]partition{}
	entries, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		day, ok := strings.CutPrefix(e.Name(), "date=")
		if !e.IsDir() || !ok || len(day) != 10 {
			continue
		}
		dir := filepath.Join(root, e.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		p := partition{day: day}
		for _, f := range files {
			if f.IsDir() || !strings.HasSuffix(f.Name(), ".parquet") {
				continue
			}
			info, err := f.Info()
			if err != nil {
				return nil, err
			}
			p.files = append(p.files, filepath.Join(dir, f.Name()))
			fmt.Fprintf(h, "%s:%d:%d\n", f.Name(), info.Size(), info.ModTime().UnixNano())
		}
		if len(p.files) == 0 {
			continue
		}
		p.fingerprint = hex.EncodeToString(h.Sum(nil))[:32]
		out[day] = p
	}
	return out, nil
}

// Rollup replaces the summary rows of the touched (or given) days in one transaction.
// Running it twice gives the same tables.
func (w *Warehouse) Rollup(ctx context.Context, o RollupOptions) (RollupResult, error) {
	start := time.Now()
	var res RollupResult
	err := w.db.Tx(ctx, func(tx *sql.Tx) error {
		rolled := map[string]map[string]string{"messages": {}, "conversations": {}}
		rows, err := tx.QueryContext(ctx, "SELECT dataset, strftime(day, '%Y-%m-%d'), fingerprint FROM rolled_partitions")
		if err != nil {
			return err
		}
		for rows.Next() {
			var ds, day, fp string
			if err := rows.Scan(&ds, &day, &fp); err != nil {
				rows.Close()
				return err
			}
			if rolled[ds] != nil {
				rolled[ds][day] = fp
			}
		}
		rows.Close()
		if _, err := tx.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE touched_days (dataset VARCHAR, day DATE)"); err != nil {
			return err
		}
		changed := false
		for _, ds := range []string{"messages", "conversations"} {
			parts, err := lakePartitions(filepath.Join(w.opts.LakeDir, ds))
			if err != nil {
				return fmt.Errorf("list %s partitions: %w", ds, err)
			}
			touched := map[string]bool{}
			for day, p := range parts {
				forced := o.Full || (!o.From.IsZero() && day >= o.From.Format("2006-01-02") && day <= o.To.Format("2006-01-02"))
				if forced || rolled[ds][day] != p.fingerprint {
					touched[day] = true
				}
			}
			for day := range rolled[ds] {
				if _, ok := parts[day]; !ok {
					touched[day] = true // the partition is gone
				}
			}
			if o.Full {
				// Rows of days the lake no longer has.
				if _, err := tx.ExecContext(ctx, "INSERT INTO touched_days SELECT DISTINCT ?, CAST(bucket AS DATE) FROM "+
					map[string]string{"messages": "message_traffic", "conversations": "conversation_traffic"}[ds], ds); err != nil {
					return err
				}
			}
			days := make([]string, 0, len(touched))
			for d := range touched {
				days = append(days, d)
			}
			sort.Strings(days)
			var files []string
			for _, d := range days {
				if _, err := tx.ExecContext(ctx, "INSERT INTO touched_days VALUES (?, CAST(? AS DATE))", ds, d); err != nil {
					return err
				}
				files = append(files, parts[d].files...)
			}
			if len(days) == 0 && !o.Full {
				continue
			}
			changed = true
			if ds == "messages" {
				res.MessageDays = len(days)
			} else {
				res.ConversationDays = len(days)
			}
			del, ins := script("rollup_" + ds + ".sql")
			if _, err := tx.ExecContext(ctx, del); err != nil {
				return fmt.Errorf("rollup %s: %w", ds, err)
			}
			if len(files) > 0 {
				if _, err := tx.ExecContext(ctx, strings.ReplaceAll(ins, "{{"+ds+"}}", fileList(files))); err != nil {
					return fmt.Errorf("rollup %s: %w", ds, err)
				}
			}
			for _, d := range days {
				if _, err := tx.ExecContext(ctx, "DELETE FROM rolled_partitions WHERE dataset = ? AND day = CAST(? AS DATE)", ds, d); err != nil {
					return err
				}
				if p, ok := parts[d]; ok {
					if _, err := tx.ExecContext(ctx, "INSERT INTO rolled_partitions VALUES (?, CAST(? AS DATE), ?, ?)", ds, d, p.fingerprint, w.opts.Now().UTC()); err != nil {
						return err
					}
				}
			}
		}
		chanFiles, _ := filepath.Glob(filepath.Join(w.opts.LakeDir, "channels", "*.parquet"))
		del, ins := script("rollup_channels.sql")
		if _, err := tx.ExecContext(ctx, del); err != nil {
			return fmt.Errorf("rollup channels: %w", err)
		}
		if len(chanFiles) > 0 {
			if _, err := tx.ExecContext(ctx, strings.ReplaceAll(ins, "{{channels}}", fileList(chanFiles))); err != nil {
				return fmt.Errorf("rollup channels: %w", err)
			}
		}
		// The catalog may change without any partition: always a new generation.
		_ = changed
		if _, err := tx.ExecContext(ctx, "UPDATE rollup_generation SET generation = generation + 1"); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT generation FROM rollup_generation").Scan(&res.Generation)
	})
	if err != nil {
		return res, err
	}
	res.Took = time.Since(start)
	if err := w.Refresh(ctx); err != nil {
		return res, fmt.Errorf("refresh snapshot after rollup: %w", err)
	}
	return res, nil
}
