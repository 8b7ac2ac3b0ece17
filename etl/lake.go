package etl

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sys/unix"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// The lake's layout under its directory.
const (
	MessagesDir      = "messages"
	ConversationsDir = "conversations"
	ChannelsDir      = "channels"
	ChannelsFile     = "channels.parquet"
	stateDir         = "_etl"     // manifest, run records, lock, spill space
	stagingDir       = "_staging" // partitions being written; emptied at every start
)

type lakeDir struct{ root string }

func newLake(root string) *lakeDir { return &lakeDir{root: root} }

func (l *lakeDir) path(parts ...string) string {
	return filepath.Join(append([]string{l.root}, parts...)...)
}

func (l *lakeDir) tmpDir() string { return l.path(stateDir, "tmp") }

// lock takes the lake's writer lock (an flock on _etl/lock): one extract at a time.
func (l *lakeDir) lock() (func(), error) {
	if err := os.MkdirAll(l.path(stateDir), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(l.path(stateDir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lake %s is locked by another extract: %w", l.root, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// prepare creates the layout and removes what a killed run left in staging.
func (l *lakeDir) prepare() error {
	for _, d := range []string{MessagesDir, ConversationsDir, ChannelsDir, stateDir} {
		if err := os.MkdirAll(l.path(d), 0o755); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(l.path(stagingDir)); err != nil {
		return fmt.Errorf("clean staging: %w", err)
	}
	if err := os.RemoveAll(l.tmpDir()); err != nil {
		return fmt.Errorf("clean spill dir: %w", err)
	}
	// Stray *.tmp files of an interrupted atomic write.
	_ = filepath.WalkDir(l.root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tmp") {
			os.Remove(p)
		}
		return nil
	})
	return nil
}

// openRewrite takes the writer lock, clears what a killed writer left, and opens the
// DuckDB instance a partition rewrite (compaction, purge) works in; done releases both.
func (l *lakeDir) openRewrite(ctx context.Context, memoryLimit string) (*duck.DB, func(), error) {
	unlock, err := l.lock()
	if err != nil {
		return nil, nil, err
	}
	if err := l.prepare(); err != nil {
		unlock()
		return nil, nil, err
	}
	db, err := duck.Open(ctx, duck.Options{MemoryLimit: memoryLimit, TempDir: l.tmpDir()})
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return db, func() { db.Close(); unlock() }, nil
}

type manifestEntry struct {
	Size        int64  `json:"size"`
	ModTime     int64  `json:"modTime"`
	Lines       int64  `json:"lines"`
	Quarantined int64  `json:"quarantined"`
	Run         string `json:"run"`
}

func (l *lakeDir) readManifest() (map[string]manifestEntry, error) {
	m := map[string]manifestEntry{}
	b, err := os.ReadFile(l.path(stateDir, "files.json"))
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return m, nil
}

func (l *lakeDir) writeManifest(m map[string]manifestEntry) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return writeFileAtomic(l.path(stateDir, "files.json"), b)
}

func (l *lakeDir) appendRun(r *Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(l.path(stateDir, "runs.ndjson"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadRuns returns the extract runs recorded in a lake, oldest first.
func ReadRuns(lakeRoot string) ([]Run, error) {
	b, err := os.ReadFile(filepath.Join(lakeRoot, stateDir, "runs.ndjson"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var runs []Run
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r Run
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			continue // a line torn by a crash
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// parquetFiles lists the *.parquet files under dir (recursively), sorted.
func parquetFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// keyed describes how one partitioned dataset merges.
type keyed struct {
	name     string        // messages or conversations
	stage    string        // staging table: keyBatch's columns
	schema   *arrow.Schema // of the group's batches
	key      string        // key columns
	keyBatch []string      // the batch columns staged: key, what the order needs, origin, day
	oldCols  string        // columns of existing rows the merge needs
	order    string        // winner first: ORDER BY of the row_number window
	beats    string        // SQL: old row o beats (or ties with) candidate c, so c is not added
	sortBy   string        // row order inside a compacted partition file
}

var (
	messagesMerge = keyed{
		name: MessagesDir, stage: tableMessages, schema: messageSchema,
		key:      "org_uuid, env_uuid, bot_uuid, message_id",
		keyBatch: []string{"org_uuid", "env_uuid", "bot_uuid", "message_id", "source_file", "source_line", "date"},
		oldCols:  "org_uuid, env_uuid, bot_uuid, message_id, source_file, source_line, \"date\"",
		order:    "source_file, source_line",
		beats:    "(o.source_file < c.source_file OR (o.source_file = c.source_file AND o.source_line <= c.source_line))",
		sortBy:   "org_uuid, env_uuid, bot_uuid, created_at, message_id",
	}
	conversationsMerge = keyed{
		name: ConversationsDir, stage: tableConversations, schema: conversationSchema,
		key:      "org_uuid, env_uuid, bot_uuid, session_code",
		keyBatch: []string{"org_uuid", "env_uuid", "bot_uuid", "session_code", "updated_at", "source_file", "source_line", "date"},
		oldCols:  "org_uuid, env_uuid, bot_uuid, session_code, updated_at, source_file, source_line, \"date\"",
		order:    "updated_at DESC, source_file DESC, source_line DESC",
		beats: "(o.updated_at > c.updated_at OR (o.updated_at = c.updated_at AND (o.source_file > c.source_file OR " +
			"(o.source_file = c.source_file AND o.source_line >= c.source_line))))",
		sortBy: "org_uuid, env_uuid, bot_uuid, started_at, session_code",
	}
)

func merge(ctx context.Context, db *duck.DB, sg *stager, lake *lakeDir, run *Run, groupID string) error {
	for _, k := range []keyed{messagesMerge, conversationsMerge} {
		st, err := mergePartitioned(ctx, db, sg, lake, groupID, k)
		if err != nil {
			return fmt.Errorf("merge %s: %w", k.name, err)
		}
		run.Partitions += st.partitions
		// Rows an earlier group of this run loaded and this group displaced are this
		// run's duplicates or superseded records, not lake rows.
		run.Replaced += st.replaced - st.replacedOwn
		if k.name == MessagesDir {
			run.Loaded.Messages += st.added - st.replacedOwn
			run.Duplicates += st.lost + st.replacedOwn
		} else {
			run.Loaded.Conversations += st.added - st.replacedOwn
			run.Superseded += st.lost + st.replacedOwn
		}
	}
	added, lost, own, err := mergeChannels(ctx, db, lake, groupID)
	if err != nil {
		return fmt.Errorf("merge channels: %w", err)
	}
	run.Loaded.Channels += added - own
	lost += own
	run.Superseded += lost
	return nil
}

type mergeStats struct {
	added, lost, replaced int64
	replacedOwn           int64 // of replaced: rows this run's earlier groups loaded
	partitions            int
}

func count(ctx context.Context, db *sql.DB, q string) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, q).Scan(&n)
	return n, err
}

func execAll(ctx context.Context, db *sql.DB, qs ...string) error {
	for _, q := range qs {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w\nin: %s", err, q)
		}
	}
	return nil
}

func mergePartitioned(ctx context.Context, d *duck.DB, sg *stager, lake *lakeDir, runID string, k keyed) (mergeStats, error) {
	var st mergeStats
	db := d.SQL
	staged, err := count(ctx, db, "SELECT count(*) FROM "+k.stage)
	if err != nil || staged == 0 {
		return st, err
	}
	existing, err := parquetFiles(lake.path(k.name))
	if err != nil {
		return st, err
	}
	// In-run losers: only keys seen more than once need the window.
	err = execAll(ctx, db,
		fmt.Sprintf(`CREATE OR REPLACE TABLE inrun_losers AS SELECT %[1]s, source_file, source_line FROM (
			SELECT %[1]s, source_file, source_line, row_number() OVER (PARTITION BY %[1]s ORDER BY %[2]s) AS rn
			FROM %[3]s SEMI JOIN (SELECT %[1]s FROM %[3]s GROUP BY ALL HAVING count(*) > 1) USING (%[1]s)) WHERE rn > 1`,
			k.key, k.order, k.stage),
		fmt.Sprintf(`CREATE OR REPLACE VIEW cand AS SELECT s.* FROM %s s
			ANTI JOIN inrun_losers l USING (%s, source_file, source_line)`, k.stage, k.key))
	if err != nil {
		return st, err
	}
	if len(existing) > 0 {
		// Lake rows with a key of this run (only the columns the merge needs).
		err = execAll(ctx, db,
			fmt.Sprintf(`CREATE OR REPLACE TABLE old AS SELECT %s FROM read_parquet(%s, hive_partitioning=true, union_by_name=true)
				SEMI JOIN %s USING (%s)`, k.oldCols, duck.LiteralList(existing), k.stage, k.key),
			fmt.Sprintf(`CREATE OR REPLACE TABLE beaten AS SELECT c.%s, c.source_file, c.source_line FROM cand c
				SEMI JOIN old USING (%s) WHERE EXISTS (SELECT 1 FROM old o WHERE %s AND %s)`,
				strings.ReplaceAll(k.key, ", ", ", c."), k.key, joinOn("o", "c", k.key), k.beats),
			fmt.Sprintf(`CREATE OR REPLACE VIEW adds AS SELECT * FROM cand ANTI JOIN beaten USING (%s, source_file, source_line)`, k.key),
			fmt.Sprintf(`CREATE OR REPLACE TABLE evict AS SELECT o.* FROM old o SEMI JOIN adds USING (%s)`, k.key))
	} else {
		err = execAll(ctx, db,
			`CREATE OR REPLACE VIEW adds AS SELECT * FROM cand`,
			`CREATE OR REPLACE TABLE evict AS SELECT * FROM (SELECT 1 AS x, DATE '2000-01-01' AS "date", '' AS source_file) WHERE false`)
	}
	if err != nil {
		return st, err
	}
	if st.added, err = count(ctx, db, "SELECT count(*) FROM adds"); err != nil {
		return st, err
	}
	if st.replacedOwn, err = count(ctx, db, "SELECT count(*) FROM evict WHERE source_file IN (SELECT path FROM run_files)"); err != nil {
		return st, err
	}
	if st.replaced, err = count(ctx, db, "SELECT count(*) FROM evict"); err != nil {
		return st, err
	}
	st.lost = staged - st.added
	if st.added == 0 {
		return st, nil
	}
	// Partitions that lose rows are rewritten whole; the others get a new file.
	rewrite, err := dates(ctx, db, `SELECT DISTINCT strftime("date", '%Y-%m-%d') FROM evict ORDER BY 1`)
	if err != nil {
		return st, err
	}
	stage := lake.path(stagingDir, runID, k.name)
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return st, err
	}
	// The staged records that lose: in-run duplicates, and those the lake's rows beat.
	losersQuery := "SELECT source_file, source_line FROM inrun_losers"
	if len(existing) > 0 {
		losersQuery += " UNION ALL SELECT source_file, source_line FROM beaten"
	}
	losers, err := originsOf(ctx, db, losersQuery)
	if err != nil {
		return st, err
	}
	rewriteDays := make([]arrow.Date32, len(rewrite))
	for i, day := range rewrite {
		t, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return st, err
		}
		rewriteDays[i] = arrow.Date32FromTime(t)
	}
	// The group's winning records, cut by day (zero-copy slices of its batches).
	byDay := sg.daySlices(k.stage, losers)
	defer releaseDays(byDay)
	if len(rewrite) > 0 {
		var files []string
		var recs []arrow.RecordBatch
		for i, day := range rewrite {
			f, err := parquetFiles(lake.path(k.name, "date="+day))
			if err != nil {
				return st, err
			}
			files = append(files, f...)
			recs = append(recs, byDay[rewriteDays[i]]...)
		}
		// Arrival order and snappy keep ingest fast; the nightly compaction sorts
		// partitions by tenant and time and recompresses them with zstd.
		q := fmt.Sprintf(`COPY (
			SELECT * FROM (
				SELECT o.* FROM read_parquet(%[1]s, hive_partitioning=true, union_by_name=true) o
				ANTI JOIN evict e USING (%[2]s, source_file, source_line)
				UNION ALL BY NAME
				SELECT * FROM "rows"
			)) TO %[3]s (FORMAT parquet, PARTITION_BY ("date"), FILENAME_PATTERN %[4]s, COMPRESSION snappy, ROW_GROUP_SIZE %[5]d)`,
			duck.LiteralList(files), k.key, duck.Literal(filepath.Join(stage, "rewrite")),
			duck.Literal("part-"+runID+"-{i}"), rowGroupRows)
		if err := sg.copyRecords(ctx, k.schema, recs, q); err != nil {
			return st, fmt.Errorf("%w\nin: %s", err, q)
		}
	}
	// The other days get a new file each.
	for _, d := range rewriteDays {
		for _, r := range byDay[d] {
			r.Release()
		}
		delete(byDay, d)
	}
	if err := writeDays(ctx, byDay, fileSchema(k.schema), filepath.Join(stage, "append"), "part-"+runID+"-0.parquet", sg.workers); err != nil {
		return st, err
	}
	n, err := publish(rewrite, filepath.Join(stage, "rewrite"), filepath.Join(stage, "append"), lake.path(k.name), lake.path(stagingDir, runID, "old-"+k.name))
	st.partitions = n
	return st, err
}

func joinOn(a, b, cols string) string {
	var parts []string
	for _, c := range strings.Split(cols, ",") {
		c = strings.TrimSpace(c)
		parts = append(parts, a+"."+c+" = "+b+"."+c)
	}
	return strings.Join(parts, " AND ")
}

func dates(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// publish moves staged partitions into the dataset. A rewritten partition replaces the
// old directory in one atomic exchange; an appended file is renamed into its partition;
// a new partition directory is renamed into place. Readers see a partition whole, before
// or after, never half.
func publish(rewrite []string, rewriteDir, appendDir, dataset, trash string) (int, error) {
	n := 0
	if err := os.MkdirAll(trash, 0o755); err != nil {
		return 0, err
	}
	for _, day := range rewrite {
		name := "date=" + day
		src := filepath.Join(rewriteDir, name)
		dst := filepath.Join(dataset, name)
		if _, err := os.Stat(src); os.IsNotExist(err) {
			// Every row of the partition moved elsewhere: remove it.
			if err := os.Rename(dst, filepath.Join(trash, name)); err != nil && !os.IsNotExist(err) {
				return n, err
			}
			n++
			continue
		}
		if err := syncTree(src); err != nil {
			return n, err
		}
		if err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE); err != nil {
			if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
				return n, fmt.Errorf("exchange partition %s: %w", name, err)
			}
			// No exchange on this file system: move the old one aside, then the new one in.
			if err := os.Rename(dst, filepath.Join(trash, name)); err != nil && !os.IsNotExist(err) {
				return n, err
			}
			if err := os.Rename(src, dst); err != nil {
				return n, err
			}
		}
		n++
	}
	parts, _ := os.ReadDir(appendDir)
	for _, p := range parts {
		src := filepath.Join(appendDir, p.Name())
		dst := filepath.Join(dataset, p.Name())
		if err := syncTree(src); err != nil {
			return n, err
		}
		if _, err := os.Stat(dst); os.IsNotExist(err) {
			if err := os.Rename(src, dst); err != nil {
				return n, err
			}
		} else {
			files, _ := os.ReadDir(src)
			for _, f := range files {
				if err := os.Rename(filepath.Join(src, f.Name()), filepath.Join(dst, f.Name())); err != nil {
					return n, err
				}
			}
			if err := syncDir(dst); err != nil {
				return n, err
			}
		}
		n++
	}
	if n > 0 {
		if err := syncDir(dataset); err != nil {
			return n, err
		}
	}
	return n, os.RemoveAll(trash)
}

// syncTree fsyncs the files of a staged partition and the directory itself.
func syncTree(dir string) error {
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		fh, err := os.Open(filepath.Join(dir, f.Name()))
		if err != nil {
			return err
		}
		err = fh.Sync()
		fh.Close()
		if err != nil {
			return fmt.Errorf("sync %s: %w", f.Name(), err)
		}
	}
	return syncDir(dir)
}

func mergeChannels(ctx context.Context, d *duck.DB, lake *lakeDir, runID string) (added, lost, own int64, err error) {
	db := d.SQL
	staged, err := count(ctx, db, "SELECT count(*) FROM "+tableChannels)
	if err != nil || staged == 0 {
		return 0, 0, 0, err
	}
	existing, err := parquetFiles(lake.path(ChannelsDir))
	if err != nil {
		return 0, 0, 0, err
	}
	src := "SELECT * FROM " + tableChannels
	if len(existing) > 0 {
		src = fmt.Sprintf("SELECT * FROM read_parquet(%s, union_by_name=true) UNION ALL BY NAME SELECT * FROM %s", duck.LiteralList(existing), tableChannels)
	}
	err = execAll(ctx, db, fmt.Sprintf(`CREATE OR REPLACE TABLE chan_all AS SELECT * FROM (%s)
		QUALIFY row_number() OVER (PARTITION BY org_uuid, env_uuid, bot_uuid, channel_uuid ORDER BY source_file DESC, source_line DESC) = 1`, src))
	if err != nil {
		return 0, 0, 0, err
	}
	added, err = count(ctx, db, "SELECT count(*) FROM chan_all c SEMI JOIN "+tableChannels+" s USING (org_uuid, env_uuid, bot_uuid, channel_uuid, source_file, source_line)")
	if err != nil {
		return 0, 0, 0, err
	}
	lost = staged - added
	if len(existing) > 0 {
		// Rows of the lake this batch displaced that an earlier group of this run loaded.
		own, err = count(ctx, db, fmt.Sprintf(`SELECT count(*) FROM read_parquet(%s, union_by_name=true) o
			SEMI JOIN %s s USING (org_uuid, env_uuid, bot_uuid, channel_uuid)
			WHERE o.source_file IN (SELECT path FROM run_files)
			AND NOT EXISTS (SELECT 1 FROM chan_all c WHERE c.org_uuid = o.org_uuid AND c.env_uuid = o.env_uuid AND c.bot_uuid = o.bot_uuid
				AND c.channel_uuid = o.channel_uuid AND c.source_file = o.source_file AND c.source_line = o.source_line)`, duck.LiteralList(existing), tableChannels))
		if err != nil {
			return 0, 0, 0, err
		}
	}
	if added == 0 {
		return 0, lost, own, nil
	}
	tmp := lake.path(stagingDir, runID, ChannelsFile)
	if err := os.MkdirAll(filepath.Dir(tmp), 0o755); err != nil {
		return 0, 0, 0, err
	}
	err = execAll(ctx, db, fmt.Sprintf(`COPY (SELECT * FROM chan_all ORDER BY org_uuid, env_uuid, bot_uuid, channel_uuid) TO %s (FORMAT parquet, COMPRESSION zstd)`, duck.Literal(tmp)))
	if err != nil {
		return 0, 0, 0, err
	}
	if err := syncTree(filepath.Dir(tmp)); err != nil {
		return 0, 0, 0, err
	}
	dst := lake.path(ChannelsDir, ChannelsFile)
	if err := os.Rename(tmp, dst); err != nil {
		return 0, 0, 0, err
	}
	for _, f := range existing {
		if f != dst {
			os.Remove(f) // merged into channels.parquet
		}
	}
	return added, lost, own, syncDir(lake.path(ChannelsDir))
}

// originsOf reads the (source_file, source_line) rows of q as a set.
func originsOf(ctx context.Context, db *sql.DB, q string) (map[string]map[int64]bool, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[int64]bool{}
	for rows.Next() {
		var f string
		var l int64
		if err := rows.Scan(&f, &l); err != nil {
			return nil, err
		}
		if out[f] == nil {
			out[f] = map[int64]bool{}
		}
		out[f][l] = true
	}
	return out, rows.Err()
}
