package warehouse

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// TestStackingMatchesBruteForce: stacked intents and flows, with and without the running
// day totals, equal counts summed naively from the same rows, under random ranges (whole
// days, ranges starting and ending inside a day, shorter than a day, outside the data,
// before 1970), hour windows (wrapping midnight too) and channel subsets.
func TestStackingMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	const nChannels, nTopics = 3, 5
	start := int64(-24 * 20) // 1969-12-12: floor division of hours before the epoch
	td := &tenantData{chanIdx: map[string]int32{}}
	for c := range nChannels {
		uuid := fmt.Sprintf("c%d", c)
		td.channels = append(td.channels, &Channel{UUID: uuid, Name: fmt.Sprintf("ch %d", c)})
		td.chanIdx[uuid] = int32(c)
	}
	for i := range nTopics {
		td.intentNm = append(td.intentNm, fmt.Sprintf("topic %d", i))
		td.flowNm = append(td.flowNm, fmt.Sprintf("flow %d", i))
	}
	for range 4000 {
		c := topicCount{hour: start + r.Int64N(24*60), ch: int32(r.IntN(nChannels)), topic: int32(r.IntN(nTopics)), n: int32(1 + r.IntN(9))}
		td.intents = append(td.intents, c)
		if r.IntN(2) == 0 {
			c.topic = int32(r.IntN(nTopics))
			td.flows = append(td.flows, c)
		}
	}
	byHour := func(a, b topicCount) int { return int(a.hour - b.hour) }
	slices.SortStableFunc(td.intents, byHour)
	slices.SortStableFunc(td.flows, byHour)
	td.intentDays = buildDayTotals(td.intents, nChannels, nTopics)
	td.flowDays = buildDayTotals(td.flows, nChannels, nTopics)
	if td.intentDays == nil || td.flowDays == nil {
		t.Fatal("no day totals built")
	}
	scanOnly := *td
	scanOnly.intentDays, scanOnly.flowDays = nil, nil
	k := TenantKey{Org: "o"}
	with := &Snapshot{tenants: map[TenantKey]*tenantData{k: td}}
	without := &Snapshot{tenants: map[TenantKey]*tenantData{k: &scanOnly}}

	wholeDays := 0
	for i := range 600 {
		from := start - 24*3 + r.Int64N(24*66)
		span := 1 + r.Int64N(24*50)
		switch i % 4 {
		case 0: // whole days
			from, span = floorDay(from)*24, 24*(1+r.Int64N(50))
		case 1: // less than a day
			span = 1 + r.Int64N(30)
		}
		q := Query{Tenant: k, Start: from, End: from + span, Mask: calendar.NewMask(0, 23)}
		if r.IntN(2) == 0 {
			q.Mask = calendar.NewMask(r.IntN(24), r.IntN(24))
		}
		allowed := []bool{true, true, true}
		if i%3 == 2 {
			q.Channels = []string{}
			for c := range nChannels {
				if allowed[c] = r.IntN(2) == 0; allowed[c] {
					q.Channels = append(q.Channels, fmt.Sprintf("c%d", c))
				}
			}
		}
		if _, _, _, _, ok := td.intentDays.wholeDays(td.intents, nChannels*nTopics, q.Start, q.End); ok {
			wholeDays++
		}
		for _, intents := range []bool{true, false} {
			rows, names := td.flows, td.flowNm
			if intents {
				rows, names = td.intents, td.intentNm
			}
			perChan := map[string]map[string]int64{}
			totals := map[string]int64{}
			for _, c := range rows {
				if c.hour >= q.Start && c.hour < q.End && allowed[c.ch] && q.Mask.Pass(c.hour) {
					ch := td.channels[c.ch].Name
					if perChan[ch] == nil {
						perChan[ch] = map[string]int64{}
					}
					perChan[ch][names[c.topic]] += int64(c.n)
					totals[names[c.topic]] += int64(c.n)
				}
			}
			got := with.Stacking(q, intents)
			gotMap := map[string]map[string]int64{}
			for _, sc := range got {
				gotMap[sc.Channel.Name] = map[string]int64{}
				for _, tp := range sc.Topics {
					gotMap[sc.Channel.Name][tp.Name] = tp.ChannelValue
					if tp.TotalValue != totals[tp.Name] {
						t.Fatalf("query %d %+v: %s total %d, want %d", i, q, tp.Name, tp.TotalValue, totals[tp.Name])
					}
				}
			}
			if len(gotMap) != len(perChan) || (len(perChan) > 0 && !reflect.DeepEqual(gotMap, perChan)) {
				t.Fatalf("query %d %+v (intents %v):\n got %v\nwant %v", i, q, intents, gotMap, perChan)
			}
			if scanned := without.Stacking(q, intents); !reflect.DeepEqual(got, scanned) {
				t.Fatalf("query %d %+v: with day totals %v, scanned %v", i, q, got, scanned)
			}
		}
	}
	if wholeDays < 200 {
		t.Fatalf("only %d queries took the day totals", wholeDays)
	}
}

// TestDayTotalsRefuseOtherLayouts: the totals are not built (the scan serves) for rows
// naming a channel or topic past the dictionaries, rows out of hour order, or rows too
// sparse for a dense table.
func TestDayTotalsRefuseOtherLayouts(t *testing.T) {
	rows := []topicCount{{hour: 10, ch: 0, topic: 0, n: 1}, {hour: 40, ch: 1, topic: 2, n: 2}}
	if buildDayTotals(rows, 2, 3) == nil {
		t.Fatal("no totals for rows within the layout")
	}
	for name, c := range map[string]struct {
		rows      []topicCount
		nch, ntop int
	}{
		"topic past the names":  {[]topicCount{{hour: 10, ch: 0, topic: 3, n: 1}}, 2, 3},
		"channel past the list": {[]topicCount{{hour: 10, ch: 2, topic: 0, n: 1}}, 2, 3},
		"out of hour order":     {[]topicCount{rows[1], rows[0]}, 2, 3},
		"sparse":                {[]topicCount{{hour: 0, n: 1}, {hour: 24 * 3000, n: 1}}, 2, 3},
	} {
		if buildDayTotals(c.rows, c.nch, c.ntop) != nil {
			t.Errorf("%s: totals built", name)
		}
	}
}
