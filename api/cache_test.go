package api

import "testing"

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
