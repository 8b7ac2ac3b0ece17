// Package loadstat drives a closed-loop load (N workers, each sending its next request
// when the last one answers, for a fixed time) and summarises it as the bench scripts
// read it: requests/s, p50, p99, max and mean answer size, one JSON object.
package loadstat

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one load test.
type Result struct {
	Name      string  `json:"name"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	RPS       float64 `json:"rps"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	MeanBytes int64   `json:"mean_bytes"`
}

// Run starts conns workers for d. newWorker(c) returns worker c's request function,
// which sends one request and returns the answer's size, or an error (counted, with its
// latency, as a failed request).
func Run(name string, conns int, d time.Duration, newWorker func(c int) func() (int64, error)) Result {
	var mu sync.Mutex
	var lat []float64
	var errs, bytes atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	began := time.Now()
	for c := 0; c < conns; c++ {
		wg.Add(1)
		do := newWorker(c)
		go func() {
			defer wg.Done()
			var local []float64
			for time.Now().Before(deadline) {
				t0 := time.Now()
				n, err := do()
				local = append(local, float64(time.Since(t0).Microseconds())/1000)
				bytes.Add(n)
				if err != nil {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Float64s(lat)
	r := Result{Name: name, Requests: int64(len(lat)), Errors: errs.Load(), RPS: float64(len(lat)) / time.Since(began).Seconds()}
	if len(lat) > 0 {
		pct := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		r.P50, r.P99, r.Max = pct(0.50), pct(0.99), lat[len(lat)-1]
		r.MeanBytes = bytes.Load() / int64(len(lat))
	}
	return r
}
