package calendar

import (
	"testing"
	"time"
)

func hourOf(s string) int64 {
	t, _ := time.Parse(time.RFC3339, s)
	return t.UnixMicro() / HourMicros
}

func TestMaskWraps(t *testing.T) {
	m := NewMask(22, 3)
	for h := 0; h < 24; h++ {
		want := h >= 22 || h <= 3
		if m[h] != want {
			t.Errorf("hour %d: %v", h, m[h])
		}
	}
	if m := NewMask(5, 5); !m[5] || m[4] || m[6] {
		t.Errorf("single hour mask wrong: %v", m)
	}
}

func TestWeeksSplitAtMonths(t *testing.T) {
	// 2026-01-30 (Fri) .. 2026-02-02 (Mon): Feb 1st is a Sunday → week 1 of Feb is one day.
	c := Build(hourOf("2026-01-30T00:00:00Z"), hourOf("2026-02-03T00:00:00Z"), NewMask(0, 23))
	want := []struct {
		month string
		n     int
	}{{"2026-01-01", 5}, {"2026-02-01", 1}, {"2026-02-01", 2}}
	if len(c.Weeks) != len(want) {
		t.Fatalf("weeks %v", c.Weeks)
	}
	for i, w := range want {
		got := time.UnixMicro(c.Weeks[i].MonthStart).UTC().Format("2006-01-02")
		if got != w.month || c.Weeks[i].Number != w.n {
			t.Errorf("week %d: %s #%d, want %s #%d", i, got, c.Weeks[i].Number, w.month, w.n)
		}
	}
	if len(c.Days) != 4 || len(c.Months) != 2 || len(c.Hours) != 96 {
		t.Errorf("days %d months %d hours %d", len(c.Days), len(c.Months), len(c.Hours))
	}
}

func TestWeekNumber(t *testing.T) {
	for _, c := range []struct {
		day  string
		want int
	}{
		{"2025-12-01", 1}, // Monday the 1st
		{"2025-12-07", 1},
		{"2025-12-08", 2},
		{"2025-12-31", 5},
		{"2026-03-01", 1}, // Sunday the 1st
		{"2026-03-02", 2},
		{"2026-03-31", 6},
	} {
		d, _ := time.Parse("2006-01-02", c.day)
		if got := WeekNumber(d); got != c.want {
			t.Errorf("%s: week %d want %d", c.day, got, c.want)
		}
	}
}

func TestHourFilterKeepsDays(t *testing.T) {
	// Only hour 23 passes: every day still appears.
	c := Build(hourOf("2026-01-01T00:00:00Z"), hourOf("2026-01-03T00:00:00Z"), NewMask(23, 23))
	if len(c.Hours) != 2 || len(c.Days) != 2 {
		t.Fatalf("hours %d days %d", len(c.Hours), len(c.Days))
	}
}

// TestHourOfFloors: HourOf rounds down, before 1970 too, and Mask.All is true only
// without a filter.
func TestHourOfFloors(t *testing.T) {
	for us, want := range map[int64]int64{0: 0, 1: 0, HourMicros - 1: 0, HourMicros: 1, -1: -1, -HourMicros: -1, -HourMicros - 1: -2} {
		if got := HourOf(us); got != want {
			t.Errorf("HourOf(%d) = %d, want %d", us, got, want)
		}
	}
	if m := NewMask(0, 23); !m.All() {
		t.Error("0..23 is not all hours")
	}
	if m := NewMask(22, 20); m.All() {
		t.Error("22..20 is all hours")
	}
}
