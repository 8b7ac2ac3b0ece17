package warehouse

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/duck"
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
	// Unchanged: nothing to roll up (no partition and no channel file changed since the
	// last rollup): no new generation, so the snapshot and the cached answers stay.
	Unchanged bool
	Took      time.Duration
	// Where the time went: the summary tables, the fact tables, the commit (DuckDB
	// writes the changes to its WAL, and checkpoints when the WAL has outgrown the
	// checkpoint threshold) and, after a full or bulk rollup, the checkpoint that writes
	// them into the database file.
	Summaries, Facts, Commit, Checkpoint time.Duration
}

func (r RollupResult) String() string {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	if r.Unchanged {
		return fmt.Sprintf("rollup: nothing changed in the lake since generation %d took=%s", r.Generation, ms(r.Took))
	}
	ckpt := ""
	if r.Checkpoint > 0 {
		ckpt = " checkpoint=" + ms(r.Checkpoint).String()
	}
	return fmt.Sprintf("rollup: message_days=%d conversation_days=%d generation=%d took=%s (summaries=%s facts=%s commit=%s%s)",
		r.MessageDays, r.ConversationDays, r.Generation, ms(r.Took), ms(r.Summaries), ms(r.Facts), ms(r.Commit), ckpt)
}

type partition struct {
	day         string // YYYY-MM-DD
	files       []string
	fingerprint string
}

// catalogDay is the day under which rolled_partitions keeps the channel files'
// fingerprint (the catalog has no day).
const catalogDay = "0001-01-01"

// parquetFiles lists the Parquet files of dir (none when it does not exist) with their
// fingerprint (names, sizes and modification times): a rewritten or added file changes it.
func parquetFiles(dir string) (files []string, fingerprint string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, "", err
	}
	h := sha256.New()
	for _, f := range entries {
		if f.IsDir() || !strings.HasSuffix(f.Name(), ".parquet") {
			continue
		}
		info, err := f.Info()
		if err != nil {
			return nil, "", err
		}
		files = append(files, filepath.Join(dir, f.Name()))
		fmt.Fprintf(h, "%s:%d:%d\n", f.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return files, hex.EncodeToString(h.Sum(nil))[:32], nil
}

// lakePartitions lists a dataset's day partitions with their files and fingerprints.
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
		files, fp, err := parquetFiles(filepath.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			continue
		}
		out[day] = partition{day: day, files: files, fingerprint: fp}
	}
	return out, nil
}

// Rollup replaces the summary rows of the touched (or given) days in one transaction.
// Running it twice gives the same tables.
func (w *Warehouse) Rollup(ctx context.Context, o RollupOptions) (RollupResult, error) {
	start := time.Now()
	var res RollupResult
	touched := map[string][]string{}
	var bodyDone time.Time
	var bulk bool
	err := w.db.Tx(ctx, func(tx *sql.Tx) error {
		defer func() { bodyDone = time.Now() }()
		rolled := map[string]map[string]string{"messages": {}, "conversations": {}, "channels": {}}
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
		touchedDays := touched
		allParts := map[string]map[string]partition{}
		for _, ds := range []string{"messages", "conversations"} {
			parts, err := lakePartitions(filepath.Join(w.opts.LakeDir, ds))
			if err != nil {
				return fmt.Errorf("list %s partitions: %w", ds, err)
			}
			allParts[ds] = parts
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
				gone, err := scanStrings(ctx, tx, "SELECT DISTINCT strftime(day, '%Y-%m-%d') FROM "+ds)
				if err != nil {
					return err
				}
				for _, d := range gone {
					touched[d] = true
				}
			}
			for d := range touched {
				touchedDays[ds] = append(touchedDays[ds], d)
			}
			sort.Strings(touchedDays[ds])
		}
		res.MessageDays, res.ConversationDays = len(touchedDays["messages"]), len(touchedDays["conversations"])
		chanFiles, chanFP, err := parquetFiles(filepath.Join(w.opts.LakeDir, "channels"))
		if err != nil {
			return fmt.Errorf("channel files: %w", err)
		}
		if res.MessageDays+res.ConversationDays == 0 && chanFP == rolled["channels"][catalogDay] {
			res.Unchanged = true
			return tx.QueryRowContext(ctx, "SELECT generation FROM rollup_generation").Scan(&res.Generation)
		}
		// A large backfill (bulk) reads every day anyway: it skips the narrow lookups of
		// the days to read.
		bulk = res.MessageDays+res.ConversationDays > 2*bulkDays
		// The summaries: one pass over every touched day (narrow columns, aggregated
		// as they stream).
		t0 := time.Now()
		if err := w.fillTouched(ctx, tx, touchedDays, nil); err != nil {
			return err
		}
		files := map[string][]string{}
		for ds, days := range touchedDays {
			for _, d := range days {
				files[ds] = append(files[ds], allParts[ds][d].files...)
			}
		}
		for _, name := range []string{"rollup_messages.sql", "rollup_conversations.sql"} {
			if err := w.runScript(ctx, tx, name, files, bulk); err != nil {
				return err
			}
		}
		res.Summaries = time.Since(t0)
		t0 = time.Now()
		defer func() { res.Facts = time.Since(t0) }()
		// The facts go in chunks of days: every statement's memory is bounded by a
		// chunk, whatever the size of the backfill, and row groups stay sorted by tenant
		// and time.
		union := map[string]bool{}
		for _, days := range touchedDays {
			for _, d := range days {
				union[d] = true
			}
		}
		var all []string
		for d := range union {
			all = append(all, d)
		}
		sort.Strings(all)
		for len(all) > 0 {
			n := min(len(all), rollupChunkDays)
			chunk := map[string]bool{}
			for _, d := range all[:n] {
				chunk[d] = true
			}
			all = all[n:]
			if err := w.fillTouched(ctx, tx, touchedDays, chunk); err != nil {
				return err
			}
			files := map[string][]string{}
			for ds, days := range touchedDays {
				for _, d := range days {
					if chunk[d] {
						files[ds] = append(files[ds], allParts[ds][d].files...)
					}
				}
			}
			if err := w.runScript(ctx, tx, "rollup_facts.sql", files, bulk); err != nil {
				return err
			}
		}
		for ds, days := range touchedDays {
			for _, d := range days {
				if _, err := tx.ExecContext(ctx, "DELETE FROM rolled_partitions WHERE dataset = ? AND day = CAST(? AS DATE)", ds, d); err != nil {
					return err
				}
				if p, ok := allParts[ds][d]; ok {
					if _, err := tx.ExecContext(ctx, "INSERT INTO rolled_partitions VALUES (?, CAST(? AS DATE), ?, ?)", ds, d, p.fingerprint, w.opts.Now().UTC()); err != nil {
						return err
					}
				}
			}
		}
		if err := w.runScript(ctx, tx, "rollup_channels.sql", map[string][]string{"channels": chanFiles}, false); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM rolled_partitions WHERE dataset = 'channels'"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO rolled_partitions VALUES ('channels', CAST(? AS DATE), ?, ?)", catalogDay, chanFP, w.opts.Now().UTC()); err != nil {
			return err
		}
		// Something changed (a partition or the catalog): a new generation.
		if _, err := tx.ExecContext(ctx, "UPDATE rollup_generation SET generation = generation + 1"); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT generation FROM rollup_generation").Scan(&res.Generation)
	})
	if err != nil {
		return res, err
	}
	res.Commit = time.Since(bodyDone)
	if res.Unchanged {
		res.Took = time.Since(start)
		return res, nil
	}
	// A full or bulk rollup rewrote much of the warehouse: into the database file now,
	// so that the WAL (which the incremental rollups leave to grow up to the checkpoint
	// threshold) starts again from nothing and a restart has little to replay.
	if bulk || o.Full {
		t0 := time.Now()
		if err := w.checkpoint(ctx); err != nil {
			// The rollup is committed (in the WAL): the next checkpoint writes it.
			w.log.Warn("checkpoint after a full rollup failed; the WAL keeps the changes", "err", err)
		} else {
			res.Checkpoint = time.Since(t0)
		}
	}
	res.Took = time.Since(start)
	w.committed.Store(res.Generation)
	var days []string
	seen := map[string]bool{}
	for _, list := range touched {
		for _, d := range list {
			if !seen[d] {
				seen[d] = true
				days = append(days, d)
			}
		}
	}
	if o.Full {
		days = nil
	}
	if !w.loaded() {
		return res, nil // nothing serves from this process yet (the rollup command)
	}
	if err := w.refresh(ctx, days); err != nil {
		return res, fmt.Errorf("refresh snapshot after rollup: %w", err)
	}
	return res, nil
}

// checkpointWait is how long checkpoint tries.
const checkpointWait = 30 * time.Second

// checkpoint writes the WAL into the database file. A plain CHECKPOINT fails while any
// other transaction runs (an API read in DuckDB, a report, a health check: short ones),
// so it is tried again every 50 ms for up to checkpointWait; FORCE CHECKPOINT would
// instead hold every new transaction back until the running ones end.
func (w *Warehouse) checkpoint(ctx context.Context) error {
	deadline := time.Now().Add(checkpointWait)
	for {
		err := w.db.Write(ctx, func(ctx context.Context) error {
			_, err := w.db.SQL.ExecContext(ctx, "CHECKPOINT")
			return err
		})
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fillTouched sets touched_days to the touched days (those in only, when only is set).
func (w *Warehouse) fillTouched(ctx context.Context, tx *sql.Tx, touched map[string][]string, only map[string]bool) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM touched_days"); err != nil {
		return err
	}
	var vals []string
	var args []any
	for ds, days := range touched {
		for _, d := range days {
			if only == nil || only[d] {
				vals = append(vals, "(?, CAST(? AS DATE))")
				args = append(args, ds, d)
			}
		}
	}
	if len(vals) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO touched_days VALUES "+strings.Join(vals, ", "), args...)
	return err
}

// bulkDays: a rollup of more day partitions than twice this reads every day anyway
// and skips the narrow lookups of the days to read ("-- only: bulk" statements).
const bulkDays = 30

// rollupChunkDays is how many days one pass of the facts script handles. A rollup that
// is not bulk must be one chunk (rollup_facts.sql's incremental lookups rely on it).
const rollupChunkDays = 92

var _ = [rollupChunkDays - 2*bulkDays]struct{}{} // compile-time: rollupChunkDays >= 2*bulkDays

func scanStrings(ctx context.Context, tx *sql.Tx, q string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// runScript runs an embedded SQL script statement by statement. {{name}} becomes the
// file list of that dataset; a statement marked "-- needs: name" is skipped when the
// dataset has no files; a statement marked "-- only: bulk" runs only when bulk is set,
// one marked "-- only: incremental" only when it is not; {{fold:expr}} becomes the
// folding expression of expr and {{bucket:expr}} its summary bucket (expandMacros).
func (w *Warehouse) runScript(ctx context.Context, tx *sql.Tx, name string, files map[string][]string, bulk bool) error {
	body, err := sqlFiles.ReadFile("sql/" + name)
	if err != nil {
		return err
	}
	for _, stmt := range splitStatements(string(body)) {
		skip := false
		for ds, list := range files {
			if strings.Contains(stmt, "-- needs: "+ds) && len(list) == 0 {
				skip = true
			}
			stmt = strings.ReplaceAll(stmt, "{{"+ds+"}}", duck.LiteralList(list))
		}
		for _, ds := range []string{"messages", "conversations", "channels"} {
			if strings.Contains(stmt, "-- needs: "+ds) && len(files[ds]) == 0 {
				skip = true
			}
		}
		if strings.Contains(stmt, "-- only: bulk") && !bulk || strings.Contains(stmt, "-- only: incremental") && bulk {
			skip = true
		}
		if skip {
			continue
		}
		stmt = expandMacros(stmt)
		t0 := time.Now()
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w\nin: %s", name, err, firstLine(stmt))
		}
		w.log.Debug("rollup statement", "script", name, "took", time.Since(t0).Round(time.Millisecond), "sql", firstLine(stmt))
	}
	return nil
}

func splitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		cur.WriteString(line)
		if strings.HasSuffix(strings.TrimSpace(line), ";") && !strings.HasPrefix(strings.TrimSpace(line), "--") {
			if st := strings.TrimSpace(cur.String()); st != "" {
				out = append(out, st)
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" && !onlyComments(st) {
		out = append(out, st)
	}
	return out
}

func onlyComments(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}

// bucketMicros is the summaries' bucket: 15 minutes (every real time-zone offset is a
// multiple of 15 minutes).
const bucketMicros = 15 * 60 * 1_000_000

// floorMicros is the SQL of a TIMESTAMPTZ column's microseconds since the epoch, floored
// to a multiple of unit (DuckDB's // and % truncate toward zero, hence the + unit for
// times before 1970). Integer arithmetic: a CAST of a TIMESTAMPTZ to TIMESTAMP and
// date_trunc on one go through ICU for every row. expr appears twice, so it must not
// be a placeholder.
func floorMicros(expr string, unit int64) string {
	us := "epoch_us(" + expr + ")"
	return fmt.Sprintf("(%s - (%s %% %d + %d) %% %d)", us, us, unit, unit, unit)
}

// bucketSQL is the summaries' bucket of a TIMESTAMPTZ column: the TIMESTAMP at the
// start of its 15-minute UTC bucket. It equals time_bucket(INTERVAL 15 MINUTE, CAST(x
// AS TIMESTAMP)) (TestFloorMicros), but that cast goes through ICU for every row: on
// the 10M-message year the traffic summary took 3.0-3.2 s with it and 0.8-1.0 s without
// (the aggregate alone, back to back), the full rollup's summaries 12.3 s and 6.8 s.
func bucketSQL(expr string) string {
	return "make_timestamp(" + floorMicros(expr, bucketMicros) + ")"
}

// expandMacros replaces {{fold:expr}} and {{bucket:expr}} by their SQL.
func expandMacros(stmt string) string {
	for _, m := range []struct {
		open string
		sql  func(string) string
	}{{"{{fold:", foldColumn}, {"{{bucket:", bucketSQL}} {
		for {
			i := strings.Index(stmt, m.open)
			if i < 0 {
				break
			}
			j := strings.Index(stmt[i:], "}}")
			stmt = stmt[:i] + m.sql(stmt[i+len(m.open):i+j]) + stmt[i+j+2:]
		}
	}
	return stmt
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
			return l
		}
	}
	return s
}
