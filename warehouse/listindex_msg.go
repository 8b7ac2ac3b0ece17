package warehouse

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// msgSortOf numbers the sorts of messages/list as msgIndex keys them.
var msgSortOf = map[string]int{"deliveredAt": timeSort, "confidence": 1}

// msgIndex is the USER messages in memory, rows ordered by tenant, createdAt and
// message id; tie is the rank of the message id in its tenant. Values that repeat
// (intents, entities, tags, nlpResponses, answers) are dictionary ids. A text's folded
// form (the *_f columns) is kept only where it is not the text with ASCII letters
// lowered: most texts are searched by lowering them on the fly.
type msgIndex struct {
	listTable
	id         arena
	content    []uint32   // into texts
	texts      searchText // distinct contents
	byText     rowsByID   // the rows of each text
	bySession  rowsByID   // the rows of each session
	session    []uint32   // into the sessions below, numbered per index
	sessions   searchText // session codes, numbered per tenant
	sessBK     arena      // the session's conversation's business key ("" when none)
	sessNoBK   bitset
	intent     []uint32 // into intents; noID = NULL
	intentF    idList   // into intentsF (while loading)
	intents    strDict
	intentsF   strDict
	entities   idList   // into entityD
	entitiesF  idList   // into entityFD (while loading)
	documentsF idList   // into documentFD (while loading)
	byIntent   rowsByID // the rows of each intentsF id
	byEntity   rowsByID // of each entityFD id
	byDocument rowsByID // of each documentFD id
	tags       idList   // into tagD
	nlp        []uint32 // nlpResponses: start of row i's entries in nlpIDs
	nlpIDs     []uint32 // into nlpD
	nlpD       []NLPResponse
	ansNames   idList // into answerD
	ansTexts   idList
	ansButtons idList
	entityD    strDict
	entityFD   strDict
	documentFD strDict
	tagD       strDict
	answerD    strDict
	bytes      int64
}

const noID = math.MaxUint32

const msgIndexSQL = `SELECT m.org_uuid, m.env_uuid, m.bot_uuid, m.message_id, m.content, m.content_f,
	m.session_code, m.session_code_f, c.business_key,
	coalesce(m.minimum_confidence_achieved, false), m.confidence, m.nlp_responses, epoch_us(m.created_at), m.channel_uuid,
	m.tags, m.intent, m.intent_f, m.entities, m.entities_f, m.documents_f,
	a.answer_names, a.answer_texts, a.answer_buttons
	FROM messages m
	LEFT JOIN message_answers a ON a.org_uuid = m.org_uuid AND a.env_uuid = m.env_uuid AND a.bot_uuid = m.bot_uuid AND a.message_id = m.message_id
	LEFT JOIN conversations c ON c.org_uuid = m.org_uuid AND c.env_uuid = m.env_uuid AND c.bot_uuid = m.bot_uuid AND c.session_code = m.session_code
	WHERE m.direction = 'USER'
	ORDER BY m.org_uuid, m.env_uuid, m.bot_uuid, m.created_at, m.message_id`

// nlpKey is one distinct nlpResponses entry.
type nlpKey struct {
	typ, name string
	para      int64
}

// loadMsgIndex reads the USER messages in the read transaction tx; shift as for
// loadConvIndex.
func loadMsgIndex(ctx context.Context, tx *arrowTx, shift int) (*msgIndex, error) {
	n, err := countRows(ctx, tx, "SELECT count(*) FROM messages WHERE direction = 'USER'")
	if err != nil {
		return nil, err
	}
	x := &msgIndex{
		listTable: newListTable(n, len(msgSortOf)),
		id:        newArena(n), content: make([]uint32, 0, n), texts: newSearchText(true),
		session: make([]uint32, 0, n), sessions: newSearchText(false), sessBK: newArena(0),
		intent: make([]uint32, 0, n), intentF: newIDList(n), intents: newStrDict(), intentsF: newStrDict(),
		entities: newIDList(n), entitiesF: newIDList(n), documentsF: newIDList(n), tags: newIDList(n),
		nlp: append(make([]uint32, 0, n+1), 0), ansNames: newIDList(n), ansTexts: newIDList(n), ansButtons: newIDList(n),
		entityD: newStrDict(), entityFD: newStrDict(), documentFD: newStrDict(), tagD: newStrDict(), answerD: newStrDict(),
	}
	channelIDs := map[string]uint32{}
	nlpIDs := map[nlpKey]uint32{}
	var sessions map[string]uint32 // the current tenant's
	var cur *listTenant
	var curKey TenantKey
	err = eachBatch(ctx, tx, msgIndexSQL, func(c []arrow.Array, rows int) error {
		lists, err := listColumns(c, 11, 14, 17, 18, 19, 20, 21, 22)
		if err != nil {
			return err
		}
		nlpStruct, ok := lists[11].ListValues().(*array.Struct)
		if !ok {
			return fmt.Errorf("nlp_responses: %s is not a list of structs", lists[11].DataType())
		}
		understood, ok := c[9].(*array.Boolean)
		if !ok {
			return fmt.Errorf("minimum_confidence_achieved: %s is not a boolean", c[9].DataType())
		}
		confidence, ok := c[10].(*array.Float64)
		if !ok {
			return fmt.Errorf("confidence: %s is not a double", c[10].DataType())
		}
		for i := range rows {
			row := len(x.key[timeSort])
			prev := cur
			cur = x.tenantAt(TenantKey{Org: rawString(c[0], i), Env: rawString(c[1], i), Bot: rawString(c[2], i)}, cur, &curKey)
			if cur != prev {
				sessions = map[string]uint32{}
			}
			if err := x.id.add(rawString(c[3], i)); err != nil {
				return err
			}
			cid, err := x.texts.add(rawString(c[4], i), rawString(c[5], i))
			if err != nil {
				return err
			}
			x.content = append(x.content, cid)
			// The session, numbered in order of first appearance (so the sessions of a
			// time range are near each other in memory).
			code := rawString(c[6], i)
			sid, ok := sessions[code]
			if !ok {
				if sid, err = x.sessions.add(code, rawString(c[7], i)); err != nil {
					return err
				}
				sessions[strings.Clone(code)] = sid
				if err := x.sessBK.addNullable(c[8], i, &x.sessNoBK, int(sid)); err != nil {
					return err
				}
			}
			x.session = append(x.session, sid)
			if understood.Value(i) {
				x.flag.set(row) // the flag filter's: understood
			}
			var conf int64
			if confidence.IsNull(i) {
				x.null[1].set(row)
			} else {
				conf = floatKey(confidence.Value(i))
			}
			// nlpResponses: (responseType, paragraphNumber, responseName) entries.
			if lists[11].IsValid(i) {
				lo, hi := lists[11].ValueOffsets(i)
				for j := int(lo); j < int(hi); j++ {
					var k nlpKey
					if nlpStruct.IsValid(j) {
						if f := nlpStruct.Field(0); f.IsValid(j) {
							k.typ = rawString(f, j)
						}
						if f := nlpStruct.Field(1); f.IsValid(j) {
							if k.para, err = intAt(f, j); err != nil {
								return err
							}
						}
						if f := nlpStruct.Field(2); f.IsValid(j) {
							k.name = rawString(f, j)
						}
					}
					id, ok := nlpIDs[k]
					if !ok {
						id = uint32(len(x.nlpD))
						k.typ, k.name = strings.Clone(k.typ), strings.Clone(k.name)
						nlpIDs[k] = id
						x.nlpD = append(x.nlpD, NLPResponse{ResponseType: k.typ, ParagraphNumber: k.para, ResponseName: k.name})
					}
					if len(x.nlpIDs) >= math.MaxUint32 {
						return errIndexTooLarge
					}
					x.nlpIDs = append(x.nlpIDs, id)
				}
			}
			x.nlp = append(x.nlp, uint32(len(x.nlpIDs)))
			for _, l := range []struct {
				to  *idList
				col int
				d   *strDict
			}{{&x.tags, 14, &x.tagD}, {&x.entities, 17, &x.entityD}, {&x.entitiesF, 18, &x.entityFD}, {&x.documentsF, 19, &x.documentFD},
				{&x.ansNames, 20, &x.answerD}, {&x.ansTexts, 21, &x.answerD}, {&x.ansButtons, 22, &x.answerD}} {
				if err := l.to.add(lists[l.col], i, l.d); err != nil {
					return err
				}
			}
			intent := uint32(noID)
			if c[15].IsValid(i) {
				if intent, err = x.intents.id(rawString(c[15], i)); err != nil {
					return err
				}
			}
			x.intent = append(x.intent, intent)
			if err := x.intentF.addValue(c[16], i, &x.intentsF); err != nil {
				return err
			}
			at, err := intAt(c[12], i)
			if err != nil {
				return err
			}
			x.key[timeSort], x.key[1] = append(x.key[timeSort], at), append(x.key[1], conf)
			x.addChannel(cur, channelIDs, rawString(c[13], i))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	x.finish(cur, &x.id)
	x.classify(shift)
	// Equality searches read the rows of each value; the folded lists are not kept.
	x.byIntent = x.intentF.rowsByID(len(x.intentsF.a.off) - 1)
	x.byEntity = x.entitiesF.rowsByID(len(x.entityFD.a.off) - 1)
	x.byDocument = x.documentsF.rowsByID(len(x.documentFD.a.off) - 1)
	x.intentF, x.entitiesF, x.documentsF = idList{}, idList{}, idList{}
	// Display dictionaries are read by id only from here on.
	for _, d := range []*strDict{&x.intents, &x.entityD, &x.tagD, &x.answerD} {
		d.ids = nil
	}
	x.texts.ids = nil
	x.sessions.indexGrams()
	x.byText, x.bySession = newRowsByID(x.content, len(x.texts.sig)), newRowsByID(x.session, len(x.sessions.sig))
	x.bytes = x.size()
	return x, nil
}

// floatKey maps a float64 to an int64 of the same order (-0 as 0; no NaN here).
func floatKey(f float64) int64 {
	if f == 0 {
		f = 0
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		b = ^b
	} else {
		b |= 1 << 63
	}
	return int64(b ^ 1<<63)
}

// asciiLower appends s with its ASCII letters lowered to dst.
func asciiLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, lowerASCII(s[i]))
	}
	return dst
}

func (x *msgIndex) size() int64 {
	n := x.listTable.size()
	n += x.texts.size() + x.sessions.size() + x.byText.size() + x.bySession.size()
	for _, a := range []*arena{&x.id, &x.sessBK,
		&x.intents.a, &x.intentsF.a, &x.entityD.a, &x.entityFD.a, &x.documentFD.a, &x.tagD.a, &x.answerD.a} {
		n += a.size()
	}
	for _, l := range []*idList{&x.entities, &x.tags, &x.ansNames, &x.ansTexts, &x.ansButtons} {
		n += l.size()
	}
	n += x.byIntent.size() + x.byEntity.size() + x.byDocument.size()
	n += int64(4 * (cap(x.content) + cap(x.session) + cap(x.intent) + cap(x.nlp) + cap(x.nlpIDs)))
	return n + int64(8*len(x.sessNoBK))
}

// list answers a messages/list page; term is the folded search term. counted is the
// snapshot's count of USER messages under f with its nlpResponseFilters (see
// listQuery.counted).
func (x *msgIndex) list(f ListFilter, term []byte, counted func() int64) (int64, []MessageRow) {
	q := listQuery{f: f, sort: msgSortOf[f.Sort], counted: counted}
	switch f.NLP { // the flag is understood
	case "FOUND":
		q.flag = flagSet
	case "NONE":
		q.flag = flagClear
	}
	switch f.SearchBy {
	case "SESSION_CODE":
		q.searchIn = func(inRange []uint32, keep func(uint32) bool) ([]uint32, func(uint32) bool) {
			return x.sessions.search(x.session, &x.bySession, term, inRange, keep)
		}
	case "QUESTION":
		q.searchIn = func(inRange []uint32, keep func(uint32) bool) ([]uint32, func(uint32) bool) {
			return x.texts.search(x.content, &x.byText, term, inRange, keep)
		}
	case "INTENT":
		q.searchIn = equalRows(&x.byIntent, &x.intentsF, term)
	case "ENTITY":
		q.searchIn = equalRows(&x.byEntity, &x.entityFD, term)
	case "DOCUMENT":
		q.searchIn = equalRows(&x.byDocument, &x.documentFD, term)
	}
	n, ids := x.listTable.list(q)
	return n, x.rows(ids)
}

func (x *msgIndex) rows(ids []uint32) []MessageRow {
	out := make([]MessageRow, 0, len(ids))
	for _, i := range ids {
		s := x.session[i]
		r := MessageRow{
			MessageID: x.id.str(i), Text: x.texts.text.str(x.content[i]), SessionCode: x.sessions.text.str(s), Understood: x.flag.has(i),
			NLPResponses: make([]NLPResponse, 0, x.nlp[i+1]-x.nlp[i]),
			AnswerNames:  x.ansNames.strings(i, &x.answerD), AnswerTexts: x.ansTexts.strings(i, &x.answerD),
			AnswerButtons: x.ansButtons.strings(i, &x.answerD), DeliveredAt: x.key[timeSort][i],
			ChannelUUID: x.channels[x.channel[i]], Tags: x.tags.strings(i, &x.tagD), Entities: x.entities.strings(i, &x.entityD),
		}
		if !x.sessNoBK.has(s) {
			v := x.sessBK.str(s)
			r.BusinessKey = &v
		}
		if !x.null[1].has(i) {
			v := unFloatKey(x.key[1][i])
			r.Confidence = &v
		}
		for _, id := range x.nlpIDs[x.nlp[i]:x.nlp[i+1]] {
			r.NLPResponses = append(r.NLPResponses, x.nlpD[id])
		}
		if id := x.intent[i]; id != noID {
			v := x.intents.str(id)
			r.Intent = &v
		}
		out = append(out, r)
	}
	return out
}

// unFloatKey inverts floatKey.
func unFloatKey(k int64) float64 {
	b := uint64(k) ^ 1<<63
	if b>>63 != 0 {
		b &^= 1 << 63
	} else {
		b = ^b
	}
	return math.Float64frombits(b)
}
