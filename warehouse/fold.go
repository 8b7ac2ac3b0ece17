package warehouse

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
)

// "Ignoring case" is Unicode simple case folding, as Go's strings.EqualFold (CONTRACT
// §7). Search columns are stored folded by foldSQL, and search terms are folded by the
// same expression in the same query, so stored values and terms always agree.
//
// foldSQL is DuckDB's lower() (a simple, one-code-point lowercase mapping) corrected
// twice: a rune whose lowercase leaves its folding orbit (U+0130 İ) is first moved to a
// private-use code point so lower() keeps it apart, and runes that lower() leaves in
// different forms within one orbit (ς/σ, ſ/s, ϑ/θ, …) are then mapped to one of them.
var foldSQL = sync.OnceValue(func() string {
	inOrbit := func(r, x rune) bool {
		if r == x {
			return true
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f == x {
				return true
			}
		}
		return false
	}
	var preFrom, preTo, postFrom, postTo []rune
	pua := rune(0xE000)
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); !inOrbit(r, l) {
			preFrom, preTo = append(preFrom, r), append(preTo, pua)
			pua++
			continue
		}
		if unicode.SimpleFold(r) == r {
			continue // no case variants
		}
		if unicode.ToLower(r) != r {
			continue
		}
		// r is a lowercase form; map it to the smallest lowercase form of its orbit.
		canon := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if l := unicode.ToLower(f); l < canon && inOrbit(r, l) {
				canon = l
			}
		}
		if canon != r {
			postFrom, postTo = append(postFrom, r), append(postTo, canon)
		}
	}
	lit := func(rs []rune) string { return "'" + strings.ReplaceAll(string(rs), "'", "''") + "'" }
	return "translate(lower(translate(%s, " + lit(preFrom) + ", " + lit(preTo) + ")), " + lit(postFrom) + ", " + lit(postTo) + ")"
})

// fold returns the SQL that folds expr; expr appears in it once (it may be a "?").
func fold(expr string) string { return strings.ReplaceAll(foldSQL(), "%s", expr) }

// foldFastBelow is the first code point past the fast path of foldColumn: below it,
// foldSQL's first translate has nothing to move (its one rune is U+0130 İ) and lower()
// yields no rune its second translate maps (they are all U+017F ſ or above).
const foldFastBelow = 0x130

// foldColumn returns the SQL that folds the column expression expr as fold does: a value
// whose runes are all below foldFastBelow (ASCII, Latin-1, Latin Extended-A to U+012F) is
// only lowered, since both translates are no-ops on it. translate() dominated the
// rollup's copy of message contents (2.9 s → 0.5 s per 2.5M messages, most of them
// accented). expr appears three times, so it must not be a placeholder.
// TestFoldColumnMatchesFold checks the two agree.
func foldColumn(expr string) string {
	return fmt.Sprintf("CASE WHEN regexp_matches(%s, '[^\\x{0}-\\x{%X}]') THEN %s ELSE lower(%s) END",
		expr, foldFastBelow-1, fold(expr), expr)
}
