package generate

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
)

const duplicatePerMille = 2 // message lines written twice, per thousand

// dayWriter writes day files, one at a time. It merges the day's conversations (and the
// tail of the previous day's, which spill past midnight) into one stream in time order.
type dayWriter struct {
	m       *model
	b       *builder
	pcg     *rand.PCG
	r       *rand.Rand // duplicates and bad lines; seeded per day
	badRate float64

	out  io.Writer
	err  error
	line []byte
	bad  []byte

	heap     []*conv // active conversations by (next message time, order)
	free     []*conv
	pending  []duplicate
	minDue   int64
	dupSeq   int
	prevPlan []planned
	plan     []planned

	res dayResult
}

type duplicate struct {
	due  int64
	seq  int
	line []byte
}

// dayResult is what one day adds to the run.
type dayResult struct {
	lines, messages, conversations, duplicates, bad int64
	late                                            []byte // conversation updates for the late file
	lateLines                                       int64
	bytes                                           int64
}

func newDayWriter(m *model, badRate float64) *dayWriter {
	w := &dayWriter{m: m, b: newBuilder(m), pcg: rand.NewPCG(0, 0), badRate: badRate}
	w.r = rand.New(w.pcg)
	return w
}

func (w *dayWriter) write(line []byte) {
	if w.err != nil {
		return
	}
	if _, err := w.out.Write(line); err != nil {
		w.err = err
	}
	w.res.lines++
}

func (w *dayWriter) get() *conv {
	if n := len(w.free); n > 0 {
		c := w.free[n-1]
		w.free = w.free[:n-1]
		return c
	}
	return new(conv)
}

func less(a, b *conv) bool {
	if x, y := a.nextAt(), b.nextAt(); x != y {
		return x < y
	}
	return a.order < b.order
}

func (w *dayWriter) push(c *conv) {
	h := append(w.heap, c)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	w.heap = h
}

func (w *dayWriter) down(i int) {
	h := w.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			j = r
		}
		if !less(h[j], h[i]) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

func (w *dayWriter) popTop() {
	h := w.heap
	w.free = append(w.free, h[0])
	n := len(h) - 1
	h[0] = h[n]
	h[n] = nil
	w.heap = h[:n]
	if n > 0 {
		w.down(0)
	}
}

// run writes day d to out.
func (w *dayWriter) run(ctx context.Context, d int, out io.Writer) (dayResult, error) {
	m := w.m
	w.out, w.err, w.res = out, nil, dayResult{}
	w.heap, w.pending, w.dupSeq = w.heap[:0], w.pending[:0], 0
	w.pcg.Seed(splitmix64(uint64(m.seed)^0x0d0b_1e5), splitmix64(uint64(d)^0xba_d11e))
	dayStart := m.startMs + int64(d)*msPerDay
	dayEnd := dayStart + msPerDay

	// The previous day's conversations that may still be talking after midnight.
	w.prevPlan = m.plan(d-1, w.prevPlan)
	for i := range w.prevPlan {
		p := &w.prevPlan[i]
		if p.start < dayStart-maxSpanMs {
			continue
		}
		c := w.get()
		w.b.build(c, p, d-1, i)
		c.order = uint64(i)
		for c.next < c.n && c.nextAt() < dayStart {
			c.next++
		}
		if c.next == c.n {
			w.free = append(w.free, c)
			continue
		}
		w.push(c)
	}

	w.plan = m.plan(d, w.plan)
	for pi, events := 0, 0; ; events++ {
		if events&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return w.res, err
			}
			if w.err != nil {
				return w.res, w.err
			}
		}
		if pi < len(w.plan) && (len(w.heap) == 0 || w.plan[pi].start <= w.heap[0].nextAt()) {
			c := w.get()
			w.b.build(c, &w.plan[pi], d, pi)
			c.order = 1<<40 | uint64(pi)
			pi++
			w.flushDue(c.start)
			w.line = m.appendConversation(w.line[:0], c, false)
			w.write(w.line)
			w.res.conversations++
			if c.late.on {
				w.res.late = m.appendConversation(w.res.late, c, true)
				w.res.lateLines++
			}
			w.maybeBad()
			w.push(c)
			continue
		}
		if len(w.heap) == 0 {
			break
		}
		c := w.heap[0]
		at := c.nextAt()
		if at >= dayEnd { // the rest belongs to the next day's file
			break
		}
		w.flushDue(at)
		w.line = m.appendMessage(w.line[:0], c, c.next)
		w.write(w.line)
		w.res.messages++
		if w.r.IntN(1000) < duplicatePerMille {
			due := min(at+1000+w.r.Int64N(599_000), dayEnd-1)
			w.pending = append(w.pending, duplicate{due: due, seq: w.dupSeq, line: append([]byte(nil), w.line...)})
			w.dupSeq++
			if len(w.pending) == 1 || due < w.minDue {
				w.minDue = due
			}
		}
		w.maybeBad()
		c.next++
		if c.next == c.n {
			w.popTop()
		} else {
			w.down(0)
		}
	}
	w.flushDue(dayEnd)
	for _, c := range w.heap {
		w.free = append(w.free, c)
	}
	w.heap = w.heap[:0]
	if w.err != nil {
		return w.res, fmt.Errorf("write day %d: %w", d, w.err)
	}
	return w.res, nil
}

// flushDue writes the pending duplicates due at or before now, in due order.
func (w *dayWriter) flushDue(now int64) {
	if len(w.pending) == 0 || now < w.minDue {
		return
	}
	slices.SortFunc(w.pending, func(a, b duplicate) int {
		return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.seq, b.seq))
	})
	k := 0
	for k < len(w.pending) && w.pending[k].due <= now {
		w.write(w.pending[k].line)
		w.res.duplicates++
		k++
	}
	n := copy(w.pending, w.pending[k:])
	clear(w.pending[n:])
	w.pending = w.pending[:n]
	if n > 0 {
		w.minDue = w.pending[0].due
	}
}

// maybeBad writes, at the configured rate, a bad line made from the line just written.
func (w *dayWriter) maybeBad() {
	if w.badRate <= 0 || w.r.Float64() >= w.badRate {
		return
	}
	w.bad = badLine(w.bad[:0], w.line, w.r)
	w.write(w.bad)
	w.res.bad++
}
