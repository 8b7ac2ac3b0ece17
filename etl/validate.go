package etl

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/dashboard-analytics/dashboard/internal/ident"
	"github.com/dashboard-analytics/dashboard/internal/instant"
)

// Kind is the kind of a log line.
type Kind uint8

const (
	KindNone Kind = iota
	KindChannel
	KindConversation
	KindMessage
)

// Tenant is the (org, env, bot) triple, stored lower-case.
type Tenant struct{ Org, Env, Bot [36]byte }

// NLPResponse is one entry of a USER message's nlpResponses.
type NLPResponse struct {
	ResponseType    []byte
	ParagraphNumber int32
	ResponseName    []byte
}

// Button is one button of a BOT message.
type Button struct {
	Name          []byte
	Value, Action OptString
}

// OptString is a string that may be absent.
type OptString struct {
	Valid bool
	S     []byte
}

// Message is a validated message line. Byte slices point into the parser's buffers and
// are valid until the next line is parsed.
type Message struct {
	Tenant
	MessageID, SessionCode []byte
	ChannelUUID            [36]byte
	UserID                 []byte
	Direction              []byte // USER or BOT
	CreatedAt              instant.Micros
	Content                []byte
	Type                   []byte
	// USER only.
	Intent          OptString
	HasConfidence   bool
	Confidence      float64
	MinConfAchieved bool
	Entities        [][]byte
	NLPResponses    []NLPResponse
	// BOT only.
	ReplyTo    OptString
	AnswerName OptString
	Buttons    []Button
	// Both.
	Flow OptString
	Tags [][]byte
}

// IsUser reports whether the message was sent by the user.
func (m *Message) IsUser() bool { return len(m.Direction) == 4 && m.Direction[0] == 'U' }

// Conversation is a validated conversation line.
type Conversation struct {
	Tenant
	SessionCode     []byte
	BusinessKey     OptString
	ChannelUUID     [36]byte
	UserID          []byte
	StartedAt       instant.Micros
	HasEndedAt      bool
	EndedAt         instant.Micros
	UpdatedAt       instant.Micros // effective: updatedAt, else endedAt, else startedAt
	HasSatisfaction bool
	Satisfaction    int32
	Flows           [][]byte
	Tags            [][]byte
}

// Channel is a validated channel catalog line.
type Channel struct {
	Tenant
	UUID                [36]byte
	Name                []byte
	Description         OptString
	TypeID              int32
	TypeName, TypeImage []byte
	ClassID             int32
	ClassName           []byte
}

// Validator parses and validates log lines (format v1). It is not safe for concurrent
// use; each worker owns one. Results point into its buffers until the next call.
type Validator struct {
	p      fastjson.Parser
	f      fields
	pruned []byte // a deep line cut at maxKeptDepth (the values point into it)
	mended []byte // a line with its lone surrogate escapes replaced
	Msg    Message
	Conv   Conversation
	Chan   Channel
}

// lineError is why a line is bad: the field and the reason.
type lineError struct{ field, why string }

func (e *lineError) Error() string {
	if e.field == "" {
		return e.why
	}
	return e.field + ": " + e.why
}

func bad(field, why string) error { return &lineError{field, why} }

func badf(field, format string, args ...any) error {
	return &lineError{field, fmt.Sprintf(format, args...)}
}

// fields holds the top-level values of one line; a key given twice keeps the last value,
// as most JSON parsers do.
type fields struct {
	kind, org, env, bot                                      *fastjson.Value
	uuid, name, description, channelType                     *fastjson.Value
	sessionCode, businessKey, channelUUID, userID            *fastjson.Value
	startedAt, endedAt, updatedAt, satisfaction, flows, tags *fastjson.Value
	messageID, direction, createdAt, content, typ            *fastjson.Value
	intent, confidence, minConf, entities, nlpResponses      *fastjson.Value
	replyTo, answerName, buttons, flow                       *fastjson.Value
}

// Parse validates one non-blank line. It returns the kind and nil, filling v.Msg, v.Conv
// or v.Chan, or KindNone and an error whose text is the quarantine reason.
func (v *Validator) Parse(line []byte) (Kind, error) {
	if !utf8.Valid(line) {
		return KindNone, bad("line", "not valid UTF-8")
	}
	// Parse alone is lenient (NaN, control characters in strings); Validate is strict JSON.
	// fastjson's validator recurses once per level of nesting, without a limit: a line of
	// a few megabytes of '[' would overflow the stack and kill the process. A line that
	// may nest deeper than the parser's 300 levels is checked by validDeep, which keeps
	// one bit per open container instead of recursing: an ignored field may nest however
	// deep (CONTRACT §2: unknown fields are ignored; §7: no line-length limit).
	if mayNestDeeper(line, parserMaxDepth) {
		if err := validDeep(line); err != nil {
			return KindNone, bad("line", "not valid JSON: "+shorten(err.Error()))
		}
	} else if err := fastjson.ValidateBytes(line); err != nil {
		return KindNone, bad("line", "not valid JSON: "+shorten(err.Error()))
	}
	if i := loneSurrogate(line, 0); i >= 0 {
		v.mended = mendSurrogates(append(v.mended[:0], line...), i)
		line = v.mended
	}
	val, err := v.p.ParseBytes(line)
	if err != nil && strings.Contains(err.Error(), "too big depth") {
		// The parser stops at 300 levels of nesting, but an ignored field (unknown, or
		// of the other direction) may nest however deep (CONTRACT §2, §7). No field of
		// the format nests more than 4 levels: parse the line with every value deeper
		// than 64 levels cut to null. An ignored field stays ignored; a known field that
		// deep has a container where the format has a string, 60 levels up: the same
		// wrong type, found by the same checks.
		v.pruned = pruneDeep(v.pruned[:0], line, maxKeptDepth)
		val, err = v.p.ParseBytes(v.pruned)
	}
	if err != nil {
		return KindNone, bad("line", "not valid JSON: "+shorten(err.Error()))
	}
	obj, err := val.Object()
	if err != nil {
		article := "a "
		if val.Type() == fastjson.TypeArray {
			article = "an "
		}
		return KindNone, bad("line", "not a JSON object ("+article+val.Type().String()+")")
	}
	v.f = fields{}
	f := &v.f
	obj.Visit(func(k []byte, x *fastjson.Value) {
		if x.Type() == fastjson.TypeNull {
			x = nil // null means absent
		}
		if p := f.slot(string(k)); p != nil {
			*p = x
		}
	})
	kind, err := reqString("kind", f.kind)
	if err != nil {
		return KindNone, err
	}
	var k Kind
	switch string(kind) {
	case "channel":
		k = KindChannel
	case "conversation":
		k = KindConversation
	case "message":
		k = KindMessage
	default:
		return KindNone, badf("kind", "unknown value %s (want channel, conversation or message)", quote(kind))
	}
	var t Tenant
	if err := reqUUID("orgUuid", f.org, &t.Org); err != nil {
		return KindNone, err
	}
	if err := reqUUID("envUuid", f.env, &t.Env); err != nil {
		return KindNone, err
	}
	if err := reqUUID("botUuid", f.bot, &t.Bot); err != nil {
		return KindNone, err
	}
	switch k {
	case KindChannel:
		v.Chan.Tenant = t
		err = v.channel()
	case KindConversation:
		v.Conv.Tenant = t
		err = v.conversation()
	default:
		v.Msg.Tenant = t
		err = v.message()
	}
	if err != nil {
		return KindNone, err
	}
	return k, nil
}

func (v *Validator) channel() error {
	f, c := &v.f, &v.Chan
	var err error
	if err = reqUUID("uuid", f.uuid, &c.UUID); err != nil {
		return err
	}
	if c.Name, err = reqString("name", f.name); err != nil {
		return err
	}
	if c.Description, err = optString("description", f.description); err != nil {
		return err
	}
	if f.channelType == nil {
		return bad("channelType", "missing")
	}
	ct, err := f.channelType.Object()
	if err != nil {
		return bad("channelType", "must be an object")
	}
	var id, name, image, class *fastjson.Value
	ct.Visit(func(k []byte, x *fastjson.Value) {
		if x.Type() == fastjson.TypeNull {
			x = nil
		}
		switch string(k) {
		case "id":
			id = x
		case "name":
			name = x
		case "image":
			image = x
		case "channelClassification":
			class = x
		}
	})
	if c.TypeID, err = reqInt("channelType.id", id, math.MinInt32, math.MaxInt32); err != nil {
		return err
	}
	if c.TypeName, err = reqString("channelType.name", name); err != nil {
		return err
	}
	if image == nil {
		return bad("channelType.image", "missing")
	}
	if image.Type() != fastjson.TypeString {
		return bad("channelType.image", "must be a string")
	}
	c.TypeImage = image.GetStringBytes()
	if class == nil {
		return bad("channelType.channelClassification", "missing")
	}
	co, err := class.Object()
	if err != nil {
		return bad("channelType.channelClassification", "must be an object")
	}
	var cid, cname *fastjson.Value
	co.Visit(func(k []byte, x *fastjson.Value) {
		if x.Type() == fastjson.TypeNull {
			x = nil
		}
		switch string(k) {
		case "id":
			cid = x
		case "name":
			cname = x
		}
	})
	if c.ClassID, err = reqInt("channelType.channelClassification.id", cid, math.MinInt32, math.MaxInt32); err != nil {
		return err
	}
	if c.ClassName, err = reqString("channelType.channelClassification.name", cname); err != nil {
		return err
	}
	return nil
}

func (v *Validator) conversation() error {
	f, c := &v.f, &v.Conv
	var err error
	if c.SessionCode, err = reqString("sessionCode", f.sessionCode); err != nil {
		return err
	}
	if c.BusinessKey, err = optString("businessKey", f.businessKey); err != nil {
		return err
	}
	if err = reqUUID("channelUuid", f.channelUUID, &c.ChannelUUID); err != nil {
		return err
	}
	if c.UserID, err = reqString("userId", f.userID); err != nil {
		return err
	}
	if c.StartedAt, err = reqTime("startedAt", f.startedAt); err != nil {
		return err
	}
	c.HasEndedAt = f.endedAt != nil
	if c.HasEndedAt {
		if c.EndedAt, err = reqTime("endedAt", f.endedAt); err != nil {
			return err
		}
	}
	switch {
	case f.updatedAt != nil:
		if c.UpdatedAt, err = reqTime("updatedAt", f.updatedAt); err != nil {
			return err
		}
	case c.HasEndedAt:
		c.UpdatedAt = c.EndedAt
	default:
		c.UpdatedAt = c.StartedAt
	}
	c.HasSatisfaction = f.satisfaction != nil
	if c.HasSatisfaction {
		if c.Satisfaction, err = reqInt("satisfaction", f.satisfaction, 1, 5); err != nil {
			return err
		}
	}
	if c.Flows, err = optStrings("flows", f.flows, c.Flows[:0]); err != nil {
		return err
	}
	if c.Tags, err = optStrings("tags", f.tags, c.Tags[:0]); err != nil {
		return err
	}
	return nil
}

var messageTypes = map[string]bool{"TEXT": true, "CAROUSEL": true, "BUTTONS": true, "IMAGE": true,
	"FILE": true, "AUDIO": true, "VIDEO": true, "LOCATION": true}

func (v *Validator) message() error {
	f, m := &v.f, &v.Msg
	var err error
	if m.MessageID, err = reqString("messageId", f.messageID); err != nil {
		return err
	}
	if m.SessionCode, err = reqString("sessionCode", f.sessionCode); err != nil {
		return err
	}
	if err = reqUUID("channelUuid", f.channelUUID, &m.ChannelUUID); err != nil {
		return err
	}
	if m.UserID, err = reqString("userId", f.userID); err != nil {
		return err
	}
	if m.Direction, err = reqString("direction", f.direction); err != nil {
		return err
	}
	if d := string(m.Direction); d != "USER" && d != "BOT" {
		return badf("direction", "unknown value %s (want USER or BOT)", quote(m.Direction))
	}
	if m.CreatedAt, err = reqTime("createdAt", f.createdAt); err != nil {
		return err
	}
	if f.content == nil {
		return bad("content", "missing")
	}
	if f.content.Type() != fastjson.TypeString {
		return bad("content", "must be a string")
	}
	m.Content = f.content.GetStringBytes()
	if m.Type, err = reqString("type", f.typ); err != nil {
		return err
	}
	if !messageTypes[string(m.Type)] {
		return badf("type", "unknown value %s (want TEXT, CAROUSEL, BUTTONS, IMAGE, FILE, AUDIO, VIDEO or LOCATION)", quote(m.Type))
	}
	if m.Flow, err = optString("flow", f.flow); err != nil {
		return err
	}
	if m.Tags, err = optStrings("tags", f.tags, m.Tags[:0]); err != nil {
		return err
	}
	// Fields of the other direction are ignored: neither validated nor kept.
	m.Intent, m.HasConfidence, m.Confidence, m.MinConfAchieved = OptString{}, false, 0, false
	m.Entities, m.NLPResponses = m.Entities[:0], m.NLPResponses[:0]
	m.ReplyTo, m.AnswerName, m.Buttons = OptString{}, OptString{}, m.Buttons[:0]
	if m.IsUser() {
		return v.userFields()
	}
	return v.botFields()
}

func (v *Validator) userFields() error {
	f, m := &v.f, &v.Msg
	var err error
	if m.Intent, err = optString("intent", f.intent); err != nil {
		return err
	}
	if f.confidence != nil {
		if f.confidence.Type() != fastjson.TypeNumber {
			return bad("confidence", "must be a number from 0 to 1")
		}
		c := f.confidence.GetFloat64()
		if !(c >= 0 && c <= 1) {
			return badf("confidence", "must be a number from 0 to 1, got %s", f.confidence.String())
		}
		m.HasConfidence, m.Confidence = true, c
	}
	if f.minConf != nil {
		switch f.minConf.Type() {
		case fastjson.TypeTrue:
			m.MinConfAchieved = true
		case fastjson.TypeFalse:
		default:
			return bad("minimumConfidenceAchieved", "must be a boolean")
		}
	}
	if m.Entities, err = optStrings("entities", f.entities, m.Entities); err != nil {
		return err
	}
	if f.nlpResponses != nil {
		arr, err := f.nlpResponses.Array()
		if err != nil {
			return bad("nlpResponses", "must be an array")
		}
		for i, x := range arr {
			field := "nlpResponses[" + strconv.Itoa(i) + "]"
			o, err := x.Object()
			if err != nil {
				return bad(field, "must be an object")
			}
			var rt, pn, rn *fastjson.Value
			o.Visit(func(k []byte, x *fastjson.Value) {
				if x.Type() == fastjson.TypeNull {
					x = nil
				}
				switch string(k) {
				case "responseType":
					rt = x
				case "paragraphNumber":
					pn = x
				case "responseName":
					rn = x
				}
			})
			var r NLPResponse
			if r.ResponseType, err = reqString(field+".responseType", rt); err != nil {
				return err
			}
			if s := string(r.ResponseType); s != "INTENT" && s != "DOCUMENT" && s != "FALLBACK" {
				return badf(field+".responseType", "unknown value %s (want INTENT, DOCUMENT or FALLBACK)", quote(r.ResponseType))
			}
			if r.ParagraphNumber, err = reqInt(field+".paragraphNumber", pn, math.MinInt32, math.MaxInt32); err != nil {
				return err
			}
			if r.ResponseName, err = reqString(field+".responseName", rn); err != nil {
				return err
			}
			m.NLPResponses = append(m.NLPResponses, r)
		}
	}
	return nil
}

func (v *Validator) botFields() error {
	f, m := &v.f, &v.Msg
	var err error
	if m.ReplyTo, err = optString("replyTo", f.replyTo); err != nil {
		return err
	}
	if m.AnswerName, err = optString("answerName", f.answerName); err != nil {
		return err
	}
	if f.buttons != nil {
		arr, err := f.buttons.Array()
		if err != nil {
			return bad("buttons", "must be an array")
		}
		for i, x := range arr {
			field := "buttons[" + strconv.Itoa(i) + "]"
			o, err := x.Object()
			if err != nil {
				return bad(field, "must be an object")
			}
			var name, value, action *fastjson.Value
			o.Visit(func(k []byte, x *fastjson.Value) {
				if x.Type() == fastjson.TypeNull {
					x = nil
				}
				switch string(k) {
				case "name":
					name = x
				case "value":
					value = x
				case "action":
					action = x
				}
			})
			var b Button
			if b.Name, err = reqString(field+".name", name); err != nil {
				return err
			}
			if b.Value, err = optString(field+".value", value); err != nil {
				return err
			}
			if b.Action, err = optString(field+".action", action); err != nil {
				return err
			}
			m.Buttons = append(m.Buttons, b)
		}
	}
	return nil
}

// reqString: present, a string, not empty.
func reqString(field string, x *fastjson.Value) ([]byte, error) {
	if x == nil {
		return nil, bad(field, "missing")
	}
	if x.Type() != fastjson.TypeString {
		return nil, bad(field, "must be a string, got "+x.Type().String())
	}
	s := x.GetStringBytes()
	if len(s) == 0 {
		return nil, bad(field, "must not be empty")
	}
	return s, nil
}

func optString(field string, x *fastjson.Value) (OptString, error) {
	if x == nil {
		return OptString{}, nil
	}
	if x.Type() != fastjson.TypeString {
		return OptString{}, bad(field, "must be a string, got "+x.Type().String())
	}
	return OptString{Valid: true, S: x.GetStringBytes()}, nil
}

func optStrings(field string, x *fastjson.Value, dst [][]byte) ([][]byte, error) {
	dst = dst[:0]
	if x == nil {
		return dst, nil
	}
	arr, err := x.Array()
	if err != nil {
		return dst, bad(field, "must be an array of strings, got "+x.Type().String())
	}
	for i, e := range arr {
		if e.Type() != fastjson.TypeString {
			return dst, badf(field, "element %d must be a string, got %s", i, e.Type().String())
		}
		dst = append(dst, e.GetStringBytes())
	}
	return dst, nil
}

// reqInt: present, a number with an integral value within [lo, hi].
func reqInt(field string, x *fastjson.Value, lo, hi int64) (int32, error) {
	if x == nil {
		return 0, bad(field, "missing")
	}
	if x.Type() != fastjson.TypeNumber {
		return 0, bad(field, "must be an integer, got "+x.Type().String())
	}
	f := x.GetFloat64()
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, badf(field, "must be an integer, got %s", x.String())
	}
	if f < float64(lo) || f > float64(hi) {
		if lo == math.MinInt32 {
			return 0, badf(field, "out of range, got %s", x.String())
		}
		return 0, badf(field, "must be an integer from %d to %d, got %s", lo, hi, x.String())
	}
	return int32(f), nil
}

func reqTime(field string, x *fastjson.Value) (instant.Micros, error) {
	if x == nil {
		return 0, bad(field, "missing")
	}
	if x.Type() != fastjson.TypeString {
		return 0, bad(field, "must be an RFC 3339 time string, got "+x.Type().String())
	}
	s := x.GetStringBytes()
	us, err := instant.Parse(s)
	if err != nil {
		return 0, badf(field, "unparsable time %s: %v", quote(s), err)
	}
	if us < instant.Min || us > instant.Max {
		return 0, badf(field, "time %s is outside 0001-01-01 to 9999-12-31 in UTC", quote(s))
	}
	return us, nil
}

func reqUUID(field string, x *fastjson.Value, dst *[36]byte) error {
	if x == nil {
		return bad(field, "missing")
	}
	if x.Type() != fastjson.TypeString {
		return bad(field, "must be a UUID string, got "+x.Type().String())
	}
	s := x.GetStringBytes()
	if !ParseUUID(s, dst) {
		return badf(field, "not a UUID: %s", quote(s))
	}
	return nil
}

// ParseUUID checks the canonical 8-4-4-4-12 hex form (any letter case) and writes it
// lower-cased into dst.
func ParseUUID(s []byte, dst *[36]byte) bool { return ident.ParseUUID(s, dst) }

func quote(b []byte) string {
	if len(b) > 60 {
		return strconv.Quote(string(b[:60]) + "…")
	}
	return strconv.Quote(string(b))
}

// slot is where the value of a top-level key goes, or nil for an unknown key.
func (f *fields) slot(k string) **fastjson.Value {
	switch k {
	case "kind":
		return &f.kind
	case "orgUuid":
		return &f.org
	case "envUuid":
		return &f.env
	case "botUuid":
		return &f.bot
	case "uuid":
		return &f.uuid
	case "name":
		return &f.name
	case "description":
		return &f.description
	case "channelType":
		return &f.channelType
	case "sessionCode":
		return &f.sessionCode
	case "businessKey":
		return &f.businessKey
	case "channelUuid":
		return &f.channelUUID
	case "userId":
		return &f.userID
	case "startedAt":
		return &f.startedAt
	case "endedAt":
		return &f.endedAt
	case "updatedAt":
		return &f.updatedAt
	case "satisfaction":
		return &f.satisfaction
	case "flows":
		return &f.flows
	case "tags":
		return &f.tags
	case "messageId":
		return &f.messageID
	case "direction":
		return &f.direction
	case "createdAt":
		return &f.createdAt
	case "content":
		return &f.content
	case "type":
		return &f.typ
	case "intent":
		return &f.intent
	case "confidence":
		return &f.confidence
	case "minimumConfidenceAchieved":
		return &f.minConf
	case "entities":
		return &f.entities
	case "nlpResponses":
		return &f.nlpResponses
	case "replyTo":
		return &f.replyTo
	case "answerName":
		return &f.answerName
	case "buttons":
		return &f.buttons
	case "flow":
		return &f.flow
	}
	return nil
}

// parserMaxDepth is fastjson's parser's nesting limit.
const parserMaxDepth = 300

// mayNestDeeper reports whether line holds more than n brackets and braces (so may nest
// more than n levels deep).
func mayNestDeeper(line []byte, n int) bool {
	return bytes.Count(line, []byte{'['})+bytes.Count(line, []byte{'{'}) > n
}

// maxKeptDepth is the nesting a deep line is cut to: far below the parser's 300 and far
// above the format's deepest field (4: line, nlpResponses, an element, its fields).
const maxKeptDepth = 64

// pruneDeep appends to dst the valid JSON line with every array or object that opens
// deeper than max levels replaced by null.
func pruneDeep(dst, line []byte, max int) []byte {
	depth := 0
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '"':
			j := stringEnd(line, i)
			dst = append(dst, line[i:j]...)
			i = j - 1
		case '[', '{':
			if depth == max {
				i = containerEnd(line, i) - 1
				dst = append(dst, "null"...)
				continue
			}
			depth++
			dst = append(dst, c)
		case ']', '}':
			depth--
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// stringEnd returns the index just past the JSON string that opens at line[i].
func stringEnd(line []byte, i int) int {
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(line)
}

// containerEnd returns the index just past the array or object that opens at line[i].
func containerEnd(line []byte, i int) int {
	depth := 0
	for j := i; j < len(line); j++ {
		switch line[j] {
		case '"':
			j = stringEnd(line, j) - 1
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return j + 1
			}
		}
	}
	return len(line)
}

func shorten(s string) string {
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// loneSurrogate returns the index of the first escape \uXXXX in line, from i on, that
// names a UTF-16 surrogate not part of a high-low pair, or -1. The line is valid JSON, so
// every backslash outside an escape starts one.
func loneSurrogate(line []byte, i int) int {
	for {
		j := bytes.IndexByte(line[i:], '\\')
		if j < 0 {
			return -1
		}
		i += j
		if i+1 >= len(line) {
			return -1
		}
		if line[i+1] != 'u' {
			i += 2 // \\, \", \n, …
			continue
		}
		r, ok := hex4(line, i+2)
		switch {
		case !ok:
			i += 2
		case r < 0xD800 || r > 0xDFFF:
			i += 6
		case r <= 0xDBFF && i+12 <= len(line) && line[i+6] == '\\' && line[i+7] == 'u':
			if lo, ok := hex4(line, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				i += 12 // a pair
				continue
			}
			return i
		default:
			return i
		}
	}
}

// mendSurrogates replaces, in place, each lone surrogate escape of line from i on by
// \ufffd (as long), so the value holds U+FFFD there as encoding/json decodes it. The
// parser would keep the escape's six characters, or drop the escape that follows it.
func mendSurrogates(line []byte, i int) []byte {
	for ; i >= 0; i = loneSurrogate(line, i+6) {
		copy(line[i:], `\ufffd`)
	}
	return line
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
