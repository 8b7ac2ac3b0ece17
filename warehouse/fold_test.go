package warehouse

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// TestFoldMatchesEqualFold checks that DuckDB's fold(a) = fold(b) exactly when Go's
// strings.EqualFold(a, b), on strings made of case variants.
func TestFoldMatchesEqualFold(t *testing.T) {
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pool []rune
	for r := rune(0); r <= 0x1FFFF; r++ {
		if unicode.SimpleFold(r) != r || unicode.ToLower(r) != r || unicode.ToUpper(r) != r {
			pool = append(pool, r)
		}
	}
	pool = append(pool, 'a', 'Z', '%', '_', '\'', ' ', 'ß', 'İ', 'ı', 'ς', 'σ', 'Σ', 'ſ', 'K', 'K')
	rng := rand.New(rand.NewPCG(1, 2))
	variant := func(r rune) rune {
		for range rng.IntN(4) {
			r = unicode.SimpleFold(r)
		}
		return r
	}
	fixed := [][2]string{{"ΟΔΟΣ", "οδος"}, {"İ", "i"}, {"ı", "I"}, {"ſ", "S"}, {"K", "k"}, {"ß", "SS"}, {"Straße", "STRASSE"}}
	pairs := append([][2]string{}, fixed...)
	for range 3000 {
		n := 1 + rng.IntN(4)
		var a, b []rune
		for range n {
			r := pool[rng.IntN(len(pool))]
			a = append(a, r)
			if rng.IntN(10) == 0 {
				b = append(b, pool[rng.IntN(len(pool))])
			} else {
				b = append(b, variant(r))
			}
		}
		pairs = append(pairs, [2]string{string(a), string(b)})
	}
	stmt, err := db.SQL.Prepare("SELECT " + fold("?") + " = " + fold("?"))
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	bad := 0
	for _, p := range pairs {
		var eq bool
		if err := stmt.QueryRow(p[0], p[1]).Scan(&eq); err != nil {
			t.Fatal(err)
		}
		if eq != strings.EqualFold(p[0], p[1]) {
			bad++
			if bad < 10 {
				t.Errorf("%q vs %q: fold equal %v, EqualFold %v", p[0], p[1], eq, !eq)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d pairs disagree", bad, len(pairs))
	}
}
