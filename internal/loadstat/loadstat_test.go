package loadstat

import (
	"errors"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	r := Run("x", 4, 200*time.Millisecond, func(c int) func() (int64, error) {
		n := 0
		return func() (int64, error) {
			n++
			time.Sleep(2 * time.Millisecond)
			if n%10 == 0 {
				return 0, errors.New("boom")
			}
			return 100, nil
		}
	})
	if r.Name != "x" || r.Requests < 40 || r.RPS <= 0 {
		t.Fatalf("result %+v", r)
	}
	if r.Errors < r.Requests/10-4 || r.Errors > r.Requests/10+4 {
		t.Errorf("%d errors of %d requests, want about a tenth", r.Errors, r.Requests)
	}
	if r.P50 < 2 || r.P99 < r.P50 || r.Max < r.P99 {
		t.Errorf("latencies p50 %v p99 %v max %v", r.P50, r.P99, r.Max)
	}
	if r.MeanBytes < 80 || r.MeanBytes > 100 {
		t.Errorf("mean bytes %d", r.MeanBytes)
	}
}
