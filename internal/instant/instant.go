// Package instant parses and formats the RFC 3339 instants of the log format and the API.
//
// Parsing is strict (CONTRACT §2, §7): full date, 'T' or 't', time, up to nine fraction
// digits, and an offset ('Z', 'z' or ±hh:mm) that is required. The result is a count of
// microseconds since the Unix epoch in UTC; digits past the microsecond are truncated.
package instant

import (
	"errors"
	"time"
)

var (
	errSyntax = errors.New("not an RFC 3339 instant (yyyy-MM-ddTHH:mm:ss[.fraction](Z|±hh:mm))")
	errRange  = errors.New("date or time out of range")
)

// Micros is an instant as microseconds since 1970-01-01T00:00:00Z.
type Micros = int64

// Parse reads an RFC 3339 instant with a required offset.
func Parse(s []byte) (Micros, error) {
	return parse(s, false)
}

// ParseLenientPlus is Parse, but a space where the offset's '+' belongs is read as '+'
// (an unencoded '+' in a query string arrives as a space).
func ParseLenientPlus(s []byte) (Micros, error) {
	return parse(s, true)
}

func digits(s []byte, n int) (int, bool) {
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func parse(s []byte, spaceIsPlus bool) (Micros, error) {
	// yyyy-MM-ddTHH:mm:ss = 19 bytes, then fraction, then offset.
	if len(s) < 20 {
		return 0, errSyntax
	}
	year, ok1 := digits(s[0:], 4)
	month, ok2 := digits(s[5:], 2)
	day, ok3 := digits(s[8:], 2)
	hour, ok4 := digits(s[11:], 2)
	minute, ok5 := digits(s[14:], 2)
	sec, ok6 := digits(s[17:], 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[4] != '-' || s[7] != '-' ||
		(s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return 0, errSyntax
	}
	i := 19
	var frac int64 // microseconds
	if s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		n := i - start
		if n == 0 || n > 9 {
			return 0, errSyntax
		}
		for k := 0; k < 6; k++ {
			frac *= 10
			if k < n {
				frac += int64(s[start+k] - '0')
			}
		}
	}
	if i >= len(s) {
		return 0, errSyntax // no offset
	}
	offset := 0
	switch c := s[i]; {
	case c == 'Z' || c == 'z':
		i++
	case c == '+' || c == '-' || (spaceIsPlus && c == ' '):
		if len(s)-i != 6 || s[i+3] != ':' {
			return 0, errSyntax
		}
		oh, okh := digits(s[i+1:], 2)
		om, okm := digits(s[i+4:], 2)
		if !okh || !okm {
			return 0, errSyntax
		}
		if oh > 23 || om > 59 {
			return 0, errRange
		}
		offset = oh*3600 + om*60
		if c == '-' {
			offset = -offset
		}
		i += 6
	default:
		return 0, errSyntax
	}
	if i != len(s) {
		return 0, errSyntax
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return 0, errRange
	}
	secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	return secs*1_000_000 + frac, nil
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// DaysFromCivil is the day number (days since 1970-01-01) of a calendar date.
func DaysFromCivil(y, m, d int) int64 { return daysFromCivil(y, m, d) }

// Time converts microseconds to a time.Time in UTC.
func Time(us Micros) time.Time { return time.UnixMicro(us).UTC() }

// FromTime converts a time.Time to microseconds (truncating).
func FromTime(t time.Time) Micros { return t.UnixMicro() }

// AppendMillis appends the instant as yyyy-MM-dd'T'HH:mm:ss.SSS'Z', truncating to the millisecond.
// The dashboard answers hold thousands of times each, so the civil date comes from
// integer arithmetic (Hinnant's days_from_civil inverse), not from time.Time.
func AppendMillis(b []byte, us Micros) []byte {
	ms := floorDiv(us, 1000)
	days := floorDiv(ms, 86_400_000)
	y, mo, d := civil(days)
	rest := ms - days*86_400_000
	h, mi, s, msec := rest/3_600_000, rest/60_000%60, rest/1000%60, rest%1000
	b = append4(b, int(y))
	b = append(b, '-')
	b = append2(b, int(mo))
	b = append(b, '-')
	b = append2(b, int(d))
	b = append(b, 'T')
	b = append2(b, int(h))
	b = append(b, ':')
	b = append2(b, int(mi))
	b = append(b, ':')
	b = append2(b, int(s))
	b = append(b, '.')
	b = append(b, byte('0'+msec/100), byte('0'+msec/10%10), byte('0'+msec%10))
	return append(b, 'Z')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// civil is the proleptic Gregorian date of a day count since 1970-01-01.
func civil(days int64) (y, m, d int64) {
	z := days + 719_468
	era := floorDiv(z, 146_097)
	doe := z - era*146_097
	yoe := (doe - doe/1460 + doe/36_524 - doe/146_096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// FormatMillis is AppendMillis as a string.
func FormatMillis(us Micros) string { return string(AppendMillis(make([]byte, 0, 24), us)) }

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }
func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// Min and Max bound the instants the service holds: UTC days 0001-01-01 to 9999-12-31.
// Parse bounds the date as written; an offset can still carry it past either end
// (0001-01-01T00:30:00+01:00 is a day of year 0, which DuckDB names "0001-12-31 (BC)":
// no date partition, and no yyyy-MM-dd in responses either).
var (
	Min = DaysFromCivil(1, 1, 1) * 86400 * 1_000_000
	Max = DaysFromCivil(10000, 1, 1)*86400*1_000_000 - 1
)

// SubMicros is the nanoseconds of an instant's fraction beyond its microseconds: the
// 7th to 9th digits, which Parse truncates (0 when there are none).
func SubMicros(s []byte) int64 {
	if len(s) < 21 || s[19] != '.' {
		return 0
	}
	n := 0
	for 20+n < len(s) && s[20+n] >= '0' && s[20+n] <= '9' {
		n++
	}
	var ns int64
	for k := 6; k < 9; k++ {
		ns *= 10
		if k < n {
			ns += int64(s[20+k] - '0')
		}
	}
	return ns
}
