package generate

// Hand-written appenders for the hot path: every line is built by appending precomputed
// fragments and these few values into a reused buffer.

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. It escapes '"', '\\' and the control
// characters below U+0020; everything else, non-ASCII UTF-8 included (U+2028 too), is
// copied as is. (strconv.Quote is Go syntax, not JSON: it would write \x00 and \U0001f600.)
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonString returns s as a JSON string fragment.
func jsonString(s string) []byte { return appendJSONString(nil, s) }

// appendPad appends v in decimal, zero-padded to width digits (v >= 0).
func appendPad(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}

const msPerDay = 86_400_000

// appendTime appends the instant ms (Unix milliseconds) as RFC 3339 with milliseconds,
// written in the UTC offset offMin (minutes east of UTC; 0 writes 'Z').
func appendTime(dst []byte, ms int64, offMin int) []byte {
	local := ms + int64(offMin)*60_000
	days := local / msPerDay
	rem := local % msPerDay
	if rem < 0 {
		days--
		rem += msPerDay
	}
	y, m, d := civil(days)
	dst = appendPad(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, int64(m), 2)
	dst = append(dst, '-')
	dst = appendPad(dst, int64(d), 2)
	dst = append(dst, 'T')
	dst = appendPad(dst, rem/3_600_000, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, rem/60_000%60, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, rem/1000%60, 2)
	dst = append(dst, '.')
	dst = appendPad(dst, rem%1000, 3)
	if offMin == 0 {
		return append(dst, 'Z')
	}
	sign := byte('+')
	if offMin < 0 {
		sign, offMin = '-', -offMin
	}
	dst = append(dst, sign)
	dst = appendPad(dst, int64(offMin/60), 2)
	dst = append(dst, ':')
	return appendPad(dst, int64(offMin%60), 2)
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (H. Hinnant, "chrono-compatible low-level date algorithms").
func civil(days int64) (year int64, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return y, int(m), int(d)
}

// appendConfidence appends c/10000 as a JSON number with at most 4 decimals (0 <= c <= 10000).
func appendConfidence(dst []byte, c int) []byte {
	switch {
	case c <= 0:
		return append(dst, '0')
	case c >= 10000:
		return append(dst, '1')
	}
	digits := [4]byte{byte('0' + c/1000), byte('0' + c/100%10), byte('0' + c/10%10), byte('0' + c%10)}
	n := 4
	for digits[n-1] == '0' {
		n--
	}
	dst = append(dst, '0', '.')
	return append(dst, digits[:n]...)
}

// appendUUID appends hi/lo as a lower-case canonical UUID.
func appendUUID(dst []byte, hi, lo uint64) []byte {
	var b [36]byte
	j := 0
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		var v byte
		if i < 8 {
			v = byte(hi >> (56 - 8*i))
		} else {
			v = byte(lo >> (56 - 8*(i-8)))
		}
		b[j] = hexDigits[v>>4]
		b[j+1] = hexDigits[v&0xf]
		j += 2
	}
	return append(dst, b[:]...)
}

const (
	base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base36Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// appendBase appends exactly n digits of v in the given alphabet, least significant first.
func appendBase(dst []byte, v uint64, n int, alphabet string) []byte {
	base := uint64(len(alphabet))
	for i := 0; i < n; i++ {
		dst = append(dst, alphabet[v%base])
		v /= base
	}
	return dst
}
