package etl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// dataDir is a data directory in a temp dir: landing/, lake/, quarantine/.
type dataDir struct{ root, landing, lake, quarantine string }

func newDataDir(t testing.TB) dataDir {
	t.Helper()
	root := t.TempDir()
	d := dataDir{root: root, landing: filepath.Join(root, "landing"), lake: filepath.Join(root, "lake"),
		quarantine: filepath.Join(root, "quarantine")}
	if err := os.MkdirAll(d.landing, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d dataDir) extract(t testing.TB) *Run {
	t.Helper()
	run, err := Extract(context.Background(), Options{LandingDir: d.landing, LakeDir: d.lake,
		QuarantineDir: d.quarantine, Workers: 2, MemoryLimit: "1GB"})
	if err != nil {
		t.Fatalf("extract: %v", err)
	}
	if run.Status != "DONE" {
		t.Fatalf("extract status %s: %s", run.Status, run.Error)
	}
	return run
}

// write puts a landing file (rel uses '/'); a name ending in .gz is gzip-compressed.
func (d dataDir) write(t testing.TB, rel string, data []byte) {
	t.Helper()
	if strings.HasSuffix(rel, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data = b.Bytes()
	}
	p := filepath.Join(d.landing, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeLines puts a landing file of the given lines, each ended by LF.
func (d dataDir) writeLines(t testing.TB, rel string, lines ...string) {
	t.Helper()
	d.write(t, rel, []byte(strings.Join(lines, "\n")+"\n"))
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The lake's datasets as read_parquet expressions, for {messages}, {conversations} and
// {channels} in queries.
func lakeSources(lake string) *strings.Replacer {
	rp := func(glob string, hive bool) string {
		return fmt.Sprintf("read_parquet(%s, hive_partitioning=%t, union_by_name=true)", duck.Literal(filepath.Join(lake, glob)), hive)
	}
	return strings.NewReplacer(
		"{messages}", rp("messages/*/*.parquet", true),
		"{conversations}", rp("conversations/*/*.parquet", true),
		"{channels}", rp("channels/*.parquet", false))
}

func openDuck(t testing.TB) *duck.DB {
	t.Helper()
	db, err := duck.Open(context.Background(), duck.Options{Threads: 2, MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// query runs q over the lake and returns each row as its columns, "NULL" for null.
func query(t testing.TB, lake, q string) [][]string {
	t.Helper()
	db := openDuck(t)
	rows, err := db.SQL.Query(lakeSources(lake).Replace(q))
	if err != nil {
		t.Fatalf("%v\nin: %s", err, q)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// column returns the first column of q's rows, joined with "|" per row when there are more.
func column(t testing.TB, lake, q string) []string {
	t.Helper()
	var out []string
	for _, r := range query(t, lake, q) {
		out = append(out, strings.Join(r, "|"))
	}
	return out
}

func countRows(t testing.TB, lake, q string) int64 {
	t.Helper()
	r := query(t, lake, q)
	var n int64
	if _, err := fmt.Sscan(r[0][0], &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// dump is every row of a dataset as JSON (every column, the source columns and the
// partition column included), sorted; nil when the dataset has no file.
func dump(t testing.TB, lake, dataset string) []string {
	t.Helper()
	glob := map[string]string{"messages": "messages/*/*.parquet", "conversations": "conversations/*/*.parquet", "channels": "channels/*.parquet"}[dataset]
	if m, _ := filepath.Glob(filepath.Join(lake, glob)); len(m) == 0 {
		return nil
	}
	return column(t, lake, "SELECT to_json(x)::VARCHAR AS j FROM {"+dataset+"} x ORDER BY j")
}

func dumpAll(t testing.TB, lake string) map[string][]string {
	t.Helper()
	return map[string][]string{"messages": dump(t, lake, "messages"), "conversations": dump(t, lake, "conversations"),
		"channels": dump(t, lake, "channels")}
}

func diffStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") && len(got) == len(want) {
		return
	}
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
	}
	var msg []string
	for _, s := range want {
		if !g[s] {
			msg = append(msg, "  missing: "+s)
		}
	}
	for _, s := range got {
		if !w[s] {
			msg = append(msg, "  extra:   "+s)
		}
	}
	if len(msg) > 20 {
		msg = append(msg[:20], fmt.Sprintf("  … %d more", len(msg)-20))
	}
	t.Errorf("%s: got %d rows, want %d\n%s", what, len(got), len(want), strings.Join(msg, "\n"))
}

// fileStates maps every file under dir (except skip, relative) to its size and mtime.
func fileStates(t testing.TB, dir string, skip ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		for _, s := range skip {
			if rel == s {
				return filepath.SkipDir
			}
		}
		if e.IsDir() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = fmt.Sprintf("size=%d mtime=%d", info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameStates(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s was %q, now %q", what, k, v, got[k])
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: new file %s (%s)", what, k, v)
		}
	}
}

// readQuarantine reads quarantine/**/*.ndjson; every entry's file must be the path of
// the quarantine file it sits in.
func readQuarantine(t testing.TB, dir string) []QuarantineEntry {
	t.Helper()
	var out []QuarantineEntry
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if e.IsDir() || !strings.HasSuffix(p, ".ndjson") {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if !strings.HasSuffix(rel, ".bad.ndjson") {
			t.Errorf("quarantine file %s does not end in .bad.ndjson", rel)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Errorf("quarantine file %s is empty or not ended by a newline", rel)
		}
		for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			var q QuarantineEntry
			dec := json.NewDecoder(strings.NewReader(l))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&q); err != nil {
				t.Errorf("%s line %d: %v", rel, i+1, err)
				continue
			}
			misnamed := strings.HasPrefix(q.Reason, "file: the path is not valid UTF-8") &&
				regexp.MustCompile(`^`+regexp.QuoteMeta(q.File)+`\.[0-9a-f]{12}-misnamed\.bad\.ndjson$`).MatchString(rel)
			if q.File+".bad.ndjson" != rel && !misnamed {
				t.Errorf("%s line %d: entry of file %q", rel, i+1, q.File)
			}
			out = append(out, q)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func badKeys(qs []QuarantineEntry) []string {
	var out []string
	for _, q := range qs {
		out = append(out, fmt.Sprintf("%s:%d:%s", q.File, q.Line, q.Raw))
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------------------------

func TestDiscover(t *testing.T) {
	d := newDataDir(t)
	landing := []string{"b.ndjson", "B.ndjson", "a.jsonl", "a/b.ndjson", "a.ndjson.gz", "a-b.jsonl.gz", "z/y/x.ndjson", "a_.ndjson"}
	ignored := []string{"c.NDJSON", "c.Ndjson", "c.JSONL", "c.ndjson.GZ", "c.jsonl.bz2", "c.json", "c.ndjson.bak", "c.gz",
		"c.txt", "README.md", "z/c.ndjson.tmp", "ndjson", "c.ndjsonl"}
	for _, n := range append(append([]string{}, landing...), ignored...) {
		d.write(t, n, []byte("x\n"))
	}
	if err := os.MkdirAll(filepath.Join(d.landing, "dir.ndjson"), 0o755); err != nil { // a directory, not a file
		t.Fatal(err)
	}
	// A link to a file is read at the link's path; a link to a directory is not walked;
	// a link that cannot be followed is no file; a file reached by several names is read
	// once, under its first name.
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "target.ndjson"), []byte("x\n"), 0o644)
	os.MkdirAll(filepath.Join(outside, "feed"), 0o755)
	os.WriteFile(filepath.Join(outside, "feed", "f.ndjson"), []byte("x\n"), 0o644)
	for link, target := range map[string]string{
		"link.ndjson": filepath.Join(outside, "target.ndjson"), "feed": filepath.Join(outside, "feed"),
		"z/loop": filepath.Join(d.landing, "z"), "gone.ndjson": filepath.Join(outside, "absent.ndjson"),
		"self.ndjson": filepath.Join(d.landing, "self.ndjson"), "notdir.ndjson": filepath.Join(d.landing, "b.ndjson", "x"),
		"up.ndjson": "..", "zz-again.ndjson": filepath.Join(d.landing, "a.jsonl"),
	} {
		if err := os.Symlink(target, filepath.Join(d.landing, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(d.landing, "b.ndjson"), filepath.Join(d.landing, "zz-hard.ndjson")); err != nil {
		t.Fatal(err)
	}
	landing = append(landing, "link.ndjson")
	found, err := Discover(d.landing)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.Rel)
		if f.Abs != filepath.Join(d.landing, filepath.FromSlash(f.Rel)) || f.Size <= 0 || f.ModTime == 0 {
			t.Errorf("%+v", f)
		}
	}
	want := append([]string{}, landing...)
	sort.Strings(want) // byte-wise: "B" < "a", "a-b" < "a." < "a/" < "a_"
	diffStrings(t, "discovered", got, want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order %q, want %q", got, want)
	}
	// landing/ itself may be a link.
	linked := filepath.Join(t.TempDir(), "landing")
	if err := os.Symlink(d.landing, linked); err != nil {
		t.Fatal(err)
	}
	if again, err := Discover(linked); err != nil || len(again) != len(found) {
		t.Errorf("through a linked landing/: %d files, %v; want %d", len(again), err, len(found))
	}
	if found, err := Discover(filepath.Join(d.root, "absent")); err != nil || len(found) != 0 {
		t.Errorf("Discover(absent dir) = %v, %v; want nothing, no error", found, err)
	}
}

const examplesDir = "../testdata/examples"

func TestExtractExamples(t *testing.T) {
	d := newDataDir(t)
	copyTree(t, filepath.Join(examplesDir, "landing"), d.landing)
	run := d.extract(t)
	t.Log(run.Summary())

	if run.FilesSeen != 20 || run.Files != 20 {
		t.Errorf("files seen %d, read %d; want 20, 20 (non-landing files ignored)", run.FilesSeen, run.Files)
	}

	// Quarantine: exactly the expected (file, line) pairs, each with a reason and the raw line.
	var expected struct {
		Count int `json:"count"`
		Lines []struct {
			File string `json:"file"`
			Line int64  `json:"line"`
		} `json:"lines"`
	}
	var truth struct {
		Lines []struct {
			File string `json:"file"`
			Line int64  `json:"line"`
			Kind string `json:"kind"`
			Raw  string `json:"raw"`
		} `json:"lines"`
	}
	readJSON(t, filepath.Join(examplesDir, "expected", "quarantine.json"), &expected)
	readJSON(t, filepath.Join(examplesDir, "truth", "bad_lines.json"), &truth)
	raws := map[string]string{}
	kinds := map[string]string{}
	for _, l := range truth.Lines {
		k := fmt.Sprintf("%s:%d", l.File, l.Line)
		raws[k], kinds[k] = l.Raw, l.Kind
	}
	var want []string
	for _, l := range expected.Lines {
		want = append(want, fmt.Sprintf("%s:%d", l.File, l.Line))
	}
	sort.Strings(want)
	if len(want) != expected.Count {
		t.Fatalf("expected/quarantine.json lists %d lines, says %d", len(want), expected.Count)
	}
	bad := readQuarantine(t, d.quarantine)
	var got []string
	for _, q := range bad {
		k := fmt.Sprintf("%s:%d", q.File, q.Line)
		got = append(got, k)
		if strings.TrimSpace(q.Reason) == "" {
			t.Errorf("%s: empty reason", k)
		}
		if r, ok := raws[k]; ok && q.Raw != r {
			t.Errorf("%s (%s): raw %.120q…, want %.120q…", k, kinds[k], q.Raw, r)
		}
	}
	sort.Strings(got)
	diffStrings(t, "quarantined lines", got, want)
	if run.Quarantined != int64(len(want)) {
		t.Errorf("run.Quarantined = %d, want %d", run.Quarantined, len(want))
	}
	for _, q := range bad {
		if !IsLandingFile(q.File) {
			t.Errorf("quarantine entry of a non-landing file: %s", q.File)
		}
	}

	// The lake.
	msgs := countRows(t, d.lake, "SELECT count(*) FROM {messages}")
	convs := countRows(t, d.lake, "SELECT count(*) FROM {conversations}")
	chans := countRows(t, d.lake, "SELECT count(*) FROM {channels}")
	if msgs != 571 || convs != 116 {
		t.Errorf("lake has %d messages, %d conversations; want 571, 116", msgs, convs)
	}
	if n := countRows(t, d.lake, "SELECT count(DISTINCT (org_uuid, env_uuid, bot_uuid, message_id)) FROM {messages}"); n != msgs {
		t.Errorf("%d distinct message keys in %d rows", n, msgs)
	}
	if n := countRows(t, d.lake, "SELECT count(DISTINCT (org_uuid, env_uuid, bot_uuid, session_code)) FROM {conversations}"); n != convs {
		t.Errorf("%d distinct conversation keys in %d rows", n, convs)
	}
	if n := countRows(t, d.lake, "SELECT count(DISTINCT (org_uuid, env_uuid, bot_uuid, channel_uuid)) FROM {channels}"); n != chans {
		t.Errorf("%d distinct channel keys in %d rows", n, chans)
	}
	// Every row sits in the partition of its UTC day.
	if n := countRows(t, d.lake, `SELECT count(*) FROM {messages} WHERE "date" <> CAST(created_at AS DATE)`); n != 0 {
		t.Errorf("%d messages outside the partition of their createdAt day", n)
	}
	if n := countRows(t, d.lake, `SELECT count(*) FROM {conversations} WHERE "date" <> CAST(started_at AS DATE)`); n != 0 {
		t.Errorf("%d conversations outside the partition of their startedAt day", n)
	}
	// Every source is a landing file; nothing of the ignored files.
	for _, f := range column(t, d.lake, `SELECT DISTINCT source_file FROM (SELECT source_file FROM {messages} UNION ALL
		SELECT source_file FROM {conversations} UNION ALL SELECT source_file FROM {channels})`) {
		if !IsLandingFile(f) {
			t.Errorf("lake rows from %s, not a landing file", f)
		}
	}
	// No line lost: every line is in the lake, a duplicate, superseded or quarantined.
	if in, out := run.Lines, msgs+convs+chans+run.Duplicates+run.Superseded+run.Quarantined; in != out {
		t.Errorf("lines %d != lake rows %d + duplicates %d + superseded %d + quarantined %d = %d",
			in, msgs+convs+chans, run.Duplicates, run.Superseded, run.Quarantined, out)
	}
	if run.Loaded.Messages != msgs || run.Loaded.Conversations != convs || run.Loaded.Channels != chans {
		t.Errorf("run loaded %+v, lake holds %d, %d, %d", run.Loaded, msgs, convs, chans)
	}
	if run.Duplicates != 11 {
		t.Errorf("duplicates = %d, want 11", run.Duplicates)
	}
	if run.Replaced != 0 {
		t.Errorf("replaced = %d on a first extract", run.Replaced)
	}
	// The manifest knows only landing files.
	var manifest map[string]json.RawMessage
	readJSON(t, filepath.Join(d.lake, "_etl", "files.json"), &manifest)
	if len(manifest) != 20 {
		t.Errorf("manifest lists %d files, want 20", len(manifest))
	}
	for f := range manifest {
		if !IsLandingFile(f) {
			t.Errorf("manifest lists %s", f)
		}
	}
	runs, err := ReadRuns(d.lake)
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID || runs[0].Status != "DONE" || runs[0].Lines != run.Lines {
		t.Errorf("ReadRuns = %+v, %v", runs, err)
	}
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestReExtractIsNoOp(t *testing.T) {
	d := newDataDir(t)
	copyTree(t, filepath.Join(examplesDir, "landing"), d.landing)
	first := d.extract(t)
	lakeBefore := fileStates(t, d.lake, "_etl")
	quarBefore := fileStates(t, d.quarantine)
	rowsBefore := dumpAll(t, d.lake)
	quarRows := badKeys(readQuarantine(t, d.quarantine))

	// Nothing new: nothing read, nothing written.
	second := d.extract(t)
	if second.Files != 0 || second.FilesSeen != first.FilesSeen || second.Lines != 0 || second.Loaded != (Counts{}) ||
		second.Quarantined != 0 || second.Partitions != 0 || second.Replaced != 0 {
		t.Errorf("second run did something: %s", second.Summary())
	}
	sameStates(t, "lake after a second extract", fileStates(t, d.lake, "_etl"), lakeBefore)
	sameStates(t, "quarantine after a second extract", fileStates(t, d.quarantine), quarBefore)

	// Without the manifest every file is read again, and no row changes.
	if err := os.Remove(filepath.Join(d.lake, "_etl", "files.json")); err != nil {
		t.Fatal(err)
	}
	third := d.extract(t)
	t.Log(third.Summary())
	if third.Files != first.Files || third.Lines != first.Lines || third.Quarantined != first.Quarantined {
		t.Errorf("third run: %s; first: %s", third.Summary(), first.Summary())
	}
	if third.Loaded.Messages != 0 || third.Loaded.Conversations != 0 || third.Replaced != 0 {
		t.Errorf("re-reading the same files loaded or replaced rows: %s", third.Summary())
	}
	if in, out := third.Lines, third.Loaded.Messages+third.Loaded.Conversations+third.Loaded.Channels+third.Duplicates+third.Superseded+third.Quarantined; in != out {
		t.Errorf("third run does not account for its lines: %s", third.Summary())
	}
	rowsAfter := dumpAll(t, d.lake)
	for _, ds := range []string{"messages", "conversations", "channels"} {
		diffStrings(t, ds+" after re-reading every file", rowsAfter[ds], rowsBefore[ds])
	}
	diffStrings(t, "quarantine after re-reading every file", badKeys(readQuarantine(t, d.quarantine)), quarRows)
}

// A message line of the default tenant.
func msg(id, createdAt string, kv ...any) string {
	return line(userMessage(), append([]any{"messageId", id, "createdAt", createdAt}, kv...)...)
}

// A conversation line of the default tenant.
func conv(session, startedAt, updatedAt string, kv ...any) string {
	return line(conversation(), append([]any{"sessionCode", session, "startedAt", startedAt, "endedAt", del, "updatedAt", updatedAt}, kv...)...)
}

func TestLateData(t *testing.T) {
	const d1, d2, d3 = "2026-01-05", "2026-01-06", "2026-01-07"
	msgRow := `SELECT message_id, strftime(created_at, '%Y-%m-%dT%H:%M:%S.%fZ'), content, source_file, source_line, CAST("date" AS VARCHAR) FROM {messages} ORDER BY message_id`
	convRow := `SELECT session_code, strftime(started_at, '%Y-%m-%dT%H:%M:%SZ'), strftime(updated_at, '%Y-%m-%dT%H:%M:%S.%fZ'), satisfaction, source_file, source_line, CAST("date" AS VARCHAR) FROM {conversations} ORDER BY session_code`

	t.Run("a late message rewrites only its day; a duplicate does not move", func(t *testing.T) {
		d := newDataDir(t)
		d.writeLines(t, "2026/a.ndjson",
			msg("m1", d1+"T10:00:00Z"), msg("m2", d2+"T10:00:00Z"), msg("m3", d3+"T10:00:00Z"), msg("m4", d2+"T11:00:00Z"))
		d.extract(t)
		before := fileStates(t, filepath.Join(d.lake, MessagesDir))
		d.writeLines(t, "2026/b.ndjson",
			msg("m5", d1+"T12:00:00Z", "content", "late"),
			msg("m2", d3+"T09:00:00Z", "content", "a copy with another time"))
		run := d.extract(t)
		if run.Loaded.Messages != 1 || run.Duplicates != 1 || run.Replaced != 0 {
			t.Errorf("run: %s; want loaded 1, duplicates 1, replaced 0", run.Summary())
		}
		after := fileStates(t, filepath.Join(d.lake, MessagesDir))
		for k, v := range before {
			if !strings.HasPrefix(k, "date="+d1+"/") && after[k] != v {
				t.Errorf("%s was %s, now %q", k, v, after[k])
			}
		}
		for k := range after {
			if _, ok := before[k]; !ok && !strings.HasPrefix(k, "date="+d1+"/") {
				t.Errorf("new file %s outside the late message's day", k)
			}
		}
		diffStrings(t, "messages", column(t, d.lake, msgRow), []string{
			"m1|" + d1 + "T10:00:00.000000Z|Qual o horário?|2026/a.ndjson|1|" + d1,
			"m2|" + d2 + "T10:00:00.000000Z|Qual o horário?|2026/a.ndjson|2|" + d2,
			"m3|" + d3 + "T10:00:00.000000Z|Qual o horário?|2026/a.ndjson|3|" + d3,
			"m4|" + d2 + "T11:00:00.000000Z|Qual o horário?|2026/a.ndjson|4|" + d2,
			"m5|" + d1 + "T12:00:00.000000Z|late|2026/b.ndjson|1|" + d1,
		})
	})

	t.Run("a message of an earlier file, landed later, is the one kept", func(t *testing.T) {
		d := newDataDir(t)
		d.writeLines(t, "m2.ndjson", msg("x", d2+"T10:00:00Z", "content", "from m2"), msg("y", d2+"T11:00:00Z"))
		d.extract(t)
		d.writeLines(t, "m1.ndjson", msg("z", d1+"T08:00:00Z"), msg("x", d3+"T10:00:00.123456Z", "content", "from m1"))
		run := d.extract(t)
		if run.Loaded.Messages != 2 || run.Duplicates != 0 || run.Replaced != 1 {
			t.Errorf("run: %s; want loaded 2, duplicates 0, replaced 1", run.Summary())
		}
		want := []string{
			"x|" + d3 + "T10:00:00.123456Z|from m1|m1.ndjson|2|" + d3,
			"y|" + d2 + "T11:00:00.000000Z|Qual o horário?|m2.ndjson|2|" + d2,
			"z|" + d1 + "T08:00:00.000000Z|Qual o horário?|m1.ndjson|1|" + d1,
		}
		diffStrings(t, "messages", column(t, d.lake, msgRow), want)
		// A later file repeating it changes nothing.
		d.writeLines(t, "m3.ndjson", msg("x", d1+"T00:00:00Z", "content", "from m3"))
		run = d.extract(t)
		if run.Loaded.Messages != 0 || run.Duplicates != 1 || run.Replaced != 0 {
			t.Errorf("run: %s; want loaded 0, duplicates 1", run.Summary())
		}
		diffStrings(t, "messages", column(t, d.lake, msgRow), want)
	})

	t.Run("a newer conversation state wins whatever its file's name", func(t *testing.T) {
		d := newDataDir(t)
		d.writeLines(t, "z.ndjson",
			conv("s1", d1+"T10:00:00Z", d1+"T10:05:00Z", "satisfaction", 2),
			conv("s2", d1+"T11:00:00Z", d1+"T11:30:00Z", "satisfaction", 3))
		d.extract(t)
		d.writeLines(t, "a.ndjson",
			conv("s1", d1+"T10:00:00Z", d1+"T10:30:00Z", "satisfaction", 5),
			conv("s2", d1+"T11:00:00Z", d1+"T11:10:00Z", "satisfaction", 1))
		run := d.extract(t)
		if run.Loaded.Conversations != 1 || run.Superseded != 1 || run.Replaced != 1 {
			t.Errorf("run: %s; want loaded 1, superseded 1, replaced 1", run.Summary())
		}
		diffStrings(t, "conversations", column(t, d.lake, convRow), []string{
			"s1|" + d1 + "T10:00:00Z|" + d1 + "T10:30:00.000000Z|5|a.ndjson|1|" + d1,
			"s2|" + d1 + "T11:00:00Z|" + d1 + "T11:30:00.000000Z|3|z.ndjson|2|" + d1,
		})
	})

	t.Run("an update moving startedAt across midnight moves the row", func(t *testing.T) {
		d := newDataDir(t)
		d.writeLines(t, "c1.ndjson",
			conv("s3", d1+"T23:50:00Z", d1+"T23:55:00Z"),
			conv("s4", d1+"T08:00:00Z", d1+"T08:00:00Z"),
			conv("s5", d3+"T12:00:00Z", d3+"T12:00:00Z"))
		d.extract(t)
		d.writeLines(t, "c2.ndjson",
			// The same instant as d2T00:10Z, written with an offset.
			conv("s3", d2+"T03:10:00+03:00", d2+"T00:20:00Z"),
			conv("s5", d2+"T12:00:00Z", d3+"T13:00:00Z"))
		run := d.extract(t)
		if run.Loaded.Conversations != 2 || run.Replaced != 2 {
			t.Errorf("run: %s; want loaded 2, replaced 2", run.Summary())
		}
		diffStrings(t, "conversations", column(t, d.lake, convRow), []string{
			"s3|" + d2 + "T00:10:00Z|" + d2 + "T00:20:00.000000Z|4|c2.ndjson|1|" + d2,
			"s4|" + d1 + "T08:00:00Z|" + d1 + "T08:00:00.000000Z|4|c1.ndjson|2|" + d1,
			"s5|" + d2 + "T12:00:00Z|" + d3 + "T13:00:00.000000Z|4|c2.ndjson|2|" + d2,
		})
		// d3 lost its only row: no file is left there.
		if files, _ := filepath.Glob(filepath.Join(d.lake, ConversationsDir, "date="+d3, "*.parquet")); len(files) != 0 {
			t.Errorf("partition %s still has %v", d3, files)
		}
		// And moving back works too.
		d.writeLines(t, "c3.ndjson", conv("s3", d1+"T23:50:00Z", d2+"T01:00:00Z", "satisfaction", 1))
		d.extract(t)
		got := column(t, d.lake, convRow)
		if len(got) != 3 || got[0] != "s3|"+d1+"T23:50:00Z|"+d2+"T01:00:00.000000Z|1|c3.ndjson|1|"+d1 {
			t.Errorf("after moving back: %q", got)
		}
	})

	t.Run("updatedAt ties are compared as instants, then the later line wins", func(t *testing.T) {
		d := newDataDir(t)
		const z, plus3, plus1 = d1 + "T12:00:00Z", d1 + "T15:00:00+03:00", d1 + "T13:00:00+01:00"
		start := d1 + "T11:00:00Z"
		d.writeLines(t, "t1.ndjson",
			conv("s6", start, plus3, "satisfaction", 1),
			conv("s6", start, z, "satisfaction", 2), // same instant, later line: wins
			conv("s7", start, z, "satisfaction", 3),
			conv("s7", start, plus3, "satisfaction", 4), // same instant, later line: wins
			conv("s8", start, d1+"T12:00:00.0000009Z", "satisfaction", 5),
			conv("s8", start, z, "satisfaction", 1),                      // equal at microsecond precision: wins
			conv("s9", start, d1+"T12:00:00.000002Z", "satisfaction", 5), // greater: wins
			conv("s9", start, d1+"T12:00:00.000001Z", "satisfaction", 1))
		run := d.extract(t)
		if run.Loaded.Conversations != 4 || run.Superseded != 4 {
			t.Errorf("run: %s; want loaded 4, superseded 4", run.Summary())
		}
		want := []string{
			"s6|" + start + "|" + d1 + "T12:00:00.000000Z|2|t1.ndjson|2|" + d1,
			"s7|" + start + "|" + d1 + "T12:00:00.000000Z|4|t1.ndjson|4|" + d1,
			"s8|" + start + "|" + d1 + "T12:00:00.000000Z|1|t1.ndjson|6|" + d1,
			"s9|" + start + "|" + d1 + "T12:00:00.000002Z|5|t1.ndjson|7|" + d1,
		}
		diffStrings(t, "conversations", column(t, d.lake, convRow), want)

		// Across runs: a tie in an earlier file (landed later) loses; in a later file, wins.
		d.writeLines(t, "t0.ndjson", conv("s6", start, plus1, "satisfaction", 3))
		d.writeLines(t, "t2.ndjson", conv("s7", start, plus1, "satisfaction", 5))
		run = d.extract(t)
		if run.Loaded.Conversations != 1 || run.Superseded != 1 || run.Replaced != 1 {
			t.Errorf("run: %s; want loaded 1, superseded 1, replaced 1", run.Summary())
		}
		want[1] = "s7|" + start + "|" + d1 + "T12:00:00.000000Z|5|t2.ndjson|1|" + d1
		diffStrings(t, "conversations", column(t, d.lake, convRow), want)
	})

	t.Run("channels: the last record in file order wins", func(t *testing.T) {
		d := newDataDir(t)
		chRow := `SELECT name, source_file, source_line FROM {channels}`
		d.writeLines(t, "ch-b.ndjson", line(channel(), "name", "first"), line(channel(), "name", "B"))
		d.extract(t)
		d.writeLines(t, "ch-a.ndjson", line(channel(), "name", "A"))
		run := d.extract(t)
		if run.Loaded.Channels != 0 || run.Superseded != 1 {
			t.Errorf("run: %s; want loaded 0, superseded 1", run.Summary())
		}
		diffStrings(t, "channels", column(t, d.lake, chRow), []string{"B|ch-b.ndjson|2"})
		d.writeLines(t, "ch-c.ndjson", line(channel(), "name", "C", "channelType.image", ""))
		d.extract(t)
		diffStrings(t, "channels", column(t, d.lake, chRow), []string{"C|ch-c.ndjson|1"})
	})

	t.Run("a bad record never supersedes a good one", func(t *testing.T) {
		d := newDataDir(t)
		d.writeLines(t, "g1.ndjson",
			conv("s1", d1+"T10:00:00Z", d1+"T10:05:00Z", "satisfaction", 2),
			msg("m1", d1+"T10:00:00Z"))
		d.extract(t)
		d.writeLines(t, "g0.ndjson",
			msg("m1", d1+"T10:00:00Z", "type", "STICKER"),                   // bad, in an earlier file
			conv("s1", d1+"T10:00:00Z", d1+"T23:00:00Z", "satisfaction", 9)) // bad, newer
		d.writeLines(t, "g2.ndjson",
			conv("s1", d1+"T10:00:00Z", d1+"T23:00:00Z", "userId", ""))
		run := d.extract(t)
		if run.Quarantined != 3 || run.Loaded != (Counts{}) || run.Replaced != 0 {
			t.Errorf("run: %s; want 3 quarantined, nothing loaded", run.Summary())
		}
		diffStrings(t, "conversations", column(t, d.lake, convRow), []string{
			"s1|" + d1 + "T10:00:00Z|" + d1 + "T10:05:00.000000Z|2|g1.ndjson|1|" + d1})
		diffStrings(t, "messages", column(t, d.lake, msgRow), []string{
			"m1|" + d1 + "T10:00:00.000000Z|Qual o horário?|g1.ndjson|2|" + d1})
	})
}

func TestLineHandling(t *testing.T) {
	const day = "2026-01-05T10:00:00Z"
	m := func(id string) string { return msg(id, day) }
	badLine := `{"kind": "event", "x": 1}`
	long := msg("long", day, "content", strings.Repeat("ação ", 40000)) // 280 KB on one line
	// Over 4 MB of lines: the file is read in several chunks.
	var big strings.Builder
	for i := 1; i <= 24000; i++ {
		if i == 23999 {
			big.WriteString(badLine + "\n")
			continue
		}
		big.WriteString(msg(fmt.Sprintf("big-%05d", i), day) + "\n")
	}
	huge := msg("huge", day, "content", strings.Repeat("x", 5<<20)) // one line longer than a read chunk
	u2028 := strings.Replace(msg("sep", day, "content", "a\u2028b"), `\u2028`, "\u2028", 1)

	cases := []struct {
		name      string
		files     map[string]string
		read      []string // the landing files read (default: every file given)
		lines     int64
		loaded    []string // message rows as file:line (nil with checkLake: checkLake checks them)
		bad       []string // file:line:raw
		checkLake func(t *testing.T, lake string)
	}{
		{name: "CRLF line ends", files: map[string]string{"crlf.ndjson": m("a") + "\r\n" + badLine + "\r\n" + m("b") + "\r\n"},
			lines: 3, loaded: []string{"crlf.ndjson:1", "crlf.ndjson:3"}, bad: []string{"crlf.ndjson:2:" + badLine}},
		{name: "CR inside a line is not a line end", files: map[string]string{"cr.ndjson": m("a") + "\r" + m("b") + "\n" + m("c") + "\n"},
			lines: 2, loaded: []string{"cr.ndjson:2"}, bad: []string{"cr.ndjson:1:" + m("a") + "\r" + m("b")}},
		{name: "last line without final newline", files: map[string]string{"a.ndjson": m("a") + "\n" + m("b"), "b.jsonl": m("c") + "\n" + badLine},
			lines: 4, loaded: []string{"a.ndjson:1", "a.ndjson:2", "b.jsonl:1"}, bad: []string{"b.jsonl:2:" + badLine}},
		{name: "last line without final newline, CRLF before", files: map[string]string{"a.ndjson": m("a") + "\r\n" + badLine + "\r"},
			lines: 2, loaded: []string{"a.ndjson:1"}, bad: []string{"a.ndjson:2:" + badLine}},
		{name: "blank and whitespace-only lines are skipped but numbered",
			files: map[string]string{"blank.ndjson": "\n   \t\n" + m("a") + "\n\r\n \t\r\n" + m("b") + "\n\n" + badLine + "\n\n\n"},
			lines: 3, loaded: []string{"blank.ndjson:3", "blank.ndjson:6"}, bad: []string{"blank.ndjson:8:" + badLine}},
		{name: "only blank lines", files: map[string]string{"blank.ndjson": "\n\n \r\n\t\n"}, lines: 0},
		{name: "a line over 200 KB", files: map[string]string{"long.ndjson": m("a") + "\n" + long + "\n" + m("b") + "\n"},
			lines: 3, loaded: []string{"long.ndjson:1", "long.ndjson:2", "long.ndjson:3"},
			checkLake: func(t *testing.T, lake string) {
				if n := countRows(t, lake, "SELECT length(content) FROM {messages} WHERE message_id = 'long'"); n != 200000 {
					t.Errorf("long content has %d characters, want 200000", n)
				}
			}},
		{name: "a 5 MB line", files: map[string]string{"huge.jsonl.gz": m("a") + "\n" + huge + "\n" + badLine + "\n"},
			lines: 3, loaded: []string{"huge.jsonl.gz:1", "huge.jsonl.gz:2"}, bad: []string{"huge.jsonl.gz:3:" + badLine},
			checkLake: func(t *testing.T, lake string) {
				if n := countRows(t, lake, "SELECT length(content) FROM {messages} WHERE message_id = 'huge'"); n != 5<<20 {
					t.Errorf("huge content has %d characters, want %d", n, 5<<20)
				}
			}},
		{name: "line numbers across read chunks", files: map[string]string{"big.ndjson": big.String() + m("after")},
			lines: 24001, bad: []string{"big.ndjson:23999:" + badLine},
			checkLake: func(t *testing.T, lake string) {
				got := column(t, lake, `SELECT message_id, source_line FROM {messages}
					WHERE source_line <> CAST(substr(message_id, 5) AS BIGINT) AND message_id <> 'after'`)
				if len(got) != 0 {
					t.Errorf("messages with a line number that is not theirs: %q", got[:min(len(got), 5)])
				}
				if got := column(t, lake, `SELECT count(*), max(source_line) FILTER (WHERE message_id = 'after') FROM {messages}`); got[0] != "24000|24001" {
					t.Errorf("count, line of the last: %s; want 24000|24001", got[0])
				}
			}},
		{name: "gzip files", files: map[string]string{"sub/x.jsonl.gz": m("a") + "\n\n" + badLine + "\r\n" + m("b"), "y.ndjson.gz": m("c") + "\n"},
			lines: 4, loaded: []string{"sub/x.jsonl.gz:1", "sub/x.jsonl.gz:4", "y.ndjson.gz:1"}, bad: []string{"sub/x.jsonl.gz:3:" + badLine}},
		{name: "empty files", files: map[string]string{"e.ndjson": "", "e.jsonl.gz": "", "f.jsonl": m("a") + "\n"},
			lines: 1, loaded: []string{"f.jsonl:1"}},
		{name: "an empty file alone", files: map[string]string{"e.ndjson": ""}, lines: 0},
		{name: "suffixes are case-sensitive", files: map[string]string{"A.NDJSON": m("a") + "\n" + badLine, "b.Jsonl": badLine,
			"c.ndjson.GZ": badLine, "d.json": badLine, "e.ndjson.bak": badLine, "f.txt": badLine, "g.ndjson": m("g") + "\n"},
			read: []string{"g.ndjson"}, lines: 1, loaded: []string{"g.ndjson:1"}},
		{name: "U+2028 inside a string is not a line break", files: map[string]string{"u.ndjson": u2028 + "\n" + m("b") + "\n"},
			lines: 2, loaded: []string{"u.ndjson:1", "u.ndjson:2"},
			checkLake: func(t *testing.T, lake string) {
				if got := column(t, lake, "SELECT content FROM {messages} WHERE message_id = 'sep'"); len(got) != 1 || got[0] != "a\u2028b" {
					t.Errorf("content %q", got)
				}
			}},
		{name: "subdirectories keep their path", files: map[string]string{"2026/01/x.ndjson": badLine + "\n" + m("a") + "\n"},
			lines: 2, loaded: []string{"2026/01/x.ndjson:2"}, bad: []string{"2026/01/x.ndjson:1:" + badLine}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDataDir(t)
			var names []string
			for name, data := range tc.files {
				d.write(t, name, []byte(data))
				names = append(names, name)
			}
			if tc.read != nil {
				names = tc.read
			}
			run := d.extract(t)
			if run.Files != len(names) || run.FilesSeen != len(names) {
				t.Errorf("files read %d, seen %d; want %d", run.Files, run.FilesSeen, len(names))
			}
			if run.Lines != tc.lines {
				t.Errorf("lines = %d, want %d", run.Lines, tc.lines)
			}
			if run.Quarantined != int64(len(tc.bad)) {
				t.Errorf("quarantined = %d, want %d", run.Quarantined, len(tc.bad))
			}
			if tc.loaded != nil || tc.checkLake == nil {
				var got []string
				if m, _ := filepath.Glob(filepath.Join(d.lake, MessagesDir, "*", "*.parquet")); len(m) > 0 {
					got = column(t, d.lake, "SELECT source_file || ':' || source_line AS k FROM {messages} ORDER BY k")
				}
				want := append([]string{}, tc.loaded...)
				sort.Strings(want)
				diffStrings(t, "loaded lines", got, want)
			}
			wantBad := append([]string{}, tc.bad...)
			sort.Strings(wantBad)
			diffStrings(t, "quarantined lines", badKeys(readQuarantine(t, d.quarantine)), wantBad)
			if tc.checkLake != nil {
				tc.checkLake(t, d.lake)
			}
		})
	}
}

func TestCompact(t *testing.T) {
	const day = "2026-01-05"
	d := newDataDir(t)
	d.writeLines(t, "a.ndjson", msg("m1", day+"T10:00:00Z"), msg("m2", "2026-01-06T10:00:00Z"),
		conv("s1", day+"T10:00:00Z", day+"T10:00:00Z"))
	d.extract(t)
	d.writeLines(t, "b.ndjson", msg("m3", day+"T09:00:00Z"), msg("m4", day+"T11:00:00Z"),
		conv("s2", day+"T08:00:00Z", day+"T08:00:00Z"))
	d.extract(t)
	for _, ds := range []string{MessagesDir, ConversationsDir} {
		if files, _ := filepath.Glob(filepath.Join(d.lake, ds, "date="+day, "*.parquet")); len(files) != 2 {
			t.Fatalf("%s/date=%s has %d files after two appends, want 2", ds, day, len(files))
		}
	}
	before := dumpAll(t, d.lake)
	res, err := Compact(context.Background(), d.lake, "1GB", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Partitions != 2 || res.FilesIn != 4 {
		t.Errorf("compact: %+v; want 2 partitions from 4 files", res)
	}
	for _, ds := range []string{MessagesDir, ConversationsDir} {
		parts, _ := filepath.Glob(filepath.Join(d.lake, ds, "date=*"))
		for _, p := range parts {
			if files, _ := filepath.Glob(filepath.Join(p, "*.parquet")); len(files) != 1 {
				t.Errorf("%s has %d files after compaction", p, len(files))
			}
		}
	}
	after := dumpAll(t, d.lake)
	for _, ds := range []string{"messages", "conversations", "channels"} {
		diffStrings(t, ds+" after compaction", after[ds], before[ds])
	}
	// Sorted by tenant and time.
	if got := column(t, d.lake, "SELECT message_id FROM read_parquet('"+filepath.Join(d.lake, MessagesDir, "date="+day, "*.parquet")+"')"); strings.Join(got, ",") != "m3,m1,m4" {
		t.Errorf("compacted partition rows in order %v, want m3,m1,m4", got)
	}
	// Nothing left to compact; extracts go on as before.
	if res, err := Compact(context.Background(), d.lake, "1GB", nil); err != nil || res.Partitions != 0 {
		t.Errorf("second compact: %+v, %v", res, err)
	}
	if run := d.extract(t); run.Files != 0 {
		t.Errorf("extract after compaction read %d files", run.Files)
	}
	d.writeLines(t, "c.ndjson", msg("m1", day+"T12:00:00Z"), msg("m5", day+"T12:00:00Z"))
	if run := d.extract(t); run.Loaded.Messages != 1 || run.Duplicates != 1 {
		t.Errorf("extract after compaction: %s", run.Summary())
	}
	if n := countRows(t, d.lake, "SELECT count(*) FROM {messages}"); n != 5 {
		t.Errorf("%d messages, want 5", n)
	}
}

// TestCorruptGzip: a damaged .gz file loads the lines before the damage and quarantines
// one entry for the rest; the other files load, and the run's lines still add up.
func TestCorruptGzip(t *testing.T) {
	const day = "2026-01-05T10:00:00Z"
	var plain strings.Builder
	for i := range 2000 {
		plain.WriteString(msg(fmt.Sprintf("z-%04d", i), day, "content", strings.Repeat(fmt.Sprint(i), 40)) + "\n")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(plain.String()))
	zw.Close()
	d := newDataDir(t)
	cut := gz.Bytes()[:gz.Len()/2]
	if err := os.WriteFile(filepath.Join(d.landing, "cut.ndjson.gz"), cut, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.landing, "plain.ndjson.gz"), []byte(msg("p", day)+"\n"), 0o644); err != nil {
		t.Fatal(err) // not gzip at all
	}
	d.writeLines(t, "ok.ndjson", msg("ok", day))
	run := d.extract(t)
	q := readQuarantine(t, d.quarantine)
	if len(q) != 2 {
		t.Fatalf("quarantine %v, want one entry per damaged file", badKeys(q))
	}
	byFile := map[string]QuarantineEntry{}
	for _, e := range q {
		byFile[e.File] = e
	}
	loaded := countRows(t, d.lake, "SELECT count(*) FROM {messages} WHERE source_file = 'cut.ndjson.gz'")
	if e := byFile["cut.ndjson.gz"]; loaded == 0 || loaded >= 2000 || e.Line != loaded+1 ||
		!strings.HasPrefix(e.Reason, fmt.Sprintf("file: unreadable after line %d:", loaded)) {
		t.Errorf("cut.ndjson.gz: %d lines loaded, quarantine %+v", loaded, e)
	}
	if e := byFile["plain.ndjson.gz"]; e.Line != 1 || !strings.HasPrefix(e.Reason, "file: unreadable after line 0:") {
		t.Errorf("plain.ndjson.gz: quarantine %+v", e)
	}
	if n := countRows(t, d.lake, "SELECT count(*) FROM {messages} WHERE source_file = 'ok.ndjson'"); n != 1 {
		t.Errorf("ok.ndjson: %d rows", n)
	}
	if sum := run.Loaded.Messages + run.Duplicates + run.Superseded + run.Quarantined; run.Lines != sum {
		t.Errorf("lines %d != loaded %d + duplicates %d + superseded %d + quarantined %d", run.Lines, run.Loaded.Messages, run.Duplicates, run.Superseded, run.Quarantined)
	}
}

// TestGzipMembersAndPadding: a .gz file of several members loads every line, zero bytes
// after the last member end the file as they do for gzip(1), and anything after that
// padding is damage: the lines before it load, and one entry says so.
func TestGzipMembersAndPadding(t *testing.T) {
	day := "2026-01-05T10:00:00Z"
	member := func(ids ...string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		for _, id := range ids {
			zw.Write([]byte(msg(id, day) + "\n"))
		}
		zw.Close()
		return b.Bytes()
	}
	zeros := make([]byte, 4096)
	d := newDataDir(t)
	files := map[string][]byte{
		"members.ndjson.gz": bytes.Join([][]byte{member("m1", "m2"), member("m3")}, nil),
		"padded.ndjson.gz":  bytes.Join([][]byte{member("p1"), member("p2"), zeros}, nil),
		"garbage.ndjson.gz": bytes.Join([][]byte{member("g1"), zeros, []byte("junk")}, nil),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(d.landing, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := d.extract(t)
	q := readQuarantine(t, d.quarantine)
	if len(q) != 1 || q[0].File != "garbage.ndjson.gz" || q[0].Line != 2 ||
		!strings.HasPrefix(q[0].Reason, "file: unreadable after line 1:") {
		t.Fatalf("quarantine %+v, want one entry for garbage.ndjson.gz after its line 1", q)
	}
	for file, want := range map[string]int64{"members.ndjson.gz": 3, "padded.ndjson.gz": 2, "garbage.ndjson.gz": 1} {
		if n := countRows(t, d.lake, "SELECT count(*) FROM {messages} WHERE source_file = '"+file+"'"); n != want {
			t.Errorf("%s: %d rows, want %d", file, n, want)
		}
	}
	if run.Lines != 7 || run.Quarantined != 1 {
		t.Errorf("lines %d, quarantined %d; want 7 and 1", run.Lines, run.Quarantined)
	}
}

// An instant written as year 0001 with a positive offset is, in UTC, a day of year 0 (1 BC).
// DuckDB names that day "0001-12-31 (BC)": the partition directory is no date, the lake's
// hive column "date" turns VARCHAR, and every later merge that replaces a row fails. Such a
// line must be quarantined (as "0000-12-31T23:30:00Z" is) and the lake must keep working.
func TestExtractTimeOutsideYears1To9999(t *testing.T) {
	d := newDataDir(t)
	d.writeLines(t, "a.ndjson",
		conv("s1", "0001-01-01T00:30:00+01:00", "0001-01-01T00:30:00+01:00"),
		msg("m1", "9999-12-31T23:30:00-01:00"),
		conv("s2", "2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z"),
		conv("s3", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
		msg("m2", "9999-12-31T23:59:59.999999Z"))
	run := d.extract(t)
	if run.Quarantined != 2 {
		t.Errorf("quarantined %d lines, want 2 (the instants before 0001-01-01 and after 9999-12-31 in UTC)", run.Quarantined)
	}
	d.writeLines(t, "b.ndjson", conv("s2", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"))
	d.extract(t)
	for _, ds := range []string{MessagesDir, ConversationsDir} {
		parts, _ := filepath.Glob(filepath.Join(d.lake, ds, "date=*"))
		for _, p := range parts {
			if _, err := time.Parse("2006-01-02", strings.TrimPrefix(filepath.Base(p), "date=")); err != nil {
				t.Errorf("partition %s is not a date", p)
			}
		}
	}
}

func TestExtractKeysAreScopedByTenant(t *testing.T) {
	const otherBot = "8b389064-4f3d-4e7b-b7d7-2e4af6978770"
	d := newDataDir(t)
	d.writeLines(t, "a.ndjson",
		msg("m1", "2026-01-06T10:00:00Z", "content", "first"),
		msg("m1", "2026-01-05T10:00:00Z", "content", "second, on an earlier day"),
		msg("m1", "2026-01-05T10:00:00Z", "botUuid", otherBot, "content", "other bot"),
		msg("m1", "2026-01-05T10:00:00Z", "botUuid", strings.ToUpper(otherBot), "content", "other bot, again"),
		conv("s1", "2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z"),
		conv("s1", "2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z", "botUuid", otherBot),
		line(channel(), "name", "A"),
		line(channel(), "name", "B", "botUuid", otherBot))
	run := d.extract(t)
	if run.Loaded != (Counts{Messages: 2, Conversations: 2, Channels: 2}) || run.Duplicates != 2 {
		t.Errorf("run: %s", run.Summary())
	}
	diffStrings(t, "messages", column(t, d.lake, `SELECT bot_uuid, message_id, content, source_line, CAST("date" AS VARCHAR) FROM {messages} ORDER BY ALL`), []string{
		otherBot + "|m1|other bot|3|2026-01-05",
		tBot + "|m1|first|1|2026-01-06",
	})
	if n := countRows(t, d.lake, "SELECT count(*) FROM {conversations}"); n != 2 {
		t.Errorf("%d conversations, want 2", n)
	}
	diffStrings(t, "channels", column(t, d.lake, "SELECT bot_uuid, name FROM {channels} ORDER BY name"), []string{tBot + "|A", otherBot + "|B"})
}

func TestLandingFileRewritten(t *testing.T) {
	d := newDataDir(t)
	const day = "2026-01-05T10:00:00Z"
	bad := msg("m9", day, "type", "STICKER")
	d.writeLines(t, "f.ndjson", msg("m1", day), bad, msg("m2", day))
	d.extract(t)
	diffStrings(t, "quarantine", badKeys(readQuarantine(t, d.quarantine)), []string{"f.ndjson:2:" + bad})

	// The producer fixes the bad line and appends one: the file is read again.
	d.writeLines(t, "f.ndjson", msg("m1", day), msg("m3", day), msg("m2", day), msg("m4", day))
	run := d.extract(t)
	if run.Files != 1 || run.Loaded.Messages != 2 || run.Duplicates != 2 || run.Quarantined != 0 {
		t.Errorf("run: %s; want 1 file, 2 loaded, 2 duplicates", run.Summary())
	}
	diffStrings(t, "messages", column(t, d.lake, "SELECT message_id || ':' || source_line FROM {messages} ORDER BY 1"),
		[]string{"m1:1", "m2:3", "m3:2", "m4:4"})
	if q := readQuarantine(t, d.quarantine); len(q) != 0 {
		t.Errorf("stale quarantine entries: %v", badKeys(q))
	}
}

func TestExtractTakesTheLakeLock(t *testing.T) {
	d := newDataDir(t)
	d.writeLines(t, "a.ndjson", msg("m1", "2026-01-05T10:00:00Z"))
	unlock, err := newLake(d.lake).lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(context.Background(), Options{LandingDir: d.landing, LakeDir: d.lake, QuarantineDir: d.quarantine}); err == nil {
		t.Error("extract ran while another held the lake's lock")
	}
	if _, err := Compact(context.Background(), d.lake, "1GB", nil); err == nil {
		t.Error("compact ran while another held the lake's lock")
	}
	unlock()
	if run := d.extract(t); run.Loaded.Messages != 1 {
		t.Errorf("run: %s", run.Summary())
	}
}

// TestPathNotUTF8: a landing file whose path is not UTF-8 cannot be named in the lake or
// in JSON: it is quarantined whole, once, and every other file loads.
func TestPathNotUTF8(t *testing.T) {
	const day = "2026-01-05T10:00:00Z"
	d := newDataDir(t)
	d.writeLines(t, "ok.ndjson", msg("ok", day))
	d.writeLines(t, "bin\xff.ndjson", "bad", msg("m-bin", day))
	if err := os.MkdirAll(filepath.Join(d.landing, "dir\xfe"), 0o755); err != nil {
		t.Fatal(err)
	}
	d.writeLines(t, "dir\xfe/x.ndjson", msg("m-dir", day))
	// Names that show alike: each keeps its own quarantine entry.
	d.writeLines(t, "a\xff.ndjson", msg("m-a1", day))
	d.writeLines(t, "a\xfe.ndjson", msg("m-a2", day))
	d.writeLines(t, "a\uFFFD.ndjson", msg("m-a3", day)) // valid UTF-8, loads, quarantines nothing
	run := d.extract(t)
	if n := countRows(t, d.lake, "SELECT count(*) FROM {messages}"); n != 2 {
		t.Errorf("%d messages in the lake, want those of ok.ndjson and a\uFFFD.ndjson", n)
	}
	q := readQuarantine(t, d.quarantine)
	if len(q) != 4 {
		t.Fatalf("quarantine %+v, want one entry per misnamed file", q)
	}
	for _, e := range q {
		if !utf8.ValidString(e.File) || e.Line != 1 || !strings.HasPrefix(e.Reason, "file: the path is not valid UTF-8") {
			t.Errorf("entry %+v", e)
		}
	}
	if run.Files != 6 || run.Lines != 6 || run.Quarantined != 4 || run.Loaded.Messages != 2 {
		t.Errorf("run %+v: want 6 files, 6 lines (one per misnamed file), 4 quarantined, 2 loaded", run)
	}
	if again := d.extract(t); again.Files != 0 || again.Lines != 0 {
		t.Errorf("second run read %d files, %d lines: want nothing new", again.Files, again.Lines)
	}
	// Renamed, the file loads like any new file.
	if err := os.Rename(filepath.Join(d.landing, "bin\xff.ndjson"), filepath.Join(d.landing, "bin.ndjson")); err != nil {
		t.Fatal(err)
	}
	if run := d.extract(t); run.Loaded.Messages != 1 || run.Quarantined != 1 {
		t.Errorf("renamed file: %+v, want its message loaded and its bad line quarantined", run)
	}
	// Its placeholder entry is gone: each line is in the lake or in quarantine, not both.
	for _, e := range readQuarantine(t, d.quarantine) {
		if strings.HasPrefix(e.File, "bin") && e.File != "bin.ndjson" {
			t.Errorf("stale entry of the renamed file: %+v", e)
		}
	}
}

// TestMisnamedAliasDoesNotHideAFile: a file reached by a name that is not UTF-8 and by
// one that is loads under the one that is, even when the other sorts first.
func TestMisnamedAliasDoesNotHideAFile(t *testing.T) {
	d := newDataDir(t)
	d.writeLines(t, "B.ndjson", msg("m-b", "2026-01-05T10:00:00Z"))
	if err := os.Symlink("B.ndjson", filepath.Join(d.landing, "A\xff.ndjson")); err != nil {
		t.Fatal(err)
	}
	if run := d.extract(t); run.Files != 1 || run.Loaded.Messages != 1 || run.Quarantined != 0 {
		t.Errorf("run %+v: want B.ndjson read once and loaded", run)
	}
}

// A group that holds more than its budget merges what it holds and reads on. With a
// budget of one byte and 7-row batches, every batch is merged on its own; the lake, the
// quarantine and the counts must be those of one merge per group.
func TestExtractDrainsWhenFull(t *testing.T) {
	run := func(held int64, rows int) (dataDir, *Run) {
		d := newDataDir(t)
		copyTree(t, filepath.Join(examplesDir, "landing"), d.landing)
		// Late and duplicate records of the examples' days, in a later file.
		d.writeLines(t, "zz-late.ndjson",
			msg("late-1", "2026-03-02T10:00:00Z"), msg("late-1", "2026-03-03T10:00:00Z"),
			conv("late-s", "2026-03-02T10:00:00Z", "2026-03-02T10:05:00Z"),
			conv("late-s", "2026-03-02T10:00:00Z", "2026-03-02T10:01:00Z"))
		r, err := Extract(context.Background(), Options{LandingDir: d.landing, LakeDir: d.lake,
			QuarantineDir: d.quarantine, Workers: 2, MemoryLimit: "1GB", HeldBytes: held, BatchRows: rows})
		if err != nil || r.Status != "DONE" {
			t.Fatalf("extract: %v %+v", err, r)
		}
		return d, r
	}
	whole, wr := run(0, 0)
	drained, dr := run(1, 7)
	if dr.Partitions <= wr.Partitions {
		t.Errorf("the drained run wrote %d partitions, the whole one %d: it did not drain", dr.Partitions, wr.Partitions)
	}
	if wr.Lines != dr.Lines || wr.Loaded != dr.Loaded || wr.Duplicates != dr.Duplicates ||
		wr.Superseded != dr.Superseded || wr.Quarantined != dr.Quarantined || wr.Replaced != dr.Replaced {
		t.Errorf("counts differ:\nwhole   %s\ndrained %s", wr.Summary(), dr.Summary())
	}
	if got := dr.Loaded.Messages + dr.Loaded.Conversations + dr.Loaded.Channels + dr.Duplicates + dr.Superseded + dr.Quarantined; got != dr.Lines {
		t.Errorf("drained: lake rows + duplicates + superseded + quarantined = %d, lines %d", got, dr.Lines)
	}
	w, d := dumpAll(t, whole.lake), dumpAll(t, drained.lake)
	for _, ds := range []string{"messages", "conversations", "channels"} {
		diffStrings(t, ds, d[ds], w[ds])
	}
	qw, qd := readQuarantine(t, whole.quarantine), readQuarantine(t, drained.quarantine)
	if len(qw) == 0 || fmt.Sprint(qw) != fmt.Sprint(qd) {
		t.Errorf("quarantine differs or is empty: %d entries whole, %d drained", len(qw), len(qd))
	}
}

// failingReader reads ok bytes of r, then fails as a disk does.
type failingReader struct {
	r  io.ReadCloser
	ok int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.ok <= 0 {
		return 0, &fs.PathError{Op: "read", Path: "disk", Err: syscall.EIO}
	}
	n, err := f.r.Read(p[:min(len(p), f.ok)])
	f.ok -= n
	return n, err
}

func (f *failingReader) Close() error { return f.r.Close() }

// TestUnreadableFileIsReadAgain: a landing file the system will not let the run read
// (open refused, an I/O error midway) is not recorded as loaded, and its quarantine keeps
// what its last whole reading found: the run loads everything else (and what it read of
// that file), fails naming it, and the next run reads it whole; what the first run read
// of it is then a duplicate of itself. A file removed between discovery and reading is
// skipped quietly.
func TestUnreadableFileIsReadAgain(t *testing.T) {
	day := "2026-01-05T10:00:00Z"
	d := newDataDir(t)
	d.writeLines(t, "a-refused.ndjson", msg("r1", day), "not json")
	d.extract(t) // read whole once: one bad line in quarantine
	d.writeLines(t, "a-refused.ndjson", msg("r1", day), "not json", msg("r2", day))
	var midway []string
	for i := range 200 {
		midway = append(midway, msg(fmt.Sprintf("e%03d", i), day))
	}
	midway[49] = strings.Replace(midway[49], `"USER"`, `"SIDEWAYS"`, 1) // line 50: bad, and read before the error
	d.writeLines(t, "b-eio.ndjson", midway...)
	d.writeLines(t, "c-gone.ndjson", msg("g1", day))
	d.writeLines(t, "d-ok.ndjson", msg("ok", day), "not json")
	open := func(path string) (io.ReadCloser, error) {
		switch filepath.Base(path) {
		case "a-refused.ndjson":
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
		case "c-gone.ndjson":
			return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}
		case "b-eio.ndjson":
			f, err := os.Open(path)
			ok := 0
			for _, l := range midway[:100] {
				ok += len(l) + 1
			}
			return &failingReader{r: f, ok: ok}, err // 100 lines, then EIO
		}
		return os.Open(path)
	}
	run, err := Extract(context.Background(), Options{LandingDir: d.landing, LakeDir: d.lake, QuarantineDir: d.quarantine, Workers: 2, MemoryLimit: "1GB",
		Open: open})
	var unread *UnreadError
	if !errors.As(err, &unread) || len(unread.Files) != 2 || run.Status != "FAILED" || len(run.Unread) != 2 ||
		!strings.HasPrefix(run.Unread[0], "a-refused.ndjson: ") || !strings.HasPrefix(run.Unread[1], "b-eio.ndjson: ") ||
		!strings.Contains(run.Summary(), " unread=2 ") {
		t.Fatalf("first run: %v; %+v", err, run)
	}
	if n := countRows(t, d.lake, "SELECT count(*) FROM {messages}"); n != 1+99+1 { // r1, b's good lines of 100, ok
		t.Errorf("after the first run: %d messages, want 101", n)
	}
	quarantined := func() map[string][]int64 {
		out := map[string][]int64{}
		for _, e := range readQuarantine(t, d.quarantine) {
			out[e.File] = append(out[e.File], e.Line)
		}
		return out
	}
	if q := quarantined(); fmt.Sprint(q) != "map[a-refused.ndjson:[2] d-ok.ndjson:[2]]" {
		t.Errorf("quarantine %v: want a-refused's of its last whole reading, and d-ok's", q)
	}
	if sum := run.Loaded.Messages + run.Duplicates + run.Superseded + run.Quarantined; run.Lines != sum || run.Lines != 101 || run.Quarantined != 1 {
		t.Errorf("lines %d, loaded %d + duplicates %d + superseded %d + quarantined %d; want 101 lines, 1 quarantined",
			run.Lines, run.Loaded.Messages, run.Duplicates, run.Superseded, run.Quarantined)
	}

	// Fixed (and the "gone" file back, as if it landed again): the three are read whole.
	run = d.extract(t)
	if run.Files != 3 || run.Lines != 204 || run.Loaded.Messages != 102 || run.Duplicates != 100 || run.Quarantined != 2 {
		t.Errorf("second run read %d files, %d lines: loaded %d, duplicates %d, quarantined %d; want 3, 204, 102, 100, 2",
			run.Files, run.Lines, run.Loaded.Messages, run.Duplicates, run.Quarantined)
	}
	if n := countRows(t, d.lake, "SELECT count(*) FROM {messages}"); n != 203 {
		t.Errorf("after the second run: %d messages, want 203", n)
	}
	if q := quarantined(); fmt.Sprint(q) != "map[a-refused.ndjson:[2] b-eio.ndjson:[50] d-ok.ndjson:[2]]" {
		t.Errorf("quarantine after the second run %v", q)
	}
	if run := d.extract(t); run.Files != 0 {
		t.Errorf("third run read %d files, want none", run.Files)
	}
}
