// Package api serves the dashboard HTTP API (CONTRACT §4–§5) over the warehouse: one
// gorilla/mux route per endpoint, shared request parsing and validation, the contract's
// JSON shapes and errors. It reads the warehouse only; it never touches the lake.
package api

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// Config are the API's settings.
type Config struct {
	MaxRangeDays   int
	MaxPageSize    int
	MaxSample      int
	RequestTimeout time.Duration
	MaxHeavy       int
	// Metrics, when set, instruments every route and serves /metrics (unless
	// MetricsElsewhere: then the process serves Metrics.Handler on its own address).
	Metrics          *Metrics
	MetricsElsewhere bool
	// Tokens maps a bearer token to the organizations it opens; nil with NoAuth.
	Tokens map[string][]string
	// DemoTokens open their organizations' routes only, not the operator routes
	// (/admin/jobs): the demo token of `dashboard run` beside configured tokens.
	DemoTokens map[string][]string
	NoAuth     bool
	// CORSOrigins are the browser origins (scheme://host[:port], or "*") that may call
	// the API cross-origin; none = CORS off.
	CORSOrigins []string
}

// Server is the API.
type Server struct {
	wh      *warehouse.Warehouse
	cfg     Config
	log     *slog.Logger
	router  *mux.Router
	handler http.Handler // the router, behind CORS when origins are configured
	tokens  map[[32]byte]grant
	cache   *answerCache
	heavy   chan struct{}
	reports ReportRunner
}

// New builds the API over a warehouse.
func New(wh *warehouse.Warehouse, cfg Config, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxHeavy <= 0 {
		cfg.MaxHeavy = 8
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	s := &Server{wh: wh, cfg: cfg, log: log, tokens: map[[32]byte]grant{},
		cache: newAnswerCache(256 << 20), heavy: make(chan struct{}, cfg.MaxHeavy)}
	// Configured tokens last: one wins over a demo token of the same text.
	for _, set := range []struct {
		tokens   map[string][]string
		operator bool
	}{{cfg.DemoTokens, false}, {cfg.Tokens, true}} {
		for tok, orgs := range set.tokens {
			g := grant{orgs: map[string]bool{}, operator: set.operator}
			for _, o := range orgs {
				g.orgs[strings.ToLower(o)] = true
			}
			s.tokens[sha256.Sum256([]byte(tok))] = g
		}
	}
	s.router = s.routes()
	s.handler = newCORS(cfg.CORSOrigins, s.router)
	return s
}

// Handler is the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Router exposes the router (the OpenAPI test walks it).
func (s *Server) Router() *mux.Router { return s.router }

type route struct {
	method, path, name, summary string
	handler                     http.HandlerFunc
	gate                        gate // who may call it
	cached                      bool // answer depends only on the snapshot and the URL
}

// gate is the check a route runs before its handler.
type gate int

const (
	gateNone     gate = iota // open: no token (healthz, openapi)
	gateTenant               // a token for the path's organization (401, path 400, 403)
	gateOperator             // any configured token (operator routes)
)

const tenantPrefix = "/org/{orgUUID}/env/{envUUID}/bot/{botUUID}"

func (s *Server) routeTable() []route {
	rs := append(s.dashboardRoutes(), s.listRoutes()...)
	rs = append(rs, s.reportRoutes()...)
	return append(rs, s.adminRoutes()...)
}

func (s *Server) dashboardRoutes() []route {
	return []route{
		{"GET", "/healthz", "healthz", "Liveness: 200 when the API can read its tables", s.healthz, gateNone, false},
		{"GET", "/openapi.json", "openapi", "This API as an OpenAPI 3.1 document", s.openapi, gateNone, false},
		{"GET", tenantPrefix + "/dashboard/summary", "summary", "Whether the bot has data, and since when", s.summary, gateTenant, true},
		{"GET", tenantPrefix + "/messages/report_configurations", "messagesReportConfigurations", "Report limits and export formats (messages)", s.reportConfigurations, gateTenant, false},
		{"GET", tenantPrefix + "/conversations/report_configurations", "conversationsReportConfigurations", "Report limits and export formats (conversations)", s.reportConfigurations, gateTenant, false},
		{"GET", tenantPrefix + "/dashboard/conversations", "dashboardConversations", "Conversations started, per channel, in hour/day/week/month buckets", s.dashboardConversations, gateTenant, true},
		{"GET", tenantPrefix + "/dashboard/messages", "dashboardMessages", "USER messages in hour/day/week/month buckets", s.dashboardMessages, gateTenant, true},
		{"GET", tenantPrefix + "/dashboard/users", "dashboardUsers", "Distinct users (exact) in hour/day/week/month buckets", s.dashboardUsers, gateTenant, true},
		{"GET", tenantPrefix + "/dashboard/accuracy", "dashboardAccuracy", "Share of USER messages understood, and its change", s.dashboardAccuracy, gateTenant, true},
		{"GET", tenantPrefix + "/dashboard/stacking/intents", "stackingIntents", "Intents of USER messages per channel", s.stackingIntents, gateTenant, true},
		{"GET", tenantPrefix + "/dashboard/stacking/flows", "stackingFlows", "Flows travelled by conversations per channel", s.stackingFlows, gateTenant, true},
	}
}

func (s *Server) routes() *mux.Router {
	// SkipClean: a path that is not clean (a//b, a/./b) is no route, a JSON 404, instead
	// of mux's bodiless 301 to the cleaned path.
	r := mux.NewRouter().SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// RFC 9110: a 405 says which methods the resource takes.
		if allowed := routeMethods(r, req); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
		}
		writeError(w, req, http.StatusMethodNotAllowed, "method "+req.Method+" is not allowed on "+req.URL.Path)
	})
	for _, rt := range s.routeTable() {
		h := http.Handler(rt.handler)
		if rt.cached {
			h = s.cached(h)
		}
		// The query is read after the gate: 401, path 400 and 403 come first.
		h = strictQuery(queryNames(rt.name), h)
		switch rt.gate {
		case gateTenant:
			h = s.tenantGate(h)
		case gateOperator:
			h = s.operatorGate(h.ServeHTTP)
		}
		h = s.deadline(h)
		if s.cfg.Metrics != nil {
			h = s.cfg.Metrics.instrument(h)
		}
		r.NewRoute().MatcherFunc(tailMatcher(rt.path)).Path(rt.path).Handler(h).Methods(withHead(rt.method)...).Name(rt.name)
	}
	if s.cfg.Metrics != nil && !s.cfg.MetricsElsewhere {
		// Open, like /healthz: scrapers carry no customer token (SECURITY.md).
		r.Handle("/metrics", s.cfg.Metrics.Handler()).Methods(withHead("GET")...).Name("metrics")
	}
	return r
}

// withHead is a route's methods: a GET route takes HEAD too (RFC 9110 §9.3.2: HEAD is
// GET without the content; load balancers probe /healthz so). Its handler runs as for
// GET — net/http sends no body for a HEAD — and http.ServeContent (report files) reads
// nothing for one.
func withHead(method string) []string {
	if method == http.MethodGet {
		return []string{http.MethodGet, http.MethodHead}
	}
	return []string{method}
}

// tailMatcher tests that a request's path ends with the literal tail of template
// (what follows its last variable) before mux runs the template's regular expression:
// a request was matched against every route before its own in turn, 24 µs of a list
// request's 220 (measured). The path regular expression is anchored at the end, so a
// path without the tail can never match it.
func tailMatcher(template string) mux.MatcherFunc {
	tail := routeTail(template)
	return func(r *http.Request, _ *mux.RouteMatch) bool { return strings.HasSuffix(r.URL.Path, tail) }
}

// routeTail is what follows a path template's last variable (the whole template
// without one).
func routeTail(template string) string { return template[strings.LastIndex(template, "}")+1:] }

// strictQuery reads the query string as the API means it: '&' separates the pairs, a ';'
// is a character like any other, and a parameter the route reads whose percent-encoding
// is broken is a 400 naming it. Go's own parser drops such pairs, so a filter sent
// (channelUuids=x;y, startHour=%zz) became no filter and the answer covered everything.
// The query is then rewritten canonically, so the handlers (and the answer cache's key)
// see exactly this reading. A pair whose name is not one the route reads is ignored,
// whatever its bytes.
func strictQuery(known map[string]bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.RawQuery
		if !needsStrictParse(raw) {
			next.ServeHTTP(w, r) // Go's parser drops nothing
			return
		}
		vals := url.Values{}
		for pair := range strings.SplitSeq(raw, "&") {
			k, v, _ := strings.Cut(pair, "=")
			key, err := url.QueryUnescape(k)
			if err != nil || pair == "" {
				continue // no name a route reads
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				if known[key] {
					writeError(w, r, http.StatusBadRequest, key+": not valid percent-encoding: "+strconv.Quote(v))
					return
				}
				continue
			}
			vals[key] = append(vals[key], val)
		}
		u := *r.URL
		u.RawQuery = vals.Encode()
		r2 := *r
		r2.URL = &u
		next.ServeHTTP(w, &r2)
	})
}

// needsStrictParse reports whether Go's query parser would drop a pair of raw: one
// holding a ';' or a '%' not followed by two hex digits.
func needsStrictParse(raw string) bool {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case ';':
			return true
		case '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return true
			}
		}
	}
	return false
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// queryNames are the query parameters a route reads (those its OpenAPI entry lists).
func queryNames(route string) map[string]bool {
	names := map[string]bool{}
	for _, p := range queryParams(route) {
		names[p.(map[string]any)["name"].(string)] = true
	}
	return names
}

// deadline gives each request a deadline that cancels its queries.
func (s *Server) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type ctxKey int

const tenantKey ctxKey = 0

// tenantGate checks, in the contract's order: token (401), path UUIDs (400), the
// token's organizations (403). It puts the tenant in the request context.
func (s *Server) tenantGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var orgs map[string]bool
		if !s.cfg.NoAuth {
			if bearer(r) == "" {
				writeError(w, r, http.StatusUnauthorized, "Authorization: a bearer token is required")
				return
			}
			g, ok := s.tokenGrant(r)
			if !ok {
				writeError(w, r, http.StatusUnauthorized, "Authorization: unknown token")
				return
			}
			orgs = g.orgs
		}
		vars := mux.Vars(r)
		var k warehouse.TenantKey
		for _, p := range []struct {
			name string
			dst  *string
		}{{"orgUUID", &k.Org}, {"envUUID", &k.Env}, {"botUUID", &k.Bot}} {
			var u [36]byte
			if !parseUUID(vars[p.name], &u) {
				writeError(w, r, http.StatusBadRequest, p.name+": not a UUID")
				return
			}
			*p.dst = string(u[:])
		}
		if !s.cfg.NoAuth && !orgs[k.Org] {
			writeError(w, r, http.StatusForbidden, "orgUUID: the token does not open this organization")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tenantKey, k)))
	})
}

// bearer is the request's bearer token ("" when none).
func bearer(r *http.Request) string {
	// The scheme is case-insensitive (RFC 9110 §11.1).
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return ""
	}
	return strings.TrimSpace(h[7:])
}

// grant is what a token opens: its organizations, and the operator routes or not.
type grant struct {
	orgs     map[string]bool
	operator bool
}

// tokenGrant is what the request's token opens (ok false: no or unknown token). Tokens
// are looked up by their SHA-256 digest, never compared byte by byte.
func (s *Server) tokenGrant(r *http.Request) (grant, bool) {
	tok := bearer(r)
	if tok == "" {
		return grant{}, false
	}
	g, ok := s.tokens[sha256.Sum256([]byte(tok))]
	return g, ok
}

func tenantOf(r *http.Request) warehouse.TenantKey {
	return r.Context().Value(tenantKey).(warehouse.TenantKey)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.wh.Ping(r.Context()); err != nil {
		writeError(w, r, http.StatusServiceUnavailable, "warehouse: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"status":"UP","listIndex":"`+s.wh.ListIndexState()+`"}`))
}

// writeJSON writes a JSON answer. The caller hands body over: under the answer cache
// it is kept or recycled (getBuf), not copied.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	if rec, ok := w.(*bodyRecorder); ok {
		rec.h.Set("Content-Type", "application/json")
		rec.take(status, body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
