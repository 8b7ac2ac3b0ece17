// Package ident checks the identifiers the log format and the API share.
package ident

// ParseUUID checks the canonical 8-4-4-4-12 hex form in any letter case (no braces, no
// urn:uuid:) and writes it lower-cased into dst.
func ParseUUID[T string | []byte](s T, dst *[36]byte) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			switch {
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			case c >= 'A' && c <= 'F':
				c += 'a' - 'A'
			default:
				return false
			}
		}
		dst[i] = c
	}
	return true
}

// IsUUID reports whether s is a UUID in lower case.
func IsUUID(s string) bool {
	var u [36]byte
	return ParseUUID(s, &u) && string(u[:]) == s
}
