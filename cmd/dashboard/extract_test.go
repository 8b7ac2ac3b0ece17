package main

import (
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
