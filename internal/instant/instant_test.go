package instant

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	ok := []struct {
		in   string
		want string // RFC3339Nano UTC of the truncated instant
	}{
		{"2025-07-01T00:00:00Z", "2025-07-01T00:00:00Z"},
		{"2025-07-01t00:00:00z", "2025-07-01T00:00:00Z"},
		{"2025-07-01T01:40:56.538Z", "2025-07-01T01:40:56.538Z"},
		{"2025-11-29T20:33:13.407+03:00", "2025-11-29T17:33:13.407Z"},
		{"2025-12-31T21:00:00.000-03:00", "2026-01-01T00:00:00Z"},
		{"2025-12-31T21:00:00.123456789+05:45", "2025-12-31T15:15:00.123456Z"},
		{"2024-02-29T23:59:59.9999999Z", "2024-02-29T23:59:59.999999Z"},
		{"1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z"},
	}
	for _, c := range ok {
		us, err := Parse([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := Time(us).Format(time.RFC3339Nano); got != c.want {
			t.Errorf("%s: got %s want %s", c.in, got, c.want)
		}
	}
	bad := []string{"", "2025-07-01", "2025-07-01T00:00:00", "2025-07-01 00:00:00Z", "2025-02-30T00:00:00Z",
		"2025-07-01T25:00:00Z", "2025-07-01T00:60:00Z", "2025-07-01T00:00:60Z", "2025-07-01T00:00:00.Z",
		"2025-07-01T00:00:00.1234567890Z", "2025-07-01T00:00:00+0300", "2025-07-01T00:00:00+24:00",
		"2025-07-01T00:00:00Z ", "2023-02-29T00:00:00Z", "0000-01-01T00:00:00Z", "2025-13-01T00:00:00Z",
		"2025-07-01T00:00:00+03:0x", "２025-07-01T00:00:00Z"}
	for _, s := range bad {
		if _, err := Parse([]byte(s)); err == nil {
			t.Errorf("%q: accepted", s)
		}
	}
	if _, err := ParseLenientPlus([]byte("2025-07-01T00:00:00 03:00")); err != nil {
		t.Errorf("space as plus: %v", err)
	}
	if _, err := Parse([]byte("2025-07-01T00:00:00 03:00")); err == nil {
		t.Errorf("space as plus accepted by strict parse")
	}
}

func TestAppendMillis(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{"2026-01-15T23:59:59.9999Z", "2026-01-15T23:59:59.999Z"},
		{"1969-12-31T23:59:59.9995Z", "1969-12-31T23:59:59.999Z"},
		{"2025-07-01T01:40:56Z", "2025-07-01T01:40:56.000Z"},
	} {
		us, err := Parse([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatMillis(us); got != c.want {
			t.Errorf("%s: got %s want %s", c.in, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2025-07-01T00:00:00Z", "2025-12-31T21:00:00.123456789+05:45", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		us, err := Parse([]byte(s))
		if err != nil {
			return
		}
		// Whatever parses must agree with the standard library on the instant.
		tt, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return // lower-case t/z and such are ours alone
		}
		if tt.UnixMicro() != us && tt.Truncate(time.Microsecond).UnixMicro() != us {
			t.Fatalf("%q: %d vs %d", s, us, tt.UnixMicro())
		}
	})
}

// TestAppendMillisMatchesTime: the integer civil date agrees with package time over
// years 1..9999, at day edges and at random instants.
func TestAppendMillisMatchesTime(t *testing.T) {
	lo := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
	r := rand.New(rand.NewPCG(7, 11))
	check := func(us int64) {
		want := time.UnixMicro(us).UTC().Truncate(time.Millisecond)
		if us < 0 && us%1000 != 0 {
			want = time.UnixMilli(us/1000 - 1).UTC()
		}
		if got := FormatMillis(us); got != want.Format("2006-01-02T15:04:05.000Z") {
			t.Fatalf("%d: %s, want %s", us, got, want.Format("2006-01-02T15:04:05.000Z"))
		}
	}
	for _, us := range []int64{lo, hi, 0, -1, 1, -1000, -999, -86_400_000_000, 951_782_400_000_000 /* 2000-02-29 */} {
		check(us)
	}
	for range 200_000 {
		check(lo + r.Int64N(hi-lo))
	}
	for d := int64(-719_162); d <= 2_932_896; d += 997 { // every kind of day, and the instant before it
		check(d * 86_400_000_000)
		if d > -719_162 {
			check(d*86_400_000_000 - 1)
		}
	}
}

func TestSubMicros(t *testing.T) {
	for in, want := range map[string]int64{
		"2025-01-01T00:00:00Z":              0,
		"2025-01-01T00:00:00.123456Z":       0,
		"2025-01-01T00:00:00.1234567Z":      700,
		"2025-01-01T00:00:00.12345678Z":     780,
		"2025-01-01T00:00:00.123456789Z":    789,
		"2025-01-01T00:00:00.000000001Z":    1,
		"2025-01-01T00:00:00.1+05:30":       0, // the offset's digits are not the fraction's
		"2025-01-01T00:00:00.1234567-05:30": 700,
	} {
		if got := SubMicros([]byte(in)); got != want {
			t.Errorf("SubMicros(%s) = %d, want %d", in, got, want)
		}
	}
}
