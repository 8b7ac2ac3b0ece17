// Package calendar lays a request's hour range out in the dashboard's buckets: the
// hours that pass the hour filter, the UTC days, the Monday weeks split at month
// boundaries, and the months that the range touches (CONTRACT §5).
package calendar

import "time"

// HourMicros is one hour in microseconds.
const HourMicros = int64(time.Hour / time.Microsecond)

// Mask says which UTC hours of the day pass the hour filter.
type Mask [24]bool

// NewMask builds the filter startHour..endHour, wrapping midnight when start > end.
func NewMask(start, end int) Mask {
	var m Mask
	for h := 0; h < 24; h++ {
		if start <= end {
			m[h] = h >= start && h <= end
		} else {
			m[h] = h >= start || h <= end
		}
	}
	return m
}

// All reports whether every hour passes (no hour filter).
func (m *Mask) All() bool {
	for _, ok := range m {
		if !ok {
			return false
		}
	}
	return true
}

// HourOf is the hour since the epoch that holds us (microseconds since the epoch),
// rounded down before 1970 too.
func HourOf(us int64) int64 {
	h := us / HourMicros
	if us%HourMicros < 0 {
		h--
	}
	return h
}

// Pass reports whether the hour (hours since the epoch) passes the mask.
func (m *Mask) Pass(hour int64) bool { return m[HourOfDay(hour)] }

// HourOfDay is the UTC hour of day (0..23) of an hour since the epoch.
func HourOfDay(hour int64) int {
	h := hour % 24
	if h < 0 {
		h += 24
	}
	return int(h)
}

// Week is a (month, week number) bucket.
type Week struct {
	MonthStart int64 // microseconds of 00:00 on the month's 1st
	Number     int
}

// Calendar maps every hour of [Start, End) to its buckets.
type Calendar struct {
	Start, End int64 // hours since the epoch
	Hours      []int64
	Days       []int64 // microseconds of each day's 00:00
	Weeks      []Week
	Months     []int64 // microseconds of each month's 1st
	// Per hour offset i = hour - Start: index into Hours (-1 when filtered out), Days,
	// Weeks and Months.
	HourIdx, DayIdx, WeekIdx, MonthIdx []int32
	Mask                               Mask
}

// Build lays out [start, end) (hours since the epoch). The day, week and month of an
// hour are worked out once per UTC day (every UTC day is 24 hours).
func Build(start, end int64, mask Mask) *Calendar {
	n := max(int(end-start), 0)
	c := &Calendar{Start: start, End: end, Mask: mask, Hours: make([]int64, 0, n),
		Days:    make([]int64, 0, n/24+2),
		HourIdx: make([]int32, n), DayIdx: make([]int32, n), WeekIdx: make([]int32, n), MonthIdx: make([]int32, n)}
	lastMonth := int64(-1 << 62)
	var lastWeek Week
	for i := 0; i < n; {
		h := start + int64(i)
		dayHour := h - int64(HourOfDay(h)) // 00:00 of h's day
		t := time.UnixMicro(dayHour * HourMicros).UTC()
		c.Days = append(c.Days, dayHour*HourMicros)
		month := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMicro()
		if month != lastMonth {
			c.Months = append(c.Months, month)
			lastMonth = month
		}
		if w := (Week{MonthStart: month, Number: WeekNumber(t)}); w != lastWeek {
			c.Weeks = append(c.Weeks, w)
			lastWeek = w
		}
		d, w, m := int32(len(c.Days)-1), int32(len(c.Weeks)-1), int32(len(c.Months)-1)
		for stop := min(n, i+24-HourOfDay(h)); i < stop; i++ {
			hh := start + int64(i)
			if mask[HourOfDay(hh)] {
				c.HourIdx[i] = int32(len(c.Hours))
				c.Hours = append(c.Hours, hh*HourMicros)
			} else {
				c.HourIdx[i] = -1
			}
			c.DayIdx[i], c.WeekIdx[i], c.MonthIdx[i] = d, w, m
		}
	}
	return c
}

// WeekNumber is the week of the month of a day: 1 for the Monday-started week that holds
// the 1st, 2 for the next, and so on.
func WeekNumber(t time.Time) int {
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	offset := (int(first.Weekday()) + 6) % 7 // days since the Monday on or before the 1st
	return (t.Day()-1+offset)/7 + 1
}
