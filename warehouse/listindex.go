package warehouse

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// The list index answers conversations/list, messages/list and conversations/details
// (listindex_transcript.go) from Go memory. A DuckDB query costs milliseconds even for
// ten rows found by key (a top-N over a month of the large bot 5–10 ms, fetching ten
// rows by session code with an ART index, since replaced by session_lookup, 13–47 ms,
// by rowid 1.7 ms a row), so a page served by DuckDB tops out near 100 req/s on two
// cores. The index holds every conversation_facts row and every USER message in
// pointer-free columns (string arenas, dictionaries, integer slices: the garbage
// collector does not scan them), each tenant's rows a run in list-time order, with one
// permutation per other sort order, the rows of each value for the equality searches
// and pair signatures for the substring ones. It is read in one transaction after each
// snapshot refresh, in the background, and serves only while it is of the generation
// last committed: each part (conversations, messages, transcripts) as soon as it is
// read; until then (or after a refresh that failed) its lists run in DuckDB.

// arena is a column of strings: element i is b[off[i]:off[i+1]].
type arena struct {
	b   []byte
	off []uint32
}

func newArena(n int) arena { return arena{off: append(make([]uint32, 0, n+1), 0)} }

var errIndexTooLarge = errors.New("list index: a column holds more than 4 GiB or 2^32 values")

func (a *arena) add(s string) error {
	if uint64(len(a.b))+uint64(len(s)) > math.MaxUint32 || len(a.off) >= math.MaxUint32 {
		return errIndexTooLarge
	}
	a.b = append(a.b, s...)
	a.off = append(a.off, uint32(len(a.b)))
	return nil
}

// addNullable appends row i of col: "" for a NULL, marked as row in nulls when set.
func (a *arena) addNullable(col arrow.Array, i int, nulls *bitset, row int) error {
	if col.IsNull(i) {
		if nulls != nil {
			nulls.set(row)
		}
		return a.add("")
	}
	return a.add(rawString(col, i))
}

func (a *arena) size() int64 { return int64(cap(a.b) + 4*cap(a.off)) }

func (a *arena) bytes(i uint32) []byte { return a.b[a.off[i]:a.off[i+1]] }
func (a *arena) str(i uint32) string   { return string(a.bytes(i)) }

// eachString calls fn with each non-NULL element of row i of a list column (none for
// a NULL list); the strings alias the record batch.
func eachString(col *array.List, i int, fn func(string) error) error {
	if col == nil || !col.IsValid(i) {
		return nil
	}
	lo, hi := col.ValueOffsets(i)
	vals := col.ListValues()
	for j := int(lo); j < int(hi); j++ {
		if vals.IsNull(j) {
			continue
		}
		if err := fn(rawString(vals, j)); err != nil {
			return err
		}
	}
	return nil
}

// strDict is a dictionary of strings: an id per distinct string.
type strDict struct {
	a   arena
	ids map[string]uint32
}

func newStrDict() strDict { return strDict{a: newArena(0), ids: map[string]uint32{}} }

// id returns the id of s, adding it when new (s may alias a record batch).
func (d *strDict) id(s string) (uint32, error) {
	if id, ok := d.ids[s]; ok {
		return id, nil
	}
	id := uint32(len(d.a.off) - 1)
	if err := d.a.add(s); err != nil {
		return 0, err
	}
	d.ids[strings.Clone(s)] = id
	return id, nil
}

func (d *strDict) str(id uint32) string { return d.a.str(id) }

// idList is a column of lists of dictionary ids: row i's are ids[start[i]:start[i+1]].
type idList struct {
	ids   []uint32
	start []uint32
}

func newIDList(n int) idList { return idList{start: append(make([]uint32, 0, n+1), 0)} }

func (l *idList) size() int64 { return int64(4 * (cap(l.ids) + cap(l.start))) }

// add appends row i of col (NULL elements skipped, a NULL list empty).
func (l *idList) add(col *array.List, i int, d *strDict) error {
	err := eachString(col, i, func(v string) error {
		id, err := d.id(v)
		if err != nil {
			return err
		}
		if len(l.ids) >= math.MaxUint32 {
			return errIndexTooLarge
		}
		l.ids = append(l.ids, id)
		return nil
	})
	if err != nil {
		return err
	}
	l.start = append(l.start, uint32(len(l.ids)))
	return nil
}

// addValue appends row i of a scalar column: one id, or none for a NULL.
func (l *idList) addValue(col arrow.Array, i int, d *strDict) error {
	if col.IsValid(i) {
		id, err := d.id(rawString(col, i))
		if err != nil {
			return err
		}
		l.ids = append(l.ids, id)
	}
	l.start = append(l.start, uint32(len(l.ids)))
	return nil
}

// rowsByID returns the rows of each of the n ids of l's dictionary, in row order (an
// id twice in one row counts once).
func (l *idList) rowsByID(n int) rowsByID {
	p := rowsByID{start: make([]uint32, n+1)}
	l.eachOnce(func(_ uint32, id uint32) { p.start[id+1]++ })
	for id := range n {
		p.start[id+1] += p.start[id]
	}
	p.rows = make([]uint32, p.start[n])
	next := slices.Clone(p.start[:n])
	l.eachOnce(func(row uint32, id uint32) {
		p.rows[next[id]] = row
		next[id]++
	})
	return p
}

// eachOnce calls fn for each (row, id) of l, in row order, an id once per row.
func (l *idList) eachOnce(fn func(row, id uint32)) {
	for i := 0; i+1 < len(l.start); i++ {
		ids := l.ids[l.start[i]:l.start[i+1]]
		for j, id := range ids {
			if !slices.Contains(ids[:j], id) {
				fn(uint32(i), id)
			}
		}
	}
}

// strings returns row i's values from d.
func (l *idList) strings(i uint32, d *strDict) []string {
	out := make([]string, 0, l.start[i+1]-l.start[i])
	for _, id := range l.ids[l.start[i]:l.start[i+1]] {
		out = append(out, d.str(id))
	}
	return out
}

// pairSig is a 64-bit signature of the byte pairs of s: one bit per pair. A string
// that contains t holds every pair of t, so sig(s) & sig(t) == sig(t); most strings
// that do not contain t fail this one test before a substring search.
func pairSig(s []byte) uint64 {
	var sig uint64
	for i := 0; i+1 < len(s); i++ {
		sig |= 1 << ((uint32(s[i])<<8 | uint32(s[i+1])) * 0x9E3779B1 >> 26)
	}
	return sig
}

// searchText is a column of texts searched by "contains, ignoring case", with a pair
// signature of each text's folded form (as DuckDB folded it) to screen most texts
// out. A dictionary (dedupe: one entry per distinct text) keeps the folded form only
// where it is not the text with ASCII letters lowered (those are lowered while
// compared); a column of one entry per row or session keeps every folded form, as it
// is searched entry by entry and the lowering costs more there (conversations/list at
// 50 clients, by session code 3,680 against 3,210 req/s, by business key 1,810
// against 1,460; 27 MB more for the 1.23M conversations).
type searchText struct {
	text   arena
	folded arena  // "" where own is not set
	own    bitset // entries whose folded form is in folded
	sig    []uint64
	grams  gramIndex         // when built (indexGrams): the entries of each trigram
	ids    map[string]uint32 // by text, while loading (nil: one entry per add)
	lower  []byte
}

func newSearchText(dedupe bool) searchText {
	d := searchText{text: newArena(0), folded: newArena(0)}
	if dedupe {
		d.ids = map[string]uint32{}
	}
	return d
}

// add returns the id of text, whose folded form is folded (either may alias a batch).
func (d *searchText) add(text, folded string) (uint32, error) {
	if d.ids != nil {
		if id, ok := d.ids[text]; ok {
			return id, nil
		}
	}
	id := uint32(len(d.sig))
	if err := d.text.add(text); err != nil {
		return 0, err
	}
	f := ""
	if d.ids == nil || string(asciiLower(d.lower[:0], text)) != folded {
		d.own.set(int(id))
		f = folded
	}
	if err := d.folded.add(f); err != nil {
		return 0, err
	}
	d.sig = append(d.sig, pairSig([]byte(folded)))
	if d.ids != nil {
		d.ids[strings.Clone(text)] = id
	}
	return id, nil
}

func (d *searchText) size() int64 {
	return d.text.size() + d.folded.size() + int64(8*(cap(d.sig)+len(d.own))) + d.grams.size()
}

// gramIndex holds, for each byte trigram of the entries' folded forms (hashed into
// gramBuckets buckets), the entries holding it in ascending order: a substring of
// three bytes or more is found among the entries of its rarest trigram instead of
// in every entry of the range. Buckets shared by several trigrams only lengthen a
// list of candidates; each candidate is tested.
type gramIndex struct {
	start []uint32 // bucket g's entries are ids[start[g]:start[g+1]]
	ids   []uint32
}

const gramBits = 18

func (g *gramIndex) size() int64 { return int64(4 * (cap(g.start) + cap(g.ids))) }

// gramOf is the bucket of the trigram at the start of s.
func gramOf(s []byte) uint32 {
	return (uint32(s[0])<<16 | uint32(s[1])<<8 | uint32(s[2])) * 0x9E3779B1 >> (32 - gramBits)
}

// indexGrams builds d.grams over every entry.
func (d *searchText) indexGrams() {
	var buf []uint32
	var lower []byte
	each := func(fn func(id, g uint32)) {
		for id := range uint32(len(d.sig)) {
			f := d.folded.bytes(id)
			if !d.own.has(id) {
				lower = asciiLower(lower[:0], string(d.text.bytes(id)))
				f = lower
			}
			buf = buf[:0]
			for i := 0; i+3 <= len(f); i++ {
				buf = append(buf, gramOf(f[i:]))
			}
			slices.Sort(buf)
			for _, g := range slices.Compact(buf) {
				fn(id, g)
			}
		}
	}
	g := gramIndex{start: make([]uint32, 1<<gramBits+1)}
	each(func(_, b uint32) { g.start[b+1]++ })
	for b := range 1 << gramBits {
		g.start[b+1] += g.start[b]
	}
	g.ids = make([]uint32, g.start[1<<gramBits])
	next := slices.Clone(g.start[:1<<gramBits])
	each(func(id, b uint32) {
		g.ids[next[b]] = id
		next[b]++
	})
	d.grams = g
}

// gramSearch returns the entries in [lo, hi] that contain term (folded; sig is its
// pairSig), ascending, from the trigram postings. ok is false, and nothing is
// tested, when d has no postings, term is shorter than three bytes, or the rarest
// trigram of term has more than limit entries in [lo, hi].
func (d *searchText) gramSearch(term []byte, sig uint64, lo, hi uint32, limit int) (ids []uint32, ok bool) {
	if d.grams.start == nil || len(term) < 3 {
		return nil, false
	}
	var cand []uint32
	for i := 0; i+3 <= len(term); i++ {
		b := gramOf(term[i:])
		p := d.grams.ids[d.grams.start[b]:d.grams.start[b+1]]
		from, _ := slices.BinarySearch(p, lo)
		to := len(p)
		if hi < math.MaxUint32 {
			to, _ = slices.BinarySearch(p, hi+1)
		}
		if i == 0 || to-from < len(cand) {
			cand = p[from:to]
		}
	}
	if len(cand) > limit {
		return nil, false
	}
	ids = []uint32{}
	for _, id := range cand {
		if d.contains(id, term, sig) {
			ids = append(ids, id)
		}
	}
	return ids, true
}

// contains reports whether entry id contains term (folded); sig is pairSig(term).
// The signature test is inlined where it is called, as most entries fail it.
func (d *searchText) contains(id uint32, term []byte, sig uint64) bool {
	return d.sig[id]&sig == sig && d.holds(id, term)
}

// holds reports whether entry id contains term (folded), signature aside.
func (d *searchText) holds(id uint32, term []byte) bool {
	if d.own.has(id) {
		return bytes.Contains(d.folded.bytes(id), term)
	}
	return containsLowered(d.text.bytes(id), term)
}

// containsLowered reports whether s with its ASCII letters lowered contains term,
// without lowering a copy of s: the candidates for term's first byte are found by
// bytes.IndexByte (both cases of a letter), the rest compared lowered.
func containsLowered(s, term []byte) bool {
	if len(term) == 0 {
		return true
	}
	first, upper := term[0], term[0]
	if 'a' <= first && first <= 'z' {
		upper = first - ('a' - 'A')
	}
	for i := 0; i+len(term) <= len(s); i++ {
		k := bytes.IndexByte(s[i:len(s)-len(term)+1], first)
		if upper != first {
			if u := bytes.IndexByte(s[i:len(s)-len(term)+1], upper); u >= 0 && (k < 0 || u < k) {
				k = u
			}
		}
		if k < 0 {
			return false
		}
		i += k
		j := 1
		for j < len(term) && lowerASCII(s[i+j]) == term[j] {
			j++
		}
		if j == len(term) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// runOf returns the rows [a, b) of inRange, a run of rows.
func runOf(inRange []uint32) (a, b uint32) {
	if len(inRange) == 0 {
		return 0, 0
	}
	return inRange[0], inRange[len(inRange)-1] + 1
}

// equalRows is an equality search: the rows in range holding the value term of d,
// from its rows by id (none when d lacks it).
func equalRows(by *rowsByID, d *strDict, term []byte) searchFunc {
	return func(inRange []uint32, _ func(uint32) bool) ([]uint32, func(uint32) bool) {
		id, ok := d.ids[string(term)]
		if !ok {
			return []uint32{}, nil
		}
		a, b := runOf(inRange)
		return by.in(id, a, b), nil
	}
}

// search finds the rows of inRange (a run of rows) whose entry, ids[row], contains
// term. Where few entries are in play (the dictionary, or the span of the ids the
// rows name, is no larger than the rows) it tests each of those entries once; if
// their rows are then few, it returns them (from byID, in row order), else a test
// of a row that looks its entry's answer up. Otherwise it returns a test of each row.
func (d *searchText) search(ids []uint32, byID *rowsByID, term []byte, inRange []uint32, keep func(uint32) bool) ([]uint32, func(uint32) bool) {
	sig := pairSig(term)
	if len(inRange) == 0 {
		return []uint32{}, nil
	}
	a, b := runOf(inRange)
	if hits, ok := d.gramSearch(term, sig, 0, math.MaxUint32, len(inRange)/4); ok {
		var parts [][]uint32
		for _, id := range hits {
			if r := byID.in(id, a, b); len(r) > 0 {
				parts = append(parts, r)
			}
		}
		return mergeRows(parts, keep), nil
	}
	lo, hi := uint32(0), uint32(len(d.sig)-1)
	if len(d.sig) > len(inRange) {
		lo, hi = ids[a], ids[a]
		for _, id := range ids[a:b] {
			lo, hi = min(lo, id), max(hi, id)
		}
		if int(hi-lo) >= len(inRange) {
			return nil, func(i uint32) bool { return d.contains(ids[i], term, sig) }
		}
	}
	hit := make([]bool, hi-lo+1)
	rows := 0
	for k := range hit {
		id := lo + uint32(k)
		if hit[k] = d.contains(id, term, sig); hit[k] {
			rows += len(byID.in(id, a, b))
		}
	}
	if rows <= len(inRange)/4 {
		return byID.collect(lo, hi, func(id uint32) bool { return hit[id-lo] }, a, b, keep), nil
	}
	return nil, func(i uint32) bool { return hit[ids[i]-lo] }
}

// rowsByID are the rows of each id of a one-value-per-row column, in row order: the
// rows of id are rows[start[id]:start[id+1]] (a counting sort of the rows by id).
type rowsByID struct {
	start []uint32
	rows  []uint32
}

func newRowsByID(ids []uint32, n int) rowsByID {
	one := idList{ids: ids, start: make([]uint32, len(ids)+1)} // one id per row
	for i := range ids {
		one.start[i+1] = uint32(i + 1)
	}
	return one.rowsByID(n)
}

func (p *rowsByID) size() int64 { return int64(4 * (cap(p.start) + cap(p.rows))) }

// in returns the rows of id in [a, b).
func (p *rowsByID) in(id uint32, a, b uint32) []uint32 {
	r := p.rows[p.start[id]:p.start[id+1]]
	from := sort.Search(len(r), func(i int) bool { return r[i] >= a })
	to := from + sort.Search(len(r)-from, func(i int) bool { return r[from+i] >= b })
	return r[from:to]
}

// collect returns, in row order, the rows in [a, b) of the ids for which hit is true
// among [lo, hi].
func (p *rowsByID) collect(lo, hi uint32, hit func(uint32) bool, a, b uint32, keep func(uint32) bool) []uint32 {
	var parts [][]uint32
	for id := lo; id <= hi; id++ {
		if hit(id) {
			if r := p.in(id, a, b); len(r) > 0 {
				parts = append(parts, r)
			}
		}
	}
	return mergeRows(parts, keep)
}

// mergeRows returns the rows of parts, each ascending, ascending (never nil); with
// several parts, only those keep accepts (nil: all). Sorting the concatenated rows
// was most of a broad word search (50k rows from several texts); the parts are merged
// pairwise instead (n log k for k parts, not n log n), after the rows a request's hour
// window, channels or flag filter drop are dropped. (A bitmap of the range merged them
// no faster than the sort, with a worse tail: measured.)
func mergeRows(parts [][]uint32, keep func(uint32) bool) []uint32 {
	switch {
	case len(parts) == 0 || len(parts) == 1 && parts[0] == nil:
		return []uint32{}
	case len(parts) == 1:
		return parts[0]
	}
	if keep != nil {
		kept := make([][]uint32, 0, len(parts))
		for _, p := range parts {
			var k []uint32
			for _, r := range p {
				if keep(r) {
					k = append(k, r)
				}
			}
			kept = append(kept, k)
		}
		parts = kept
	}
	for len(parts) > 1 {
		next := make([][]uint32, 0, (len(parts)+1)/2)
		for i := 0; i+1 < len(parts); i += 2 {
			next = append(next, merge2(parts[i], parts[i+1]))
		}
		if len(parts)%2 == 1 {
			next = append(next, parts[len(parts)-1])
		}
		parts = next
	}
	if parts[0] == nil {
		return []uint32{}
	}
	return parts[0]
}

// merge2 merges two ascending lists into a new one.
func merge2(a, b []uint32) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// searchFunc is a search of a list: the matching rows of inRange (a run of rows), in
// row order — possibly without some that keep (when not nil) rejects, which the list's
// other filters reject too — or else a test of a row.
type searchFunc func(inRange []uint32, keep func(uint32) bool) ([]uint32, func(uint32) bool)

// bitset marks rows (NULLs).
type bitset []uint64

func (b *bitset) set(i int) {
	for len(*b) <= i/64 {
		*b = append(*b, 0)
	}
	(*b)[i/64] |= 1 << (i % 64)
}

func (b bitset) has(i uint32) bool { return int(i/64) < len(b) && b[i/64]&(1<<(i%64)) != 0 }

// rawString is a string value of an Arrow column, aliasing the batch's memory: copy it
// before the batch is released.
func rawString(col arrow.Array, i int) string {
	switch a := col.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	}
	return col.ValueStr(i)
}

// listTable is what both list indexes share: each tenant's rows are a run of rows in
// list-time order (startedAt, createdAt), ties by the tie-breaker, so a range is a run
// of rows scanned in memory order; key[s] holds the sort key of sort s (key[0] is the
// list time) and null[s] its NULLs; tie is the rank of the tie-breaker (session code,
// message id) within its tenant.
type listTable struct {
	tenants  map[TenantKey]*listTenant
	key      [][]int64
	null     []bitset
	tie      []uint32
	channel  []uint32 // into channels
	channels []string
	flag     bitset   // the table's own yes/no filter (messages: understood)
	class    []uint16 // (UTC hour of day × channels + channel) × 2 + flag; nil: too many channels

	outCounts *outCache // the block counts' out-of-range counts, kept per range and classes
}

// classify sets each row's class: what the hour window, the channels and the flag
// filter test, in one number, so a request tests a row with one lookup in a table
// of the classes it accepts; and the large tenants' block counts of classes, blocks
// of 1 << shift rows.
func (x *listTable) classify(shift int) {
	if 24*len(x.channels)*2 > math.MaxUint16+1 {
		return
	}
	at := x.key[timeSort]
	x.class = make([]uint16, len(at))
	for i := range at {
		c := calendar.HourOfDay(calendar.HourOf(at[i]))*len(x.channels) + int(x.channel[i])
		x.class[i] = uint16(c*2) | uint16(b2i(x.flag.has(uint32(i))))
	}
	for _, t := range x.tenants {
		t.permClass = make([][]uint16, len(t.perm))
		for s, p := range t.perm {
			if s == timeSort {
				continue
			}
			t.permClass[s] = make([]uint16, len(p))
			for pos, i := range p {
				t.permClass[s][pos] = x.class[i]
			}
		}
		x.buildBlocks(t, shift)
	}
}

// timeSort is the sort by list time (the rows' own order).
const timeSort = 0

// listTenant is one tenant's rows [lo, hi), its channels, and per sort a permutation
// of its rows in ascending (key, tie) order with NULLs last (nn counts the others).
type listTenant struct {
	lo, hi    uint32
	perm      [][]uint32
	permAt    [][]int64  // per sort but the time sort: the list time of perm's rows, in perm's order
	permClass [][]uint16 // and their classes (when the table has classes)
	nn        []int
	channels  map[string]uint32
	blocks    []*classBlocks // per sort (when the table has classes and the tenant is large)
	classes   []uint16       // with blocks: the table's class of each of the tenant's own classes
}

func newListTable(n, sorts int) listTable {
	x := listTable{tenants: map[TenantKey]*listTenant{}, key: make([][]int64, sorts), null: make([]bitset, sorts), outCounts: &outCache{},
		tie: make([]uint32, 0, n), channel: make([]uint32, 0, n)}
	for s := range x.key {
		x.key[s] = make([]int64, 0, n)
	}
	return x
}

// tenantAt returns the tenant of the next row, starting a new one when k changes
// (rows come grouped by tenant).
func (x *listTable) tenantAt(k TenantKey, cur *listTenant, curKey *TenantKey) *listTenant {
	if cur != nil && k == *curKey {
		return cur
	}
	row := uint32(len(x.key[timeSort]))
	if cur != nil {
		cur.hi = row
	}
	*curKey = TenantKey{Org: strings.Clone(k.Org), Env: strings.Clone(k.Env), Bot: strings.Clone(k.Bot)}
	t := &listTenant{lo: row, hi: row, channels: map[string]uint32{}}
	x.tenants[*curKey] = t
	return t
}

// addChannel appends a row's channel.
func (x *listTable) addChannel(t *listTenant, ids map[string]uint32, ch string) {
	id, ok := ids[ch]
	if !ok {
		id = uint32(len(x.channels))
		ch = strings.Clone(ch)
		x.channels = append(x.channels, ch)
		ids[ch] = id
	}
	t.channels[x.channels[id]] = id
	x.channel = append(x.channel, id)
}

// finish closes the last tenant, ranks each tenant's rows by their tie-breaker (in
// byte order, as DuckDB orders VARCHAR) and sorts the permutations.
func (x *listTable) finish(cur *listTenant, tieText *arena) {
	n := len(x.key[timeSort])
	if cur != nil {
		cur.hi = uint32(n)
	}
	x.tie = slices.Grow(x.tie[:0], n)[:n]
	for _, t := range x.tenants {
		byText := make([]uint32, 0, t.hi-t.lo)
		for i := t.lo; i < t.hi; i++ {
			byText = append(byText, i)
		}
		slices.SortFunc(byText, func(a, b uint32) int { return bytes.Compare(tieText.bytes(a), tieText.bytes(b)) })
		for r, i := range byText {
			x.tie[i] = uint32(r)
		}
		t.perm, t.permAt, t.nn = make([][]uint32, len(x.key)), make([][]int64, len(x.key)), make([]int, len(x.key))
		for s := range x.key {
			p := make([]uint32, 0, t.hi-t.lo)
			for i := t.lo; i < t.hi; i++ {
				p = append(p, i)
			}
			if s != timeSort {
				slices.SortFunc(p, func(a, b uint32) int { return x.compare(s, false, a, b) })
			}
			t.perm[s] = p
			if s != timeSort {
				t.permAt[s] = make([]int64, len(p))
				for pos, i := range p {
					t.permAt[s][pos] = x.key[timeSort][i]
				}
			}
			t.nn[s] = len(p)
			for t.nn[s] > 0 && x.null[s].has(p[t.nn[s]-1]) {
				t.nn[s]--
			}
		}
	}
}

func (x *listTable) size() int64 {
	n := int64(4*(cap(x.tie)+cap(x.channel))+2*cap(x.class)) + int64(8*len(x.flag))
	for _, k := range x.key {
		n += int64(8 * cap(k))
	}
	for _, b := range x.null {
		n += int64(8 * cap(b))
	}
	for _, t := range x.tenants {
		for s, p := range t.perm {
			n += int64(4*cap(p) + 8*cap(t.permAt[s]))
			if t.permClass != nil {
				n += int64(2 * cap(t.permClass[s]))
			}
			if t.blocks != nil {
				n += t.blocks[s].size()
			}
		}
		n += int64(2 * cap(t.classes))
	}
	return n
}

// compare orders rows a and b as sort s in the given direction: NULLs last in both
// directions, ties by the tie-breaker ascending.
func (x *listTable) compare(s int, desc bool, a, b uint32) int {
	na, nb := x.null[s].has(a), x.null[s].has(b)
	switch {
	case na && nb:
		return cmp.Compare(x.tie[a], x.tie[b])
	case na:
		return 1
	case nb:
		return -1
	}
	c := cmp.Compare(x.key[s][a], x.key[s][b])
	if desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return cmp.Compare(x.tie[a], x.tie[b])
}

// walk visits perm (ascending (key, tie), NULLs from nn on) in list order: for a
// descending sort, groups of equal keys from the last, each group in tie order, then
// the NULLs. visit returns false to stop.
func (x *listTable) walk(s int, perm []uint32, nn int, desc bool, visit func(pos int, i uint32) bool) {
	x.walkSegments(s, perm, nn, desc, func(from, to int) bool {
		for pos := from; pos < to; pos++ {
			if !visit(pos, perm[pos]) {
				return false
			}
		}
		return true
	})
}

// walkSegments is walk by runs of positions: seg(from, to) visits positions [from,
// to) in ascending order, and stops the walk by returning false.
func (x *listTable) walkSegments(s int, perm []uint32, nn int, desc bool, seg func(from, to int) bool) {
	x.walkRange(s, perm, 0, nn, desc, nn, seg)
}

// walkRange is walkSegments over positions [from, len(perm)) of perm (NULLs from nn
// on), a descending walk starting at the group that ends at end (a group boundary):
// the groups after it, and so their rows, are left out. An ascending walk ignores end.
func (x *listTable) walkRange(s int, perm []uint32, from, nn int, desc bool, end int, seg func(from, to int) bool) {
	if !desc {
		seg(from, len(perm))
		return
	}
	for end > from {
		lo := x.groupStart(s, perm, from, end-1)
		if !seg(lo, end) {
			return
		}
		end = lo
	}
	seg(nn, len(perm))
}

// groupStart is the first position, at from or after, of the group of equal keys that
// holds position p: galloping back from p (1, 2, 4, … positions), then a binary search
// in the last step, so a group of g rows costs O(log g) — one comparison for a unique
// key, few for a low-cardinality key's large groups.
func (x *listTable) groupStart(s int, perm []uint32, from, p int) int {
	key := x.key[s]
	k := key[perm[p]]
	lo, step := p, 1
	for lo > from && key[perm[lo-1]] == k {
		next := max(lo-step, from)
		if key[perm[next]] != k {
			return next + sort.Search(lo-next, func(j int) bool { return key[perm[next+j]] >= k })
		}
		lo, step = next, step*2
	}
	return lo
}

// groupEnd is the end (exclusive, at most nn) of the group of equal keys that holds
// position p, found as groupStart finds its start.
func (x *listTable) groupEnd(s int, perm []uint32, nn, p int) int {
	key := x.key[s]
	k := key[perm[p]]
	hi, step := p+1, 1
	for hi < nn && key[perm[hi]] == k {
		next := min(hi+step, nn)
		if key[perm[next-1]] != k {
			return hi + sort.Search(next-hi, func(j int) bool { return key[perm[hi+j]] > k })
		}
		hi, step = next, step*2
	}
	return hi
}

// pageOf returns rows [offset, offset+max) of perm in list order.
func (x *listTable) pageOf(s int, perm []uint32, nn int, f ListFilter) []uint32 {
	page := make([]uint32, 0, f.Max)
	skip := f.Offset
	x.walk(s, perm, nn, f.Desc, func(_ int, i uint32) bool {
		if skip > 0 {
			skip--
			return true
		}
		page = append(page, i)
		return len(page) < f.Max
	})
	return page
}

// listQuery is one list request against a listTable.
type listQuery struct {
	f        ListFilter
	sort     int
	searchIn searchFunc   // nil without a search
	flag     flagFilter   // the table's flag filter
	counted  func() int64 // the snapshot's count of matches: without a search, when block counts do not serve the list
}

// flagFilter is a list's filter on listTable.flag.
type flagFilter int8

const (
	anyFlag   flagFilter = iota
	flagSet              // rows with the flag
	flagClear            // rows without it
)

// list returns the count of rows matching q and the rows of its page.
func (x *listTable) list(q listQuery) (int64, []uint32) {
	f := q.f
	t := x.tenants[f.Tenant]
	if t == nil {
		return 0, nil
	}
	s := q.sort
	lo, hi := f.Start*calendar.HourMicros, f.End*calendar.HourMicros
	at := x.key[timeSort]
	a := int(t.lo) + sort.Search(int(t.hi-t.lo), func(i int) bool { return at[int(t.lo)+i] >= lo })
	b := int(t.lo) + sort.Search(int(t.hi-t.lo), func(i int) bool { return at[int(t.lo)+i] >= hi })
	inRange := t.perm[timeSort][a-int(t.lo) : b-int(t.lo)]
	match := x.matcher(t, f, q.flag)
	var found []uint32 // the search's rows in range, when it lists them
	if q.searchIn != nil {
		found, match.search = q.searchIn(inRange, match.classTest())
	}
	need := f.Offset + f.Max

	if found != nil || match.search != nil {
		// Every match is needed for the count: filter the range (or the rows the search
		// found), then order the matches.
		if found != nil && match.all {
			// Every one matches; found may be the index's own row list (topK reorders).
			if s != timeSort && f.Offset < len(found) {
				found = slices.Clone(found)
			}
			return int64(len(found)), x.pageOfMatches(s, found, need, f)
		}
		if found != nil {
			inRange = found
		}
		buf := matchBufs.Get().(*[]uint32)
		matches := match.appendMatches((*buf)[:0], inRange, at)
		page := x.pageOfMatches(s, matches, need, f)
		putMatches(buf, matches)
		return int64(len(matches)), page
	}
	if c := x.newBlockCounter(t, s, match, lo, hi, a, b); c != nil {
		from, to, nn := blockRange(t, s, a, b)
		return x.blockPage(s, c, from, to, nn, f)
	}
	var n int64
	if match.all {
		n = int64(len(inRange)) // no other filter: every row in range matches
	} else {
		n = q.counted()
	}
	if int64(f.Offset) >= n || n == 0 {
		return n, nil
	}
	page := make([]uint32, 0, f.Max)
	skip := f.Offset
	collect := func(i uint32, at int64) bool {
		if !match.ok(i, at) {
			return true
		}
		if skip > 0 {
			skip--
			return true
		}
		page = append(page, i)
		return len(page) < f.Max
	}
	if s == timeSort {
		x.walk(s, inRange, len(inRange), f.Desc, func(_ int, i uint32) bool { return collect(i, at[i]) })
		return n, page
	}
	// Walk the sort's permutation over the whole tenant (about need × rows / matches
	// visits), or order the range's matches (a pass over the range and a partial sort):
	// whichever costs less.
	rows := float64(t.hi - t.lo)
	walkCost := float64(need) * rows / float64(n)
	sortCost := float64(len(inRange)) + float64(n)*math.Log2(float64(need)+1)
	if walkCost <= sortCost {
		permAt := t.permAt[s]  // the times in the permutation's order: read in sequence
		if match.pass != nil { // classes (and so permClass) are set
			// Time and class in the permutation's order too: a row is read only when it
			// is on the page. The walk of blockPage, without blocks to skip by.
			c := &blockCounter{perm: t.perm[s], permAt: permAt, pc: t.permClass[s], class: x.class, m: match, lo: lo, hi: hi}
			return n, x.walkPage(s, c, 0, len(t.perm[s]), t.nn[s], t.nn[s], f, int64(f.Offset), n)
		}
		x.walk(s, t.perm[s], t.nn[s], f.Desc, func(pos int, i uint32) bool {
			if v := permAt[pos]; v < lo || v >= hi {
				return true
			}
			return collect(i, permAt[pos])
		})
		return n, page
	}
	buf := matchBufs.Get().(*[]uint32)
	matches := match.appendMatches((*buf)[:0], inRange, at)
	page = x.pageOfMatches(s, matches, need, f)
	putMatches(buf, matches)
	return n, page
}

// pageOfMatches returns rows [offset, offset+max) of matches in the order of sort s,
// in a slice of its own (matches is reordered unless s is the time sort).
func (x *listTable) pageOfMatches(s int, matches []uint32, need int, f ListFilter) []uint32 {
	if f.Offset >= len(matches) {
		return nil
	}
	if s == timeSort { // matches are in time order already
		return x.pageOf(s, matches, len(matches), f)
	}
	return slices.Clone(topK(matches, need, func(a, b uint32) int { return x.compare(s, f.Desc, a, b) })[f.Offset:])
}

// matchBufs are reused lists of a request's matches: grown by append anew for each
// request, a search matching 50k rows of a month spent a third of its time in
// growslice and clearing memory.
var matchBufs = sync.Pool{New: func() any { return new([]uint32) }}

// putMatches returns a list to matchBufs, unless it grew past 4 MB.
func putMatches(buf *[]uint32, matches []uint32) {
	if cap(matches) <= 1<<20 {
		*buf = matches[:0]
		matchBufs.Put(buf)
	}
}

// rowMatch tests a row in range against the hour window, the channels, the flag
// filter and the search (set by the list once it has one): by the row's class where
// the table has classes.
type rowMatch struct {
	search   func(uint32) bool
	all      bool   // the hour window, channels and flag filter accept every row
	pass     []bool // by class
	class    []uint16
	allHours bool
	mask     calendar.Mask
	allowed  []bool // by channel id; nil: every channel
	channel  []uint32
	flag     bitset
	want     flagFilter
}

func (x *listTable) matcher(t *listTenant, f ListFilter, flag flagFilter) *rowMatch {
	m := &rowMatch{all: flag == anyFlag && f.Channels == nil && f.Mask.All(),
		allHours: f.Mask.All(), mask: f.Mask, channel: x.channel, flag: x.flag, want: flag}
	if f.Channels != nil {
		m.allowed = make([]bool, len(x.channels))
		for _, c := range f.Channels {
			if id, ok := t.channels[c]; ok {
				m.allowed[id] = true
			}
		}
	}
	if x.class != nil {
		m.class, m.pass = x.class, make([]bool, 24*len(x.channels)*2)
		for c := range m.pass {
			h, ch, set := c/2/len(x.channels), c/2%len(x.channels), c%2 == 1
			m.pass[c] = m.mask[h] && (m.allowed == nil || m.allowed[ch]) && (flag == anyFlag || (flag == flagSet) == set)
		}
	}
	return m
}

// classTest is the test of a row's class, for a search to drop rows early, or nil
// when every row passes or the table has no classes.
func (m *rowMatch) classTest() func(uint32) bool {
	if m.pass == nil || m.all {
		return nil
	}
	return func(i uint32) bool { return m.pass[m.class[i]] }
}

// ok reports whether row i, of time at, matches.
func (m *rowMatch) ok(i uint32, at int64) bool {
	if m.pass != nil {
		return m.pass[m.class[i]] && (m.search == nil || m.search(i))
	}
	if m.search != nil && !m.search(i) {
		return false
	}
	if !m.allHours && !m.mask.Pass(calendar.HourOf(at)) {
		return false
	}
	if m.allowed != nil && !m.allowed[m.channel[i]] {
		return false
	}
	return m.want == anyFlag || (m.want == flagSet) == m.flag.has(i)
}

// appendMatches appends the rows of src that match to dst: ok's tests in a loop of
// their own (a broad search filters tens of thousands of rows: a call per row cost a
// third of the request, the hour, channel and flag tested apart 25% more than a
// lookup by class).
func (m *rowMatch) appendMatches(dst, src []uint32, at []int64) []uint32 {
	if m.pass != nil {
		for _, i := range src {
			if m.pass[m.class[i]] && (m.search == nil || m.search(i)) {
				dst = append(dst, i)
			}
		}
		return dst
	}
	for _, i := range src {
		if m.ok(i, at[i]) {
			dst = append(dst, i)
		}
	}
	return dst
}

// topK returns the first k elements of s in cmp order, sorted (s is reordered).
func topK(s []uint32, k int, cmp func(a, b uint32) int) []uint32 {
	if k <= 0 {
		return s[:0]
	}
	if k >= len(s) || k > len(s)/8 {
		slices.SortFunc(s, cmp)
		return s[:min(k, len(s))]
	}
	// A bounded max-heap of the k best, then sorted.
	h := s[:k]
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= k {
				return
			}
			if r := l + 1; r < k && cmp(h[r], h[l]) > 0 {
				l = r
			}
			if cmp(h[l], h[i]) <= 0 {
				return
			}
			h[i], h[l] = h[l], h[i]
			i = l
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, v := range s[k:] {
		if cmp(v, h[0]) < 0 {
			h[0] = v
			down(0)
		}
	}
	slices.SortFunc(h, cmp)
	return h
}

// listIndexes are the in-memory lists of one snapshot. A build publishes each part as
// it is read (conversations after 5 s of the 10M year's 53, messages after 34 s): the
// parts not yet there (nil) run in DuckDB until then.
type listIndexes struct {
	gen      int64 // the generation they were read at
	conv     *convIndex
	msg      *msgIndex
	trans    *transcriptIndex
	complete bool // every part read (trans may still be nil: too large)
}

// listIndex returns the list index of the current snapshot when it is built and of
// the generation last committed, else nil (lists then run in DuckDB: between a commit
// and the end of the next index build, or after a refresh that failed).
func (w *Warehouse) listIndex(snap *Snapshot) *listIndexes {
	li := snap.lists.Load()
	if li == nil || li.gen != w.committed.Load() {
		return nil
	}
	return li
}

// BuildListIndex builds the list index of the current snapshot now (serve builds it
// in the background after each refresh; see Options.ListIndex).
func (w *Warehouse) BuildListIndex(ctx context.Context) error {
	return w.buildListIndex(ctx, w.Snapshot())
}

func (w *Warehouse) buildListIndex(ctx context.Context, s *Snapshot) error {
	if s.Generation < 0 {
		return nil
	}
	start := time.Now()
	conn, err := w.db.Arrow(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "ROLLBACK")
	tx := &arrowTx{conn: conn}
	var gen int64
	if err := scanRows(ctx, tx, "SELECT generation FROM rollup_generation", func(r rowScanner) error { return r.Scan(&gen) }); err != nil {
		return err
	}
	if gen != s.Generation {
		// A newer rollup committed: its refresh builds that generation's index.
		w.log.Info("list index skipped: the snapshot is not of the last commit", "snapshot", s.Generation, "committed", gen)
		return nil
	}
	shift := blockShift
	if n := w.opts.ListBlockRows; n > 0 {
		shift = min(max(bits.Len(uint(n))-1, 3), 20) // 8 rows to 1M
	}
	conv, err := loadConvIndex(ctx, tx, shift)
	if err != nil {
		return fmt.Errorf("list index, conversations: %w", err)
	}
	s.lists.Store(&listIndexes{gen: gen, conv: conv})
	convTook := time.Since(start)
	msg, err := loadMsgIndex(ctx, tx, shift)
	if err != nil {
		return fmt.Errorf("list index, messages: %w", err)
	}
	s.lists.Store(&listIndexes{gen: gen, conv: conv, msg: msg})
	msgTook := time.Since(start) - convTook
	trans, err := loadTranscriptIndex(ctx, tx)
	switch {
	case errors.Is(err, errIndexTooLarge):
		// The lists still serve from memory; transcripts run in DuckDB.
		w.log.Warn("list index: transcripts left out", "err", err)
		trans = nil
	case err != nil:
		return fmt.Errorf("list index, transcripts: %w", err)
	}
	s.lists.Store(&listIndexes{gen: gen, conv: conv, msg: msg, trans: trans, complete: true})
	transMsgs, transBytes := 0, int64(0)
	if trans != nil {
		transMsgs, transBytes = len(trans.at), trans.bytes
	}
	// Loading leaves about as much garbage as it keeps (maps of sessions, contents and
	// attributes; DuckDB's record batches): given back now, the 10M-message year's
	// server holds 2.9 GB resident instead of 5.5 GB.
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.log.Info("list index built", "generation", gen, "conversations", len(conv.tie), "conversation_bytes", conv.bytes,
		"messages", len(msg.tie), "message_bytes", msg.bytes, "transcript_messages", transMsgs, "transcript_bytes", transBytes,
		"took", time.Since(start).Round(time.Millisecond), "conversations_took", convTook.Round(time.Millisecond),
		"messages_took", msgTook.Round(time.Millisecond), "transcripts_took", (time.Since(start) - convTook - msgTook).Round(time.Millisecond),
		"go_heap_bytes", ms.HeapInuse)
	return nil
}

// listBuilder builds the list index of the newest snapshot, one build at a time: a
// build overtaken by a newer snapshot is cancelled, and a snapshot replaced before its
// build starts is skipped.
type listBuilder struct {
	mu      sync.Mutex
	next    *Snapshot
	running bool
	closed  bool
	cancel  context.CancelFunc // of the running build
	wg      sync.WaitGroup
}

func (w *Warehouse) scheduleListIndex(s *Snapshot) {
	b := &w.lists
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.next = s
	if b.running {
		if b.cancel != nil {
			b.cancel()
		}
		return
	}
	b.running = true
	b.wg.Add(1)
	go w.runListBuilds()
}

func (w *Warehouse) runListBuilds() {
	b := &w.lists
	defer b.wg.Done()
	for {
		b.mu.Lock()
		s := b.next
		b.next = nil
		if s == nil || b.closed {
			b.running, b.cancel = false, nil
			b.mu.Unlock()
			return
		}
		ctx, cancel := context.WithCancel(w.closing)
		b.cancel = cancel
		b.mu.Unlock()
		if s == w.Snapshot() {
			if err := w.buildListIndexSafely(ctx, s); err != nil && ctx.Err() == nil {
				w.log.Error("list index build failed: lists run in DuckDB", "generation", s.Generation, "err", err)
			}
		}
		cancel()
	}
}

// buildListIndexSafely is buildListIndex with a panic turned into an error: the
// server keeps answering (lists in DuckDB).
func (w *Warehouse) buildListIndexSafely(ctx context.Context, s *Snapshot) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("list index build panicked: %v", r)
		}
	}()
	return w.buildListIndex(ctx, s)
}

// stopListBuilds cancels a running build and waits for the builder to stop.
func (w *Warehouse) stopListBuilds() {
	b := &w.lists
	b.mu.Lock()
	b.closed = true
	if b.cancel != nil {
		b.cancel()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// maxFoldCache bounds the bytes of cached folded terms; longer terms are not cached.
const (
	maxFoldCache = 1 << 20
	maxFoldTerm  = 256
)

// foldTerm folds a search term as the *_f columns are folded (foldSQL), by DuckDB
// itself so both sides always agree; recent short terms are cached.
func (w *Warehouse) foldTerm(ctx context.Context, term string) ([]byte, error) {
	w.foldMu.Lock()
	v, ok := w.foldCache[term]
	w.foldMu.Unlock()
	if ok {
		return v, nil
	}
	var folded string
	if err := w.db.SQL.QueryRowContext(ctx, "SELECT "+fold("?"), term).Scan(&folded); err != nil {
		return nil, err
	}
	if len(term) <= maxFoldTerm {
		w.foldMu.Lock()
		if w.foldBytes+len(term)+len(folded) > maxFoldCache {
			clear(w.foldCache)
			w.foldBytes = 0
		}
		w.foldCache[term] = []byte(folded)
		w.foldBytes += len(term) + len(folded)
		w.foldMu.Unlock()
	}
	return []byte(folded), nil
}

// ListIndexState is "off" (Options.ListIndex unset), "ready" (lists are answered from
// the index) or "building" (lists whose part is not read yet run in DuckDB until the
// build ends, or a build failed: the log says which).
func (w *Warehouse) ListIndexState() string {
	switch {
	case !w.opts.ListIndex:
		return "off"
	case w.ListIndexBuilt():
		return "ready"
	}
	return "building"
}

// ListIndexBuilt reports whether lists are answered from the list index now, every
// part of it read.
func (w *Warehouse) ListIndexBuilt() bool {
	li := w.listIndex(w.Snapshot())
	return li != nil && li.complete
}

// WaitListIndex waits until no list index build is running or scheduled.
func (w *Warehouse) WaitListIndex() {
	for {
		w.lists.mu.Lock()
		idle := !w.lists.running
		w.lists.mu.Unlock()
		if idle {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
