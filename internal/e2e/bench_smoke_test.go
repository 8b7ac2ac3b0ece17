package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSmoke runs `make bench`'s script on a tiny data set, without PostgreSQL, and
// checks it writes every table: the bench code path stays working.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the bench script")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "BENCH.md")
	cmd := exec.Command("bash", "scripts/bench.sh")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "BENCH_MESSAGES=3000", "BENCH_DAYS=40", "BENCH_SECONDS=1", "BENCH_PG=0",
		"BENCH_DIR="+filepath.Join(dir, "data"), "BENCH_OUT="+out, "BENCH_PORT=18190", "BENCH_SMOKE=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bench.sh: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"| extract (landing → lake", "| full rollup", "| incremental: rollup", "| CSV report",
		"| XLSX report", "| ceiling:", "| repeated 30-day dashboard/conversations", "| distinct 1-year dashboard/users",
		"| conversations/list page 500", "| conversations/details", "from the raw lake"} {
		if !strings.Contains(md, want) {
			t.Errorf("BENCHMARKS table lacks %q:\n%s", want, md)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasSuffix(line, " errors |") && !strings.HasPrefix(line, "| load |") && !strings.HasSuffix(line, "| 0 errors |") {
			t.Errorf("a load test reported errors: %s", line)
		}
	}
}
