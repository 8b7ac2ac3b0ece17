package etl

import (
	"fmt"
	"strconv"
)

// validDeep reports whether line is one JSON value (RFC 8259, as encoding/json.Valid
// reads it) at any depth of nesting. fastjson's validator recurses once per level (a few
// megabytes of '[' overflow the goroutine's stack) and encoding/json's refuses past
// 10,000 levels; this one keeps the open containers as one bit each, so a million
// levels cost 125 KB and no recursion. The line is valid UTF-8 (checked before).
func validDeep(line []byte) error {
	var stack []uint64 // bit set: an object; clear: an array
	depth := 0
	push := func(obj bool) {
		if depth/64 == len(stack) {
			stack = append(stack, 0)
		}
		if obj {
			stack[depth/64] |= 1 << (depth % 64)
		} else {
			stack[depth/64] &^= 1 << (depth % 64)
		}
		depth++
	}
	inObject := func() bool { return stack[(depth-1)/64]&(1<<((depth-1)%64)) != 0 }
	i := 0
	ws := func() {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\n' || line[i] == '\r') {
			i++
		}
	}
	bad := func(what string) error {
		if i >= len(line) {
			return fmt.Errorf("unexpected end of JSON input, looking for %s", what)
		}
		return fmt.Errorf("invalid character %s at offset %d, looking for %s", strconv.QuoteRune(rune(line[i])), i, what)
	}
	for {
		// A value.
		ws()
		if i >= len(line) {
			return bad("a value")
		}
		switch c := line[i]; {
		case c == '{':
			i++
			ws()
			if i < len(line) && line[i] == '}' {
				i++
				break
			}
			push(true)
			if err := objectKey(line, &i, ws, bad); err != nil {
				return err
			}
			continue
		case c == '[':
			i++
			ws()
			if i < len(line) && line[i] == ']' {
				i++
				break
			}
			push(false)
			continue
		case c == '"':
			if !scanString(line, &i) {
				return bad("the end of a string")
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if !scanNumber(line, &i) {
				return bad("a digit")
			}
		case c == 't' || c == 'f' || c == 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if len(line)-i < len(lit) || string(line[i:i+len(lit)]) != lit {
				return bad(lit)
			}
			i += len(lit)
		default:
			return bad("the beginning of a value")
		}
		// After a value: close containers, or go on to the next element.
		for {
			ws()
			if depth == 0 {
				if i != len(line) {
					return bad("the end of the value")
				}
				return nil
			}
			if i >= len(line) {
				return bad("',' or the end of a container")
			}
			if inObject() {
				switch line[i] {
				case ',':
					i++
					if err := objectKey(line, &i, ws, bad); err != nil {
						return err
					}
				case '}':
					i++
					depth--
					continue
				default:
					return bad("',' or '}' after an object value")
				}
			} else {
				switch line[i] {
				case ',':
					i++
				case ']':
					i++
					depth--
					continue
				default:
					return bad("',' or ']' after an array element")
				}
			}
			break
		}
	}
}

// objectKey reads `"key" :` at *i (white space around it).
func objectKey(line []byte, i *int, ws func(), bad func(string) error) error {
	ws()
	if *i >= len(line) || line[*i] != '"' {
		return bad("the beginning of an object key string")
	}
	if !scanString(line, i) {
		return bad("the end of a string")
	}
	ws()
	if *i >= len(line) || line[*i] != ':' {
		return bad("':' after an object key")
	}
	*i++
	return nil
}

// scanString moves *i past the string that starts there; false if it is not one.
func scanString(line []byte, i *int) bool {
	j := *i + 1
	for j < len(line) {
		switch c := line[j]; {
		case c == '"':
			*i = j + 1
			return true
		case c == '\\':
			if j+1 >= len(line) {
				*i = j + 1
				return false
			}
			switch line[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if _, ok := hex4(line, j+2); !ok {
					*i = j + 1
					return false
				}
				j += 6
			default:
				*i = j + 1
				return false
			}
		case c < 0x20:
			*i = j
			return false
		default:
			j++
		}
	}
	*i = j
	return false
}

// scanNumber moves *i past the number that starts there; false if it is not one.
func scanNumber(line []byte, i *int) bool {
	j := *i
	digits := func() int {
		n := 0
		for j < len(line) && line[j] >= '0' && line[j] <= '9' {
			j++
			n++
		}
		return n
	}
	if line[j] == '-' {
		j++
	}
	switch {
	case j < len(line) && line[j] == '0':
		j++
	case digits() == 0:
		*i = j
		return false
	}
	if j < len(line) && line[j] == '.' {
		j++
		if digits() == 0 {
			*i = j
			return false
		}
	}
	if j < len(line) && (line[j] == 'e' || line[j] == 'E') {
		j++
		if j < len(line) && (line[j] == '+' || line[j] == '-') {
			j++
		}
		if digits() == 0 {
			*i = j
			return false
		}
	}
	*i = j
	return true
}
