package api

import (
	"bytes"
	"hash/maphash"
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
	// seen are the keys asked once in this generation: an answer is kept from its
	// second request on, so a stream of distinct queries does not churn the cache.
	seen map[uint64]struct{}
}

// maxSeen bounds the keys remembered for admission (8 bytes each).
const maxSeen = 1 << 17

var seenSeed = maphash.MakeSeed()

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
	return &answerCache{maxBytes: maxBytes, entries: map[string]*cachedAnswer{}, seen: map[uint64]struct{}{}}
}

// admit reports whether an answer computed for key under gen is worth keeping: true
// from the second time the key is asked in that generation.
func (c *answerCache) admit(gen int64, key string) bool {
	h := maphash.String(seenSeed, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen > c.gen {
		c.gen, c.entries, c.bytes, c.seen = gen, map[string]*cachedAnswer{}, 0, map[uint64]struct{}{}
	} else if gen < c.gen {
		return false
	}
	if _, ok := c.seen[h]; ok {
		return true
	}
	if len(c.seen) >= maxSeen {
		clear(c.seen)
	}
	c.seen[h] = struct{}{}
	return false
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
	if gen > c.gen {
		c.seen = map[uint64]struct{}{}
	}
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

// bodyRecorder captures a handler's answer. writeJSON hands it the body it built
// (no copy); any other write is copied.
type bodyRecorder struct {
	h      http.Header
	status int
	taken  []byte
	buf    bytes.Buffer
}

func (b *bodyRecorder) Header() http.Header         { return b.h }
func (b *bodyRecorder) WriteHeader(status int)      { b.status = status }
func (b *bodyRecorder) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bodyRecorder) take(status int, body []byte) {
	b.status, b.taken = status, body
}
func (b *bodyRecorder) body() []byte {
	if b.taken != nil {
		return b.taken
	}
	return b.buf.Bytes()
}

// bufPool recycles answer buffers that are not kept in the cache: a 30-day answer is
// over 100 KB, and allocating (and zeroing) one per request fed the garbage collector.
var bufPool sync.Pool

// getBuf returns an empty buffer of capacity n or more (a pooled one too small goes
// back, for a smaller answer).
func getBuf(n int) []byte {
	if p, _ := bufPool.Get().(*[]byte); p != nil {
		if cap(*p) >= n {
			return (*p)[:0]
		}
		bufPool.Put(p)
	}
	return make([]byte, 0, n)
}

func putBuf(b []byte) {
	if cap(b) <= 8<<20 {
		bufPool.Put(&b)
	}
}

// cached serves an answer from the cache, or computes and serves it, keeping it from
// its second request on (answerCache.admit). Only 200 answers are kept; the tenant
// gate has run before, so the cache never opens a door. Every cached route reads only
// what a rollup changes, and a rollup makes a new generation: an answer is never
// served past the rollup after it. (An answer computed while a rollup commits may hold
// the newer data under the older generation: newer, never staler.)
func (s *Server) cached(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsArrow(r) {
			next.ServeHTTP(w, r.WithContext(withSnapshot(r.Context(), s.wh.Snapshot())))
			return
		}
		snap := s.wh.Snapshot()
		key := r.URL.Path + "?" + r.URL.RawQuery
		if a := s.cache.get(snap.Generation, key); a != nil {
			body := a.body
			if acceptsGzip(r) {
				body = a.gzipped()
			}
			writeAnswer(w, r, body)
			return
		}
		rec := &bodyRecorder{h: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(withSnapshot(r.Context(), snap)))
		body := rec.body()
		if rec.status != http.StatusOK {
			for k, v := range rec.h {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			w.Write(body)
			return
		}
		if s.cache.admit(snap.Generation, key) {
			kept, recycle := keptBody(body, rec.taken)
			a := &cachedAnswer{body: kept}
			s.cache.put(snap.Generation, key, a)
			out := a.body
			if acceptsGzip(r) {
				out = a.gzipped()
			}
			writeAnswer(w, r, out)
			if recycle {
				putBuf(rec.taken)
			}
			return
		}
		if acceptsGzip(r) {
			writeAnswer(w, r, gzipBytes(body))
		} else {
			writeAnswer(w, r, body)
		}
		putBuf(rec.taken) // written and not kept: the next answer reuses it
	})
}

// keptBody is the bytes the cache keeps of an answer written into taken (nil: not a
// pooled buffer), and whether taken goes back to the pool. The cache counts an answer
// by its length, so a pooled buffer far larger than its answer (a year's series buffer
// holding a 20 KB list page) is not pinned there: the answer is copied.
func keptBody(body, taken []byte) ([]byte, bool) {
	if taken != nil && cap(taken) > 2*len(body)+4096 {
		return bytes.Clone(body), true
	}
	return body, false
}

// writeAnswer writes a 200 JSON answer, gzip-compressed when the client accepts it.
func writeAnswer(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Add("Vary", "Accept-Encoding") // added: CORS may have said Vary: Origin
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
