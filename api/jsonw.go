package api

import (
	"strconv"
	"unicode/utf8"

	"github.com/dashboard-analytics/dashboard/internal/instant"
)

// jw appends JSON by hand: the dashboard answers are large arrays of small objects, and
// building them with encoding/json costs ten times more (README, "Serving").
type jw struct{ b []byte }

func (w *jw) raw(s string) { w.b = append(w.b, s...) }
func (w *jw) byte(c byte)  { w.b = append(w.b, c) }
func (w *jw) int(v int64)  { w.b = strconv.AppendInt(w.b, v, 10) }
func (w *jw) bool(v bool)  { w.b = strconv.AppendBool(w.b, v) }
func (w *jw) time(us int64) {
	w.b = append(w.b, '"')
	w.b = instant.AppendMillis(w.b, us)
	w.b = append(w.b, '"')
}
func (w *jw) key(k string) {
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}
func (w *jw) float(v float64) { w.b = strconv.AppendFloat(w.b, v, 'f', -1, 64) }
func (w *jw) null()           { w.b = append(w.b, "null"...) }
func (w *jw) comma(first *bool) {
	if !*first {
		w.b = append(w.b, ',')
	}
	*first = false
}

// hundredths writes v/100 with two decimals at most (e.g. 5025 → 50.25, 5000 → 50.0).
func (w *jw) hundredths(v int64) {
	if v < 0 {
		w.b = append(w.b, '-')
		v = -v
	}
	w.b = strconv.AppendInt(w.b, v/100, 10)
	f := v % 100
	w.b = append(w.b, '.')
	switch {
	case f == 0:
		w.b = append(w.b, '0')
	case f%10 == 0:
		w.b = append(w.b, byte('0'+f/10))
	default:
		w.b = append(w.b, byte('0'+f/10), byte('0'+f%10))
	}
}

func (w *jw) optString(s *string) {
	if s == nil {
		w.null()
	} else {
		w.string(s)
	}
}

const hexDigits = "0123456789abcdef"

// string writes a JSON string (valid UTF-8 out; U+2028/2029 escaped for JavaScript).
func (w *jw) string(sp *string) { w.str(*sp) }

func (w *jw) str(s string) {
	b := append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	w.b = append(b, '"')
}

// roundDiv is a/b rounded half away from zero (b > 0).
func roundDiv(a, b int64) int64 {
	if a >= 0 {
		return (2*a + b) / (2 * b)
	}
	return -((-2*a + b) / (2 * b))
}
