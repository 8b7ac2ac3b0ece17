package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// cors lets a dashboard front end served from another origin call the API from a
// browser (the Fetch standard's CORS protocol). It is off unless origins are configured
// (--cors-origins): with none, no request is answered differently.
//
// Requests carry the token in an Authorization header, never in cookies, so no
// credentials mode is needed and "*" may be configured to allow any origin. A preflight
// (OPTIONS with Origin and Access-Control-Request-Method) from an allowed origin for a
// route and method that exist is answered 204 here, before the token check: a browser
// sends no Authorization header on a preflight. Any other OPTIONS request goes to the
// router, which answers 405 (or 404) as before.
//
// Only the routes behind a token (/org/…, /admin/…) take part: the open ones (/healthz,
// /openapi.json, /metrics) stay unreadable to pages of other origins, as without CORS.
type cors struct {
	any     bool
	allowed map[string]bool
	router  *mux.Router
	next    http.Handler
}

// corsHeaders are the request headers a browser may send on a cross-origin request.
const corsHeaders = "Authorization, Content-Type"

// corsExposed are the response headers a script may read besides the safelisted ones.
const corsExposed = "Content-Disposition, Retry-After, Allow"

func newCORS(origins []string, router *mux.Router) http.Handler {
	if len(origins) == 0 {
		return router
	}
	c := &cors{allowed: map[string]bool{}, router: router, next: router}
	for _, o := range origins {
		if o == "*" {
			c.any = true
		}
		c.allowed[strings.ToLower(o)] = true
	}
	return c
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/org/") && !strings.HasPrefix(r.URL.Path, "/admin/") {
		c.next.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	origin := r.Header.Get("Origin")
	if c.any {
		// The same header for every request: nothing for a cache to vary on.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", corsExposed)
	} else {
		// Whether an answer carries Allow-Origin depends on Origin, even when the
		// request has none (a cache must not give that answer to a CORS request).
		h.Add("Vary", "Origin")
		if origin == "" || !c.allowed[strings.ToLower(origin)] {
			c.next.ServeHTTP(w, r) // no CORS headers: a browser withholds the answer
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExposed)
	}
	if r.Method == http.MethodOptions && origin != "" {
		if method := r.Header.Get("Access-Control-Request-Method"); method != "" {
			if methods := routeMethods(c.router, r); len(methods) > 0 {
				h.Del("Access-Control-Expose-Headers") // not part of a preflight's answer
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
				h.Set("Access-Control-Allow-Headers", corsHeaders)
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
	}
	c.next.ServeHTTP(w, r)
}

// routeMethods are the methods the request's path takes (none: no route).
func routeMethods(router *mux.Router, r *http.Request) []string {
	var out []string
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if router.Match(probe, &match) && match.MatchErr == nil {
			out = append(out, m)
		}
	}
	return out
}
