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
	"strings"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/loadstat"
)

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
	uncached := flag.Bool("uncached", false, "add a unique ignored parameter to every request, so no answer comes from the answer cache")
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
	if *name == "" {
		*name = *path
	}
	r := loadstat.Run(*name, *conns, *dur, func(c int) func() (int64, error) {
		rng := rand.New(rand.NewPCG(*seed, uint64(c)))
		n := 0
		return func() (int64, error) {
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
			if *uncached {
				n++
				q += fmt.Sprintf("&loadgenRequest=%d-%d", c, n)
			}
			req, _ := http.NewRequest("GET", *base+"/"+*path+"?"+q, nil)
			if *token != "" {
				req.Header.Set("Authorization", "Bearer "+*token)
			}
			if *gz {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return n, fmt.Errorf("status %d", resp.StatusCode)
			}
			return n, nil
		}
	})
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
