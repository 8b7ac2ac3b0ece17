package warehouse

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// TestUsersMatchBruteForce: the distinct users of every bucket and of the range, under
// random ranges, hour windows (wrapping midnight too) and channel subsets, equal sets
// built naively from the same events; among them users active on several channels
// in one hour, in several hours of a day, and across week and month edges. The same
// stamps serve many requests in a row, as they do in the server.
func TestUsersMatchBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	const nUsers, nChannels = 40, 4
	start := int64(482_000) // 2024-12-26: the range crosses a month and a year
	td := &tenantData{nUsers: nUsers, chanIdx: map[string]int32{}}
	for c := range nChannels {
		uuid := fmt.Sprintf("c%d", c)
		td.channels = append(td.channels, &Channel{UUID: uuid})
		td.chanIdx[uuid] = int32(c)
	}
	seen := map[userEvent]bool{}
	for range 3000 {
		e := userEvent{hour: start + r.Int64N(24*70), user: int32(r.IntN(nUsers)), ch: int32(r.IntN(nChannels))}
		if !seen[e] { // one row per (hour, channel, user), as loaded
			seen[e] = true
			td.users = append(td.users, e)
		}
	}
	slices.SortStableFunc(td.users, func(a, b userEvent) int { return int(a.hour - b.hour) })
	td.runs, td.runIDs = userRuns(td.users)
	s := &Snapshot{tenants: map[TenantKey]*tenantData{{Org: "o"}: td}}

	for i := range 400 {
		from := start - 48 + r.Int64N(24*72)
		q := Query{Tenant: TenantKey{Org: "o"}, Start: from, End: from + 1 + r.Int64N(24*40)}
		q.Mask = calendar.NewMask(r.IntN(24), r.IntN(24))
		if i%3 == 0 {
			q.Mask = calendar.NewMask(0, 23)
		}
		allowed := []bool{true, true, true, true}
		if i%2 == 1 {
			q.Channels = []string{}
			for c := range nChannels {
				allowed[c] = r.IntN(2) == 0
				if allowed[c] {
					q.Channels = append(q.Channels, fmt.Sprintf("c%d", c))
				}
			}
		}
		cal := calendar.Build(q.Start, q.End, q.Mask)
		want := newSeries(cal)
		sets := map[string]map[int32]bool{}
		add := func(key string, u int32, counter *int64) {
			if sets[key] == nil {
				sets[key] = map[int32]bool{}
			}
			if !sets[key][u] {
				sets[key][u] = true
				*counter++
			}
		}
		var wantTotal int64
		for _, e := range td.users {
			if e.hour < q.Start || e.hour >= q.End || !allowed[e.ch] || !q.Mask.Pass(e.hour) {
				continue
			}
			off := e.hour - cal.Start
			if hi := cal.HourIdx[off]; hi >= 0 {
				add(fmt.Sprint("h", hi), e.user, &want.Hours[hi])
			}
			add(fmt.Sprint("d", cal.DayIdx[off]), e.user, &want.Days[cal.DayIdx[off]])
			add(fmt.Sprint("w", cal.WeekIdx[off]), e.user, &want.Weeks[cal.WeekIdx[off]])
			add(fmt.Sprint("m", cal.MonthIdx[off]), e.user, &want.Months[cal.MonthIdx[off]])
			add("t", e.user, &wantTotal)
		}
		total, got := s.Users(q, cal)
		if total != wantTotal || !slices.Equal(got.Hours, want.Hours) || !slices.Equal(got.Days, want.Days) ||
			!slices.Equal(got.Weeks, want.Weeks) || !slices.Equal(got.Months, want.Months) {
			t.Fatalf("query %d %+v:\n got %d %v\nwant %d %v", i, q, total, got, wantTotal, want)
		}
		if got := s.UsersTotal(q); got != wantTotal {
			t.Fatalf("query %d: UsersTotal %d, want %d", i, got, wantTotal)
		}
	}
}
