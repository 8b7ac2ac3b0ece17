package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"path/filepath"
	"testing"
)

// TestGzipAnswers: a client that accepts gzip gets the same JSON compressed, from the
// first (computed) and the second (cached) request alike.
func TestGzipAnswers(t *testing.T) {
	ds := newDataset(t, filepath.Join(examplesDir, "landing"))
	path := ds.srv.URL + exTenantA + "/dashboard/conversations?startDate=2026-01-01&endDate=2026-01-31"
	plainResp, err := http.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(plainResp.Body)
	plainResp.Body.Close()
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("headers %v", resp.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(zr)
		if !bytes.Equal(got, plain) || len(raw) >= len(plain) {
			t.Fatalf("request %d: gzip answer (%d bytes) does not decompress to the plain one (%d bytes)", i, len(raw), len(plain))
		}
	}
}
