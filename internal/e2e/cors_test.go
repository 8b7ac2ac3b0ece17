package e2e

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dashboard-analytics/dashboard/api"
)

// A dashboard front end on another origin calls the API from a browser: preflights from
// a configured origin are answered before the token check, every answer to it carries
// the CORS headers, and nothing changes for other origins or with CORS off.
func TestCORS(t *testing.T) {
	ds := newDataset(t, filepath.Join(examplesDir, "landing"))
	const (
		org     = "940eee3c-ba6f-475c-ae84-496e7857dd86"
		tenant  = "/org/" + org + "/env/b938451e-e325-4aa6-b340-6bc44dc2a627/bot/8b389064-4f3d-4e7b-b7d7-2e4af6978770"
		summary = tenant + "/dashboard/summary"
		report  = tenant + "/messages/request_report"
		dash    = "https://dash.example.com"
	)
	serve := func(origins ...string) string {
		srv := httptest.NewServer(api.New(ds.wh, api.Config{MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000,
			Tokens: map[string][]string{"tok": {org}}, CORSOrigins: origins, Metrics: api.NewMetrics()}, nil).Handler())
		t.Cleanup(srv.Close)
		return srv.URL
	}
	do := func(base, method, path string, header map[string]string) (*http.Response, string) {
		t.Helper()
		a := fetch(t, method, base+path, header)
		return &http.Response{StatusCode: a.status, Header: a.header}, string(a.raw)
	}
	preflight := func(origin, method string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": method,
			"Access-Control-Request-Headers": "authorization"}
	}
	expect := func(what string, resp *http.Response, status int, acao string) {
		t.Helper()
		if resp.StatusCode != status {
			t.Errorf("%s: status %d, want %d", what, resp.StatusCode, status)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != acao {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", what, got, acao)
		}
	}
	varies := func(resp *http.Response, v string) bool {
		for _, line := range resp.Header.Values("Vary") {
			for f := range strings.SplitSeq(line, ",") {
				if strings.EqualFold(strings.TrimSpace(f), v) {
					return true
				}
			}
		}
		return false
	}

	one := serve(dash, "http://localhost:3000")
	resp, body := do(one, "OPTIONS", summary, preflight(dash, "GET"))
	expect("preflight, GET route", resp, http.StatusNoContent, dash)
	if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "GET, HEAD" {
		t.Errorf("preflight Allow-Methods %q, want GET, HEAD", got)
	}
	if got := resp.Header.Get("Access-Control-Allow-Headers"); !strings.Contains(got, "Authorization") {
		t.Errorf("preflight Allow-Headers %q, want Authorization among them", got)
	}
	if body != "" || !varies(resp, "Origin") || resp.Header.Get("Access-Control-Max-Age") == "" || resp.Header.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("preflight: body %q, headers %q", body, resp.Header)
	}
	resp, _ = do(one, "OPTIONS", report, preflight("http://localhost:3000", "POST"))
	expect("preflight, POST route, second origin", resp, http.StatusNoContent, "http://localhost:3000")
	if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "POST" {
		t.Errorf("preflight Allow-Methods %q, want POST", got)
	}
	// Origins compare as the browser sends them (scheme and host are lower case there).
	resp, _ = do(one, "OPTIONS", summary, preflight("HTTPS://DASH.EXAMPLE.COM", "GET"))
	expect("preflight, upper-case origin", resp, http.StatusNoContent, "HTTPS://DASH.EXAMPLE.COM")

	resp, body = do(one, "OPTIONS", summary, preflight("https://evil.example.com", "GET"))
	expect("preflight, other origin", resp, http.StatusMethodNotAllowed, "")
	if !strings.Contains(body, `"status":405`) {
		t.Errorf("preflight from another origin: %s, want the JSON 405", body)
	}
	resp, body = do(one, "OPTIONS", tenant+"/no/such/route", preflight(dash, "GET"))
	expect("preflight, no route", resp, http.StatusNotFound, dash)
	if !strings.Contains(body, `"status":404`) {
		t.Errorf("preflight of no route: %s, want the JSON 404", body)
	}
	resp, _ = do(one, "OPTIONS", summary, map[string]string{"Origin": dash}) // not a preflight
	expect("OPTIONS without Access-Control-Request-Method", resp, http.StatusMethodNotAllowed, dash)

	// The cache keeps an answer from its second request on: the third is served from it.
	for _, gz := range []string{"", "gzip", "", "gzip"} {
		resp, body = do(one, "GET", summary, map[string]string{"Origin": dash, "Authorization": "Bearer tok", "Accept-Encoding": gz})
		expect("GET, allowed origin", resp, http.StatusOK, dash)
		if !varies(resp, "Origin") || !varies(resp, "Accept-Encoding") {
			t.Errorf("GET Vary %q, want Origin and Accept-Encoding", resp.Header.Values("Vary"))
		}
		if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Content-Disposition") {
			t.Errorf("GET Expose-Headers %q", resp.Header.Get("Access-Control-Expose-Headers"))
		}
		if gz == "" && !strings.Contains(body, `"hasData":true`) {
			t.Errorf("GET summary: %s", body)
		}
	}
	resp, _ = do(one, "GET", summary, map[string]string{"Origin": dash})
	expect("GET without a token, allowed origin (the browser may read the 401)", resp, http.StatusUnauthorized, dash)
	// Whether an answer allows an origin depends on Origin, whoever asks: a shared cache
	// must not give an answer to a request without Origin to a CORS request.
	for _, origin := range []string{"https://evil.example.com", ""} {
		resp, _ = do(one, "GET", summary, map[string]string{"Origin": origin, "Authorization": "Bearer tok"})
		expect("GET, origin "+origin, resp, http.StatusOK, "")
		if !varies(resp, "Origin") || resp.Header.Get("Access-Control-Expose-Headers") != "" {
			t.Errorf("GET, origin %q: Vary %q, Expose-Headers %q; want Vary: Origin and nothing exposed", origin,
				resp.Header.Values("Vary"), resp.Header.Get("Access-Control-Expose-Headers"))
		}
	}
	// The open routes stay closed to other origins, as without CORS.
	for _, path := range []string{"/healthz", "/openapi.json", "/metrics"} {
		resp, _ = do(one, "GET", path, map[string]string{"Origin": dash})
		expect("GET "+path+", allowed origin", resp, http.StatusOK, "")
		resp, _ = do(one, "OPTIONS", path, preflight(dash, "GET"))
		expect("preflight "+path, resp, http.StatusMethodNotAllowed, "")
	}

	anyOrigin := serve("*")
	resp, _ = do(anyOrigin, "OPTIONS", summary, preflight("https://anywhere.example.org", "GET"))
	expect("preflight, any origin", resp, http.StatusNoContent, "*")
	for _, origin := range []string{"https://anywhere.example.org", ""} {
		// One answer for every origin, and so nothing to vary on.
		resp, _ = do(anyOrigin, "GET", summary, map[string]string{"Origin": origin, "Authorization": "Bearer tok"})
		expect("GET, any origin, origin "+origin, resp, http.StatusOK, "*")
		if varies(resp, "Origin") || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
			t.Errorf("GET, any origin, origin %q: Vary %q, Expose-Headers %q", origin, resp.Header.Values("Vary"), resp.Header.Get("Access-Control-Expose-Headers"))
		}
	}
	resp, _ = do(anyOrigin, "GET", "/healthz", map[string]string{"Origin": dash})
	expect("GET /healthz, any origin", resp, http.StatusOK, "")

	off := serve()
	resp, _ = do(off, "OPTIONS", summary, preflight(dash, "GET"))
	expect("preflight, CORS off", resp, http.StatusMethodNotAllowed, "")
	if got := resp.Header.Values("Allow"); !slices.Equal(got, []string{"GET, HEAD"}) {
		t.Errorf("405 Allow %q, want GET, HEAD", got)
	}
	resp, _ = do(off, "GET", summary, map[string]string{"Origin": dash, "Authorization": "Bearer tok"})
	expect("GET, CORS off", resp, http.StatusOK, "")
}
