package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// TestReadmeLakeQueries runs the README's example analyst queries, as written, against
// a lake extracted from the examples (from a directory holding data/).
func TestReadmeLakeQueries(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)
	if i := strings.Index(section, "## The lake"); i >= 0 {
		section = section[i:]
		if j := strings.Index(section[3:], "\n## "); j >= 0 {
			section = section[:j+3]
		}
	}
	queries := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(queries) < 3 {
		t.Fatalf("README's lake section has %d example queries, want 3", len(queries))
	}
	ds := newDataset(t, filepath.Join(examplesDir, "landing"))
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, q := range queries {
		sqlText := strings.ReplaceAll(q[1], "'data/lake/", "'"+filepath.Join(ds.dir, "lake")+"/")
		rows, err := db.SQL.Query(sqlText)
		if err != nil {
			t.Fatalf("query %d: %v\n%s", i+1, err, q[1])
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n == 0 {
			t.Errorf("query %d returned no rows:\n%s", i+1, q[1])
		}
	}
}
