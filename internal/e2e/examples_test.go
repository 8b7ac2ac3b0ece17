package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dashboard-analytics/dashboard/api"
	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

// dataset is a data dir with the examples' landing files extracted and rolled up.
type dataset struct {
	dir string
	wh  *warehouse.Warehouse
	srv *httptest.Server
	run *etl.Run
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// newDataset extracts landing and rolls it up into a warehouse that keeps the
// in-memory list index, as serve does, and serves it over HTTP.
func newDataset(t testing.TB, landing string) *dataset { return newDatasetWith(t, landing, true) }

// newDatasetWith is newDataset; without listIndex, lists run in DuckDB.
func newDatasetWith(t testing.TB, landing string, listIndex bool) *dataset {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, landing, filepath.Join(dir, "landing"))
	ctx := context.Background()
	run, err := etl.Extract(ctx, etl.Options{
		LandingDir: filepath.Join(dir, "landing"), LakeDir: filepath.Join(dir, "lake"),
		QuarantineDir: filepath.Join(dir, "quarantine"), MemoryLimit: "1GB",
	})
	if err != nil {
		t.Fatalf("extract: %v", err)
	}
	wh, err := warehouse.Open(ctx, warehouse.Options{Dir: filepath.Join(dir, "warehouse"), LakeDir: filepath.Join(dir, "lake"), MemoryLimit: "1GB",
		ListIndex: listIndex})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.Refresh(ctx); err != nil { // as serve does: later rollups refresh it
		t.Fatal(err)
	}
	if _, err := wh.Rollup(ctx, warehouse.RollupOptions{}); err != nil {
		t.Fatalf("rollup: %v", err)
	}
	wh.WaitListIndex()
	if wh.ListIndexBuilt() != listIndex {
		t.Fatalf("list index built: %v, want %v", wh.ListIndexBuilt(), listIndex)
	}
	srv := httptest.NewServer(api.New(wh, api.Config{MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000, NoAuth: true}, nil).Handler())
	t.Cleanup(srv.Close)
	return &dataset{dir: dir, wh: wh, srv: srv, run: run}
}

type example struct {
	Description string `json:"description"`
	Request     struct {
		Method string          `json:"method"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	} `json:"request"`
	Status   int    `json:"status"`
	Compare  string `json:"compare"`
	Response any    `json:"response"`
}

const examplesDir = "../../testdata/examples"

func TestExamples(t *testing.T) {
	ds := newDataset(t, filepath.Join(examplesDir, "landing"))
	files, _ := filepath.Glob(filepath.Join(examplesDir, "expected", "[0-9]*.json"))
	if len(files) < 30 {
		t.Fatalf("only %d examples found", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			var ex example
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &ex); err != nil {
				t.Fatal(err)
			}
			var body io.Reader
			if len(ex.Request.Body) > 0 && string(ex.Request.Body) != "null" {
				body = bytes.NewReader(ex.Request.Body)
			}
			req, _ := http.NewRequest(ex.Request.Method, ds.srv.URL+ex.Request.Path, body)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != ex.Status {
				t.Fatalf("%s\nstatus %d, want %d: %s", ex.Description, resp.StatusCode, ex.Status, raw)
			}
			var got any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("answer is not JSON: %v: %s", err, raw)
			}
			switch ex.Compare {
			case "all":
				if d := diff("", ex.Response, got); d != "" {
					t.Errorf("%s\n%s", ex.Description, d)
				}
			case "status,error,path":
				want := ex.Response.(map[string]any)
				g, _ := got.(map[string]any)
				for _, k := range []string{"status", "error", "path"} {
					if fmt.Sprint(want[k]) != fmt.Sprint(g[k]) {
						t.Errorf("%s: %v, want %v", k, g[k], want[k])
					}
				}
				if m, _ := g["message"].(string); m == "" {
					t.Errorf("error without a message: %s", raw)
				}
			case "maxSample":
				g, _ := got.(map[string]any)
				if g["maxSample"] != ex.Response.(map[string]any)["maxSample"] {
					t.Errorf("maxSample %v", g["maxSample"])
				}
				types := fmt.Sprint(g["availableExportTypes"])
				if !strings.Contains(types, "csv") || !strings.Contains(types, "xlsx") {
					t.Errorf("availableExportTypes %v", types)
				}
			default:
				t.Fatalf("unknown compare %q", ex.Compare)
			}
		})
	}
}

// tolerant are the fields the examples' README lets differ by 0.011.
var tolerant = map[string]bool{"relativeIncrease": true, "averageHoursValue": true, "averageDaysValue": true,
	"averageWeeksValue": true, "averageMonthsValue": true}

// diff compares want ⊆ got as the examples' README says; "" when equal.
func diff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %T, want object", path, got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			gv, present := g[k]
			if !present {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			if d := diffField(path+"."+k, k, w[k], gv); d != "" {
				out = append(out, d)
			}
		}
		return strings.Join(out, "\n")
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("%s: got %T, want array", path, got)
		}
		if len(g) != len(w) {
			return fmt.Sprintf("%s: %d elements, want %d\n got: %s\nwant: %s", path, len(g), len(w), short(g), short(w))
		}
		var out []string
		for i := range w {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				out = append(out, d)
			}
		}
		return strings.Join(out, "\n")
	default:
		return diffField(path, "", want, got)
	}
}

func diffField(path, key string, want, got any) string {
	if wf, ok := want.(float64); ok {
		gf, ok := got.(float64)
		if !ok {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
		tol := 1e-9
		if tolerant[key] {
			tol = 0.011
		}
		if math.Abs(wf-gf) > tol {
			return fmt.Sprintf("%s: got %v, want %v", path, gf, wf)
		}
		return ""
	}
	switch want.(type) {
	case map[string]any, []any:
		return diff(path, want, got)
	}
	if fmt.Sprintf("%#v", want) != fmt.Sprintf("%#v", got) {
		return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
	}
	return ""
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}
