package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
)

// ListFilter selects the rows of a list endpoint (CONTRACT §5, lists).
type ListFilter struct {
	Query
	SearchBy    string // "" or the endpoint's searchBy value
	Term        string
	NLP         string // messages: "", "FOUND" or "NONE"
	Sort        string // the contract's sort name
	Desc        bool
	Offset, Max int
}

// where builds the shared filter of a list: tenant, range, hour window and channels.
func (f *ListFilter) where(timeCol string) (string, []any) {
	var b strings.Builder
	args := []any{f.Tenant.Org, f.Tenant.Env, f.Tenant.Bot, f.Start * calendar.HourMicros, f.End * calendar.HourMicros}
	b.WriteString("org_uuid = ? AND env_uuid = ? AND bot_uuid = ? AND " + timeCol + " >= make_timestamp(?::BIGINT)::TIMESTAMPTZ AND " +
		timeCol + " < make_timestamp(?::BIGINT)::TIMESTAMPTZ")
	var hours []string
	for h, ok := range f.Mask {
		if ok {
			hours = append(hours, fmt.Sprint(h))
		}
	}
	if len(hours) < 24 {
		b.WriteString(" AND hour(" + timeCol + ") IN (" + strings.Join(hours, ",") + ")")
	}
	if f.Channels != nil {
		b.WriteString(" AND channel_uuid IN (" + placeholders(len(f.Channels)) + ")")
		for _, c := range f.Channels {
			args = append(args, c)
		}
	}
	return b.String(), args
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.Repeat("?,", n-1) + "?"
}

// ConversationRow is one row of conversations/list.
type ConversationRow struct {
	SessionCode         string
	BusinessKey         *string
	UserMessage         *string
	Satisfaction        *int64
	UserMessages        int64
	FlowsTravelled      int64
	FlowsTravelledNames []string
	StartedAt           int64 // microseconds
	DurationSeconds     int64
	ChannelUUID         string
	Tags                []string
}

var conversationSorts = map[string]string{
	"satisfaction":          "satisfaction",
	"userMessages":          "user_messages",
	"flowsTravelled":        "flows_travelled",
	"conversationStartedAt": "started_at",
	"duration":              "duration_s",
}

func (f *ListFilter) conversationWhere() (string, []any) {
	where, args := f.where("started_at")
	switch f.SearchBy {
	case "SESSION_CODE":
		where += " AND contains(session_code_f, " + fold("?") + ")"
		args = append(args, f.Term)
	case "BUSINESS_KEY":
		where += " AND contains(business_key_f, " + fold("?") + ")"
		args = append(args, f.Term)
	case "FLOW":
		where += " AND list_contains(flows_f, " + fold("?") + ")"
		args = append(args, f.Term)
	}
	return where, args
}

func order(col string, desc bool, tie string) string {
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	return col + " " + dir + " NULLS LAST, " + tie + " ASC"
}

const conversationColumns = `session_code, business_key, user_message, satisfaction, user_messages, flows_travelled,
	flows_travelled_names, epoch_us(started_at), duration_s, channel_uuid, tags`

// readTx runs fn in one transaction: the count and the page of a list see the same
// commit, even while a rollup replaces the tables.
func (w *Warehouse) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := w.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// ListConversations returns one page of conversations and the count of all matches.
// It reads the list index of the current snapshot when that is built, else DuckDB.
func (w *Warehouse) ListConversations(ctx context.Context, f ListFilter) (int64, []ConversationRow, error) {
	snap := w.Snapshot()
	if li := w.listIndex(snap); li != nil && li.conv != nil {
		term, err := w.searchTerm(ctx, f)
		if err != nil {
			return 0, nil, err
		}
		total, rows := li.conv.list(f, term, func() int64 { return snapshotCount(snap, f, true) })
		return total, rows, nil
	}
	return listInTx(ctx, w, f, listConversations)
}

// listInTx runs a list's queries in one read transaction.
func listInTx[R any](ctx context.Context, w *Warehouse, f ListFilter,
	list func(context.Context, *sql.Tx, ListFilter, *Snapshot) (int64, []R, error)) (total int64, rows []R, err error) {
	err = w.readTx(ctx, func(tx *sql.Tx) error {
		total, rows, err = list(ctx, tx, f, w.Snapshot())
		return err
	})
	return total, rows, err
}

// snapshotCount is the count of a list without a search, from the snapshot's traffic
// counts: conversations started, or USER messages under f's nlpResponseFilters.
func snapshotCount(snap *Snapshot, f ListFilter, conversations bool) int64 {
	switch {
	case conversations:
		return snap.Total(f.Query, Conversations)
	case f.NLP == "FOUND":
		return snap.Total(f.Query, Understood)
	case f.NLP == "NONE":
		return snap.Total(f.Query, UserMessages) - snap.Total(f.Query, Understood)
	}
	return snap.Total(f.Query, UserMessages)
}

// listTotal counts a list's matches. Without a search term the count is a traffic
// count the snapshot holds (conversations started, USER messages, understood ones, per
// hour and channel, with the same range, hour window and channels): no scan, when the
// snapshot is of the generation this transaction reads. Otherwise, or when the
// snapshot lags a rollup that just committed, DuckDB counts.
func listTotal(ctx context.Context, tx *sql.Tx, f ListFilter, snap *Snapshot, table, where string, args []any) (int64, error) {
	if f.SearchBy == "" && snap != nil && snap.Generation >= 0 {
		var gen int64
		if err := tx.QueryRowContext(ctx, "SELECT generation FROM rollup_generation").Scan(&gen); err != nil {
			return 0, err
		}
		if gen == snap.Generation {
			return snapshotCount(snap, f, table == "conversation_facts"), nil
		}
	}
	var total int64
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE "+where, args...).Scan(&total)
	return total, err
}

// listPage is what both lists do before they read their page: the total, whether the
// page holds any row (read), and the condition that narrows a deep page (pageBound)
// added to where.
func listPage(ctx context.Context, tx *sql.Tx, f ListFilter, snap *Snapshot, table, sortCol, where string, args []any) (total int64, read bool, _ string, _ []any, err error) {
	total, err = listTotal(ctx, tx, f, snap, table, where, args)
	if err != nil || int64(f.Offset) >= total {
		return total, false, where, args, err
	}
	bound, bargs, err := pageBound(ctx, tx, table, sortCol, where, args, f)
	if err != nil || bound == "" {
		return total, err == nil, where, args, err
	}
	return total, true, where + bound, bargs, nil
}

func listConversations(ctx context.Context, tx *sql.Tx, f ListFilter, snap *Snapshot) (int64, []ConversationRow, error) {
	where, args := f.conversationWhere()
	total, read, where, args, err := listPage(ctx, tx, f, snap, "conversation_facts", conversationSorts[f.Sort], where, args)
	if !read {
		return total, nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+conversationColumns+" FROM conversation_facts WHERE "+where+
		" ORDER BY "+order(conversationSorts[f.Sort], f.Desc, "session_code")+" LIMIT ? OFFSET ?", append(args, f.Max, f.Offset)...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var out []ConversationRow
	for rows.Next() {
		var r ConversationRow
		var bk, um sql.NullString
		var sat sql.NullInt64
		var names, tags any
		if err := rows.Scan(&r.SessionCode, &bk, &um, &sat, &r.UserMessages, &r.FlowsTravelled, &names,
			&r.StartedAt, &r.DurationSeconds, &r.ChannelUUID, &tags); err != nil {
			return 0, nil, err
		}
		r.BusinessKey, r.UserMessage = nullString(bk), nullString(um)
		if sat.Valid {
			r.Satisfaction = &sat.Int64
		}
		r.FlowsTravelledNames, r.Tags = stringList(names), stringList(tags)
		out = append(out, r)
	}
	return total, out, rows.Err()
}

// deepPage is the row count from which a page is found in two steps (pageBound): a
// top-N of 10,000 rows that carries every column of the page costs 180 ms on a year
// of the large bot, the same over the sort column alone 30 ms. On page 1 the second
// query gains nothing.
const deepPage = 1000

// boundedSorts are the sort columns with many distinct values. The others
// (satisfaction, counts) have so many ties that a bound would keep most rows.
var boundedSorts = map[string]string{"started_at": "time", "created_at": "time", "duration_s": "int", "confidence": "float"}

// pageBound finds, for a deep page, the sort value of its last row (row offset+size in
// list order) with a top-N over the sort column alone, and returns the condition that
// keeps the rows up to it ("AND col >= v" for a descending sort): the top-N that picks
// the page, with its tie-breaker and the columns it returns, then sees those rows
// only. Every row of the page, and every row before it, passes the bound (rows tied
// with the bound pass too, and the tie-breaker orders them), so the page is the same.
// No bound ("") for a shallow page, a sort column with few distinct values, a list
// that ends before that row, or a NULL there (NULLs sort last, with no order to bound).
func pageBound(ctx context.Context, tx *sql.Tx, table, col, where string, args []any, f ListFilter) (string, []any, error) {
	kind, ok := boundedSorts[col]
	if !ok || f.Offset+f.Max < deepPage {
		return "", nil, nil
	}
	dir, cmp := "ASC", " <= "
	if f.Desc {
		dir, cmp = "DESC", " >= "
	}
	expr, param := col, "?"
	if kind == "time" {
		expr, param = "epoch_us("+col+")", "make_timestamp(?::BIGINT)::TIMESTAMPTZ"
	}
	var v any
	err := tx.QueryRowContext(ctx, "SELECT "+expr+" FROM "+table+" WHERE "+where+" ORDER BY "+col+" "+dir+
		" NULLS LAST LIMIT 1 OFFSET ?", append(append([]any{}, args...), f.Offset+f.Max-1)...).Scan(&v)
	if err == sql.ErrNoRows || err == nil && v == nil {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	return " AND " + col + cmp + param, append(append([]any{}, args...), v), nil
}

// NLPResponse is one nlpResponses entry.
type NLPResponse struct {
	ResponseType    string
	ParagraphNumber int64
	ResponseName    string
}

// Button is one button of a BOT message.
type Button struct {
	Name          string
	Value, Action *string
}

// MessageRow is one row of messages/list.
type MessageRow struct {
	MessageID     string
	Text          string
	SessionCode   string
	BusinessKey   *string
	Understood    bool
	Confidence    *float64
	NLPResponses  []NLPResponse
	AnswerNames   []string
	AnswerTexts   []string
	AnswerButtons []string
	DeliveredAt   int64
	ChannelUUID   string
	Tags          []string
	Intent        *string
	Entities      []string
}

var messageSorts = map[string]string{"deliveredAt": "created_at", "confidence": "confidence"}

func (f *ListFilter) messageWhere() (string, []any) {
	where, args := f.where("created_at")
	where += " AND direction = 'USER'"
	switch f.SearchBy {
	case "SESSION_CODE":
		where += " AND contains(session_code_f, " + fold("?") + ")"
		args = append(args, f.Term)
	case "QUESTION":
		where += " AND contains(content_f, " + fold("?") + ")"
		args = append(args, f.Term)
	case "INTENT":
		where += " AND intent_f = " + fold("?")
		args = append(args, f.Term)
	case "ENTITY":
		where += " AND list_contains(entities_f, " + fold("?") + ")"
		args = append(args, f.Term)
	case "DOCUMENT":
		where += " AND list_contains(documents_f, " + fold("?") + ")"
		args = append(args, f.Term)
	}
	switch f.NLP {
	case "FOUND":
		where += " AND minimum_confidence_achieved"
	case "NONE":
		where += " AND NOT coalesce(minimum_confidence_achieved, false)"
	}
	return where, args
}

// ListMessages returns one page of USER messages and the count of all matches.
// It reads the list index of the current snapshot when that is built, else DuckDB.
func (w *Warehouse) ListMessages(ctx context.Context, f ListFilter) (int64, []MessageRow, error) {
	snap := w.Snapshot()
	if li := w.listIndex(snap); li != nil && li.msg != nil {
		term, err := w.searchTerm(ctx, f)
		if err != nil {
			return 0, nil, err
		}
		total, rows := li.msg.list(f, term, func() int64 { return snapshotCount(snap, f, false) })
		return total, rows, nil
	}
	return listInTx(ctx, w, f, listMessages)
}

// searchTerm is f's search term folded, or nil without a search.
func (w *Warehouse) searchTerm(ctx context.Context, f ListFilter) ([]byte, error) {
	if f.SearchBy == "" {
		return nil, nil
	}
	return w.foldTerm(ctx, f.Term)
}

func listMessages(ctx context.Context, tx *sql.Tx, f ListFilter, snap *Snapshot) (int64, []MessageRow, error) {
	where, args := f.messageWhere()
	total, read, where, args, err := listPage(ctx, tx, f, snap, "messages", messageSorts[f.Sort], where, args)
	if !read {
		return total, nil, err
	}
	// 1. The page's keys: a top-N over narrow columns only.
	q := "SELECT message_id, epoch_us(created_at) FROM messages WHERE " + where + " ORDER BY " +
		order(messageSorts[f.Sort], f.Desc, "message_id") + " LIMIT ? OFFSET ?"
	rows, err := tx.QueryContext(ctx, q, append(args, f.Max, f.Offset)...)
	if err != nil {
		return 0, nil, err
	}
	var ids []any
	var lo, hi int64
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return 0, nil, err
		}
		if len(ids) == 0 || at < lo {
			lo = at
		}
		if len(ids) == 0 || at > hi {
			hi = at
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return total, nil, err
	}
	// 2. Their rows (the time bounds let zone maps skip the rest of the table), then
	// their answers (by time too) and business keys.
	tenant := []any{f.Tenant.Org, f.Tenant.Env, f.Tenant.Bot}
	in := placeholders(len(ids))
	rows, err = tx.QueryContext(ctx, `SELECT message_id, content, session_code, coalesce(minimum_confidence_achieved, false),
		confidence, nlp_responses, epoch_us(created_at), channel_uuid, coalesce(tags, []), intent, coalesce(entities, [])
		FROM messages WHERE org_uuid = ? AND env_uuid = ? AND bot_uuid = ? AND direction = 'USER'
		AND created_at >= make_timestamp(?::BIGINT)::TIMESTAMPTZ AND created_at <= make_timestamp(?::BIGINT)::TIMESTAMPTZ
		AND message_id IN (`+in+`)`, append(append(tenant, lo, hi), ids...)...)
	if err != nil {
		return 0, nil, err
	}
	byID := map[string]*MessageRow{}
	sessions := map[string]bool{}
	for rows.Next() {
		var r MessageRow
		var intent sql.NullString
		var conf sql.NullFloat64
		var nlp, tags, entities any
		if err := rows.Scan(&r.MessageID, &r.Text, &r.SessionCode, &r.Understood, &conf, &nlp, &r.DeliveredAt, &r.ChannelUUID,
			&tags, &intent, &entities); err != nil {
			rows.Close()
			return 0, nil, err
		}
		r.Intent = nullString(intent)
		if conf.Valid {
			r.Confidence = &conf.Float64
		}
		r.NLPResponses, r.Tags, r.Entities = nlpList(nlp), stringList(tags), stringList(entities)
		r.AnswerNames, r.AnswerTexts, r.AnswerButtons = []string{}, []string{}, []string{}
		byID[r.MessageID] = &r
		sessions[r.SessionCode] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	// The answers: message_at is the answered message's time, so the page's time bounds
	// let zone maps skip all but a few row groups.
	rows, err = tx.QueryContext(ctx, `SELECT org_uuid, env_uuid, bot_uuid, message_id, answer_names, answer_texts, answer_buttons
		FROM message_answers WHERE org_uuid = ? AND env_uuid = ? AND bot_uuid = ?
		AND message_at >= make_timestamp(?::BIGINT)::TIMESTAMPTZ AND message_at <= make_timestamp(?::BIGINT)::TIMESTAMPTZ
		AND message_id IN (`+in+`)`, append(append(tenant, lo, hi), ids...)...)
	if err != nil {
		return 0, nil, err
	}
	for rows.Next() {
		var k TenantKey
		var id string
		var names, texts, buttons any
		if err := rows.Scan(&k.Org, &k.Env, &k.Bot, &id, &names, &texts, &buttons); err != nil {
			rows.Close()
			return 0, nil, err
		}
		if r := byID[id]; r != nil && k == f.Tenant {
			r.AnswerNames, r.AnswerTexts, r.AnswerButtons = stringList(names), stringList(texts), stringList(buttons)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	// The page's sessions (never none: the ids were found in this transaction), one
	// probe of session_lookup each (sessionProbe). One pass over the table for the whole
	// page, by code_key IN the page's keys, measured slower even for 100 codes.
	keys := map[string]*string{}
	probes := make([]string, 0, len(sessions))
	codes := make([]any, 0, 2*len(sessions))
	for c := range sessions {
		probes = append(probes, "SELECT org_uuid, env_uuid, bot_uuid, session_code, business_key FROM session_lookup WHERE "+sessionProbe)
		codes = append(codes, c, c)
	}
	rows, err = tx.QueryContext(ctx, strings.Join(probes, " UNION ALL "), codes...)
	if err != nil {
		return 0, nil, err
	}
	for rows.Next() {
		var k TenantKey
		var code string
		var bk sql.NullString
		if err := rows.Scan(&k.Org, &k.Env, &k.Bot, &code, &bk); err != nil {
			rows.Close()
			return 0, nil, err
		}
		if k == f.Tenant {
			keys[code] = nullString(bk)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	out := make([]MessageRow, 0, len(ids))
	for _, id := range ids {
		if r := byID[id.(string)]; r != nil {
			r.BusinessKey = keys[r.SessionCode]
			out = append(out, *r)
		}
	}
	return total, out, nil
}

// DetailMessage is one message of a conversation's transcript.
type DetailMessage struct {
	MessageID    string
	Content      string
	User         bool
	Understood   bool
	Intent       *string
	Type         string
	Buttons      []Button
	Entities     []string
	NLPResponses []NLPResponse
	CreatedAt    int64
}

// Transcript is conversations/details.
type Transcript struct {
	SessionCode string
	StartedAt   int64
	ChannelUUID string
	Messages    []DetailMessage
}

// sessionProbe finds the rows of session_lookup of one session code (every tenant's),
// the code given twice: its runs in code_key order let the zone maps skip all but a row
// group of each run (see migration 0008).
const sessionProbe = `code_key = md5_number_upper(?) AND session_code = ?`

// detailsLookupSQL finds a session by its code (the caller keeps its tenant's row).
const detailsLookupSQL = `SELECT org_uuid, env_uuid, bot_uuid, epoch_us(started_at), channel_uuid, epoch_us(first_at), epoch_us(last_at)
	FROM session_lookup WHERE ` + sessionProbe

// sessionMessages selects the messages of one session of one tenant (org, env, bot,
// code) within the span of its messages (first and last createdAt in µs, from
// session_lookup): the span lets zone maps skip all but a few row groups of messages.
// Transcripts and the conversation-details report read a session through it.
const sessionMessages = `org_uuid = ? AND env_uuid = ? AND bot_uuid = ? AND session_code = ?
	AND created_at >= make_timestamp(?::BIGINT)::TIMESTAMPTZ AND created_at <= make_timestamp(?::BIGINT)::TIMESTAMPTZ`

// detailsSQL is the transcript of one session.
const detailsSQL = `SELECT message_id, content, direction = 'USER', coalesce(minimum_confidence_achieved, false),
	intent, type, coalesce(buttons, []), coalesce(entities, []), coalesce(nlp_responses, []), epoch_us(created_at), channel_uuid
	FROM messages WHERE ` + sessionMessages + `
	ORDER BY created_at, message_id`

// Details returns a session's transcript, or nil when the tenant has no such session:
// from the list index when it is built, else from DuckDB (details).
func (w *Warehouse) Details(ctx context.Context, k TenantKey, session string) (t *Transcript, err error) {
	if li := w.listIndex(w.Snapshot()); li != nil && li.trans != nil {
		return li.trans.details(k, session), nil
	}
	err = w.readTx(ctx, func(tx *sql.Tx) error {
		t, err = details(ctx, tx, k, session)
		return err
	})
	return t, err
}

func details(ctx context.Context, tx *sql.Tx, k TenantKey, session string) (*Transcript, error) {
	t := &Transcript{SessionCode: session}
	var started sql.NullInt64
	var channel sql.NullString
	var first, last sql.NullInt64 // the span of the session's messages (µs)
	found := false
	lrow, err := tx.QueryContext(ctx, detailsLookupSQL, session, session)
	if err != nil {
		return nil, err
	}
	for lrow.Next() {
		var lk TenantKey
		var st sql.NullInt64
		var ch sql.NullString
		var f, l sql.NullInt64
		if err := lrow.Scan(&lk.Org, &lk.Env, &lk.Bot, &st, &ch, &f, &l); err != nil {
			lrow.Close()
			return nil, err
		}
		if lk == k {
			found, started, channel, first, last = true, st, ch, f, l
		}
	}
	lrow.Close()
	if err := lrow.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, nil
	}
	var firstChannel string // the first message's channel
	if first.Valid {
		rows, err := tx.QueryContext(ctx, detailsSQL, k.Org, k.Env, k.Bot, session, first.Int64, last.Int64)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var m DetailMessage
			var ch string
			var intent sql.NullString
			var buttons, entities, nlp any
			if err := rows.Scan(&m.MessageID, &m.Content, &m.User, &m.Understood, &intent, &m.Type, &buttons, &entities, &nlp,
				&m.CreatedAt, &ch); err != nil {
				return nil, err
			}
			if m.User {
				if intent.Valid && intent.String != "" {
					m.Intent = &intent.String
				}
				m.Entities, m.NLPResponses = stringList(entities), nlpList(nlp)
			} else {
				m.Buttons = buttonList(buttons)
			}
			if len(t.Messages) == 0 {
				firstChannel = ch
			}
			t.Messages = append(t.Messages, m)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	switch {
	case started.Valid:
		t.StartedAt, t.ChannelUUID = started.Int64, channel.String
	case len(t.Messages) > 0:
		t.StartedAt, t.ChannelUUID = t.Messages[0].CreatedAt, firstChannel
	default:
		return nil, nil
	}
	return t, nil
}

func nullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String
	return &v
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func nlpList(v any) []NLPResponse {
	l, _ := v.([]any)
	out := make([]NLPResponse, 0, len(l))
	for _, x := range l {
		m, _ := x.(map[string]any)
		var r NLPResponse
		r.ResponseType, _ = m["response_type"].(string)
		r.ResponseName, _ = m["response_name"].(string)
		switch p := m["paragraph_number"].(type) {
		case int32:
			r.ParagraphNumber = int64(p)
		case int64:
			r.ParagraphNumber = p
		}
		out = append(out, r)
	}
	return out
}

func buttonList(v any) []Button {
	l, _ := v.([]any)
	out := make([]Button, 0, len(l))
	for _, x := range l {
		m, _ := x.(map[string]any)
		var b Button
		b.Name, _ = m["name"].(string)
		if s, ok := m["value"].(string); ok {
			b.Value = &s
		}
		if s, ok := m["action"].(string); ok {
			b.Action = &s
		}
		out = append(out, b)
	}
	return out
}

// ListArrow streams one page of a list (KindConversations or KindMessages) as Arrow
// record batches to fn.
func (w *Warehouse) ListArrow(ctx context.Context, kind string, f ListFilter, fn func(rdr RecordReader) error) error {
	q, args := ListPageSQL(kind, f)
	conn, err := w.db.Arrow(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rdr, err := conn.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rdr.Release()
	return fn(rdr)
}
