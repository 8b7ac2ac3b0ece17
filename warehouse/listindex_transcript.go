package warehouse

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// transcriptIndex is every message, USER and BOT, in memory for conversations/details.
// In DuckDB a transcript is a probe of session_lookup and a read of the session's time
// span, about 7 ms (fetching ten rows of fourteen columns from compressed segments, then
// lists converted to Go values; two ART probes took about 3 ms, see migration 0008); here
// it is a map lookup, a binary search and a copy. A session's messages are a run of
// perm in (createdAt, messageId) order. What a message shares with many others (sender,
// understood, intent, type, buttons, entities, nlpResponses) is one entry of attrD,
// contents are a dictionary, and ids that are canonical UUIDs take 16 bytes.
type transcriptIndex struct {
	tenants  map[TenantKey][]uint32 // a tenant's sessions, ordered by code
	codes    arena                  // session codes, by session
	first    []uint32               // session s's messages are perm[first[s]:first[s+1]]
	started  []int64                // the conversation's start, else the first message's time
	channel  []uint32               // into channels: the conversation's, else the first message's
	channels strDict
	perm     []uint32 // message rows, session by session
	ids      msgIDs
	at       []int64
	content  []uint32 // into contents
	contents strDict
	attrs    []uint32        // into attrD
	attrD    []DetailMessage // MessageID, Content and CreatedAt unset; slices shared, read-only
	bytes    int64
}

const transcriptMessagesSQL = `SELECT org_uuid, env_uuid, bot_uuid, session_code, message_id, content, direction = 'USER',
	coalesce(minimum_confidence_achieved, false), intent, type, buttons, entities, nlp_responses, epoch_us(created_at), channel_uuid
	FROM messages`

const transcriptConversationsSQL = `SELECT org_uuid, env_uuid, bot_uuid, session_code, epoch_us(started_at), channel_uuid
	FROM conversations`

// transcriptLoad is the state of loadTranscriptIndex: sessions are numbered in order
// of first appearance, and attribute sets are deduplicated by an encoded key.
type transcriptLoad struct {
	x        *transcriptIndex
	sessions map[TenantKey]*loadTenant
	cur      *loadTenant // of the last row
	session  []uint32    // by message row
	chOf     []uint32    // by message row, into channels
	conv     bitset      // sessions with a conversation record
	attrIDs  map[string]uint32
	key      []byte
	m        DetailMessage // the row being read (its slices reused)
	intent   string
}

// loadTranscriptIndex reads every message and conversation in the read transaction tx.
func loadTranscriptIndex(ctx context.Context, tx *arrowTx) (*transcriptIndex, error) {
	n, err := countRows(ctx, tx, "SELECT count(*) FROM messages")
	if err != nil {
		return nil, err
	}
	x := &transcriptIndex{tenants: map[TenantKey][]uint32{}, codes: newArena(0), channels: newStrDict(),
		ids: msgIDs{u: make([][16]byte, 0, n), other: newArena(0)}, at: make([]int64, 0, n),
		content: make([]uint32, 0, n), contents: newStrDict(), attrs: make([]uint32, 0, n)}
	l := &transcriptLoad{x: x, sessions: map[TenantKey]*loadTenant{}, attrIDs: map[string]uint32{},
		session: make([]uint32, 0, n), chOf: make([]uint32, 0, n)}
	err = eachBatch(ctx, tx, transcriptMessagesSQL, func(c []arrow.Array, rows int) error {
		lists, err := listColumns(c, 10, 11, 12)
		if err != nil {
			return err
		}
		user, ok1 := c[6].(*array.Boolean)
		understood, ok2 := c[7].(*array.Boolean)
		if !ok1 || !ok2 {
			return fmt.Errorf("transcript index: direction or understood is %s, %s, not boolean", c[6].DataType(), c[7].DataType())
		}
		for i := range rows {
			sid, err := l.sessionOf(c, i)
			if err != nil {
				return err
			}
			if err := x.ids.add(rawString(c[4], i)); err != nil {
				return err
			}
			content, err := x.contents.id(rawString(c[5], i))
			if err != nil {
				return err
			}
			attrs, err := l.attrsOf(c, lists, i, user.Value(i), understood.Value(i))
			if err != nil {
				return err
			}
			at, err := intAt(c[13], i)
			if err != nil {
				return err
			}
			ch, err := x.channels.id(rawString(c[14], i))
			if err != nil {
				return err
			}
			l.session, l.chOf = append(l.session, sid), append(l.chOf, ch)
			x.content, x.attrs, x.at = append(x.content, content), append(x.attrs, attrs), append(x.at, at)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachBatch(ctx, tx, transcriptConversationsSQL, func(c []arrow.Array, rows int) error {
		for i := range rows {
			sid, err := l.sessionOf(c, i)
			if err != nil {
				return err
			}
			if x.started[sid], err = intAt(c[4], i); err != nil {
				return err
			}
			if x.channel[sid], err = x.channels.id(rawString(c[5], i)); err != nil {
				return err
			}
			l.conv.set(int(sid))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	l.finish()
	x.bytes = x.size()
	return x, nil
}

// loadTenant is a tenant's key (its own copy: a row's key aliases its record batch,
// freed with it) and sessions while loading.
type loadTenant struct {
	key      TenantKey
	sessions map[string]uint32
}

// sessionOf numbers the session of row i of a batch whose first columns are the
// tenant key and the session code, adding it when new.
func (l *transcriptLoad) sessionOf(c []arrow.Array, i int) (uint32, error) {
	k, code := TenantKey{Org: rawString(c[0], i), Env: rawString(c[1], i), Bot: rawString(c[2], i)}, rawString(c[3], i)
	if l.cur == nil || k != l.cur.key {
		l.cur = l.sessions[k]
		if l.cur == nil {
			k = TenantKey{Org: strings.Clone(k.Org), Env: strings.Clone(k.Env), Bot: strings.Clone(k.Bot)}
			l.cur = &loadTenant{key: k, sessions: map[string]uint32{}}
			l.sessions[k] = l.cur
		}
	}
	if sid, ok := l.cur.sessions[code]; ok {
		return sid, nil
	}
	x := l.x
	sid := uint32(len(x.started))
	if err := x.codes.add(code); err != nil {
		return 0, err
	}
	l.cur.sessions[strings.Clone(code)] = sid
	x.started, x.channel = append(x.started, 0), append(x.channel, 0)
	return sid, nil
}

// attrsOf returns the id of row i's shared attributes, as details() reads them from
// DuckDB: intent, entities and nlpResponses for USER messages, buttons for BOT ones.
func (l *transcriptLoad) attrsOf(c []arrow.Array, lists map[int]*array.List, i int, user, understood bool) (uint32, error) {
	m := &l.m
	*m = DetailMessage{User: user, Understood: understood, Type: rawString(c[9], i),
		Buttons: m.Buttons[:0], Entities: m.Entities[:0], NLPResponses: m.NLPResponses[:0]}
	if user {
		if c[8].IsValid(i) {
			if l.intent = rawString(c[8], i); l.intent != "" {
				m.Intent = &l.intent
			}
		}
		if err := eachString(lists[11], i, func(s string) error { m.Entities = append(m.Entities, s); return nil }); err != nil {
			return 0, err
		}
		if err := eachStruct(lists[12], i, func(st *array.Struct, j int, null bool) error {
			var r NLPResponse
			if null {
				m.NLPResponses = append(m.NLPResponses, r)
				return nil
			}
			r.ResponseType, r.ResponseName = optStringAt(st.Field(0), j), optStringAt(st.Field(2), j)
			if p := st.Field(1); p.IsValid(j) {
				var err error
				if r.ParagraphNumber, err = intAt(p, j); err != nil {
					return err
				}
			}
			m.NLPResponses = append(m.NLPResponses, r)
			return nil
		}); err != nil {
			return 0, err
		}
	} else if err := eachStruct(lists[10], i, func(st *array.Struct, j int, null bool) error {
		var b Button
		if null {
			m.Buttons = append(m.Buttons, b)
			return nil
		}
		b.Name = optStringAt(st.Field(0), j)
		if v := st.Field(1); v.IsValid(j) {
			s := rawString(v, j)
			b.Value = &s
		}
		if a := st.Field(2); a.IsValid(j) {
			s := rawString(a, j)
			b.Action = &s
		}
		m.Buttons = append(m.Buttons, b)
		return nil
	}); err != nil {
		return 0, err
	}
	l.key = attrKey(l.key[:0], m)
	if id, ok := l.attrIDs[string(l.key)]; ok {
		return id, nil
	}
	id := uint32(len(l.x.attrD))
	l.attrIDs[string(l.key)] = id
	l.x.attrD = append(l.x.attrD, cloneAttrs(m))
	return id, nil
}

// eachStruct calls fn for each entry j of row i of a list of structs (none for a NULL
// list); a NULL entry is read as one whose fields are all NULL.
func eachStruct(col *array.List, i int, fn func(st *array.Struct, j int, null bool) error) error {
	if !col.IsValid(i) {
		return nil
	}
	st, ok := col.ListValues().(*array.Struct)
	if !ok {
		return fmt.Errorf("%s is not a list of structs", col.DataType())
	}
	lo, hi := col.ValueOffsets(i)
	for j := int(lo); j < int(hi); j++ {
		if err := fn(st, j, st.IsNull(j)); err != nil {
			return err
		}
	}
	return nil
}

// optStringAt is row j of col, "" for a NULL.
func optStringAt(col arrow.Array, j int) string {
	if col.IsNull(j) {
		return ""
	}
	return rawString(col, j)
}

// attrKey appends an encoding of m's shared attributes to b: equal keys, equal attributes.
func attrKey(b []byte, m *DetailMessage) []byte {
	var flags byte
	for bit, on := range []bool{m.User, m.Understood, m.Intent != nil} {
		if on {
			flags |= 1 << bit
		}
	}
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	opt := func(s *string) {
		if s == nil {
			b = append(b, 0)
			return
		}
		b = append(b, 1)
		str(*s)
	}
	b = append(b, flags)
	str(m.Type)
	opt(m.Intent)
	b = binary.AppendUvarint(b, uint64(len(m.Buttons)))
	for _, bt := range m.Buttons {
		str(bt.Name)
		opt(bt.Value)
		opt(bt.Action)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Entities)))
	for _, e := range m.Entities {
		str(e)
	}
	b = binary.AppendUvarint(b, uint64(len(m.NLPResponses)))
	for _, r := range m.NLPResponses {
		str(r.ResponseType)
		b = binary.AppendVarint(b, r.ParagraphNumber)
		str(r.ResponseName)
	}
	return b
}

// cloneAttrs copies m's attributes out of the record batch: lists of the side that has
// them non-nil (possibly empty), as details() returns them.
func cloneAttrs(m *DetailMessage) DetailMessage {
	c := DetailMessage{User: m.User, Understood: m.Understood, Type: strings.Clone(m.Type)}
	if m.Intent != nil {
		s := strings.Clone(*m.Intent)
		c.Intent = &s
	}
	opt := func(s *string) *string {
		if s == nil {
			return nil
		}
		v := strings.Clone(*s)
		return &v
	}
	if m.User {
		c.Entities = make([]string, len(m.Entities))
		for i, e := range m.Entities {
			c.Entities[i] = strings.Clone(e)
		}
		c.NLPResponses = make([]NLPResponse, len(m.NLPResponses))
		for i, r := range m.NLPResponses {
			c.NLPResponses[i] = NLPResponse{ResponseType: strings.Clone(r.ResponseType), ParagraphNumber: r.ParagraphNumber,
				ResponseName: strings.Clone(r.ResponseName)}
		}
	} else {
		c.Buttons = make([]Button, len(m.Buttons))
		for i, bt := range m.Buttons {
			c.Buttons[i] = Button{Name: strings.Clone(bt.Name), Value: opt(bt.Value), Action: opt(bt.Action)}
		}
	}
	return c
}

// finish lays each session's messages out in (createdAt, messageId) order, takes a
// session without a conversation record's start and channel from its first message,
// orders each tenant's sessions by code, and drops what only loading needed.
func (l *transcriptLoad) finish() {
	x := l.x
	sessions := len(x.started)
	x.first = make([]uint32, sessions+1)
	for _, s := range l.session {
		x.first[s+1]++
	}
	for s := range sessions {
		x.first[s+1] += x.first[s]
	}
	x.perm = make([]uint32, len(l.session))
	next := slices.Clone(x.first[:sessions])
	for row, s := range l.session {
		x.perm[next[s]] = uint32(row)
		next[s]++
	}
	for s := range sessions {
		rows := x.perm[x.first[s]:x.first[s+1]]
		if len(rows) == 0 {
			continue
		}
		slices.SortFunc(rows, func(a, b uint32) int {
			if c := cmp.Compare(x.at[a], x.at[b]); c != 0 {
				return c
			}
			return strings.Compare(x.ids.str(a), x.ids.str(b))
		})
		if !l.conv.has(uint32(s)) {
			x.started[s], x.channel[s] = x.at[rows[0]], l.chOf[rows[0]]
		}
	}
	for k, lt := range l.sessions {
		sids := make([]uint32, 0, len(lt.sessions))
		for _, sid := range lt.sessions {
			sids = append(sids, sid)
		}
		slices.SortFunc(sids, func(a, b uint32) int { return bytes.Compare(x.codes.bytes(a), x.codes.bytes(b)) })
		x.tenants[k] = sids
	}
	x.contents.ids, x.channels.ids = nil, nil // read by id only from here on
}

// details is the tenant's transcript of session, or nil when it has neither a
// conversation record nor a message.
func (x *transcriptIndex) details(k TenantKey, session string) *Transcript {
	sids := x.tenants[k]
	code := []byte(session)
	i, found := slices.BinarySearchFunc(sids, code, func(s uint32, code []byte) int { return bytes.Compare(x.codes.bytes(s), code) })
	if !found {
		return nil
	}
	s := sids[i]
	t := &Transcript{SessionCode: session, StartedAt: x.started[s], ChannelUUID: x.channels.str(x.channel[s])}
	rows := x.perm[x.first[s]:x.first[s+1]]
	if len(rows) > 0 {
		t.Messages = make([]DetailMessage, len(rows))
	}
	for j, r := range rows {
		m := &t.Messages[j]
		*m = x.attrD[x.attrs[r]]
		m.MessageID, m.Content, m.CreatedAt = x.ids.str(r), x.contents.str(x.content[r]), x.at[r]
	}
	return t
}

func (x *transcriptIndex) size() int64 {
	n := x.codes.size() + x.channels.a.size() + x.contents.a.size() + x.ids.size()
	n += int64(4*(cap(x.first)+cap(x.channel)+cap(x.perm)+cap(x.content)+cap(x.attrs)) + 8*(cap(x.started)+cap(x.at)))
	for _, sids := range x.tenants {
		n += int64(4 * cap(sids))
	}
	for _, m := range x.attrD {
		n += int64(len(m.Type) + 40*len(m.Buttons) + 16*len(m.Entities) + 40*len(m.NLPResponses) + 120)
		for _, e := range m.Entities {
			n += int64(len(e))
		}
	}
	return n
}

// msgIDs is a column of message ids: a canonical lower-case UUID in its 16 bytes, any
// other id in other, numbered by the first four bytes of its u entry.
type msgIDs struct {
	u     [][16]byte
	odd   bitset // rows whose id is in other
	other arena
}

func (m *msgIDs) add(s string) error {
	var b [16]byte
	if !parseUUID(s, &b) {
		if len(m.other.off) == 0 {
			m.other = newArena(0)
		}
		binary.LittleEndian.PutUint32(b[:4], uint32(len(m.other.off)-1))
		if err := m.other.add(s); err != nil {
			return err
		}
		m.odd.set(len(m.u))
	}
	m.u = append(m.u, b)
	return nil
}

func (m *msgIDs) str(row uint32) string {
	u := &m.u[row]
	if m.odd.has(row) {
		return m.other.str(binary.LittleEndian.Uint32(u[:4]))
	}
	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexDigits[c>>4], hexDigits[c&15]
		j += 2
	}
	return string(s[:])
}

func (m *msgIDs) size() int64 { return int64(16*cap(m.u)+8*len(m.odd)) + m.other.size() }

const hexDigits = "0123456789abcdef"

// parseUUID reads s into b when s is a UUID in canonical lower-case form, the only
// form str gives back unchanged.
func parseUUID(s string, b *[16]byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
		}
		hi, ok1 := hexValue(s[i])
		lo, ok2 := hexValue(s[i+1])
		if !ok1 || !ok2 {
			return false
		}
		b[j] = hi<<4 | lo
		j++
	}
	return true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
