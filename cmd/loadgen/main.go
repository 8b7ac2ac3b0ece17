// Command loadgen measures the API under concurrent load: it sends requests for one
// endpoint from N connections for a fixed time (or count) and prints requests/s and
// latency percentiles. Queries are either one fixed URL (the repeated, cached case) or
// random ranges, hour windows and channel subsets drawn from a seed (the distinct case).
// It only talks to the address it is given (loopback in `make bench`).
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Name      string  `json:"name"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	RPS       float64 `json:"rps"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	MeanBytes int64   `json:"mean_bytes"`
}

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "API base URL (tenant path included)")
	path := flag.String("path", "dashboard/conversations", "endpoint under the tenant path")
	fixed := flag.String("query", "", "a fixed query string (repeated requests); empty = random ranges")
	days := flag.Int("days", 30, "random ranges: length in days")
	from := flag.String("from", "2026-01-01", "random ranges: earliest start day")
	span := flag.Int("span", 300, "random ranges: days after --from a range may start")
	channels := flag.String("channels", "", "random ranges: comma list of channel UUIDs to draw subsets from")
	extra := flag.String("extra", "", "extra query parameters appended to every request (e.g. sort=satisfaction)")
	conns := flag.Int("c", 32, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "duration")
	token := flag.String("token", "", "bearer token")
	gz := flag.Bool("gzip", false, "send Accept-Encoding: gzip")
	name := flag.String("name", "", "result name")
	seed := flag.Uint64("seed", 1, "random seed")
	serveFile := flag.String("serve-file", "", "ceiling mode: serve this file's bytes as JSON on --addr (no load)")
	addr := flag.String("addr", "127.0.0.1:18099", "ceiling mode: listen address")
	flag.Parse()
	if *serveFile != "" {
		// The ceiling: the same answer bytes, pre-encoded, served from memory.
		body, err := os.ReadFile(*serveFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
		gzBody := gzipBytes(body)
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(gzBody)
				return
			}
			w.Write(body)
		})
		fmt.Fprintln(os.Stderr, http.ListenAndServe(*addr, nil))
		os.Exit(1)
	}
	start0, err := time.Parse("2006-01-02", *from)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: --from:", err)
		os.Exit(2)
	}
	var chans []string
	if *channels != "" {
		chans = strings.Split(*channels, ",")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	deadline := time.Now().Add(*dur)
	var mu sync.Mutex
	var lat []float64
	var reqs, errs, bytes atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for c := 0; c < *conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(*seed, uint64(c)))
			var local []float64
			for time.Now().Before(deadline) {
				q := *fixed
				if q == "" {
					s := start0.AddDate(0, 0, rng.IntN(*span+1))
					e := s.AddDate(0, 0, *days-1)
					q = fmt.Sprintf("startDate=%s&endDate=%s", s.Format("2006-01-02"), e.Format("2006-01-02"))
					if rng.IntN(2) == 0 {
						q += fmt.Sprintf("&startHour=%d&endHour=%d", rng.IntN(24), rng.IntN(24))
					}
					if len(chans) > 0 && rng.IntN(2) == 0 {
						var sub []string
						for _, ch := range chans {
							if rng.IntN(2) == 0 {
								sub = append(sub, ch)
							}
						}
						q += "&channelUuids=" + strings.Join(sub, ",")
					}
				}
				if *extra != "" {
					q += "&" + *extra
				}
				req, _ := http.NewRequest("GET", *base+"/"+*path+"?"+q, nil)
				if *token != "" {
					req.Header.Set("Authorization", "Bearer "+*token)
				}
				if *gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				local = append(local, float64(time.Since(t0).Microseconds())/1000)
				reqs.Add(1)
				bytes.Add(n)
				if resp.StatusCode != 200 {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(began).Seconds()
	sort.Float64s(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	r := result{Name: *name, Requests: reqs.Load(), Errors: errs.Load(), RPS: float64(reqs.Load()) / elapsed,
		P50: pct(0.50), P99: pct(0.99)}
	if len(lat) > 0 {
		r.Max = lat[len(lat)-1]
		r.MeanBytes = bytes.Load() / max(1, reqs.Load())
	}
	if r.Name == "" {
		r.Name = *path
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	if r.Errors > 0 {
		os.Exit(1)
	}
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
