package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/jobs"
)

// TestAnswersDuringRollups hammers the API while the scheduled incremental job (real cron
// wiring, injected clock) extracts and rolls up new data: every answer is a 200, and every
// answer is wholly the data before or wholly the data after a rollup, never a mix (a
// snapshot per request; one transaction per list).
func TestAnswersDuringRollups(t *testing.T) {
	ds := newDataset(t, filepath.Join(examplesDir, "landing"))
	ctx := context.Background()
	const tenant = exTenantA
	conv := tenant + "/dashboard/conversations?startDate=2026-01-15&endDate=2026-01-16"
	list := tenant + "/conversations/list?startDate=2026-01-15&endDate=2026-01-16&size=100"
	get := func(path string) (int, []byte) {
		resp, err := http.Get(ds.srv.URL + path)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	total := func(b []byte, key string) int {
		var m map[string]any
		json.Unmarshal(b, &m)
		if key == "totalAmount" {
			return int(m["periodOverview"].(map[string]any)["totalAmount"].(float64))
		}
		return int(m[key].(float64))
	}
	_, before := get(conv)
	base := total(before, "totalAmount")
	// Each round lands 3 more conversations on 2026-01-15 on one channel.
	const rounds = 4
	eo := etl.Options{LandingDir: filepath.Join(ds.dir, "landing"), LakeDir: filepath.Join(ds.dir, "lake"),
		QuarantineDir: filepath.Join(ds.dir, "quarantine"), MemoryLimit: "1GB"}
	sched, err := jobs.NewScheduler(jobs.NewRunner(ds.wh, nil, nil), []jobs.Job{jobs.Incremental("*/5 * * * *", eo, ds.wh)})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 2, 1, 0, 1, 0, 0, time.UTC)
	sched.Tick(clock)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Int64
	var seen sync.Map
	for c := 0; c < 6; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for !stop.Load() {
				path := conv
				if c%2 == 1 {
					path = list
				}
				code, b := get(path)
				if code != 200 {
					bad.Add(1)
					t.Errorf("%s: %d %s", path, code, b)
					return
				}
				var n int
				if path == conv {
					n = total(b, "totalAmount")
					// The answer's series agree with its total.
					var m struct {
						ChannelAnalytics []struct{ Days []struct{ Value int } }
					}
					json.Unmarshal(b, &m)
					sum := 0
					for _, ch := range m.ChannelAnalytics {
						for _, d := range ch.Days {
							sum += d.Value
						}
					}
					if sum != n {
						bad.Add(1)
						t.Errorf("mixed answer: totalAmount %d, days add up to %d", n, sum)
					}
				} else {
					n = total(b, "totalElements")
					var m struct{ Content []any }
					json.Unmarshal(b, &m)
					if len(m.Content) != n {
						bad.Add(1)
						t.Errorf("mixed page: totalElements %d, %d rows", n, len(m.Content))
					}
				}
				if (n-base)%3 != 0 || n < base || n > base+3*rounds {
					bad.Add(1)
					t.Errorf("%s: total %d is not a state of the data (base %d)", path, n, base)
				}
				seen.Store(n, true)
			}
		}(c)
	}
	for r := 1; r <= rounds; r++ {
		var lines []string
		for i := 0; i < 3; i++ {
			lines = append(lines, fmt.Sprintf(`{"kind":"conversation","orgUuid":"940eee3c-ba6f-475c-ae84-496e7857dd86","envUuid":"b938451e-e325-4aa6-b340-6bc44dc2a627","botUuid":"c2354e2b-b774-4a63-81d8-fac168fb90d7","sessionCode":"late-%d-%d","channelUuid":"a31db618-84f4-4b4b-948a-84a5b43d4318","userId":"u-late","startedAt":"2026-01-15T10:0%d:00Z"}`, r, i, i))
		}
		if err := os.WriteFile(filepath.Join(ds.dir, "landing", fmt.Sprintf("zz-late-%d.ndjson", r)), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(5 * time.Minute)
		sched.Tick(clock)
		deadline := time.Now().Add(30 * time.Second)
		for {
			runs, err := ds.wh.Runs(ctx, "incremental", 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) == r && runs[0].Status != "RUNNING" {
				if runs[0].Status != "DONE" {
					t.Fatalf("scheduled run %d: %+v", r, runs[0])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("scheduled run %d did not finish", r)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(30 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	_, after := get(conv)
	if got := total(after, "totalAmount"); got != base+3*rounds {
		t.Errorf("after the rollups: %d conversations, want %d", got, base+3*rounds)
	}
	n := 0
	seen.Range(func(_, _ any) bool { n++; return true })
	if n < 2 {
		t.Logf("only %d states observed during the rollups", n)
	}
}
