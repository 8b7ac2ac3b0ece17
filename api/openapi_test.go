package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// emptyWarehouse opens a real warehouse over an empty lake in a temp dir.
func emptyWarehouse(t *testing.T) *warehouse.Warehouse {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	wh, err := warehouse.Open(ctx, warehouse.Options{Dir: filepath.Join(dir, "warehouse"), LakeDir: filepath.Join(dir, "lake"), MemoryLimit: "256MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return wh
}

type walkedRoute struct{ method, path, name string }

func walk(t *testing.T, s *Server) []walkedRoute {
	t.Helper()
	var out []walkedRoute
	err := s.Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s has no method", tpl)
			return nil
		}
		if slices.Contains(methods, "GET") != slices.Contains(methods, "HEAD") {
			t.Errorf("route %s: methods %v; a GET route takes HEAD, and only those", tpl, methods)
		}
		for _, m := range methods {
			if m == "HEAD" {
				continue // every GET route's twin (withHead); OpenAPI documents the GET
			}
			out = append(out, walkedRoute{m, tpl, route.GetName()})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("only %d routes walked: %v", len(out), out)
	}
	return out
}

func getOpenAPI(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.json: %d %s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if !json.Valid(raw) {
		t.Fatalf("not valid JSON: %.300s", raw)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPICoversTheRouter(t *testing.T) {
	wh := emptyWarehouse(t)
	configs := map[string]Config{
		"no auth":                {MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000, NoAuth: true},
		"tokens and metrics":     {MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000, Tokens: map[string][]string{"t": {"0a000000-0000-4000-8000-00000000000a"}}, Metrics: NewMetrics()},
		"metrics on own address": {MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000, NoAuth: true, Metrics: NewMetrics(), MetricsElsewhere: true},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			s := New(wh, cfg, nil)
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			doc := getOpenAPI(t, srv.URL)
			if doc["openapi"] != "3.1.0" {
				t.Errorf("openapi %v, want 3.1.0", doc["openapi"])
			}
			if info, _ := doc["info"].(map[string]any); info["title"] == "" || info["title"] == nil || info["version"] == nil {
				t.Errorf("info %v", doc["info"])
			}
			paths, _ := doc["paths"].(map[string]any)
			if len(paths) == 0 {
				t.Fatal("no paths")
			}

			routed := map[string]bool{}
			for _, rt := range walk(t, s) {
				key := strings.ToLower(rt.method) + " " + rt.path
				routed[key] = true
				item, _ := paths[rt.path].(map[string]any)
				op, _ := item[strings.ToLower(rt.method)].(map[string]any)
				if op == nil {
					t.Errorf("%s %s (route %q) is not in /openapi.json", rt.method, rt.path, rt.name)
					continue
				}
				if rt.name != "" && op["operationId"] != rt.name {
					t.Errorf("%s %s: operationId %v, route name %q", rt.method, rt.path, op["operationId"], rt.name)
				}
				if _, ok := op["responses"].(map[string]any); !ok {
					t.Errorf("%s %s: no responses", rt.method, rt.path)
				}
				declared := map[string]bool{}
				params, _ := op["parameters"].([]any)
				for _, p := range params {
					pm, _ := p.(map[string]any)
					if pm["in"] == "path" {
						declared[pm["name"].(string)] = true
						if pm["required"] != true {
							t.Errorf("%s %s: path parameter %v not required", rt.method, rt.path, pm["name"])
						}
					}
				}
				for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
					if !declared[m[1]] {
						t.Errorf("%s %s: path parameter %s not declared", rt.method, rt.path, m[1])
					}
				}
				if strings.Contains(rt.path, "{orgUUID}") && op["security"] == nil {
					t.Errorf("%s %s: a tenant route without security", rt.method, rt.path)
				}
			}
			// And the other way: the document lists nothing the router does not serve.
			ops := map[string]bool{}
			for p, item := range paths {
				for m, op := range item.(map[string]any) {
					if !routed[m+" "+p] {
						t.Errorf("/openapi.json lists %s %s, which is not routed", strings.ToUpper(m), p)
					}
					id, _ := op.(map[string]any)["operationId"].(string)
					if id == "" || ops[id] {
						t.Errorf("%s %s: operationId %q empty or repeated", m, p, id)
					}
					ops[id] = true
				}
			}
			// What the handlers answer: 202 for report requests, the query parameters
			// they read.
			byID := map[string]map[string]any{}
			for _, item := range paths {
				for _, op := range item.(map[string]any) {
					op := op.(map[string]any)
					byID[op["operationId"].(string)] = op
				}
			}
			for _, id := range []string{"conversationsRequestReport", "messagesRequestReport", "conversationDetailsRequestReport"} {
				if r := byID[id]["responses"].(map[string]any); r["202"] == nil || r["200"] != nil {
					t.Errorf("%s: responses %v, want 202 and no 200", id, r)
				}
			}
			for id, want := range map[string][]string{"conversationDetailsRequestReport": {"sessionCode", "exportType"},
				"reportsList": {"page", "size"}, "conversationDetails": {"sessionCode"},
				"conversationsList": {"startDate", "page", "searchBy", "sort"}, "messagesList": {"nlpResponseFilters"}} {
				names := map[string]bool{}
				params, _ := byID[id]["parameters"].([]any)
				for _, p := range params {
					names[p.(map[string]any)["name"].(string)] = true
				}
				for _, n := range want {
					if !names[n] {
						t.Errorf("%s does not declare the query parameter %s", id, n)
					}
				}
			}
			// Every $ref resolves.
			raw, _ := json.Marshal(doc)
			for _, m := range regexp.MustCompile(`"\$ref":"#/([^"]+)"`).FindAllStringSubmatch(string(raw), -1) {
				var v any = doc
				for _, k := range strings.Split(m[1], "/") {
					v, _ = v.(map[string]any)[k]
				}
				if v == nil {
					t.Errorf("$ref #/%s does not resolve", m[1])
				}
			}
		})
	}
}

// Every route but /healthz, /openapi.json and /metrics needs a token (CONTRACT §6,
// Access; /metrics stays open for scrapers, as the security issue asks, and can move to
// its own address): asked without one it answers 401 with the error shape.
func TestEveryRouteNeedsAToken(t *testing.T) {
	wh := emptyWarehouse(t)
	s := New(wh, Config{MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000,
		Tokens: map[string][]string{"t": {"0a000000-0000-4000-8000-00000000000a"}}, Metrics: NewMetrics()}, nil)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	fill := strings.NewReplacer("{orgUUID}", "0a000000-0000-4000-8000-00000000000a", "{envUUID}", "0e000000-0000-4000-8000-00000000000e",
		"{botUUID}", "0f000000-0000-4000-8000-00000000000f", "{reportId}", "r1")
	var open []string
	for _, rt := range walk(t, s) {
		req, _ := http.NewRequest(rt.method, srv.URL+fill.Replace(rt.path)+"?startDate=2025-01-01&endDate=2025-01-02&sessionCode=S", strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			open = append(open, rt.method+" "+rt.path)
			continue
		}
		var e map[string]any
		if err := json.Unmarshal(raw, &e); err != nil || e["status"] != 401.0 || e["error"] != "Unauthorized" {
			t.Errorf("%s %s: 401 answer %s", rt.method, rt.path, raw)
		}
	}
	sort.Strings(open)
	if got := strings.Join(open, ", "); got != "GET /healthz, GET /metrics, GET /openapi.json" {
		t.Errorf("answered without a token: %s (want only GET /healthz, GET /metrics, GET /openapi.json)", got)
	}
}
