package generate

import (
	"bytes"
	"math/rand/v2"
	"strconv"
)

// Bad lines: each one is made from the good line just written (or from nothing) and is
// bad for exactly the reasons CONTRACT §2 and §7 list, so the extractor must quarantine it.
// Ids in a mutated copy get a "bad-" prefix: a bad line never shares a key with a good one.

var notJSONLines = []string{
	"ERROR 2026-01-12 10:00:01,245 upstream timeout while flushing session log",
	"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
	"kind=message direction=USER content=oi",
	"{not json",
	`{"kind":"message",}`,
	`{"kind":"conversation","sessionCode":"wa-x" "userId":"u1"}`,
}

var notObjectLines = []string{`["message","oi",1]`, `"message"`, `null`, `42`, `{}`}

const (
	badNotJSON = iota
	badNotObject
	badTruncated
	badMissingField
	badWrongType
	badInvalidUUID
	badUnknownEnum
	badNoOffset
	badOutOfRange
	badKinds
)

// badLine appends a bad line (with its newline) made from good, a good message or
// conversation line with its newline.
func badLine(dst, good []byte, r *rand.Rand) []byte {
	good = bytes.TrimSuffix(good, []byte("\n"))
	isMsg := bytes.HasPrefix(good, []byte(`{"kind":"message"`))
	isUser := isMsg && bytes.Contains(good, []byte(`"direction":"USER"`))
	kind := r.IntN(badKinds)
	if len(good) == 0 {
		kind = badNotJSON
	}
	switch kind {
	case badNotJSON:
		return append(append(dst, notJSONLines[r.IntN(len(notJSONLines))]...), '\n')
	case badNotObject:
		return append(append(dst, notObjectLines[r.IntN(len(notObjectLines))]...), '\n')
	case badTruncated:
		cut := len(good)/4 + r.IntN(len(good)/2)
		for cut > 0 && good[cut]&0xc0 == 0x80 { // never split a UTF-8 sequence
			cut--
		}
		return append(append(dst, good[:cut]...), '\n')
	}

	var line []byte
	if isMsg {
		line = replaceValue(nil, good, "messageId", func(v []byte) []byte { return append([]byte(`"bad-`), v[1:]...) })
	} else {
		line = replaceValue(nil, good, "sessionCode", func(v []byte) []byte { return append([]byte(`"bad-`), v[1:]...) })
	}
	var out []byte
	switch kind {
	case badMissingField:
		keys := []string{"sessionCode", "channelUuid", "userId", "startedAt", "orgUuid"}
		if isMsg {
			keys = []string{"sessionCode", "createdAt", "direction", "channelUuid", "messageId", "content", "type"}
		}
		out = removeField(line, keys[r.IntN(len(keys))])
	case badWrongType:
		switch x := r.IntN(3); {
		case isUser && x == 0:
			out = replaceValue(nil, line, "confidence", func(v []byte) []byte { return []byte(`"` + string(v) + `"`) })
		case x == 1 && !isMsg && bytes.Contains(line, []byte(`"satisfaction":`)):
			out = replaceValue(nil, line, "satisfaction", func(v []byte) []byte { return []byte(`"` + string(v) + `"`) })
		case x == 1:
			out = replaceValue(nil, line, "userId", func([]byte) []byte { return []byte("4521") })
		default:
			key := "createdAt"
			if !isMsg {
				key = "startedAt"
			}
			out = replaceValue(nil, line, key, func(v []byte) []byte {
				return strconv.AppendInt(nil, 1_767_225_600_000+int64(r.IntN(1_000_000_000)), 10)
			})
		}
	case badInvalidUUID:
		switch r.IntN(3) {
		case 0:
			out = replaceValue(nil, line, "channelUuid", func(v []byte) []byte { return append(v[:len(v)-5:len(v)-5], '"') })
		case 1:
			out = replaceValue(nil, line, "channelUuid", func([]byte) []byte { return []byte(`"canal-whatsapp"`) })
		default:
			out = replaceValue(nil, line, "botUuid", func(v []byte) []byte {
				w := append([]byte(nil), v...)
				w[3] = 'g'
				return w
			})
		}
	case badUnknownEnum:
		switch x := r.IntN(4); {
		case x == 0:
			out = replaceValue(nil, line, "kind", func([]byte) []byte { return []byte(`"event"`) })
		case isMsg && x == 1:
			out = replaceValue(nil, line, "direction", func([]byte) []byte { return []byte(`"SYSTEM"`) })
		case isUser && x == 2:
			out = replaceValue(nil, line, "responseType", func([]byte) []byte { return []byte(`"ANSWER"`) })
		case isMsg:
			out = replaceValue(nil, line, "type", func([]byte) []byte { return []byte(`"STICKER"`) })
		default:
			out = replaceValue(nil, line, "kind", func([]byte) []byte { return []byte(`"session"`) })
		}
	case badNoOffset:
		key := "createdAt"
		if !isMsg {
			key = "startedAt"
		}
		out = replaceValue(nil, line, key, func(v []byte) []byte {
			t := v[1 : len(v)-1]
			if t[len(t)-1] == 'Z' {
				t = t[:len(t)-1]
			} else {
				t = t[:len(t)-6]
			}
			return append(append([]byte{'"'}, t...), '"')
		})
	case badOutOfRange:
		switch {
		case isUser:
			out = replaceValue(nil, line, "confidence", func([]byte) []byte { return []byte("1.7") })
		case !isMsg:
			v := []byte("0")
			if r.IntN(2) == 0 {
				v = []byte("7")
			}
			if bytes.Contains(line, []byte(`"satisfaction":`)) {
				out = replaceValue(nil, line, "satisfaction", func([]byte) []byte { return v })
			} else {
				out = append(append(line[:len(line)-1:len(line)-1], `,"satisfaction":`...), v...)
				out = append(out, '}')
			}
		default: // a BOT message: an unknown type
			out = replaceValue(nil, line, "type", func([]byte) []byte { return []byte(`"VOICE_NOTE"`) })
		}
	}
	return append(append(dst, out...), '\n')
}

// valueSpan finds the value of the first `"key":` in line: [start, end).
func valueSpan(line []byte, key string) (start, end int, ok bool) {
	pat := `"` + key + `":`
	i := bytes.Index(line, []byte(pat))
	if i < 0 {
		return 0, 0, false
	}
	start = i + len(pat)
	if start < len(line) && line[start] == '"' {
		for j := start + 1; j < len(line); j++ {
			switch line[j] {
			case '\\':
				j++
			case '"':
				return start, j + 1, true
			}
		}
		return 0, 0, false
	}
	end = start
	for end < len(line) && line[end] != ',' && line[end] != '}' && line[end] != ']' {
		end++
	}
	return start, end, true
}

// replaceValue appends line to dst with the value of key replaced by f(value);
// line unchanged when key is absent.
func replaceValue(dst, line []byte, key string, f func(v []byte) []byte) []byte {
	s, e, ok := valueSpan(line, key)
	if !ok {
		return append(dst, line...)
	}
	v := append([]byte(nil), line[s:e]...)
	dst = append(dst, line[:s]...)
	dst = append(dst, f(v)...)
	return append(dst, line[e:]...)
}

// removeField returns line without the member key (which is never the first member).
func removeField(line []byte, key string) []byte {
	s, e, ok := valueSpan(line, key)
	if !ok {
		return line
	}
	from := s - len(`,"`+key+`":`)
	out := append([]byte(nil), line[:from]...)
	return append(out, line[e:]...)
}
