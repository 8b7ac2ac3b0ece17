package warehouse

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// TestSearchStrategies: the ways searchText.search finds rows (each entry in play
// tested once, then their rows from the postings or a lookup per row; or each row
// tested) answer as a plain "folded text contains term" for every row of the range,
// whichever the sizes pick.
func TestSearchStrategies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"Boleto", "SEGUNDA via", "İstanbul", "straße", "ab1", "AB12", "x", "", "Ça va", "ǅ", "rare-word"}
	// fold stands for DuckDB's folding here: lower-case, and ß spelled out, so some
	// folded forms are not the ASCII-lowered text.
	fold := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "ß", "ss") }
	seen := map[string]bool{}
	for _, c := range []struct {
		name          string
		entries, rows int
		span          int // ids of the rows in range are drawn from [base, base+span)
	}{
		{"every entry", 30, 4000, 30},
		{"a span of entries", 5000, 2000, 600},
		{"each row", 50000, 600, 50000},
		{"half the rows", 50000, 40000, 50000},
	} {
		d := newSearchText(false)
		var folded []string
		for range c.entries {
			text := words[r.IntN(len(words))] + words[r.IntN(len(words))]
			if c.name == "half the rows" { // rare texts, found by trigrams
				text += fmt.Sprintf("#%d", len(folded))
			}
			if _, err := d.add(text, fold(text)); err != nil {
				t.Fatal(err)
			}
			folded = append(folded, fold(text))
		}
		base := r.IntN(c.entries - c.span + 1)
		ids := make([]uint32, c.rows)
		for i := range ids {
			ids[i] = uint32(r.IntN(c.entries)) // rows out of range name any entry
		}
		a, b := c.rows/4, c.rows/4+c.rows/2
		var inRange []uint32
		for i := a; i < b; i++ {
			ids[i] = uint32(base + r.IntN(c.span))
			inRange = append(inRange, uint32(i))
		}
		byID := newRowsByID(ids, c.entries)
		terms := []string{"boleto", "via", "i̇stanbul", "strasse", "ab1", "b12", "x", "ça", "ǆ", "rare-word", "none", folded[ids[inRange[len(inRange)/2]]]}
		for k, term := range slices.Repeat(terms, 2) {
			grams := k >= len(terms) // the second time with trigram postings
			if k == len(terms) {
				d.indexGrams()
			}
			rows, test := d.search(ids, &byID, []byte(term), inRange, nil)
			var want []uint32
			for _, i := range inRange {
				if strings.Contains(folded[ids[i]], term) {
					want = append(want, i)
				}
			}
			var got []uint32
			how := "rows"
			if rows != nil {
				got = rows
			} else {
				how = "test"
				for _, i := range inRange {
					if test(i) {
						got = append(got, i)
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s, %q by %s: rows %v, want %v", c.name, term, how, got, want)
			}
			if grams && rarestGram(&d, []byte(term)) <= len(inRange)/4 {
				how = "grams " + how
			}
			seen[c.name+"/"+how] = true
		}
	}
	for _, k := range []string{"every entry/rows", "every entry/test", "a span of entries/rows", "a span of entries/test", "each row/test",
		"half the rows/grams rows"} {
		if !seen[k] {
			t.Errorf("no term took the way %s", k)
		}
	}
}

// TestFloatKeyOrder: floatKey orders as the floats do (-0 as 0) and unFloatKey
// inverts it.
func TestFloatKeyOrder(t *testing.T) {
	fs := []float64{math.Inf(-1), -1e300, -1, -0.5, -1e-300, 0, 1e-300, 0.25, 0.5, 0.7704, 1, 2, 1e300, math.Inf(1)}
	for i, f := range fs {
		if g := unFloatKey(floatKey(f)); g != f {
			t.Fatalf("unFloatKey(floatKey(%v)) = %v", f, g)
		}
		if i > 0 && floatKey(fs[i-1]) >= floatKey(f) {
			t.Fatalf("floatKey(%v) >= floatKey(%v)", fs[i-1], f)
		}
	}
	if floatKey(math.Copysign(0, -1)) != floatKey(0) {
		t.Fatal("-0 and 0 differ")
	}
}

// TestTopKIsASortPrefix: topK returns the first k of a full sort, for any k.
func TestTopKIsASortPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		n := r.IntN(500)
		s := make([]uint32, n)
		for i := range s {
			s[i] = uint32(r.IntN(50))*1000 + uint32(i) // ties on the thousands, broken by position
		}
		k := r.IntN(n + 2)
		if len(s) > 0 && r.IntN(10) == 0 {
			k = 0
		}
		cmp := func(a, b uint32) int { return int(a) - int(b) }
		want := slices.Clone(s)
		slices.SortFunc(want, cmp)
		got := topK(slices.Clone(s), k, cmp)
		if !slices.Equal(got, want[:min(k, n)]) {
			t.Fatalf("n=%d k=%d: %v, want %v", n, k, got, want[:min(k, n)])
		}
	}
}

// TestPairSigScreensNoContainingText: a text that contains a term always passes the
// signature test.
func TestPairSigScreensNoContainingText(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		b := make([]byte, 1+r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		i := r.IntN(len(b))
		term := b[i : i+r.IntN(len(b)-i+1)]
		if !bytes.Contains(b, term) || pairSig(b)&pairSig(term) != pairSig(term) {
			t.Fatalf("%q contains %q but fails the signature", b, term)
		}
	}
}

// TestContainsLowered: containsLowered is a substring search in the ASCII-lowered
// text, for random texts and terms over a small alphabet (so matches are common).
func TestContainsLowered(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte("aAbB1é")
	word := func(n int) []byte {
		b := make([]byte, 0, n)
		for range n {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		return b
	}
	hits := 0
	for range 20000 {
		s, term := word(r.IntN(12)), asciiLower(nil, string(word(r.IntN(4))))
		want := bytes.Contains(asciiLower(nil, string(s)), term)
		if got := containsLowered(s, term); got != want {
			t.Fatalf("containsLowered(%q, %q) = %v", s, term, got)
		}
		if want {
			hits++
		}
	}
	if hits < 2000 {
		t.Fatalf("only %d hits", hits)
	}
}

// TestMsgIDsGiveBackEveryID: message ids come back exactly as added, whether they
// are kept as 16 bytes (canonical lower-case UUIDs) or as strings (anything else).
func TestMsgIDsGiveBackEveryID(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ids []string
	for i := range 3000 {
		var b [16]byte
		for j := range b {
			b[j] = byte(r.IntN(256))
		}
		u := fmt.Sprintf("%x-%x-%x-%x-%x", b[:4], b[4:6], b[6:8], b[8:10], b[10:])
		switch i % 6 {
		case 1:
			u = strings.ToUpper(u)
		case 2:
			u = strings.ReplaceAll(u, "-", "")
		case 3:
			u = u[:35] + "g"
		case 4:
			u = fmt.Sprintf("m-%d", i)
		case 5:
			u = u[:8] + "_" + u[9:]
		}
		ids = append(ids, u)
	}
	ids = append(ids, "", "ǅ", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff")
	var m msgIDs
	odd := 0
	for _, id := range ids {
		if err := m.add(id); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		if got := m.str(uint32(i)); got != id {
			t.Fatalf("id %d: %q, want %q", i, got, id)
		}
		if m.odd.has(uint32(i)) {
			odd++
		}
	}
	if want := 2500 + 2; odd != want {
		t.Fatalf("%d ids kept as strings, want %d", odd, want)
	}
}

// TestGramSearch: the trigram postings find exactly the entries in [lo, hi] that
// contain the term, for random ranges and terms cut from the entries, in a column of
// one entry per row (every folded form kept) and in a dictionary (folded forms kept
// only where they are not the ASCII-lowered text); they refuse (ok false) only a term
// under three bytes or one whose rarest trigram has more than limit entries in range.
func TestGramSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "B", "c", "1", "-", "ß", "İ", "é"}
	fold := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "ß", "ss") }
	for _, dedupe := range []bool{false, true} {
		d := newSearchText(dedupe)
		var folded []string
		for range 5000 {
			var b strings.Builder
			for range 1 + r.IntN(14) {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			id, err := d.add(b.String(), fold(b.String()))
			if err != nil {
				t.Fatal(err)
			}
			if int(id) == len(folded) {
				folded = append(folded, fold(b.String()))
			}
		}
		d.indexGrams()
		lowered := 0
		for id := range folded {
			if !d.own.has(uint32(id)) {
				lowered++
			}
		}
		if dedupe != (lowered > 0) {
			t.Fatalf("dedupe %v: %d entries kept as lowered text", dedupe, lowered)
		}
		found, refused := 0, 0
		for range 3000 {
			src := folded[r.IntN(len(folded))]
			a := r.IntN(len(src))
			term := []byte(src[a : a+min(len(src)-a, []int{1, 2, 3, 3, 4, 6, 9}[r.IntN(7)])])
			lo := uint32(r.IntN(len(folded)))
			hi := lo + uint32(r.IntN(len(folded)-int(lo)))
			limit := []int{5, 500, len(folded)}[r.IntN(3)]
			ids, ok := d.gramSearch(term, pairSig(term), lo, hi, limit)
			if !ok {
				if len(term) >= 3 && rarestGramIn(&d, term, lo, hi) <= limit {
					t.Fatalf("dedupe %v, %q in [%d, %d]: refused with %d candidates, limit %d", dedupe, term, lo, hi, rarestGramIn(&d, term, lo, hi), limit)
				}
				refused++
				continue
			}
			var want []uint32
			for id := lo; id <= hi; id++ {
				if strings.Contains(folded[id], string(term)) {
					want = append(want, id)
				}
			}
			if !slices.Equal(ids, want) && (len(ids) > 0 || len(want) > 0) {
				t.Fatalf("dedupe %v, %q in [%d, %d]: %v, want %v", dedupe, term, lo, hi, ids, want)
			}
			found++
		}
		if found < 1000 || refused < 100 {
			t.Fatalf("dedupe %v: %d searches answered, %d refused: the cases do not exercise both", dedupe, found, refused)
		}
	}
}

// rarestGramIn is the number of entries in [lo, hi] of term's rarest trigram.
func rarestGramIn(d *searchText, term []byte, lo, hi uint32) int {
	n := math.MaxInt
	for i := 0; i+3 <= len(term); i++ {
		g := gramOf(term[i:])
		c := 0
		for _, id := range d.grams.ids[d.grams.start[g]:d.grams.start[g+1]] {
			if lo <= id && id <= hi {
				c++
			}
		}
		n = min(n, c)
	}
	return n
}

// rarestGram is the number of entries of term's rarest trigram (MaxInt under three bytes).
func rarestGram(d *searchText, term []byte) int {
	n := math.MaxInt
	for i := 0; i+3 <= len(term); i++ {
		g := gramOf(term[i:])
		n = min(n, int(d.grams.start[g+1]-d.grams.start[g]))
	}
	return n
}

// TestRowClassesMatchTheTests: a row's class (hour of day, channel, flag) accepts
// exactly the rows the separate tests of the hour window, the channels and the flag
// filter accept — rows before 1970 too — so a table too wide for classes (which then
// tests them apart) lists the same rows.
func TestRowClassesMatchTheTests(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	channels := []string{"c0", "c1", "c2", "c3", "c4"}
	x, cur, _ := randomListTable(t, r, 5000, 1, 2_639_666_667, channels) // 44 min apart
	if x.class == nil {
		t.Fatal("no classes for 5 channels")
	}
	rows := make([]uint32, 5000)
	for i := range rows {
		rows[i] = uint32(i)
	}
	for range 500 {
		f := ListFilter{Query: Query{Mask: calendar.NewMask(r.IntN(24), r.IntN(24))}}
		if r.IntN(3) == 0 {
			f.Mask = calendar.NewMask(0, 23)
		}
		if r.IntN(2) == 0 {
			f.Channels = []string{channels[r.IntN(5)], channels[r.IntN(5)], "unknown"}
		}
		flag := flagFilter(r.IntN(3))
		withClasses := x.matcher(cur, f, flag)
		classes := x.class
		x.class = nil
		apart := x.matcher(cur, f, flag)
		x.class = classes
		got := withClasses.appendMatches(nil, rows, x.key[timeSort])
		want := apart.appendMatches(nil, rows, x.key[timeSort])
		if !slices.Equal(got, want) || len(want) == 0 && f.Mask.All() && f.Channels == nil {
			t.Fatalf("mask %v channels %v flag %d: by class %d rows, apart %d", f.Mask, f.Channels, flag, len(got), len(want))
		}
		for _, i := range rows[:200] {
			if withClasses.ok(i, x.key[timeSort][i]) != apart.ok(i, x.key[timeSort][i]) {
				t.Fatalf("row %d: ok differs", i)
			}
		}
	}
}

// TestListsWithAndWithoutClasses: lists of a table with row classes (the class walk
// of the other sorts, the class filter of a range) give the same counts and pages as
// the same table without them (too many channels for classes), and as a full sort of
// every match, in both orders, by keys of few and of many values, through the walk,
// the sort of the range and a search's rows.
func TestListsWithAndWithoutClasses(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	channels := []string{"c0", "c1", "c2", "c3", "c4", "c5"}
	x, _, k := randomListTable(t, r, 20000, 3, 900*1e6, channels) // 15 min apart: on the hour too
	tn := x.tenants[k]
	classes, permClass := x.class, tn.permClass
	if classes == nil || permClass[1] == nil || permClass[2] == nil {
		t.Fatal("no classes")
	}
	all := x.key[timeSort]
	walked := 0
	for q := range 1200 {
		f := ListFilter{Query: Query{Tenant: k, Mask: calendar.NewMask(r.IntN(24), r.IntN(24))}}
		if r.IntN(3) == 0 {
			f.Mask = calendar.NewMask(0, 23)
		}
		if r.IntN(2) == 0 {
			f.Channels = []string{channels[r.IntN(6)], channels[r.IntN(6)], "unknown"}
		}
		f.Start = calendar.HourOf(all[0]) + r.Int64N(3000)
		f.End = f.Start + []int64{2, 24, 24 * 30, 24 * 400}[r.IntN(4)]
		f.Desc, f.Max = r.IntN(2) == 0, []int{1, 10, 50}[r.IntN(3)]
		f.Offset = f.Max * []int{0, 1, 7, 60}[r.IntN(4)]
		flag := flagFilter(r.IntN(3))
		lq := listQuery{f: f, sort: r.IntN(3), flag: flag}
		if q%4 == 0 { // a search that lists its rows: every third row (without those keep rejects: classes only)
			lq.searchIn = func(inRange []uint32, keep func(uint32) bool) ([]uint32, func(uint32) bool) {
				rows := []uint32{}
				for _, i := range inRange {
					if i%3 == 0 && (keep == nil || keep(i)) {
						rows = append(rows, i)
					}
				}
				return rows, nil
			}
		}
		apart := x.matcher(tn, f, flag)
		lq.counted = func() int64 { // what the snapshot's counts give
			c := int64(0)
			for i := range all {
				if at := all[i]; at >= f.Start*calendar.HourMicros && at < f.End*calendar.HourMicros && apart.ok(uint32(i), at) {
					c++
				}
			}
			return c
		}
		n1, page1 := x.list(lq)
		x.class, tn.permClass = nil, nil
		n2, page2 := x.list(lq)
		x.class, tn.permClass = classes, permClass
		if n1 != n2 || !slices.Equal(page1, page2) {
			t.Fatalf("query %d %+v sort %d flag %d: with classes %d %v, without %d %v", q, f, lq.sort, flag, n1, page1, n2, page2)
		}
		var want []uint32 // every match, fully sorted
		for i := range all {
			at := all[i]
			if at >= f.Start*calendar.HourMicros && at < f.End*calendar.HourMicros && apart.ok(uint32(i), at) && (lq.searchIn == nil || i%3 == 0) {
				want = append(want, uint32(i))
			}
		}
		if n1 != int64(len(want)) {
			t.Fatalf("query %d %+v sort %d flag %d: count %d, the rows %d", q, f, lq.sort, flag, n1, len(want))
		}
		slices.SortFunc(want, func(a, b uint32) int { return x.compare(lq.sort, f.Desc, a, b) })
		want = want[min(f.Offset, len(want)):min(f.Offset+f.Max, len(want))]
		if !slices.Equal(page1, want) && (len(page1) > 0 || len(want) > 0) {
			t.Fatalf("query %d %+v sort %d flag %d: page %v, a full sort gives %v", q, f, lq.sort, flag, page1, want)
		}
		if len(page1) > 0 && lq.sort != timeSort && lq.searchIn == nil {
			walked++
		}
	}
	if walked < 50 {
		t.Fatalf("only %d pages of the other sort had rows", walked)
	}
}

// TestMergeRows: merging ascending parts (pairwise, any count, empty ones too) gives
// the sorted rows of all parts that keep accepts, never nil.
func TestMergeRows(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		k := r.IntN(12)
		parts := make([][]uint32, k)
		var want []uint32
		keep := func(i uint32) bool { return i%5 != 0 }
		withKeep := r.IntN(2) == 0
		for i := range parts {
			for range r.IntN(40) {
				parts[i] = append(parts[i], uint32(r.IntN(1000)))
			}
			slices.Sort(parts[i])
			parts[i] = slices.Compact(parts[i])
		}
		for _, p := range parts {
			for _, v := range p {
				if !withKeep || k == 1 || keep(v) { // one part is returned as it is
					want = append(want, v)
				}
			}
		}
		slices.Sort(want)
		var kf func(uint32) bool
		if withKeep {
			kf = keep
		}
		got := mergeRows(slices.Clone(parts), kf)
		if got == nil || !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Fatalf("%d parts, keep %v: %v, want %v", k, withKeep, got, want)
		}
	}
}

// randomListTable is one tenant's n rows, step µs apart from well before 1970, on
// random channels, a third of them flagged, ranked by random tie-breakers; the second
// sort is a low-cardinality key with NULLs (like satisfaction), the third a
// high-cardinality one (like confidence). Its rows are classified.
func randomListTable(t *testing.T, r *rand.Rand, n, sorts int, step int64, channels []string) (*listTable, *listTenant, TenantKey) {
	k := TenantKey{Org: "o", Env: "e", Bot: "b"}
	x := randomListTables(t, r, sorts, step, tenantSpec{k: k, n: n, channels: channels, same: 1})
	return x, x.tenants[k], k
}

// tenantSpec is one tenant of randomListTables: n rows on its channels, same rows at
// each time.
type tenantSpec struct {
	k        TenantKey
	n        int
	channels []string
	same     int
}

// randomListTables is randomListTable for several tenants, one after the other.
func randomListTables(t *testing.T, r *rand.Rand, sorts int, step int64, specs ...tenantSpec) *listTable {
	x := newListTable(0, sorts)
	var cur *listTenant
	var curKey TenantKey
	ids := map[string]uint32{}
	tie := newArena(0)
	var ties []string // the next rows' tie-breakers: ascending within a time, as the loaders order rows
	for _, sp := range specs {
		for i := range sp.n {
			if len(ties) == 0 {
				for range min(sp.same, sp.n-i) {
					ties = append(ties, fmt.Sprintf("%08d", r.IntN(1e8)))
				}
				slices.Sort(ties)
			}
			cur = x.tenantAt(sp.k, cur, &curKey)
			x.key[timeSort] = append(x.key[timeSort], int64(i/sp.same-sp.n/4)*step)
			for s, card := range []int{0, 6, 4 * sp.n}[1:sorts] {
				v := int64(r.IntN(card))
				if v == int64(card-1) {
					x.null[s+1].set(len(x.key[timeSort]) - 1)
					v = 0
				}
				x.key[s+1] = append(x.key[s+1], v)
			}
			x.addChannel(cur, ids, sp.channels[r.IntN(len(sp.channels))])
			if r.IntN(3) == 0 {
				x.flag.set(len(x.key[timeSort]) - 1)
			}
			if err := tie.add(ties[0]); err != nil {
				t.Fatal(err)
			}
			ties = ties[1:]
		}
	}
	x.finish(cur, &tie)
	x.classify(blockShift)
	return &x
}

// TestBlockPages: with block counts (blocks of 8, 32 and 512 rows) lists give the
// counts and pages of a full sort of every match, for deep pages in both orders, keys
// of few values (large groups, NULLs) and of many, times shared by three rows (groups
// of the time sort across blocks), ranges that leave out a few rows at either end, hour
// windows, channels (the tenant's own class numbers are not the table's: another
// tenant's rows and channels come first) and the flag filter.
func TestBlockPages(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	channels := []string{"c0", "c1", "c2", "c3", "c4"}
	k := TenantKey{Org: "o", Env: "e", Bot: "b"}
	x := randomListTables(t, r, 3, 200*1e6,
		tenantSpec{k: TenantKey{Org: "o", Env: "e", Bot: "a"}, n: 3000, channels: []string{"c5", "c3", "c6"}, same: 1},
		tenantSpec{k: k, n: 12000, channels: channels, same: 3}) // 10 min apart, three rows a time
	tn := x.tenants[k]
	if tn.lo == 0 || x.channels[tn.channels["c0"]] != "c0" || tn.channels["c0"] == 0 {
		t.Fatal("the tenant's rows or channels come first")
	}
	all := x.key[timeSort]
	first, last := calendar.HourOf(all[tn.lo]), calendar.HourOf(all[tn.hi-1])
	used := 0
	var prev ListFilter
	for _, shift := range []int{3, 5, 9} {
		tn.blocks = nil
		x.buildBlocks(tn, shift)
		if tn.blocks == nil {
			t.Fatalf("shift %d: no blocks", shift)
		}
		for q := range 700 {
			f := ListFilter{Query: Query{Tenant: k, Mask: calendar.NewMask(0, 23)}}
			if r.IntN(2) == 0 {
				f.Mask = calendar.NewMask(r.IntN(24), r.IntN(24))
			}
			if r.IntN(3) == 0 {
				f.Channels = []string{channels[r.IntN(5)], channels[r.IntN(5)]}
				if r.IntN(4) == 0 {
					f.Channels = []string{"unknown", "c5"} // c5 is the other tenant's
				}
			}
			// Mostly the whole life but a few hours at either end, sometimes a month.
			f.Start, f.End = first+r.Int64N(60)-10, last+1-r.Int64N(60)+10
			if r.IntN(5) == 0 {
				f.Start = first + r.Int64N(last-first)
				f.End = f.Start + 24*30
			}
			if r.IntN(3) == 0 { // the last range again: its counts out of the range are kept
				f.Start, f.End = prev.Start, prev.End
			}
			prev = f
			f.Desc, f.Max = r.IntN(2) == 0, []int{1, 10, 20}[r.IntN(3)]
			f.Offset = []int{0, 1, 9, 99, 500, 3000, 7000, 11990}[r.IntN(8)]
			flag := flagFilter(r.IntN(3))
			lq := listQuery{f: f, sort: r.IntN(3), flag: flag}
			apart := x.matcher(tn, f, flag)
			lo, hi := f.Start*calendar.HourMicros, f.End*calendar.HourMicros
			var want []uint32
			for i := tn.lo; i < tn.hi; i++ {
				if at := all[i]; at >= lo && at < hi && apart.ok(i, at) {
					want = append(want, i)
				}
			}
			lq.counted = func() int64 { return int64(len(want)) }
			n, page := x.list(lq)
			if n2, page2 := x.list(lq); n2 != n || !slices.Equal(page2, page) {
				t.Fatalf("shift %d query %d: asked again, %d %v, first %d %v", shift, q, n2, page2, n, page)
			}
			if n != int64(len(want)) {
				t.Fatalf("shift %d query %d %+v sort %d flag %d: count %d, the rows %d", shift, q, f, lq.sort, flag, n, len(want))
			}
			slices.SortFunc(want, func(a, b uint32) int { return x.compare(lq.sort, f.Desc, a, b) })
			want = want[min(f.Offset, len(want)):min(f.Offset+f.Max, len(want))]
			if !slices.Equal(page, want) && (len(page) > 0 || len(want) > 0) {
				t.Fatalf("shift %d query %d %+v sort %d flag %d: page %v, a full sort gives %v", shift, q, f, lq.sort, flag, page, want)
			}
			in := all[tn.lo:tn.hi]
			a := int(tn.lo) + sort.Search(len(in), func(i int) bool { return in[i] >= lo })
			b := int(tn.lo) + sort.Search(len(in), func(i int) bool { return in[i] >= hi })
			if x.newBlockCounter(tn, lq.sort, apart, lo, hi, a, b) != nil {
				used++
			}
		}
	}
	if used < 1500 {
		t.Fatalf("blocks counted only %d of 2100 lists", used)
	}
}

// TestBlockPagesConcurrently: lists by block counts from several goroutines at once
// (sharing the out-of-range counts' cache, as a server's requests do) give the answers
// the same lists give one at a time. `make race` runs it under the race detector.
func TestBlockPagesConcurrently(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	x, tn, k := randomListTable(t, r, 12000, 3, 600*1e6, []string{"c0", "c1", "c2"})
	if tn.blocks == nil {
		t.Fatal("no blocks")
	}
	all := x.key[timeSort]
	first, last := calendar.HourOf(all[0]), calendar.HourOf(all[len(all)-1])
	type ask struct {
		q    listQuery
		n    int64
		page []uint32
	}
	asks := make([]ask, 300)
	for i := range asks {
		f := ListFilter{Query: Query{Tenant: k, Mask: calendar.NewMask(r.IntN(24), r.IntN(24)),
			Start: first + r.Int64N(5), End: last + 1 - r.Int64N(5)}}
		f.Desc, f.Max, f.Offset = r.IntN(2) == 0, 20, r.IntN(5000)
		asks[i].q = listQuery{f: f, sort: r.IntN(3), flag: flagFilter(r.IntN(3)), counted: func() int64 { panic("counted") }}
	}
	x.outCounts = &outCache{}
	for i := range asks {
		asks[i].n, asks[i].page = x.list(asks[i].q)
	}
	x.outCounts = &outCache{} // start cold: the goroutines fill it together
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for j := range asks {
				a := &asks[(j*7+g*31)%len(asks)]
				if n, page := x.list(a.q); n != a.n || !slices.Equal(page, a.page) {
					errs <- fmt.Sprintf("goroutine %d: %+v gave %d %v, alone %d %v", g, a.q.f, n, page, a.n, a.page)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
