package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dashboard")
	cmd := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", bin, "./cmd/dashboard")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	return cmd
}

func mustRun(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dashboard %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dumpWarehouse renders every summary and fact table, sorted, as text.
func dumpWarehouse(t *testing.T, dir string) string {
	t.Helper()
	db, err := duck.Open(context.Background(), duck.Options{Path: filepath.Join(dir, "warehouse", "warehouse.duckdb"), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, tb := range []string{"channels", "message_traffic", "conversation_traffic", "user_activity", "intent_counts", "flow_counts",
		"messages", "conversations", "conversation_facts", "message_answers", "session_lookup"} {
		rows := tableRows(t, db.SQL, tb)
		for _, r := range rows {
			fmt.Fprintln(&b, tb, r)
		}
		if len(rows) == 0 && tb != "message_answers" {
			t.Fatalf("table %s is empty", tb)
		}
	}
	return b.String()
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
}

// TestRollupSurvivesKill kills `dashboard rollup` with SIGKILL at random points; the
// rollup that finally completes leaves the same tables as an uninterrupted one.
func TestRollupSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	bin := buildBinary(t)
	root := t.TempDir()
	d := filepath.Join(root, "killed")
	mustRun(t, bin, "generate", "--data-dir", d, "--messages", "20000", "--days", "20", "--start", "2026-02-01", "--seed", "7", "--log-level", "error")
	mustRun(t, bin, "extract", "--data-dir", d, "--log-level", "error")
	ref := filepath.Join(root, "reference")
	copyDir(t, d, ref)
	mustRun(t, bin, "rollup", "--data-dir", ref, "--log-level", "error")
	want := dumpWarehouse(t, ref)

	rng := rand.New(rand.NewPCG(11, 12))
	killed := 0
	for i := 0; i < 8; i++ {
		cmd := command(bin, "rollup", "--data-dir", d, "--log-level", "error")
		if i%3 == 2 {
			cmd.Args = append(cmd.Args, "--full")
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(time.Duration(20+rng.IntN(600)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed++
		}
	}
	t.Logf("%d of 8 rollups killed mid-run", killed)
	mustRun(t, bin, "rollup", "--data-dir", d, "--log-level", "error")
	if got := dumpWarehouse(t, d); got != want {
		t.Fatalf("the warehouse after killed rollups differs from an uninterrupted rollup")
	}
	// The rollups are in the run records: the finished ones DONE (a kill may come after
	// the record, while the process closes), a killed one that had started its record
	// FAILED (marked by the next rollup), none left RUNNING.
	out := mustRun(t, bin, "jobs", "--data-dir", d, "--log-level", "error")
	done, failed := strings.Count(out, " DONE "), strings.Count(out, " FAILED ")
	if done < 9-killed || done+failed > 9 || failed > killed || strings.Contains(out, "RUNNING") || !strings.Contains(out, " cli ") {
		t.Errorf("dashboard jobs after %d killed rollups of 9:\n%s", killed, out)
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startServe(t *testing.T, bin, dir, addr string, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := command(bin, append([]string{"serve", "--no-auth", "--data-dir", dir, "--addr", addr, "--log-level", "error"}, extra...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // unless the test stopped it and waited
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatal("serve did not come up")
	return nil
}

// bigTenant is the large bot of the generated data sets.
const bigTenant = "/org/e0292f69-f65b-44e6-9037-8c46e74a8abd/env/73259740-7753-4fb8-9a4d-c8f7300d020d/bot/a8a3385b-3db2-486b-963c-b5df91911239"

// reportData is a data dir of 60k generated messages, extracted and rolled up by bin.
func reportData(t *testing.T, bin, seed string) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "data")
	mustRun(t, bin, "generate", "--data-dir", d, "--messages", "60000", "--days", "20", "--start", "2026-02-01", "--seed", seed, "--log-level", "error")
	mustRun(t, bin, "extract", "--data-dir", d, "--log-level", "error")
	mustRun(t, bin, "rollup", "--data-dir", d, "--log-level", "error")
	return d
}

// requestReport asks for a messages report of the big tenant: 202 or the test fails.
func requestReport(t *testing.T, addr, body string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+bigTenant+"/messages/request_report", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("request_report: %v %v", err, resp)
	}
	resp.Body.Close()
}

// listReports is the big tenant's first 100 reports.
func listReports(t *testing.T, addr string) []reportItem {
	t.Helper()
	resp, err := http.Get("http://" + addr + bigTenant + "/reports/list?size=100")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ Content []reportItem }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return page.Content
}

// TestReportsSurviveKill kills the serving process (SIGKILL) right after report
// requests; after a restart every report is DONE and every file is whole.
func TestReportsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	bin := buildBinary(t)
	d := reportData(t, bin, "8")
	rng := rand.New(rand.NewPCG(5, 6))
	requested := 0
	for round := 0; round < 3; round++ {
		addr := freePort(t)
		srv := startServe(t, bin, d, addr)
		for _, body := range []string{
			`{"startDate":"2026-02-01","endDate":"2026-02-20","reportType":"LATEST","sampleSize":10000,"exportType":"xlsx"}`,
			`{"startDate":"2026-02-01","endDate":"2026-02-20","reportType":"RANDOM","sampleSize":10000}`,
			`{"startDate":"2026-02-01","endDate":"2026-02-20","reportType":"GROUPED","sampleSize":10000,"exportType":"parquet"}`,
		} {
			requestReport(t, addr, body)
			requested++
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		srv.Process.Signal(syscall.SIGKILL)
		srv.Wait()
	}
	addr := freePort(t)
	srv := startServe(t, bin, d, addr)
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	var items []reportItem
	deadline := time.Now().Add(60 * time.Second)
	for {
		content := listReports(t, addr)
		done := 0
		for _, it := range content {
			if it.Status == "DONE" {
				done++
			} else if it.Status == "FAILED" {
				t.Fatalf("report %s FAILED: %v", it.FileName, *it.Error)
			}
		}
		if len(content) == requested && done == requested {
			items = content
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: %d reports, %d done, want %d done", len(content), done, requested)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, it := range items {
		resp, err := http.Get("http://" + addr + it.FileURL)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("download %s: %v %v", it.FileName, err, resp)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case strings.HasSuffix(it.FileName, ".csv"):
			rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Errorf("%s: %d rows, %v", it.FileName, len(rows), err)
			}
		case strings.HasSuffix(it.FileName, ".xlsx"):
			f, err := excelize.OpenReader(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: %v", it.FileName, err)
				continue
			}
			rows, _ := f.GetRows("Sheet1")
			if len(rows) < 2 {
				t.Errorf("%s: %d rows", it.FileName, len(rows))
			}
		case strings.HasSuffix(it.FileName, ".parquet"):
			if !bytes.HasPrefix(b, []byte("PAR1")) || !bytes.HasSuffix(b, []byte("PAR1")) {
				t.Errorf("%s is not a whole Parquet file", it.FileName)
			}
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(d, "reports", "*.tmp")); len(tmps) > 0 {
		t.Errorf("half-written files left: %v", tmps)
	}
}

// TestSigtermIsACleanStop: SIGTERM drains (CONTRACT §6). A report already RUNNING
// finishes, none starts after the signal (the queued ones stay PENDING for the next
// start), and the process exits 0; `dashboard run` stopped while it loads its demo
// data exits 0 too, and its demo token opens the demo at the next start.
func TestSigtermIsACleanStop(t *testing.T) {
	if testing.Short() {
		t.Skip("signals child processes")
	}
	bin := buildBinary(t)
	d := reportData(t, bin, "9")
	addr := freePort(t)
	srv := startServe(t, bin, d, addr, "--report-workers", "1")
	for range 3 {
		requestReport(t, addr, `{"startDate":"2026-02-01","endDate":"2026-02-20","reportType":"RANDOM","sampleSize":10000,"exportType":"xlsx"}`)
	}
	running := ""
	for deadline := time.Now().Add(20 * time.Second); running == "" && time.Now().Before(deadline); {
		for _, it := range listReports(t, addr) {
			if it.Status == "RUNNING" {
				running = it.FileName
			}
		}
	}
	if running == "" {
		t.Fatal("no report seen RUNNING")
	}
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
	db, err := duck.Open(context.Background(), duck.Options{Path: filepath.Join(d, "warehouse", "warehouse.duckdb"), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL.Query("SELECT file_name, status FROM reports")
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]string{}
	for rows.Next() {
		var name, status string
		rows.Scan(&name, &status)
		statuses[name] = status
	}
	rows.Close()
	db.Close()
	if statuses[running] != "DONE" {
		t.Errorf("the report running at SIGTERM is %s, want DONE (all: %v)", statuses[running], statuses)
	}
	for name, st := range statuses {
		if st != "DONE" && st != "PENDING" {
			t.Errorf("report %s is %s after a clean stop", name, st)
		}
	}

	// dashboard run, stopped during its first start (writing the demo data, or loading
	// it): exit 0; the next start serves the demo, with the token it prints and keeps.
	empty := filepath.Join(t.TempDir(), "empty")
	addr = freePort(t)
	run := command(bin, "run", "--data-dir", empty, "--addr", addr, "--demo-messages", "40000", "--log-level", "error")
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil {
		t.Fatalf("run stopped during start-up: %v", err)
	}
	var out bytes.Buffer
	run = command(bin, "run", "--data-dir", empty, "--addr", addr, "--demo-messages", "40000", "--log-level", "error")
	run.Stdout = &out
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	var summary answer
	for deadline := time.Now().Add(60 * time.Second); summary.status != 200 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		token, _ := os.ReadFile(filepath.Join(empty, "demo-token"))
		req, _ := http.NewRequest("GET", "http://"+addr+bigTenant+"/dashboard/summary", nil)
		req.Header.Set("Authorization", "Bearer "+string(bytes.TrimSpace(token)))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			summary.status = resp.StatusCode
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			json.Unmarshal(raw, &summary.body)
		}
	}
	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil {
		t.Errorf("run after SIGTERM: %v", err)
	}
	token, err := os.ReadFile(filepath.Join(empty, "demo-token"))
	if summary.status != 200 || at(summary.body, "hasData") != true || err != nil {
		t.Fatalf("the demo after a stopped start: status %d, %v, token file %v", summary.status, summary.body, err)
	}
	if !strings.Contains(out.String(), string(bytes.TrimSpace(token))) {
		t.Errorf("the start did not print the kept token: %s", out.String())
	}
	if !strings.Contains(out.String(), bigTenant+"/dashboard/summary") { // the busiest bot
		t.Errorf("the welcome's examples do not ask the busiest bot: %s", out.String())
	}

	// serve on the demo's data dir opens it with the same kept token.
	srv = startServe(t, bin, empty, addr, "--no-auth=false")
	if a := call(t, "GET", "http://"+addr+bigTenant+"/dashboard/summary",
		map[string]string{"Authorization": "Bearer " + string(bytes.TrimSpace(token))}); a.status != 200 {
		t.Errorf("serve with the demo's kept token: %d %s", a.status, a.raw)
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()
}

// TestLongRequestLineReachesTheRouter: a request line of 150 KB (4,000 channel UUIDs) is
// answered by the API, not refused by the HTTP server's header limit with a plain 431.
func TestLongRequestLineReachesTheRouter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	bin := buildBinary(t)
	d := reportData(t, bin, "11")
	addr := freePort(t)
	startServe(t, bin, d, addr)
	ids := make([]string, 4000)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"startDate=2026-02-01&endDate=2026-02-03&channelUuids=" + strings.Join(ids, ","), http.StatusOK},
		{"startDate=2026-02-01&endDate=2026-02-03&channelUuids=" + strings.Join(ids, ",") + ",x", http.StatusBadRequest},
	} {
		resp, err := http.Get("http://" + addr + bigTenant + "/dashboard/messages?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%d bytes of query: %d %s %.200s, want %d JSON", len(tc.query), resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.want)
		}
	}
}

// TestRunDemoTokenBesideConfiguredTokens: `dashboard run` on an empty data dir prints a
// fresh demo token for the demo organizations (CONTRACT §6) even when tokens are
// configured. Beside them it opens the demo organizations' routes only (not
// /admin/jobs), and only for the process that wrote the demo: the next start, tokens
// still configured, does not take it from the data dir.
func TestRunDemoTokenBesideConfiguredTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	bin := buildBinary(t)
	const otherOrg = "0a000000-0000-4000-8000-00000000000a"
	dir, addr := filepath.Join(t.TempDir(), "data"), freePort(t)
	// startIn runs `dashboard run` on a data dir, with ops-token configured or with no
	// token (and no scheduled run during the test: the startup run is counted alone).
	startIn := func(dir string, tokens bool) (*exec.Cmd, *lockedBuffer) {
		var out lockedBuffer // written by exec's copying goroutine while the test reads it
		run := command(bin, "run", "--data-dir", dir, "--addr", addr, "--demo-messages", "3000", "--log-level", "error",
			"--schedule-incremental", "0 0 1 1 *")
		if tokens {
			run.Env = append(run.Env, "DASHBOARD_AUTH_TOKENS=ops-token="+otherOrg)
		}
		run.Stdout = &out
		if err := run.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { run.Process.Kill(); run.Wait() })
		for deadline := time.Now().Add(60 * time.Second); !strings.Contains(out.String(), "Try:") && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		return run, &out
	}
	start := func(tokens bool) (*exec.Cmd, *lockedBuffer) { return startIn(dir, tokens) }
	stop := func(run *exec.Cmd) {
		run.Process.Signal(syscall.SIGTERM)
		if err := run.Wait(); err != nil {
			t.Errorf("run after SIGTERM: %v", err)
		}
	}
	get := func(tok, path string) int {
		return call(t, "GET", "http://"+addr+path, map[string]string{"Authorization": "Bearer " + tok}).status
	}
	otherTenant := "/org/" + otherOrg + "/env/0e000000-0000-4000-8000-00000000000e/bot/0f000000-0000-4000-8000-00000000000f"

	run, out := start(true)
	m := regexp.MustCompile(`Demo bearer token \(opens the demo organizations\): (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no demo token printed: %s", out.String())
	}
	demo := m[1]
	if a := call(t, "GET", "http://"+addr+bigTenant+"/dashboard/summary", map[string]string{"Authorization": "Bearer " + demo}); a.status != 200 || at(a.body, "hasData") != true {
		t.Errorf("demo token on the demo: %d %s", a.status, a.raw)
	}
	for _, c := range []struct {
		token, path string
		want        int
	}{
		{demo, otherTenant + "/dashboard/summary", 403},
		{demo, "/admin/jobs", 403}, // every tenant's run records: an operator's
		{"ops-token", otherTenant + "/dashboard/summary", 200},
		{"ops-token", bigTenant + "/dashboard/summary", 403},
		{"ops-token", "/admin/jobs", 200},
	} {
		if got := get(c.token, c.path); got != c.want {
			t.Errorf("%s on %s: %d, want %d", c.token, c.path, got, c.want)
		}
	}
	// The startup load is counted in /metrics like the scheduled runs.
	if a := fetch(t, "GET", "http://"+addr+"/metrics", nil); !strings.Contains(string(a.raw), `dashboard_job_runs_total{job="incremental",status="DONE"} 1`) {
		t.Errorf("/metrics after the start lacks the startup run: %.2000s", a.raw)
	}
	stop(run)

	run, out = start(true) // the demo is there: no new one, and the old token is not taken up
	if strings.Contains(out.String(), "Demo bearer token") {
		t.Errorf("a restart with configured tokens printed a demo token: %s", out.String())
	}
	if got := get(demo, bigTenant+"/dashboard/summary"); got != 401 {
		t.Errorf("the first start's demo token after a restart: %d, want 401", got)
	}
	if got := get("ops-token", otherTenant+"/dashboard/summary"); got != 200 {
		t.Errorf("configured token after a restart: %d", got)
	}
	stop(run)

	// Nor does a start without configured tokens (a dropped variable): the token printed
	// beside them was never kept, so it cannot come back as the only, operator's, token.
	if _, err := os.Stat(filepath.Join(dir, "demo-token")); !os.IsNotExist(err) {
		t.Errorf("demo-token kept beside configured tokens: %v", err)
	}
	run, _ = start(false)
	for _, path := range []string{bigTenant + "/dashboard/summary", "/admin/jobs"} {
		if got := get(demo, path); got != 401 {
			t.Errorf("the first start's demo token on %s after a start without tokens: %d, want 401", path, got)
		}
	}
	stop(run)

	// A demo without configured tokens keeps its token: ignored by run and serve while
	// tokens are configured, and kept, so a later start without them opens the demo
	// again with it.
	dir2 := filepath.Join(t.TempDir(), "data")
	run, out = startIn(dir2, false)
	m = regexp.MustCompile(`Demo bearer token \(opens the demo organizations\): (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no demo token printed: %s", out.String())
	}
	kept := m[1]
	if got := get(kept, "/admin/jobs"); got != 200 { // the demo's only token: its operator's too
		t.Errorf("kept token on /admin/jobs without configured tokens: %d", got)
	}
	stop(run)
	run, _ = startIn(dir2, true)
	if got := get(kept, bigTenant+"/dashboard/summary"); got != 401 {
		t.Errorf("kept token while tokens are configured (run): %d, want 401", got)
	}
	stop(run)
	srv := startServe(t, bin, dir2, addr, "--no-auth=false")
	if got := get(kept, bigTenant+"/dashboard/summary"); got != 200 {
		t.Errorf("kept token with serve, no tokens configured: %d, want 200", got)
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()
	run, _ = startIn(dir2, false)
	if got := get(kept, bigTenant+"/dashboard/summary"); got != 200 {
		t.Errorf("kept token at a start without tokens again: %d, want 200", got)
	}
	stop(run)
	if err := os.WriteFile(filepath.Join(dir2, "demo-token"), []byte("evil="+otherOrg+";x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run, _ = startIn(dir2, false) // a file that is more than one token is no token
	if got := get("evil", otherTenant+"/dashboard/summary"); got != 401 {
		t.Errorf("a token smuggled into demo-token: %d, want 401", got)
	}
	stop(run)
}

// lockedBuffer is a bytes.Buffer safe for one writer and one reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBusyPortFailsTheStartAtOnce: run on an empty data dir whose address is taken fails
// before it writes the demo or opens the warehouse; serve likewise.
func TestBusyPortFailsTheStartAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	bin := buildBinary(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct{ cmd, flag string }{{"run", "addr"}, {"serve", "addr"}, {"run", "metrics-addr"}, {"serve", "metrics-addr"}} {
		cmd := c.cmd
		dir := filepath.Join(t.TempDir(), "data")
		t0 := time.Now()
		args := []string{cmd, "--data-dir", dir, "--no-auth", "--addr", busy.Addr().String()}
		if c.flag == "metrics-addr" {
			args = []string{cmd, "--data-dir", dir, "--no-auth", "--addr", freePort(t), "--metrics-addr", busy.Addr().String()}
		}
		out, err := command(bin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.flag+": listen") || !strings.Contains(string(out), "address already in use") {
			t.Errorf("%s with a busy %s: %v, %s", cmd, c.flag, err, out)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "landing", "*")); len(files) > 0 {
			t.Errorf("%s on a busy port wrote %d landing files first", cmd, len(files))
		}
		if _, err := os.Stat(filepath.Join(dir, "warehouse")); err == nil {
			t.Errorf("%s on a busy port created the warehouse first", cmd)
		}
		t.Logf("%s failed after %v", cmd, time.Since(t0).Round(time.Millisecond))
	}
}
