package warehouse

import (
	"slices"
	"sort"
	"sync"
)

// Block counts: a deep page without a search (page 500 of a year: 10,000 matches
// skipped) walked every row before its page, up to 240,000 of them under a one-hour
// window. Each sort's permutation of a large tenant now carries, every 1 << blockShift
// positions, how many rows of each of the tenant's row classes (hour of day, channel,
// flag) come before: the matches before a position are a sum over the classes the
// request accepts, so the page's first row is found by a binary search over the blocks
// and a walk of one block. The same sums give the count of matches, with no scan of
// the snapshot's hours.
//
// Rows outside the request's range are not in the class counts' terms: the time
// sort's range is a run of positions, and for the other sorts the rows outside the
// range (the tenant's rows before and after it, in time order) are subtracted per
// block; blocks serve a sort other than time only when at most a quarter of the
// tenant's rows are outside the range (a year), or they would cost more than the walk.

// blockShift sets the positions of a block, 1 << blockShift: 512 rows walk in about 2 µs,
// and the counts cost 4 bytes × the tenant's classes per block (a tenant of 5
// channels: 240 classes, about 1.9 bytes a row and sort).
const blockShift = 9

// classBlocks are one sort's block counts for one tenant.
type classBlocks struct {
	shift int
	nl    int      // the tenant's classes
	cum   []uint32 // row j (j ≤ len(perm) >> shift): the rows of each class before position j << shift
	inv   []uint32 // the position of each of the tenant's rows (row - lo) in the permutation; nil for the time sort
}

func (b *classBlocks) size() int64 { return int64(4 * (cap(b.cum) + cap(b.inv))) }

// maxBlockClasses bounds a tenant's classes for block counts: 1,008 (21 channels) cost
// 8 bytes a row and sort in 512-row blocks; a tenant of more channels walks.
const maxBlockClasses = 24 * 21 * 2

// buildBlocks sets t's block counts for every sort, blocks of 1 << shift rows (the
// table has classes). A tenant of fewer than 16 blocks has none: its walks are short.
func (x *listTable) buildBlocks(t *listTenant, shift int) {
	n := int(t.hi - t.lo)
	if n < 16<<shift || 24*len(t.channels)*2 > maxBlockClasses {
		return
	}
	chans := make([]uint32, 0, len(t.channels))
	for _, id := range t.channels {
		chans = append(chans, id)
	}
	slices.Sort(chans)
	nc := len(x.channels)
	t.classes = make([]uint16, 24*len(chans)*2)
	localOf := make([]uint16, 24*nc*2)
	for h := range 24 {
		for l, id := range chans {
			for flag := range 2 {
				c := (h*len(chans)+l)*2 + flag
				g := (h*nc+int(id))*2 + flag
				t.classes[c], localOf[g] = uint16(g), uint16(c)
			}
		}
	}
	nl := len(t.classes)
	t.blocks = make([]*classBlocks, len(t.perm))
	counts := make([]uint32, nl)
	for s, perm := range t.perm {
		b := &classBlocks{shift: shift, nl: nl, cum: make([]uint32, 0, (n>>shift+1)*nl)}
		clear(counts)
		for pos, i := range perm {
			if pos&(1<<shift-1) == 0 {
				b.cum = append(b.cum, counts...)
			}
			counts[localOf[x.class[i]]]++
		}
		if n&(1<<shift-1) == 0 {
			b.cum = append(b.cum, counts...)
		}
		if s != timeSort {
			b.inv = make([]uint32, n)
			for pos, i := range perm {
				b.inv[i-t.lo] = uint32(pos)
			}
		}
		t.blocks[s] = b
	}
}

// blockCounter counts one request's matches before positions of one sort's
// permutation of a tenant, and tests the row at a position (matchAt). Without blocks
// (b nil) it only tests: walkPage then walks every row.
type blockCounter struct {
	b      *classBlocks
	pass   []uint16 // the tenant's classes the request accepts; nil: every one
	out    []uint32 // per block row: the matches out of the range before it; nil: none
	perm   []uint32
	permAt []int64  // the list times in perm's order (nil: the time sort, whose range is a run)
	pc     []uint16 // the classes in perm's order (nil: the time sort, read by row)
	class  []uint16
	m      *rowMatch
	lo, hi int64
}

// atBlock is the count of matches before position j << shift.
func (c *blockCounter) atBlock(j int) int64 {
	var n int64
	if c.pass == nil {
		n = int64(min(j<<c.b.shift, len(c.perm)))
	} else {
		row := c.b.cum[j*c.b.nl : (j+1)*c.b.nl]
		for _, l := range c.pass {
			n += int64(row[l])
		}
	}
	if c.out != nil {
		n -= int64(c.out[j])
	}
	return n
}

// matchAt reports whether the row at position pos matches.
func (c *blockCounter) matchAt(pos int) bool {
	if c.permAt == nil {
		return c.m.pass[c.class[c.perm[pos]]]
	}
	v := c.permAt[pos]
	return v >= c.lo && v < c.hi && c.m.pass[c.pc[pos]]
}

// before is the count of matches before position p: a block's count and a walk of
// the rest of its block.
func (c *blockCounter) before(p int) int64 {
	j := p >> c.b.shift
	n := c.atBlock(j)
	for pos := j << c.b.shift; pos < p; pos++ {
		if c.matchAt(pos) {
			n++
		}
	}
	return n
}

// advance returns the last position q in [u, v] that is u or a block boundary with
// at most r matches in [u, q), and those matches; tu is before(u).
func (c *blockCounter) advance(u, v int, r, tu int64) (int, int64) {
	jlo, jhi := u>>c.b.shift+1, v>>c.b.shift // the block boundaries in (u, v]
	if jhi < jlo {
		return u, 0
	}
	k := sort.Search(jhi-jlo+1, func(i int) bool { return c.atBlock(jlo+i)-tu > r })
	if k == 0 {
		return u, 0
	}
	j := jlo + k - 1
	return j << c.b.shift, c.atBlock(j) - tu
}

// newBlockCounter returns the counter of m's matches in sort s of t, or nil when t has
// no blocks or, for a sort other than time, too many of its rows are out of the range
// [a, b) (rows, in time order).
func (x *listTable) newBlockCounter(t *listTenant, s int, m *rowMatch, lo, hi int64, a, b int) *blockCounter {
	if t.blocks == nil || m.pass == nil || m.search != nil {
		return nil
	}
	out := a - int(t.lo) + int(t.hi) - b
	if s != timeSort && out > int(t.hi-t.lo)/4 {
		return nil
	}
	bl := t.blocks[s]
	c := &blockCounter{b: bl, perm: t.perm[s], class: x.class, m: m, lo: lo, hi: hi}
	if !m.all {
		c.pass = make([]uint16, 0, len(t.classes)) // empty, not nil, when none passes
		for l, g := range t.classes {
			if m.pass[g] {
				c.pass = append(c.pass, uint16(l))
			}
		}
	}
	if s == timeSort {
		return c
	}
	c.permAt, c.pc = t.permAt[s], t.permClass[s]
	if out > 0 {
		c.out = x.outCounts.get(bl, a, b, c.pass, func() []uint32 {
			blocks := len(bl.cum) / bl.nl
			out := make([]uint32, blocks+1)
			count := func(from, to int) {
				for i := from; i < to; i++ {
					if m.pass[x.class[i]] {
						out[bl.inv[i-int(t.lo)]>>bl.shift+1]++
					}
				}
			}
			count(int(t.lo), a)
			count(b, int(t.hi))
			for j := 1; j < len(out); j++ {
				out[j] += out[j-1]
			}
			return out[:blocks]
		})
	}
	return c
}

// blockPage is list's count and page for sort s by the block counts: positions [from,
// to) of c's permutation are the range (NULLs from nn on). Its walk is the list's
// walk started near the page's first row.
func (x *listTable) blockPage(s int, c *blockCounter, from, to, nn int, f ListFilter) (int64, []uint32) {
	tFrom, tTo := c.before(from), c.before(to)
	n := tTo - tFrom
	if int64(f.Offset) >= n {
		return n, nil
	}
	k := int64(f.Offset)
	if !f.Desc {
		return n, x.walkPage(s, c, from, to, nn, 0, f, k, n)
	}
	tNN := c.before(nn)
	if m := tNN - tFrom; k >= m { // the page starts among the NULLs: no group is walked
		return n, x.walkPage(s, c, from, to, nn, from, f, k-m, n)
	}
	// The descending walk visits the groups of equal keys from the last: the rows
	// before a group boundary e in the list are those from e to nn. It starts at the
	// first boundary p (a block's, or nn) with at most k matches from p to nn, moved
	// up to the end of its group; the groups it then visits are few, or large ones
	// that the walk skips in by blocks.
	jlo, jhi := from>>c.b.shift+1, (nn-1)>>c.b.shift
	p := nn
	if jhi >= jlo {
		if i := sort.Search(jhi-jlo+1, func(i int) bool { return tNN-c.atBlock(jlo+i) <= k }); i <= jhi-jlo {
			p = (jlo + i) << c.b.shift
		}
	}
	e := p
	if p < nn {
		e = x.groupEnd(s, c.perm[:to], nn, p-1)
	}
	return n, x.walkPage(s, c, from, to, nn, e, f, k-(tNN-c.before(e)), n)
}

// walkPage is the page of f in sort s: the matches of positions [from, to) of c's
// permutation (NULLs from nn on) in list order, past the first skip of them (n
// matches in all). A descending walk starts at the group that ends at end (nn: the
// first; from: none, only the NULLs); an ascending one ignores end. Where c has
// blocks, a long run (a whole range, a large group of equal keys, the NULLs) is first
// skipped in by them.
func (x *listTable) walkPage(s int, c *blockCounter, from, to, nn, end int, f ListFilter, skip, n int64) []uint32 {
	page := make([]uint32, 0, min(int64(f.Max), n-int64(f.Offset)))
	visit := func(u, v int) bool {
		if c.b != nil && skip > 0 && v-u > 2<<c.b.shift {
			q, done := c.advance(u, v, skip, c.before(u))
			u, skip = q, skip-done
		}
		// matchAt's test, with c's fields in locals: through c, the walk of a month's
		// page 1 took 30% longer (BenchmarkListPages).
		perm, permAt, pc, class, pass, lo, hi := c.perm, c.permAt, c.pc, c.class, c.m.pass, c.lo, c.hi
		for pos := u; pos < v; pos++ {
			if permAt != nil {
				if at := permAt[pos]; at < lo || at >= hi || !pass[pc[pos]] {
					continue
				}
			} else if !pass[class[perm[pos]]] {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if page = append(page, perm[pos]); len(page) == f.Max {
				return false
			}
		}
		return true
	}
	x.walkRange(s, c.perm[:to], from, nn, f.Desc, end, visit)
	return page
}

// blockRange is the positions of the range [a, b) (rows, in time order) in sort s's
// permutation of t: the run itself for the time sort, every position for the others.
func blockRange(t *listTenant, s, a, b int) (from, to, nn int) {
	if s == timeSort {
		return a - int(t.lo), b - int(t.lo), b - int(t.lo)
	}
	return 0, len(t.perm[s]), t.nn[s]
}

// outCache keeps the counts of matches out of the range per block for up to
// outCacheSize (tenant, sort, range, classes), dropping one at random when full: a page
// of a year that leaves out the last day counts that day's rows (7,100 USER messages of
// the large bot, 27 µs) once for the pages after it.
type outCache struct {
	mu sync.Mutex
	m  map[outKey]outEntry
}

type outKey struct {
	blocks     *classBlocks
	a, b       int
	passDigest uint64
}

type outEntry struct {
	pass []uint16
	out  []uint32
}

// outCacheSize bounds the entries (a large tenant's are 4 bytes a block: 34 KB for
// 4.4M messages).
const outCacheSize = 256

func (oc *outCache) get(bl *classBlocks, a, b int, pass []uint16, count func() []uint32) []uint32 {
	h := uint64(len(pass)) + 1
	for _, l := range pass {
		h = (h ^ uint64(l)) * 0x100000001b3
	}
	k := outKey{bl, a, b, h}
	oc.mu.Lock()
	e, ok := oc.m[k]
	oc.mu.Unlock()
	if ok && slices.Equal(e.pass, pass) && (e.pass == nil) == (pass == nil) {
		return e.out
	}
	out := count()
	oc.mu.Lock()
	if oc.m == nil {
		oc.m = map[outKey]outEntry{}
	}
	if len(oc.m) >= outCacheSize {
		for k := range oc.m {
			delete(oc.m, k)
			break
		}
	}
	oc.m[k] = outEntry{pass: slices.Clone(pass), out: out}
	oc.mu.Unlock()
	return out
}
