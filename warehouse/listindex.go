package warehouse

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// The list index answers conversations/list from Go memory. A DuckDB query costs
// milliseconds even for ten rows found by key (a top-N over a month of the large bot
// 5–10 ms, fetching ten rows by session code with an ART index 13–47 ms, by rowid
// 1.7 ms a row), so a page served by DuckDB tops out near 100 req/s on two cores.
// The index holds every conversation_facts row in a few pointer-free columns (string
// arenas, integer slices: the garbage collector does not scan them), with, per tenant,
// one permutation per sort order. It is built from one read transaction after each
// snapshot refresh, in the background; until it is built, or when it is of another
// generation than the request's snapshot, lists run in DuckDB as before.

// arena is a column of strings: element i is b[off[i]:off[i+1]].
type arena struct {
	b   []byte
	off []uint32
}

func newArena(n int) arena { return arena{off: append(make([]uint32, 0, n+1), 0)} }

var errIndexTooLarge = errors.New("list index: a column holds more than 4 GiB")

func (a *arena) add(s string) error {
	if uint64(len(a.b))+uint64(len(s)) > math.MaxUint32 {
		return errIndexTooLarge
	}
	a.b = append(a.b, s...)
	a.off = append(a.off, uint32(len(a.b)))
	return nil
}

func (a *arena) bytes(i uint32) []byte { return a.b[a.off[i]:a.off[i+1]] }
func (a *arena) str(i uint32) string   { return string(a.bytes(i)) }

// listArena is a column of string lists: row i's elements are el[start[i]:start[i+1]].
type listArena struct {
	el    arena
	start []uint32
}

func newListArena(n int) listArena {
	return listArena{el: newArena(n), start: append(make([]uint32, 0, n+1), 0)}
}

func (l *listArena) add(col *array.List, i int) error {
	if col != nil && col.IsValid(i) {
		lo, hi := col.ValueOffsets(i)
		vals := col.ListValues()
		for j := int(lo); j < int(hi); j++ {
			if vals.IsNull(j) {
				continue
			}
			if err := l.el.add(rawString(vals, j)); err != nil {
				return err
			}
		}
	}
	l.start = append(l.start, uint32(len(l.el.off)-1))
	return nil
}

func (l *listArena) strings(i uint32) []string {
	out := make([]string, 0, l.start[i+1]-l.start[i])
	for e := l.start[i]; e < l.start[i+1]; e++ {
		out = append(out, l.el.str(e))
	}
	return out
}

// idList is a column of lists of dictionary ids: row i's are ids[start[i]:start[i+1]].
type idList struct {
	ids   []uint32
	start []uint32
}

func (l *idList) add(col *array.List, i int, dict map[string]uint32) {
	if col != nil && col.IsValid(i) {
		lo, hi := col.ValueOffsets(i)
		vals := col.ListValues()
		for j := int(lo); j < int(hi); j++ {
			if vals.IsNull(j) {
				continue
			}
			v := rawString(vals, j)
			id, ok := dict[v]
			if !ok {
				id = uint32(len(dict))
				dict[clone(v)] = id
			}
			l.ids = append(l.ids, id)
		}
	}
	l.start = append(l.start, uint32(len(l.ids)))
}

func (l *idList) has(i uint32, id uint32) bool {
	return slices.Contains(l.ids[l.start[i]:l.start[i+1]], id)
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

// convSort is one sort order of conversations/list.
type convSort int

const (
	bySatisfaction convSort = iota
	byUserMessages
	byFlows
	byStarted
	byDuration
	nConvSorts
)

var convSortOf = map[string]convSort{
	"satisfaction": bySatisfaction, "userMessages": byUserMessages, "flowsTravelled": byFlows,
	"conversationStartedAt": byStarted, "duration": byDuration,
}

// convIndex is conversation_facts in memory, rows ordered by tenant, start time and
// session code: a range of a tenant is a run of rows, scanned in memory order, and a
// row number orders ties of the start-time sort. codeRank (the rank of the session
// code in its tenant) orders ties of the other sorts.
type convIndex struct {
	gen      int64
	tenants  map[TenantKey]*convTenant
	code     arena // session_code
	codeF    arena // session_code_f
	bk, bkF  arena // business_key, business_key_f ("" when NULL)
	um       arena // user_message ("" when NULL)
	nullBK   bitset
	nullUM   bitset
	nullSat  bitset
	names    listArena // flows_travelled_names
	tags     listArena
	flows    idList // flows_f, as ids of flowIDs
	flowIDs  map[string]uint32
	codeSig  []uint64 // pairSig of session_code_f
	bkSig    []uint64 // pairSig of business_key_f
	started  []int64  // microseconds
	duration []int64
	codeRank []uint32
	sat      []int32
	userMsgs []int32
	nFlows   []int32
	channel  []uint32 // into channels
	channels []string
	bytes    int64 // memory held, for the log and /metrics
}

// convTenant is one tenant's rows [lo, hi) and its sort permutations: row numbers in
// ascending (key, row) order, NULLs last (only satisfaction has them; nn counts the
// others).
type convTenant struct {
	lo, hi   uint32
	perm     [nConvSorts][]uint32
	nn       [nConvSorts]int
	channels map[string]uint32
}

func (x *convIndex) key(s convSort, i uint32) int64 {
	switch s {
	case bySatisfaction:
		return int64(x.sat[i])
	case byUserMessages:
		return int64(x.userMsgs[i])
	case byFlows:
		return int64(x.nFlows[i])
	case byStarted:
		return x.started[i]
	default:
		return x.duration[i]
	}
}

func (x *convIndex) null(s convSort, i uint32) bool { return s == bySatisfaction && x.nullSat.has(i) }

const convIndexSQL = `SELECT org_uuid, env_uuid, bot_uuid, session_code, business_key, user_message, satisfaction,
	user_messages, flows_travelled, flows_travelled_names, epoch_us(started_at), duration_s, channel_uuid, tags,
	session_code_f, business_key_f, flows_f,
	row_number() OVER (PARTITION BY org_uuid, env_uuid, bot_uuid ORDER BY session_code) - 1
	FROM conversation_facts ORDER BY org_uuid, env_uuid, bot_uuid, started_at, session_code`

// loadConvIndex reads conversation_facts in the read transaction tx.
func loadConvIndex(ctx context.Context, tx *arrowTx, gen int64) (*convIndex, error) {
	var n int64
	if err := scanRows(ctx, tx, "SELECT count(*) FROM conversation_facts", func(r rowScanner) error { return r.Scan(&n) }); err != nil {
		return nil, err
	}
	if n >= math.MaxUint32 {
		return nil, errIndexTooLarge
	}
	x := &convIndex{
		gen: gen, tenants: map[TenantKey]*convTenant{},
		code: newArena(int(n)), codeF: newArena(int(n)), bk: newArena(int(n)), bkF: newArena(int(n)), um: newArena(int(n)),
		names: newListArena(int(n)), tags: newListArena(int(n)),
		flows: idList{start: append(make([]uint32, 0, n+1), 0)}, flowIDs: map[string]uint32{},
		codeSig: make([]uint64, 0, n), bkSig: make([]uint64, 0, n),
		started: make([]int64, 0, n), duration: make([]int64, 0, n),
		codeRank: make([]uint32, 0, n), sat: make([]int32, 0, n), userMsgs: make([]int32, 0, n), nFlows: make([]int32, 0, n), channel: make([]uint32, 0, n),
	}
	channelIDs := map[string]uint32{}
	var cur *convTenant
	var curKey TenantKey
	rdr, err := tx.conn.Query(ctx, convIndexSQL)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		c := rec.Columns()
		lists := [3]*array.List{}
		for j, col := range []int{9, 13, 16} {
			l, ok := c[col].(*array.List)
			if !ok {
				return nil, fmt.Errorf("list index: column %d is %s, not a list", col, c[col].DataType())
			}
			lists[j] = l
		}
		for i := range int(rec.NumRows()) {
			row := len(x.started)
			k := TenantKey{Org: rawString(c[0], i), Env: rawString(c[1], i), Bot: rawString(c[2], i)}
			if cur == nil || k != curKey {
				if cur != nil {
					cur.hi = uint32(row)
				}
				curKey = TenantKey{Org: clone(k.Org), Env: clone(k.Env), Bot: clone(k.Bot)}
				cur = &convTenant{lo: uint32(row), channels: map[string]uint32{}}
				x.tenants[curKey] = cur
			}
			var err error
			add := func(a *arena, col arrow.Array, nulls *bitset) {
				if err != nil {
					return
				}
				if col.IsNull(i) {
					if nulls != nil {
						nulls.set(row)
					}
					err = a.add("")
					return
				}
				err = a.add(rawString(col, i))
			}
			add(&x.code, c[3], nil)
			add(&x.bk, c[4], &x.nullBK)
			add(&x.um, c[5], &x.nullUM)
			add(&x.codeF, c[14], nil)
			add(&x.bkF, c[15], nil)
			if err != nil {
				return nil, err
			}
			for j, l := range []*listArena{&x.names, &x.tags} {
				if err := l.add(lists[j], i); err != nil {
					return nil, err
				}
			}
			x.flows.add(lists[2], i, x.flowIDs)
			x.codeSig = append(x.codeSig, pairSig(x.codeF.bytes(uint32(row))))
			x.bkSig = append(x.bkSig, pairSig(x.bkF.bytes(uint32(row))))
			if c[6].IsNull(i) {
				x.nullSat.set(row)
				x.sat = append(x.sat, 0)
			} else {
				v, err := intAt(c[6], i)
				if err != nil {
					return nil, err
				}
				x.sat = append(x.sat, int32(v))
			}
			ints := [4]int64{}
			for j, col := range []int{7, 8, 10, 11} {
				if ints[j], err = intAt(c[col], i); err != nil {
					return nil, err
				}
			}
			x.userMsgs, x.nFlows = append(x.userMsgs, int32(ints[0])), append(x.nFlows, int32(ints[1]))
			x.started, x.duration = append(x.started, ints[2]), append(x.duration, ints[3])
			rank, err := intAt(c[17], i)
			if err != nil {
				return nil, err
			}
			x.codeRank = append(x.codeRank, uint32(rank))
			ch := rawString(c[12], i)
			id, ok := channelIDs[ch]
			if !ok {
				id = uint32(len(x.channels))
				ch = clone(ch)
				x.channels = append(x.channels, ch)
				channelIDs[ch] = id
			}
			cur.channels[x.channels[id]] = id
			x.channel = append(x.channel, id)
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		cur.hi = uint32(len(x.started))
	}
	// The permutations, one tenant and sort at a time (the start-time one is rows in order).
	for _, t := range x.tenants {
		for s := range nConvSorts {
			p := make([]uint32, 0, t.hi-t.lo)
			for i := t.lo; i < t.hi; i++ {
				p = append(p, i)
			}
			if s != byStarted {
				slices.SortFunc(p, func(a, b uint32) int { return x.compare(s, false, a, b) })
			}
			t.perm[s] = p
			t.nn[s] = len(p)
			for t.nn[s] > 0 && x.null(s, p[t.nn[s]-1]) {
				t.nn[s]--
			}
		}
	}
	x.bytes = x.size()
	return x, nil
}

func clone(s string) string { return string([]byte(s)) }

func (x *convIndex) size() int64 {
	n := int64(0)
	for _, a := range []*arena{&x.code, &x.codeF, &x.bk, &x.bkF, &x.um, &x.names.el, &x.tags.el} {
		n += int64(cap(a.b) + 4*cap(a.off))
	}
	n += int64(4 * (cap(x.names.start) + cap(x.tags.start) + cap(x.flows.start) + cap(x.flows.ids)))
	n += int64(8*(cap(x.started)+cap(x.duration)+cap(x.codeSig)+cap(x.bkSig)) + 4*(cap(x.codeRank)+cap(x.sat)+cap(x.userMsgs)+cap(x.nFlows)+cap(x.channel)))
	for _, t := range x.tenants {
		for _, p := range t.perm {
			n += int64(4 * cap(p))
		}
	}
	return n
}

// compare orders rows a and b as sort s in the given direction: NULLs last in both
// directions, ties by session code ascending.
func (x *convIndex) compare(s convSort, desc bool, a, b uint32) int {
	na, nb := x.null(s, a), x.null(s, b)
	switch {
	case na && nb:
		return cmp.Compare(x.codeRank[a], x.codeRank[b])
	case na:
		return 1
	case nb:
		return -1
	}
	c := cmp.Compare(x.key(s, a), x.key(s, b))
	if desc {
		c = -c
	}
	if c != 0 {
		return c
	}
	return cmp.Compare(x.codeRank[a], x.codeRank[b])
}

// walk visits perm (ascending (key, row), NULLs from nn on) in list order: for a
// descending sort, groups of equal keys from the last, each group in row order, then
// the NULLs. visit returns false to stop.
func (x *convIndex) walk(s convSort, perm []uint32, nn int, desc bool, visit func(uint32) bool) {
	if !desc {
		for _, i := range perm {
			if !visit(i) {
				return
			}
		}
		return
	}
	for end := nn; end > 0; {
		// The group of the key before end starts at the first position holding it
		// (a binary search: a group of a low-cardinality key holds many rows).
		k := x.key(s, perm[end-1])
		start := sort.Search(end, func(j int) bool { return x.key(s, perm[j]) >= k })
		for _, i := range perm[start:end] {
			if !visit(i) {
				return
			}
		}
		end = start
	}
	for _, i := range perm[nn:] {
		if !visit(i) {
			return
		}
	}
}

// list answers a conversations/list page; term is the folded search term. total is
// the snapshot's count of conversations started under f (used without a search).
func (x *convIndex) list(f ListFilter, term []byte, total func() int64) (int64, []ConversationRow) {
	t := x.tenants[f.Tenant]
	if t == nil {
		return 0, nil
	}
	s := convSortOf[f.Sort]
	lo, hi := f.Start*calendar.HourMicros, f.End*calendar.HourMicros
	byStart := t.perm[byStarted]
	a := sort.Search(len(byStart), func(i int) bool { return x.started[byStart[i]] >= lo })
	b := sort.Search(len(byStart), func(i int) bool { return x.started[byStart[i]] >= hi })
	inRange := byStart[a:b]
	match := x.matcher(t, f, term)
	need := f.Offset + f.Max

	var matches []uint32
	if f.SearchBy != "" {
		// Every match is needed for the count: filter the range, then order the matches.
		for _, i := range inRange {
			if match(i) {
				matches = append(matches, i)
			}
		}
		n := int64(len(matches))
		if f.Offset >= len(matches) {
			return n, nil
		}
		if s == byStarted { // matches are in start-time order already
			return n, x.rows(x.pageOf(s, matches, len(matches), f))
		}
		return n, x.rows(topK(matches, need, func(a, b uint32) int { return x.compare(s, f.Desc, a, b) })[f.Offset:])
	}
	var n int64
	if f.Channels == nil && !slices.Contains(f.Mask[:], false) {
		n = int64(len(inRange)) // no other filter: every row in range matches
	} else {
		n = total()
	}
	if int64(f.Offset) >= n || n == 0 {
		return n, nil
	}
	page := make([]uint32, 0, f.Max)
	skip := f.Offset
	collect := func(i uint32) bool {
		if !match(i) {
			return true
		}
		if skip > 0 {
			skip--
			return true
		}
		page = append(page, i)
		return len(page) < f.Max
	}
	if s == byStarted {
		x.walk(s, inRange, len(inRange), f.Desc, collect)
		return n, x.rows(page)
	}
	// Walk the sort's permutation over the whole tenant (about need × rows / matches
	// visits), or order the range's matches (a pass over the range and a partial sort):
	// whichever costs less.
	rows := float64(t.hi - t.lo)
	walkCost := float64(need) * rows / float64(n)
	sortCost := float64(len(inRange)) + float64(n)*math.Log2(float64(need)+1)
	if walkCost <= sortCost {
		x.walk(s, t.perm[s], t.nn[s], f.Desc, func(i uint32) bool {
			if st := x.started[i]; st < lo || st >= hi {
				return true
			}
			return collect(i)
		})
		return n, x.rows(page)
	}
	for _, i := range inRange {
		if match(i) {
			matches = append(matches, i)
		}
	}
	if f.Offset >= len(matches) {
		return n, nil
	}
	return n, x.rows(topK(matches, need, func(a, b uint32) int { return x.compare(s, f.Desc, a, b) })[f.Offset:])
}

// pageOf returns rows [offset, offset+max) of perm in list order.
func (x *convIndex) pageOf(s convSort, perm []uint32, nn int, f ListFilter) []uint32 {
	page := make([]uint32, 0, f.Max)
	skip := f.Offset
	x.walk(s, perm, nn, f.Desc, func(i uint32) bool {
		if skip > 0 {
			skip--
			return true
		}
		page = append(page, i)
		return len(page) < f.Max
	})
	return page
}

// matcher returns the test of a row in range against the hour window, the channels and
// the search.
func (x *convIndex) matcher(t *convTenant, f ListFilter, term []byte) func(uint32) bool {
	allHours := !slices.Contains(f.Mask[:], false)
	var allowed []bool
	if f.Channels != nil {
		allowed = make([]bool, len(x.channels))
		for _, c := range f.Channels {
			if id, ok := t.channels[c]; ok {
				allowed[id] = true
			}
		}
	}
	search := func(uint32) bool { return true }
	sig := pairSig(term)
	switch f.SearchBy {
	case "SESSION_CODE":
		search = func(i uint32) bool { return x.codeSig[i]&sig == sig && bytes.Contains(x.codeF.bytes(i), term) }
	case "BUSINESS_KEY":
		search = func(i uint32) bool {
			return x.bkSig[i]&sig == sig && !x.nullBK.has(i) && bytes.Contains(x.bkF.bytes(i), term)
		}
	case "FLOW":
		id, ok := x.flowIDs[string(term)]
		if !ok {
			return func(uint32) bool { return false }
		}
		search = func(i uint32) bool { return x.flows.has(i, id) }
	}
	return func(i uint32) bool {
		if !allHours && !f.Mask[hourOfDay(x.started[i])] {
			return false
		}
		if allowed != nil && !allowed[x.channel[i]] {
			return false
		}
		return search(i)
	}
}

// hourOfDay is the UTC hour of a time in microseconds (before 1970 too).
func hourOfDay(us int64) int {
	h := us / calendar.HourMicros
	if us < 0 && us%calendar.HourMicros != 0 {
		h--
	}
	return int(((h % 24) + 24) % 24)
}

// topK returns the first k elements of s in cmp order, sorted (s is reordered).
func topK(s []uint32, k int, cmp func(a, b uint32) int) []uint32 {
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

func (x *convIndex) rows(ids []uint32) []ConversationRow {
	out := make([]ConversationRow, 0, len(ids))
	for _, i := range ids {
		r := ConversationRow{
			SessionCode: x.code.str(i), UserMessages: int64(x.userMsgs[i]), FlowsTravelled: int64(x.nFlows[i]),
			FlowsTravelledNames: x.names.strings(i), StartedAt: x.started[i], DurationSeconds: x.duration[i],
			ChannelUUID: x.channels[x.channel[i]], Tags: x.tags.strings(i),
		}
		if !x.nullBK.has(i) {
			v := x.bk.str(i)
			r.BusinessKey = &v
		}
		if !x.nullUM.has(i) {
			v := x.um.str(i)
			r.UserMessage = &v
		}
		if !x.nullSat.has(i) {
			v := int64(x.sat[i])
			r.Satisfaction = &v
		}
		out = append(out, r)
	}
	return out
}

// listIndexes are the in-memory lists of one snapshot.
type listIndexes struct {
	conv *convIndex
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
	conv, err := loadConvIndex(ctx, tx, gen)
	if err != nil {
		return fmt.Errorf("list index: %w", err)
	}
	s.lists.Store(&listIndexes{conv: conv})
	w.log.Info("list index built", "generation", gen, "conversations", len(conv.started),
		"bytes", conv.bytes, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// listBuilder builds the list index of the newest snapshot, one build at a time (a
// snapshot replaced while its index builds is skipped).
type listBuilder struct {
	mu      sync.Mutex
	next    *Snapshot
	running bool
	wg      sync.WaitGroup
}

func (w *Warehouse) scheduleListIndex(s *Snapshot) {
	b := &w.lists
	b.mu.Lock()
	b.next = s
	if b.running {
		b.mu.Unlock()
		return
	}
	b.running = true
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		for {
			b.mu.Lock()
			s := b.next
			b.next = nil
			if s == nil {
				b.running = false
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
			if s != w.Snapshot() {
				continue
			}
			if err := w.buildListIndex(w.closing, s); err != nil && w.closing.Err() == nil {
				w.log.Error("list index build failed: lists run in DuckDB", "generation", s.Generation, "err", err)
			}
		}
	}()
}

// foldTerm folds a search term as the *_f columns are folded (foldSQL), by DuckDB
// itself so both sides always agree; recent terms are cached.
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
	w.foldMu.Lock()
	if len(w.foldCache) >= 4096 {
		clear(w.foldCache)
	}
	w.foldCache[term] = []byte(folded)
	w.foldMu.Unlock()
	return []byte(folded), nil
}

// ListIndexBuilt reports whether the current snapshot's list index is built.
func (w *Warehouse) ListIndexBuilt() bool { return w.Snapshot().lists.Load() != nil }

// WaitListIndex waits until no list index build is running or scheduled.
func (w *Warehouse) WaitListIndex() { w.lists.wg.Wait() }
