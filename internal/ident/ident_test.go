package ident

import "testing"

// parseUUIDRef is the plain reading of the canonical form ParseUUID must agree with.
func parseUUIDRef(s []byte, dst *[36]byte) bool {
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

func TestParseUUID(t *testing.T) {
	const good = "0F2953A6-5abc-4048-914a-b51602f8e281"
	var got [36]byte
	if !ParseUUID(good, &got) || string(got[:]) != "0f2953a6-5abc-4048-914a-b51602f8e281" {
		t.Fatalf("ParseUUID(%q) = %q", good, got)
	}
	// Every byte value at every position of a valid UUID.
	for i := 0; i < 36; i++ {
		for c := 0; c < 256; c++ {
			s := []byte(good)
			s[i] = byte(c)
			var a, b, c [36]byte
			okA, okB, okC := ParseUUID(s, &a), parseUUIDRef(s, &b), ParseUUID(string(s), &c)
			if okA != okB || okC != okB || (okA && (a != b || c != b)) {
				t.Fatalf("%q: ParseUUID %v %q (string: %v %q), reference %v %q", s, okA, a, okC, c, okB, b)
			}
		}
	}
	for _, s := range []string{"", "0f2953a6", good + "0", "{" + good[1:], "0f2953a6-5abc-4048-914a+b51602f8e281"} {
		if ParseUUID(s, &got) {
			t.Errorf("ParseUUID(%q) = true", s)
		}
	}
	if !IsUUID("0f2953a6-5abc-4048-914a-b51602f8e281") || IsUUID(good) {
		t.Error("IsUUID must accept the lower-case form only")
	}
}

func FuzzParseUUID(f *testing.F) {
	f.Add([]byte("0f2953a6-5abc-4048-914a-b51602f8e281"))
	f.Add([]byte("0F2953A6-5ABC-4048-914A-B51602F8E28G"))
	f.Fuzz(func(t *testing.T, s []byte) {
		var a, b [36]byte
		okA, okB := ParseUUID(s, &a), parseUUIDRef(s, &b)
		if okA != okB || (okA && a != b) {
			t.Fatalf("%q: ParseUUID %v %q, reference %v %q", s, okA, a, okB, b)
		}
	})
}

func BenchmarkParseUUID(b *testing.B) {
	s := []byte("0f2953a6-5ABC-4048-914a-b51602f8e281")
	var dst [36]byte
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			ParseUUID(s, &dst)
		}
	})
	b.Run("switch", func(b *testing.B) {
		for b.Loop() {
			parseUUIDRef(s, &dst)
		}
	})
}
