package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// answerCache keeps encoded answers (plain and gzip) of the snapshot-backed endpoints,
// keyed by the snapshot generation and the URL. A new rollup makes a new generation,
// and the first request that sees it drops every older answer.
type answerCache struct {
	mu       sync.RWMutex
	gen      int64
	maxBytes int
	bytes    int
	entries  map[string]*cachedAnswer
}

type cachedAnswer struct {
	body   []byte
	gzOnce sync.Once
	gz     []byte // compressed the first time a client accepts gzip
}

func (a *cachedAnswer) gzipped() []byte {
	a.gzOnce.Do(func() { a.gz = gzipBytes(a.body) })
	return a.gz
}

func newAnswerCache(maxBytes int) *answerCache {
	return &answerCache{maxBytes: maxBytes, entries: map[string]*cachedAnswer{}}
}

func (c *answerCache) get(gen int64, key string) *cachedAnswer {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != gen {
		return nil
	}
	return c.entries[key]
}

func (c *answerCache) put(gen int64, key string, a *cachedAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.gen {
		return // computed from an older snapshot
	}
	size := 2*len(a.body) + len(key) // the gzip bytes, when made, are far smaller
	if gen > c.gen || c.bytes+size > c.maxBytes {
		// A new generation, or full: start over (the hot answers come back at once).
		c.gen, c.entries, c.bytes = gen, map[string]*cachedAnswer{}, 0
	}
	if _, ok := c.entries[key]; !ok {
		c.entries[key] = a
		c.bytes += size
	}
}

func acceptsGzip(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// bodyRecorder captures a handler's answer.
type bodyRecorder struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (b *bodyRecorder) Header() http.Header         { return b.h }
func (b *bodyRecorder) WriteHeader(status int)      { b.status = status }
func (b *bodyRecorder) Write(p []byte) (int, error) { return b.buf.Write(p) }

// cached serves an answer from the cache, or computes, stores and serves it. Only 200
// answers are kept; the tenant gate has run before, so the cache never opens a door.
// Every cached route reads only what a rollup changes, and a rollup makes a new
// generation: an answer is never served past the rollup after it. (An answer computed
// while a rollup commits may hold the newer data under the older generation: newer,
// never staler.)
func (s *Server) cached(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsArrow(r) {
			next.ServeHTTP(w, r.WithContext(withSnapshot(r.Context(), s.wh.Snapshot())))
			return
		}
		snap := s.wh.Snapshot()
		key := r.URL.Path + "?" + r.URL.RawQuery
		a := s.cache.get(snap.Generation, key)
		if a == nil {
			rec := &bodyRecorder{h: http.Header{}, status: http.StatusOK}
			next.ServeHTTP(rec, r.WithContext(withSnapshot(r.Context(), snap)))
			if rec.status != http.StatusOK {
				for k, v := range rec.h {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.status)
				w.Write(rec.buf.Bytes())
				return
			}
			a = &cachedAnswer{body: rec.buf.Bytes()}
			s.cache.put(snap.Generation, key, a)
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Vary", "Accept-Encoding")
		body := a.body
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gzipped()
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
}
