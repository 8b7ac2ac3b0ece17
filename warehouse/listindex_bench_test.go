package warehouse

import (
	"math/rand/v2"
	"testing"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// BenchmarkListPages times lists of a 200,000-row tenant (five channels, three sorts)
// without a search: a month's page 1 by the low-cardinality sort (the class walk), and
// page 500 of the whole life by it and by time (the block counts), under an hour
// window. `go test -bench ListPages ./warehouse`.
func BenchmarkListPages(b *testing.B) {
	r := rand.New(rand.NewPCG(21, 22))
	x, tn, k := randomListTable(&testing.T{}, r, 200000, 3, 150*1e6, []string{"c0", "c1", "c2", "c3", "c4"}) // 2.5 min apart: a year
	all := x.key[timeSort]
	first, last := calendar.HourOf(all[tn.lo]), calendar.HourOf(all[tn.hi-1])
	for _, c := range []struct {
		name       string
		sort       int
		start, end int64
		offset     int
	}{
		{"month page 1 by key", 1, first + 24*100, first + 24*130, 0},
		{"life page 500 by key", 1, first, last + 1, 9980},
		{"life page 500 by time", timeSort, first, last + 1, 9980},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := ListFilter{Query: Query{Tenant: k, Start: c.start, End: c.end, Mask: calendar.NewMask(9, 17)}, Desc: true, Max: 20, Offset: c.offset}
			q := listQuery{f: f, sort: c.sort, counted: func() int64 { return 1 << 30 }}
			for b.Loop() {
				if _, page := x.list(q); len(page) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}
