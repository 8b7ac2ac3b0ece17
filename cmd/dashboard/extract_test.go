package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dashboard-analytics/dashboard/config"
)

// The extract holds at most a quarter of --memory-limit in validated records, and its
// own default (0) without a limit.
func TestExtractHeldBytesFollowMemoryLimit(t *testing.T) {
	for limit, want := range map[string]int64{"4GB": 1_000_000_000, "1GiB": 1 << 28, "none": 0, "": 0} {
		env := &cmdEnv{settings: config.Settings{MemoryLimit: limit}}
		if got := extractOptions(env).HeldBytes; got != want {
			t.Errorf("memory limit %q: HeldBytes %d, want %d", limit, got, want)
		}
	}
}

// Conflicting or bad flags of rollup and jobs are refused, naming the flag, before
// anything is opened.
func TestRollupFlags(t *testing.T) {
	for _, c := range []struct{ cmd, args, want string }{
		{"rollup", "--full --from 2026-01-01", "--full"},
		{"rollup", "--full --to 2026-01-01", "--full"},
		{"rollup", "--from 2026-13-01", "--from"},
		{"rollup", "--from 2026-01-02 --to 2026-01-01", "--to"},
		{"rollup", "--from 2026-01-01 --to not-a-date", "--to"},
		{"rollup", "--full --from 2026-01-01 --to 2026-01", "--full"},
		{"jobs", "--job bogus", "--job"},
	} {
		dir := t.TempDir()
		var stdout, stderr strings.Builder
		code := run(context.Background(), append([]string{c.cmd, "--data-dir", dir}, strings.Fields(c.args)...), &stdout, &stderr, func(string) string { return "" })
		if code == 0 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%s %s: exit %d, %q; want a failure naming %s", c.cmd, c.args, code, stderr.String(), c.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "warehouse")); err == nil {
			t.Errorf("%s %s: the warehouse was created", c.cmd, c.args)
		}
	}
}
