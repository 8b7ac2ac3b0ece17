package api

import (
	"bytes"
	"strings"
	"testing"
)

// TestAnswerCacheAdmission: an answer is kept from its second request in a generation
// on; a newer generation forgets both the answers and the keys seen; an answer
// computed from an older snapshot is never kept.
func TestAnswerCacheAdmission(t *testing.T) {
	c := newAnswerCache(1 << 20)
	if c.admit(1, "/a") {
		t.Fatal("first request admitted")
	}
	if !c.admit(1, "/a") {
		t.Fatal("second request not admitted")
	}
	c.put(1, "/a", &cachedAnswer{body: []byte("one")})
	if a := c.get(1, "/a"); a == nil || string(a.body) != "one" {
		t.Fatalf("get after put: %v", a)
	}
	if c.get(2, "/a") != nil {
		t.Fatal("answer of generation 1 served under generation 2")
	}
	if c.admit(2, "/a") {
		t.Fatal("a new generation remembered the key seen in the old one")
	}
	if c.get(1, "/a") != nil || c.get(2, "/a") != nil {
		t.Fatal("generation 2 kept generation 1's answer")
	}
	if c.admit(1, "/b") || c.admit(1, "/b") {
		t.Fatal("an answer of an older generation was admitted")
	}
	c.put(1, "/b", &cachedAnswer{body: []byte("old")})
	if c.get(2, "/b") != nil || c.get(1, "/b") != nil {
		t.Fatal("an answer computed from an older snapshot was kept")
	}
}

// TestKeptBodyDoesNotPinLargeBuffers: an answer written into a pooled buffer much larger
// than itself is copied before the cache keeps it, and the buffer is recycled; one that
// fits its buffer, or was not pooled, is kept as it is.
func TestKeptBodyDoesNotPinLargeBuffers(t *testing.T) {
	big := append(make([]byte, 0, 2<<20), `{"content":[]}`...)
	kept, recycle := keptBody(big, big)
	if !recycle || !bytes.Equal(kept, big) || cap(kept) > 2*len(big)+4096 || &kept[0] == &big[0] {
		t.Fatalf("a 2 MB buffer holding %d bytes: kept cap %d, recycle %v", len(big), cap(kept), recycle)
	}
	fits := append(make([]byte, 0, 30000), bytes.Repeat([]byte("x"), 20000)...)
	if kept, recycle := keptBody(fits, fits); recycle || &kept[0] != &fits[0] {
		t.Fatal("an answer that fits its buffer was copied")
	}
	written := []byte(`{"a":1}`) // through Write, not a pooled buffer
	if kept, recycle := keptBody(written, nil); recycle || &kept[0] != &written[0] {
		t.Fatal("an answer not in a pooled buffer was copied")
	}
}

// TestRouteTailsAreDistinct: every route's literal tail (what tailMatcher tests before
// the route's expression) is non-empty and no tail of one path ends another's. A path
// that ended two tails could pass one route's tail test and fail its expression after
// another route found the method wrong: mux then forgets the mismatch and answers 404
// where 405 is due.
func TestRouteTailsAreDistinct(t *testing.T) {
	s := &Server{}
	rs := s.routeTable()
	for _, a := range rs {
		ta := routeTail(a.path)
		if ta == "" {
			t.Errorf("route %s %s ends with a variable: no tail to test", a.method, a.path)
		}
		for _, b := range rs {
			tb := routeTail(b.path)
			if a.path != b.path && strings.HasSuffix(ta, tb) {
				t.Errorf("the tail %q of %s ends the tail %q of %s", tb, b.path, ta, a.path)
			}
		}
	}
	if len(rs) < 15 {
		t.Fatalf("%d routes", len(rs))
	}
}
