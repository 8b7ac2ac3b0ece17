package warehouse

import (
	"context"
	"fmt"
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

// TestFoldColumnMatchesFold checks that foldColumn's fast path gives fold's result: on
// every rune up to U+2FFF alone and between ASCII, and on random strings of them (most
// below foldFastBelow, some across it), NULL included.
func TestFoldColumnMatchesFold(t *testing.T) {
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Values as lists of code points (no quoting to get wrong), joined in SQL.
	var rows []string
	for r := 1; r <= 0x2FFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		rows = append(rows, fmt.Sprintf("([%d]), ([65, 98, %d, 90])", r, r))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		var l []string
		limit := foldFastBelow
		if rng.IntN(4) == 0 {
			limit = 0x2000
		}
		for range 1 + rng.IntN(12) {
			l = append(l, fmt.Sprint(1+rng.IntN(limit-1)))
		}
		rows = append(rows, "(["+strings.Join(l, ", ")+"])")
	}
	if _, err := db.SQL.Exec("CREATE TABLE s AS SELECT array_to_string(list_transform(l, x -> chr(x)), '') AS v FROM (VALUES " +
		strings.Join(rows, ", ") + ") t(l) UNION ALL SELECT NULL"); err != nil {
		t.Fatal(err)
	}
	var n, fast, differ int
	q := fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE NOT regexp_matches(v, '[^\\x{0}-\\x{%X}]')), ", foldFastBelow-1) +
		"count(*) FILTER (WHERE " + foldColumn("v") + " IS DISTINCT FROM " + fold("v") + ") FROM s"
	if err := db.SQL.QueryRow(q).Scan(&n, &fast, &differ); err != nil {
		t.Fatal(err)
	}
	if differ != 0 {
		t.Fatalf("%d of %d values fold differently on the fast path", differ, n)
	}
	if n < 20000 || fast < 2000 {
		t.Fatalf("%d values, %d on the fast path: the test does not exercise it", n, fast)
	}
}

// TestFloorMicros checks the summaries' bucket against DuckDB's time_bucket of the UTC
// timestamp, and the reports' milliseconds against date_trunc, at edges on both sides
// of 1970 and at random instants.
func TestFloorMicros(t *testing.T) {
	db, err := duck.Open(context.Background(), duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const bucket = int64(bucketMicros)
	instants := []int64{0, -1, 1, 999, 1000, -999, -1000, -1001, bucket, bucket - 1, -bucket, -bucket - 1, -bucket + 1,
		-62135596800000000 + 7*60*1_000_000, // 0001-01-01 00:07
		253402300799999999,                  // 9999-12-31 23:59:59.999999
		1774747800000000, 1774747799999999}  // 2026-03-29 01:30 and just before
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		instants = append(instants, rng.Int64N(2*4102444800000000)-4102444800000000) // 1840..2100
	}
	stmt, err := db.SQL.Prepare(`SELECT ` + bucketSQL("t") + ` = time_bucket(INTERVAL 15 MINUTE, CAST(t AS TIMESTAMP)),
		epoch_us(` + bucketSQL("t") + `), ` + floorMicros("t", 1000) + ` = epoch_us(date_trunc('millisecond', t))
		FROM (SELECT make_timestamptz(?::BIGINT) AS t)`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for _, us := range instants {
		var same, sameMillis bool
		var got int64
		if err := stmt.QueryRow(us).Scan(&same, &got, &sameMillis); err != nil {
			t.Fatalf("%d: %v", us, err)
		}
		if want := us - ((us%bucket)+bucket)%bucket; !same || got != want {
			t.Errorf("bucket of %d µs: %d (same as time_bucket: %v), want %d", us, got, same, want)
		}
		if !sameMillis {
			t.Errorf("milliseconds of %d µs differ from date_trunc", us)
		}
	}
}
