package warehouse

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFloatCellMatchesJSON: a CSV float cell has the digits the JSON answers write
// (strconv 'f', -1): no exponent, no trailing ".0", tiny and huge magnitudes expanded.
func TestFloatCellMatchesJSON(t *testing.T) {
	ctx := context.Background()
	w := emptyWarehouse(t)
	vals := []float64{0, 1, -1, 0.5, 0.941, 0.69, 5e-05, 1.2345e-05, -5e-05, 0.0001, 0.00012345, 1e-7, 1e-300,
		0.30000000000000004, 0.1234567890123456789, 123456.789, 1e15, 1e16, 1e20, 1.2345678901234567e+20, -2.5e21,
		math.MaxFloat64, math.SmallestNonzeroFloat64}
	r := rand.New(rand.NewPCG(1, 9))
	for range 3000 {
		vals = append(vals, r.Float64(), math.Round(r.Float64()*1e4)/1e4, r.Float64()*math.Pow(10, float64(r.IntN(60)-30)))
	}
	lits := make([]string, len(vals))
	for i, v := range vals {
		lits[i] = fmt.Sprintf("(%d, CAST('%s' AS DOUBLE))", i, strconv.FormatFloat(v, 'g', -1, 64)) // parsed exactly, not as a DECIMAL
	}
	rows, err := w.db.SQL.QueryContext(ctx, "SELECT i, "+floatCell("x")+" FROM (VALUES "+strings.Join(lits, ", ")+") t(i, x) ORDER BY i")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var i int
		var got string
		if err := rows.Scan(&i, &got); err != nil {
			t.Fatal(err)
		}
		if want := strconv.FormatFloat(vals[i], 'f', -1, 64); got != want {
			t.Errorf("%v: %q, want %q", vals[i], got, want)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != len(vals) {
		t.Fatalf("%d rows of %d: %v", n, len(vals), err)
	}
}

// TestRandomSampleIsUniform: over many seeds, RANDOM's 2-row samples of 8 rows come out
// as every one of the 28 pairs, each about as often (a chi-square test).
func TestRandomSampleIsUniform(t *testing.T) {
	ctx := context.Background()
	w := emptyWarehouse(t)
	const seeds, pairs = 2800, 28
	counts := map[string]int{}
	for seed := range int64(seeds) {
		var pair string
		err := w.db.SQL.QueryRowContext(ctx, "SELECT string_agg(id, '+' ORDER BY id) FROM (SELECT id FROM (SELECT 'S' || i AS id FROM range(1, 9) r(i)) ORDER BY "+
			randomOrder("id", seed*7919+1)+" LIMIT 2)").Scan(&pair)
		if err != nil {
			t.Fatal(err)
		}
		counts[pair]++
	}
	if len(counts) != pairs {
		t.Fatalf("%d distinct pairs of %d over %d seeds: %v", len(counts), pairs, seeds, counts)
	}
	chi2, want := 0.0, float64(seeds)/pairs
	for _, c := range counts {
		chi2 += (float64(c) - want) * (float64(c) - want) / want
	}
	if chi2 > 61 { // 27 degrees of freedom: p < 0.0003 for a uniform draw
		t.Errorf("chi-square %.1f over %v: not uniform", chi2, counts)
	}
}

// emptyWarehouse is a new warehouse in a temporary directory, closed when the test ends.
func emptyWarehouse(t *testing.T) *Warehouse {
	t.Helper()
	w, err := Open(context.Background(), Options{Dir: filepath.Join(t.TempDir(), "wh"), MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}
