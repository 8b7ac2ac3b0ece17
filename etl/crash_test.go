package etl

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// buildDashboard builds cmd/dashboard into dir and returns the binary's path.
func buildDashboard(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "dashboard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/dashboard")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOFLAGS=-tags=duckdb_arrow")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func dashboard(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	// Only what the command needs: no DASHBOARD_* setting of the environment leaks in.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	return cmd
}

func runDashboard(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := dashboard(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("dashboard %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// quarantineFiles maps quarantine/**/*.ndjson (relative) to their contents.
func quarantineFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".ndjson") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// checkReadable: every Parquet file of the lake opens and reads whole (no half-written
// file is ever visible in a partition).
func checkReadable(t *testing.T, db *duck.DB, lake string) {
	t.Helper()
	for _, ds := range []string{MessagesDir, ConversationsDir, ChannelsDir} {
		files, err := parquetFiles(filepath.Join(lake, ds))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			var n int64
			if err := db.SQL.QueryRow("SELECT count(*) FROM read_parquet(" + duck.Literal(f) + ")").Scan(&n); err != nil {
				t.Errorf("after a kill, %s is not readable: %v", f, err)
			}
		}
	}
}

// TestExtractSurvivesKill kills `dashboard extract` at random moments while landing files
// arrive in a shuffled order, then lets it finish: the lake and the quarantine must equal
// those of one uninterrupted extract of the same files.
func TestExtractSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs many extracts")
	}
	tmp := t.TempDir()
	bin := buildDashboard(t, tmp)

	gen := filepath.Join(tmp, "gen")
	t.Log(strings.TrimSpace(runDashboard(t, bin, "generate", "--data-dir", gen, "--messages", "30000", "--days", "5",
		"--seed", "3", "--start", "2026-01-10", "--gzip=true")))
	landing, err := Discover(filepath.Join(gen, "landing"))
	if err != nil || len(landing) < 5 {
		t.Fatalf("generated landing files: %v, %v", landing, err)
	}

	// The reference: one uninterrupted extract.
	ref := filepath.Join(tmp, "ref")
	copyTree(t, filepath.Join(gen, "landing"), filepath.Join(ref, "landing"))
	start := time.Now()
	t.Log(strings.TrimSpace(lastLine(runDashboard(t, bin, "extract", "--data-dir", ref))))
	took := time.Since(start)
	refRows := dumpAll(t, filepath.Join(ref, "lake"))
	refQuarantine := quarantineFiles(t, filepath.Join(ref, "quarantine"))
	if len(refRows["messages"]) != 30000 || len(refQuarantine) == 0 {
		t.Fatalf("reference lake: %d messages, %d quarantine files", len(refRows["messages"]), len(refQuarantine))
	}

	// The crashes. First the files arrive one per extract, in a shuffled order; then every
	// extract may have to read everything again (the manifest removed, as after a lost
	// disk). Every extract is killed after a random delay of up to what an uninterrupted
	// extract of every file took, so kills land in reading, merging and publishing.
	crash := filepath.Join(tmp, "crash")
	crashLanding := filepath.Join(crash, "landing")
	if err := os.MkdirAll(crashLanding, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 7))
	order := rng.Perm(len(landing))
	maxDelay := max(300*time.Millisecond, took)
	db := openDuck(t)
	killed, finished := 0, 0
	const iterations = 16
	for i := range iterations {
		if i < len(order) {
			f := landing[order[i]]
			b, err := os.ReadFile(f.Abs)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(crashLanding, filepath.FromSlash(f.Rel))
			if err := os.WriteFile(dst+".part", b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dst+".part", dst); err != nil {
				t.Fatal(err)
			}
		} else if rng.IntN(2) == 0 {
			if err := os.Remove(filepath.Join(crash, "lake", stateDir, "files.json")); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		delay := 50*time.Millisecond + time.Duration(rng.Int64N(int64(maxDelay-50*time.Millisecond)))
		cmd := dashboard(bin, "extract", "--data-dir", crash)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("iteration %d: extract failed on its own: %v\n%s", i, err, out.String())
			}
			finished++
		case <-time.After(delay):
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
				t.Fatal(err)
			}
			err := <-done
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
				killed++
			} else if err != nil {
				t.Fatalf("iteration %d: %v\n%s", i, err, out.String())
			} else {
				finished++
			}
		}
		checkReadable(t, db, filepath.Join(crash, "lake"))
	}
	t.Logf("%d extracts killed, %d finished before their kill (uninterrupted extract: %s)", killed, finished, took.Round(time.Millisecond))
	if killed == 0 {
		t.Log("no extract was killed mid-run: this run proved little")
	}

	// Let it finish.
	t.Log(strings.TrimSpace(lastLine(runDashboard(t, bin, "extract", "--data-dir", crash))))
	lake := filepath.Join(crash, "lake")
	rows := dumpAll(t, lake)
	for _, ds := range []string{"messages", "conversations", "channels"} {
		diffStrings(t, ds+" after kills", rows[ds], refRows[ds])
	}
	gotQ := quarantineFiles(t, filepath.Join(crash, "quarantine"))
	var names []string
	for k := range refQuarantine {
		names = append(names, k)
	}
	for k := range gotQ {
		if _, ok := refQuarantine[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if gotQ[k] != refQuarantine[k] {
			t.Errorf("quarantine/%s differs from the reference (%d vs %d bytes)", k, len(gotQ[k]), len(refQuarantine[k]))
		}
	}
	// Nothing of the killed runs is left behind, and one more extract does nothing.
	var leftovers []string
	for _, dir := range []string{lake, filepath.Join(crash, "quarantine")} {
		filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".tmp") || strings.Contains(p, "/"+stagingDir+"/")) {
				leftovers = append(leftovers, p)
			}
			return nil
		})
	}
	if len(leftovers) > 0 {
		t.Errorf("left behind: %v", leftovers)
	}
	run, err := Extract(context.Background(), Options{LandingDir: crashLanding, LakeDir: lake,
		QuarantineDir: filepath.Join(crash, "quarantine"), Workers: 2, MemoryLimit: "1GB"})
	if err != nil || run.Files != 0 {
		t.Errorf("extract after the last: %v, %v", run, err)
	}
	runs, err := ReadRuns(lake)
	if err != nil || len(runs) == 0 || runs[len(runs)-1].Status != "DONE" {
		t.Errorf("runs: %v, %v", len(runs), err)
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
