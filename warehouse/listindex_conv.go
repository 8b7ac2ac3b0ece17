package warehouse

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// convSortOf numbers the sorts of conversations/list as convIndex keys them (0, the
// start time, is the rows' own order).
var convSortOf = map[string]int{
	"conversationStartedAt": timeSort, "satisfaction": 1, "userMessages": 2, "flowsTravelled": 3, "duration": 4,
}

const convSorts = 5

// convIndex is conversation_facts in memory, rows ordered by tenant, start time and
// session code; tie is the rank of the session code in its tenant.
type convIndex struct {
	listTable
	code    arena // session_code
	codeF   arena // session_code_f
	bk, bkF arena // business_key, business_key_f ("" when NULL)
	um      arena // user_message ("" when NULL)
	nullBK  bitset
	nullUM  bitset
	names   listArena // flows_travelled_names
	tags    listArena
	flows   idList   // flows_f, as ids of flowIDs (while loading)
	flowIDs strDict  // folded flow names
	byFlow  rowsByID // the rows of each flowIDs id
	codeSig []uint64 // pairSig of session_code_f
	bkSig   []uint64 // pairSig of business_key_f
	bytes   int64    // memory held
}

const convIndexSQL = `SELECT org_uuid, env_uuid, bot_uuid, session_code, business_key, user_message, satisfaction,
	user_messages, flows_travelled, flows_travelled_names, epoch_us(started_at), duration_s, channel_uuid, tags,
	session_code_f, business_key_f, flows_f
	FROM conversation_facts ORDER BY org_uuid, env_uuid, bot_uuid, started_at, session_code`

// loadConvIndex reads conversation_facts in the read transaction tx.
func loadConvIndex(ctx context.Context, tx *arrowTx) (*convIndex, error) {
	n, err := countRows(ctx, tx, "SELECT count(*) FROM conversation_facts")
	if err != nil {
		return nil, err
	}
	x := &convIndex{
		listTable: newListTable(n, convSorts),
		code:      newArena(n), codeF: newArena(n), bk: newArena(n), bkF: newArena(n), um: newArena(n),
		names: newListArena(n), tags: newListArena(n),
		flows: newIDList(n), flowIDs: newStrDict(),
		codeSig: make([]uint64, 0, n), bkSig: make([]uint64, 0, n),
	}
	channelIDs := map[string]uint32{}
	var cur *listTenant
	var curKey TenantKey
	rdr, err := tx.conn.Query(ctx, convIndexSQL)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		c := rec.Columns()
		var lists [3]*array.List
		for j, col := range []int{9, 13, 16} {
			l, ok := c[col].(*array.List)
			if !ok {
				return nil, fmt.Errorf("column %d is %s, not a list", col, c[col].DataType())
			}
			lists[j] = l
		}
		for i := range int(rec.NumRows()) {
			row := len(x.key[timeSort])
			cur = x.tenantAt(TenantKey{Org: rawString(c[0], i), Env: rawString(c[1], i), Bot: rawString(c[2], i)}, cur, &curKey)
			for _, a := range []struct {
				to    *arena
				col   arrow.Array
				nulls *bitset
			}{{&x.code, c[3], nil}, {&x.bk, c[4], &x.nullBK}, {&x.um, c[5], &x.nullUM}, {&x.codeF, c[14], nil}, {&x.bkF, c[15], nil}} {
				if err := a.to.addNullable(a.col, i, a.nulls, row); err != nil {
					return nil, err
				}
			}
			for j, l := range []*listArena{&x.names, &x.tags} {
				if err := l.add(lists[j], i); err != nil {
					return nil, err
				}
			}
			if err := x.flows.add(lists[2], i, &x.flowIDs); err != nil {
				return nil, err
			}
			x.codeSig = append(x.codeSig, pairSig(x.codeF.bytes(uint32(row))))
			x.bkSig = append(x.bkSig, pairSig(x.bkF.bytes(uint32(row))))
			// Keys: start time, satisfaction (NULL sorts last), user messages, flows, duration.
			for s, col := range []int{10, 6, 7, 8, 11} {
				var v int64
				if c[col].IsNull(i) {
					x.null[s].set(row)
				} else if v, err = intAt(c[col], i); err != nil {
					return nil, err
				}
				x.key[s] = append(x.key[s], v)
			}
			x.addChannel(cur, channelIDs, rawString(c[12], i))
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, err
	}
	x.finish(cur, &x.code)
	x.byFlow, x.flows = x.flows.rowsByID(len(x.flowIDs.a.off)-1), idList{}
	x.bytes = x.size()
	return x, nil
}

// countRows runs a count query, refusing a table the index's 32-bit row numbers
// cannot hold.
func countRows(ctx context.Context, tx *arrowTx, q string) (int, error) {
	var n int64
	if err := scanRows(ctx, tx, q, func(r rowScanner) error { return r.Scan(&n) }); err != nil {
		return 0, err
	}
	if n >= math.MaxUint32 {
		return 0, errIndexTooLarge
	}
	return int(n), nil
}

func (x *convIndex) size() int64 {
	n := x.listTable.size()
	for _, a := range []*arena{&x.code, &x.codeF, &x.bk, &x.bkF, &x.um, &x.names.el, &x.tags.el} {
		n += a.size()
	}
	n += int64(4*(cap(x.names.start)+cap(x.tags.start))) + x.byFlow.size() + x.flowIDs.a.size()
	return n + int64(8*(cap(x.codeSig)+cap(x.bkSig)))
}

// list answers a conversations/list page; term is the folded search term. counted is
// the snapshot's count of conversations started under f (used without a search).
func (x *convIndex) list(f ListFilter, term []byte, counted func() int64) (int64, []ConversationRow) {
	q := listQuery{f: f, sort: convSortOf[f.Sort], counted: counted}
	sig := pairSig(term)
	switch f.SearchBy {
	case "SESSION_CODE":
		q.search = func(i uint32) bool { return x.codeSig[i]&sig == sig && bytes.Contains(x.codeF.bytes(i), term) }
	case "BUSINESS_KEY":
		q.search = func(i uint32) bool {
			return x.bkSig[i]&sig == sig && !x.nullBK.has(i) && bytes.Contains(x.bkF.bytes(i), term)
		}
	case "FLOW":
		q.searchIn = equalRows(&x.byFlow, &x.flowIDs, term)
	}
	n, ids := x.listTable.list(q)
	return n, x.rows(ids)
}

func (x *convIndex) rows(ids []uint32) []ConversationRow {
	out := make([]ConversationRow, 0, len(ids))
	for _, i := range ids {
		r := ConversationRow{
			SessionCode: x.code.str(i), UserMessages: x.key[2][i], FlowsTravelled: x.key[3][i],
			FlowsTravelledNames: x.names.strings(i), StartedAt: x.key[timeSort][i], DurationSeconds: x.key[4][i],
			ChannelUUID: x.channels[x.channel[i]], Tags: x.tags.strings(i),
		}
		if !x.nullBK.has(i) {
			v := x.bk.str(i)
			r.BusinessKey = &v
		}
		if !x.nullUM.has(i) {
			v := x.um.str(i)
			r.UserMessage = &v
		}
		if !x.null[1].has(i) {
			v := x.key[1][i]
			r.Satisfaction = &v
		}
		out = append(out, r)
	}
	return out
}
