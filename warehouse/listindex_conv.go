package warehouse

import (
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
	codes   searchText // session codes, one entry per row
	bks     searchText // business keys, one entry per row ("" when NULL)
	um      arena      // user_message ("" when NULL)
	nullBK  bitset
	nullUM  bitset
	names   idList // flows_travelled_names, into nameD
	tags    idList // into tagD
	nameD   strDict
	tagD    strDict
	flows   idList   // flows_f, as ids of flowIDs (while loading)
	flowIDs strDict  // folded flow names
	byFlow  rowsByID // the rows of each flowIDs id
	bytes   int64    // memory held
}

const convIndexSQL = `SELECT org_uuid, env_uuid, bot_uuid, session_code, business_key, user_message, satisfaction,
	user_messages, flows_travelled, flows_travelled_names, epoch_us(started_at), duration_s, channel_uuid, tags,
	session_code_f, business_key_f, flows_f
	FROM conversation_facts ORDER BY org_uuid, env_uuid, bot_uuid, started_at, session_code`

// loadConvIndex reads conversation_facts in the read transaction tx; shift sets the
// rows of its count blocks (1 << shift).
func loadConvIndex(ctx context.Context, tx *arrowTx, shift int) (*convIndex, error) {
	n, err := countRows(ctx, tx, "SELECT count(*) FROM conversation_facts")
	if err != nil {
		return nil, err
	}
	x := &convIndex{
		listTable: newListTable(n, convSorts),
		codes:     newSearchText(false), bks: newSearchText(false), um: newArena(n),
		names: newIDList(n), tags: newIDList(n), nameD: newStrDict(), tagD: newStrDict(),
		flows: newIDList(n), flowIDs: newStrDict(),
	}
	channelIDs := map[string]uint32{}
	var cur *listTenant
	var curKey TenantKey
	err = eachBatch(ctx, tx, convIndexSQL, func(c []arrow.Array, rows int) error {
		lists, err := listColumns(c, 9, 13, 16)
		if err != nil {
			return err
		}
		for i := range rows {
			row := len(x.key[timeSort])
			cur = x.tenantAt(TenantKey{Org: rawString(c[0], i), Env: rawString(c[1], i), Bot: rawString(c[2], i)}, cur, &curKey)
			if _, err := x.codes.add(rawString(c[3], i), rawString(c[14], i)); err != nil {
				return err
			}
			bk, bkF := "", ""
			if c[4].IsNull(i) {
				x.nullBK.set(row)
			} else {
				bk, bkF = rawString(c[4], i), rawString(c[15], i)
			}
			if _, err := x.bks.add(bk, bkF); err != nil {
				return err
			}
			if err := x.um.addNullable(c[5], i, &x.nullUM, row); err != nil {
				return err
			}
			for _, l := range []struct {
				to  *idList
				col int
				d   *strDict
			}{{&x.names, 9, &x.nameD}, {&x.tags, 13, &x.tagD}, {&x.flows, 16, &x.flowIDs}} {
				if err := l.to.add(lists[l.col], i, l.d); err != nil {
					return err
				}
			}
			// Keys: start time, satisfaction (NULL sorts last), user messages, flows, duration.
			for s, col := range []int{10, 6, 7, 8, 11} {
				var v int64
				if c[col].IsNull(i) {
					x.null[s].set(row)
				} else if v, err = intAt(c[col], i); err != nil {
					return err
				}
				x.key[s] = append(x.key[s], v)
			}
			x.addChannel(cur, channelIDs, rawString(c[12], i))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	x.finish(cur, &x.codes.text)
	x.classify(shift)
	x.codes.indexGrams()
	x.bks.indexGrams()
	x.byFlow, x.flows = x.flows.rowsByID(len(x.flowIDs.a.off)-1), idList{}
	x.nameD.ids, x.tagD.ids = nil, nil // read by id only from here on
	x.bytes = x.size()
	return x, nil
}

// rowSearch is a substring search of a column of one entry per row, whose NULL rows
// (nulls, when not nil) hold "" and match nothing: the rows in range from d's trigram
// postings when its rarest trigram is in at most a quarter of them (a NULL's "" has
// no trigram), else a test of each row.
func rowSearch(d *searchText, nulls *bitset, term []byte, sig uint64) searchFunc {
	return func(inRange []uint32, _ func(uint32) bool) ([]uint32, func(uint32) bool) {
		if a, b := runOf(inRange); b > a {
			if rows, ok := d.gramSearch(term, sig, a, b-1, len(inRange)/4); ok {
				return rows, nil
			}
		}
		return nil, func(i uint32) bool { return d.contains(i, term, sig) && (nulls == nil || !nulls.has(i)) }
	}
}

// listColumns returns the given columns of a batch, which must be lists, by number.
func listColumns(c []arrow.Array, cols ...int) (map[int]*array.List, error) {
	lists := map[int]*array.List{}
	for _, col := range cols {
		l, ok := c[col].(*array.List)
		if !ok {
			return nil, fmt.Errorf("column %d is %s, not a list", col, c[col].DataType())
		}
		lists[col] = l
	}
	return lists, nil
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
	n := x.listTable.size() + x.codes.size() + x.bks.size() + x.um.size() + x.byFlow.size()
	for _, d := range []*strDict{&x.nameD, &x.tagD, &x.flowIDs} {
		n += d.a.size()
	}
	return n + x.names.size() + x.tags.size() + int64(8*(len(x.nullBK)+len(x.nullUM)))
}

// list answers a conversations/list page; term is the folded search term. counted is
// the snapshot's count of conversations started under f (see listQuery.counted).
func (x *convIndex) list(f ListFilter, term []byte, counted func() int64) (int64, []ConversationRow) {
	q := listQuery{f: f, sort: convSortOf[f.Sort], counted: counted}
	sig := pairSig(term)
	switch f.SearchBy {
	case "SESSION_CODE":
		q.searchIn = rowSearch(&x.codes, nil, term, sig)
	case "BUSINESS_KEY":
		q.searchIn = rowSearch(&x.bks, &x.nullBK, term, sig)
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
			SessionCode: x.codes.text.str(i), UserMessages: x.key[2][i], FlowsTravelled: x.key[3][i],
			FlowsTravelledNames: x.names.strings(i, &x.nameD), StartedAt: x.key[timeSort][i], DurationSeconds: x.key[4][i],
			ChannelUUID: x.channels[x.channel[i]], Tags: x.tags.strings(i, &x.tagD),
		}
		if !x.nullBK.has(i) {
			v := x.bks.text.str(i)
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
