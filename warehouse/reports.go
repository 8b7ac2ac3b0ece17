package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// Report kinds (CONTRACT §5, Reports).
const (
	KindConversations       = "CONVERSATIONS"
	KindMessages            = "MESSAGES"
	KindGroupedMessages     = "GROUPED_MESSAGES"
	KindConversationDetails = "CONVERSATION_DETAILS"
)

// ReportSpec is a validated report request.
type ReportSpec struct {
	Kind        string
	Export      string // csv, xlsx, parquet
	Filter      ListFilter
	SampleSize  int
	Sampling    string // RANDOM, LATEST, OLDEST, GROUPED
	SessionCode string
	Seed        int64 // RANDOM's sample is reproducible when the report runs again

	// split, set by narrow for LATEST and OLDEST: every row beyond hour split.hour
	// (after it for LATEST, before it for OLDEST) is in the sample, and the first
	// split.take rows of that hour complete it.
	split *sampleSplit
	// span, set by narrow for CONVERSATION_DETAILS: the first and last createdAt (µs)
	// of the session's messages, from session_lookup.
	span *[2]int64
}

type sampleSplit struct {
	hour int64
	take int
}

// Report is a report record.
type Report struct {
	ID        string
	Tenant    TenantKey
	Spec      ReportSpec
	FileName  string
	CreatedAt time.Time
	Status    string // PENDING, RUNNING, DONE, FAILED
	Error     string
	Rows      int64
}

// CreateReport records a PENDING report.
func (w *Warehouse) CreateReport(ctx context.Context, r *Report) error {
	spec, err := json.Marshal(r.Spec)
	if err != nil {
		return err
	}
	return w.db.Write(ctx, func(ctx context.Context) error {
		_, err := w.db.SQL.ExecContext(ctx, `INSERT INTO reports (id, org_uuid, env_uuid, bot_uuid, kind, export_type, spec, file_name, created_at, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING')`,
			r.ID, r.Tenant.Org, r.Tenant.Env, r.Tenant.Bot, r.Spec.Kind, r.Spec.Export, string(spec), r.FileName, r.CreatedAt.UTC())
		return err
	})
}

// SetReportStatus records a report's progress.
func (w *Warehouse) SetReportStatus(ctx context.Context, id, status, errMsg string, rows int64, at time.Time) error {
	return w.db.Write(ctx, func(ctx context.Context) error {
		_, err := w.db.SQL.ExecContext(ctx, `UPDATE reports SET status = ?, error = ?, rows = ?, finished_at = CASE WHEN ? IN ('DONE', 'FAILED') THEN ? END WHERE id = ?`,
			status, nullIfEmpty(errMsg), rows, status, at.UTC(), id)
		return err
	})
}

const reportColumns = `id, org_uuid, env_uuid, bot_uuid, spec, file_name, created_at, status, coalesce(error, ''), coalesce(rows, 0)`

func scanReport(r interface{ Scan(...any) error }) (Report, error) {
	var rep Report
	var spec string
	if err := r.Scan(&rep.ID, &rep.Tenant.Org, &rep.Tenant.Env, &rep.Tenant.Bot, &spec, &rep.FileName, &rep.CreatedAt,
		&rep.Status, &rep.Error, &rep.Rows); err != nil {
		return rep, err
	}
	rep.CreatedAt = rep.CreatedAt.UTC()
	err := json.Unmarshal([]byte(spec), &rep.Spec)
	return rep, err
}

// ListReports pages a bot's reports, newest first (ties by file name, descending).
func (w *Warehouse) ListReports(ctx context.Context, k TenantKey, offset, limit int) (int64, []Report, error) {
	var total int64
	if err := w.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM reports WHERE org_uuid = ? AND env_uuid = ? AND bot_uuid = ?`,
		k.Org, k.Env, k.Bot).Scan(&total); err != nil {
		return 0, nil, err
	}
	rows, err := w.db.SQL.QueryContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE org_uuid = ? AND env_uuid = ? AND bot_uuid = ?
		ORDER BY date_trunc('millisecond', created_at) DESC, file_name DESC LIMIT ? OFFSET ?`, k.Org, k.Env, k.Bot, limit, offset)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, r)
	}
	return total, out, rows.Err()
}

// GetReport returns a tenant's report, or nil.
func (w *Warehouse) GetReport(ctx context.Context, k TenantKey, id string) (*Report, error) {
	r, err := scanReport(w.db.SQL.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports
		WHERE id = ? AND org_uuid = ? AND env_uuid = ? AND bot_uuid = ?`, id, k.Org, k.Env, k.Bot))
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// UnfinishedReports lists PENDING and RUNNING reports, oldest first.
func (w *Warehouse) UnfinishedReports(ctx context.Context) ([]Report, error) {
	return w.queryReports(ctx, `SELECT `+reportColumns+` FROM reports WHERE status IN ('PENDING', 'RUNNING') ORDER BY created_at`)
}

// ReportsBefore lists the finished reports created before t.
func (w *Warehouse) ReportsBefore(ctx context.Context, t time.Time) ([]Report, error) {
	return w.queryReports(ctx, `SELECT `+reportColumns+` FROM reports WHERE status IN ('DONE', 'FAILED') AND created_at < ? ORDER BY created_at`, t.UTC())
}

// DeleteReport removes a report record.
func (w *Warehouse) DeleteReport(ctx context.Context, id string) error {
	return w.db.Write(ctx, func(ctx context.Context) error {
		_, err := w.db.SQL.ExecContext(ctx, `DELETE FROM reports WHERE id = ?`, id)
		return err
	})
}

func (w *Warehouse) queryReports(ctx context.Context, q string, args ...any) ([]Report, error) {
	rows, err := w.db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SessionExists reports whether the tenant has a conversation record or a message of
// the session.
func (w *Warehouse) SessionExists(ctx context.Context, k TenantKey, session string) (bool, error) {
	t, err := w.Details(ctx, k, session)
	return t != nil, err
}

// ColumnKind is how a report column is typed in files.
type ColumnKind int

const (
	ColString ColumnKind = iota
	ColInt
	ColFloat
	ColShare // a fraction 0..1 with 4 decimals (GROUPED_MESSAGES' understoodShare)
	ColBool
	ColTime
	ColList
)

// ReportColumn is one column of a report file.
type ReportColumn struct {
	Name string
	Expr string
	Kind ColumnKind
}

var channelCols = []ReportColumn{
	{"channelName", "coalesce(ch.name, f.channel_uuid)", ColString},
	{"channelType", "ch.channel_type_name", ColString},
}

// tenantOnly is the tenant filter of a joined table, as literals: each join then has a
// single key and a build side of one tenant's rows.
func tenantOnly(k TenantKey) string {
	return "org_uuid = " + duck.Literal(k.Org) + " AND env_uuid = " + duck.Literal(k.Env) + " AND bot_uuid = " + duck.Literal(k.Bot)
}

func channelJoin(k TenantKey) string {
	return " LEFT JOIN (SELECT channel_uuid, name, channel_type_name FROM channels WHERE " + tenantOnly(k) +
		") ch ON ch.channel_uuid = f.channel_uuid"
}

// messageJoins adds a page of messages' answers and business keys. The answers are
// read for the filter's time range only: message_at is the answered message's time.
// For a CSV the answers are joined as their cells already: strings hash and move
// through the join far cheaper than lists.
func messageJoins(f ListFilter, csv bool) string {
	answers := "answer_names, answer_texts, answer_buttons"
	if csv {
		answers = "array_to_string(answer_names, '; ') AS answer_names, array_to_string(answer_texts, '; ') AS answer_texts, " +
			"array_to_string(answer_buttons, '; ') AS answer_buttons"
	}
	return channelJoin(f.Tenant) +
		fmt.Sprintf(` LEFT JOIN (SELECT message_id, %s FROM message_answers
				WHERE %s AND message_at >= make_timestamp(%d::BIGINT)::TIMESTAMPTZ AND message_at < make_timestamp(%d::BIGINT)::TIMESTAMPTZ) a
				ON a.message_id = f.message_id`, answers, tenantOnly(f.Tenant), f.Start*calendar.HourMicros, f.End*calendar.HourMicros) +
		" LEFT JOIN (SELECT session_code, business_key FROM conversations WHERE " + tenantOnly(f.Tenant) + ") c ON c.session_code = f.session_code"
}

// reportQuery is the query of a report: its columns and rows in file order, typed, or
// formatted as the contract's CSV cells when csv is set.
func reportQuery(k TenantKey, s ReportSpec, csv bool) ([]ReportColumn, string, []any) {
	f := s.Filter
	f.Tenant = k
	switch s.Kind {
	case KindConversations:
		cols := []ReportColumn{
			{"sessionCode", "f.session_code", ColString}, {"businessKey", "f.business_key", ColString},
			{"userMessage", "f.user_message", ColString}, {"satisfaction", "f.satisfaction", ColInt},
			{"userMessages", "f.user_messages", ColInt}, {"flowsTravelled", "f.flows_travelled", ColInt},
			{"flowsTravelledNames", "f.flows_travelled_names", ColList}, {"conversationStartedAt", "f.started_at", ColTime},
			{"durationInSeconds", "f.duration_s", ColInt}}
		cols = append(append(cols, channelCols...), ReportColumn{"tags", "f.tags", ColList})
		src, args, outer := sampled(s, f, "conversation_facts", "started_at", "session_code", (*ListFilter).conversationWhere)
		q := "SELECT " + selectList(cols, csv) + " FROM " + src + " f" + channelJoin(k) + outer
		return cols, q, args
	case KindMessages:
		cols := []ReportColumn{
			{"messageId", "f.message_id", ColString}, {"messageText", "f.content", ColString},
			{"sessionCode", "f.session_code", ColString}, {"businessKey", "c.business_key", ColString},
			{"minimumConfidenceAchieved", "coalesce(f.minimum_confidence_achieved, false)", ColBool},
			{"confidence", "f.confidence", ColFloat},
			{"nlpResponses", "list_transform(coalesce(f.nlp_responses, []), r -> r.response_name)", ColList},
			{"answerNames", "coalesce(a.answer_names, [])", ColList}, {"answerTexts", "coalesce(a.answer_texts, [])", ColList},
			{"answerButtons", "coalesce(a.answer_buttons, [])", ColList}, {"deliveredAt", "f.created_at", ColTime}}
		if csv { // joined as cells (messageJoins)
			for i := 7; i <= 9; i++ {
				cols[i].Expr, cols[i].Kind = strings.Replace(cols[i].Expr, "[]", "''", 1), ColString
			}
		}
		cols = append(append(cols, channelCols...), ReportColumn{"tags", "coalesce(f.tags, [])", ColList})
		if s.split != nil { // the answers of the sample's hours only
			if s.Sampling == "LATEST" {
				f.Start = max(f.Start, s.split.hour)
			} else {
				f.End = min(f.End, s.split.hour+1)
			}
		}
		src, args, outer := sampled(s, f, "messages", "created_at", "message_id", (*ListFilter).messageWhere)
		q := "SELECT " + selectList(cols, csv) + " FROM " + src + " f" + messageJoins(f, csv) + outer
		return cols, q, args
	case KindGroupedMessages:
		cols := []ReportColumn{{"text", "text", ColString}, {"count", "count", ColInt}, {"understoodShare", "understood_share", ColShare},
			{"topIntent", "top_intent", ColString}, {"firstSeen", "first_seen", ColTime}, {"lastSeen", "last_seen", ColTime}}
		where, args := f.messageWhere()
		q := `WITH b AS (
				SELECT lower(regexp_replace(content, '^[\s\x{0B}\x{85}\p{Z}]+|[\s\x{0B}\x{85}\p{Z}]+$', '', 'g')) AS text,
					coalesce(minimum_confidence_achieved, false) AS understood, intent, created_at
				FROM messages WHERE ` + where + `),
			g AS (SELECT text, count(*) AS count, count(*) FILTER (WHERE understood) AS understood, min(created_at) AS first_seen,
					max(created_at) AS last_seen FROM b GROUP BY text),
			ti AS (SELECT text, intent FROM (SELECT text, intent, count(*) AS n FROM b WHERE intent IS NOT NULL AND intent <> '' GROUP BY ALL)
					QUALIFY row_number() OVER (PARTITION BY text ORDER BY n DESC, intent ASC) = 1)
			SELECT ` + selectList(cols, csv) + ` FROM (
				SELECT g.text, g.count, ((20000 * g.understood + g.count) // (2 * g.count)) / 10000.0 AS understood_share,
					ti.intent AS top_intent, g.first_seen, g.last_seen
				FROM g LEFT JOIN ti USING (text)) s ORDER BY s.count DESC, s.text ASC LIMIT ?`
		return cols, q, append(args, s.SampleSize)
	default: // KindConversationDetails
		cols := []ReportColumn{{"messageId", "message_id", ColString}, {"createdAt", "created_at", ColTime},
			{"sender", "direction", ColString}, {"type", "type", ColString}, {"content", "content", ColString},
			{"intent", "CASE WHEN direction = 'USER' AND intent <> '' THEN intent END", ColString},
			{"isNe", "direction = 'USER' AND NOT coalesce(minimum_confidence_achieved, false)", ColBool},
			{"entities", "CASE WHEN direction = 'USER' THEN coalesce(entities, []) ELSE [] END", ColList},
			{"buttons", "CASE WHEN direction = 'BOT' THEN list_transform(coalesce(buttons, []), b -> b.name) ELSE [] END", ColList}}
		q := "SELECT " + selectList(cols, csv) + " FROM messages WHERE "
		if s.span == nil { // no messages in session_lookup: nor in messages
			q += "org_uuid = ? AND env_uuid = ? AND bot_uuid = ? AND session_code = ?"
			return cols, q + " ORDER BY created_at, message_id", []any{k.Org, k.Env, k.Bot, s.SessionCode}
		}
		return cols, q + sessionMessages + " ORDER BY created_at, message_id", []any{k.Org, k.Env, k.Bot, s.SessionCode, s.span[0], s.span[1]}
	}
}

// randomOrder orders rows by a hash of their key and the seed: a different pseudo-random
// order per seed, the same for a seed. The seed goes into the hashed bytes: hash(key,
// seed) combines the two hashes by XOR, so every seed flipped the same bits of fixed row
// hashes and few samples could ever come out (13 of the 28 pairs of 8 rows, 200 seeds).
func randomOrder(key string, seed int64) string {
	return fmt.Sprintf("hash(concat(%s, '/', %d)), %s", key, seed, key)
}

// sampled is the FROM source of a sampled list report (rows before the joins that
// complete them) with its arguments, and the ORDER BY of the file: LATEST newest
// first, OLDEST oldest first, RANDOM a seeded uniform sample without replacement shown
// newest first, PAGE one page of the list (the Arrow answer of the list endpoints).
// A split LATEST/OLDEST sample is the rows beyond the split hour (a range scan, no
// sort) plus the first rows of that hour: one sort of the sample instead of two.
func sampled(s ReportSpec, f ListFilter, table, timeCol, tie string, where func(*ListFilter) (string, []any)) (string, []any, string) {
	scan := func(f ListFilter, tail string) (string, []any) {
		w, args := where(&f)
		return "SELECT * FROM " + table + " WHERE " + w + tail, args
	}
	switch {
	case s.Sampling == "PAGE":
		sorts := conversationSorts
		if tie == "message_id" {
			sorts = messageSorts
		}
		q, args := scan(f, " ORDER BY "+order(sorts[s.Filter.Sort], s.Filter.Desc, tie)+fmt.Sprintf(" LIMIT %d OFFSET %d", s.SampleSize, s.Filter.Offset))
		return "(" + q + ")", args, " ORDER BY " + order("f."+sorts[s.Filter.Sort], s.Filter.Desc, "f."+tie)
	case s.Sampling == "RANDOM":
		q, args := scan(f, " ORDER BY "+randomOrder(tie, s.Seed)+fmt.Sprintf(" LIMIT %d", s.SampleSize))
		return "(" + q + ")", args, " ORDER BY f." + timeCol + " DESC, f." + tie + " ASC"
	}
	dir := "DESC"
	if s.Sampling == "OLDEST" {
		dir = "ASC"
	}
	outer := " ORDER BY f." + timeCol + " " + dir + ", f." + tie + " ASC"
	if s.split == nil {
		q, args := scan(f, fmt.Sprintf(" ORDER BY %s %s, %s ASC LIMIT %d", timeCol, dir, tie, s.SampleSize))
		return "(" + q + ")", args, outer
	}
	beyond, edge := f, f
	if dir == "DESC" {
		beyond.Start, edge.Start, edge.End = s.split.hour+1, s.split.hour, s.split.hour+1
	} else {
		beyond.End, edge.Start, edge.End = s.split.hour, s.split.hour, s.split.hour+1
	}
	q1, a1 := scan(beyond, "")
	q2, a2 := scan(edge, fmt.Sprintf(" ORDER BY %s %s, %s ASC LIMIT %d", timeCol, dir, tie, s.split.take))
	return "(" + q1 + " UNION ALL (" + q2 + "))", append(a1, a2...), outer
}

// selectList is the select list of a report's columns; with csv, each cell formatted
// as the contract's CSV wants it (the COPY then only writes strings and times).
func selectList(cols []ReportColumn, csv bool) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		e := c.Expr
		switch {
		case csv:
			e = csvCell(c)
		case c.Kind == ColTime: // responses carry milliseconds (CONTRACT §7), the lake microseconds
			// date_trunc('millisecond', x) went through ICU: 3.0 s per 10M rows, this 0.2 s.
			e = "make_timestamptz(" + floorMicros(e, 1000) + ")"
		}
		parts[i] = e + " AS " + duck.Ident(c.Name)
	}
	return strings.Join(parts, ", ")
}

// floatCell writes a double as Go's strconv 'f', -1 (the JSON answers) does. DuckDB's
// format('{}') (fmtlib) gives the shortest round-trip digits, as Go does, but in
// exponent form below 1e-4 and from 1e16 on (expanded into plain decimals here), and
// integers with a ".0".
func floatCell(x string) string {
	v := "format('{}', " + x + ")"
	sign := "CASE WHEN " + x + " < 0 THEN '-' ELSE '' END"
	mant := "replace(split_part(ltrim(" + v + ", '-'), 'e', 1), '.', '')" // the digits
	exp := "CAST(split_part(" + v + ", 'e', 2) AS INTEGER)"
	return "CASE WHEN suffix(" + v + ", '.0') THEN left(" + v + ", -2)" + // an integer: "1.0" is "1"
		" WHEN NOT contains(" + v + ", 'e') THEN " + v +
		" WHEN " + exp + " < 0 THEN " + sign + " || '0.' || repeat('0', -" + exp + " - 1) || " + mant +
		" ELSE " + sign + " || " + mant + " || repeat('0', " + exp + " - length(" + mant + ") + 1) END"
}

// csvCell formats a typed column as the contract's CSV cell: null empty, plain
// numbers, booleans true/false, times yyyy-MM-ddTHH:mm:ss.SSSZ, arrays joined by "; ".
func csvCell(c ReportColumn) string {
	x := c.Expr
	switch c.Kind {
	case ColInt, ColBool:
		return "CAST(" + x + " AS VARCHAR)"
	case ColFloat: // the JSON answer's digits: shortest round-trip, never an exponent
		return floatCell(x)
	case ColShare: // "a fraction 0..1 with 4 decimals": 0.5000, 1.0000
		return "printf('%.4f', " + x + ")"
	case ColTime: // a plain TIMESTAMP, written by COPY's TIMESTAMPFORMAT (strftime per cell costs 1 s per million)
		return "make_timestamp(epoch_us(" + x + "))"
	case ColList:
		return "array_to_string(" + x + ", '; ')"
	}
	return x
}

// narrow bounds what a report's query reads, from a cheap lookup in the report's read
// transaction. A LATEST or OLDEST sample is split at the hour that completes it, from
// one count per hour: the rows beyond that hour are all in the sample, so the sort that
// picks it and the joins that complete it see about sampleSize rows instead of the
// whole range. A conversation-details report reads the session within the span of its
// messages in session_lookup (one probe; sessionMessages): on the 10M-message year, a
// session of the large bot took 28-37 ms with the scan of its session codes and
// 5.4-5.8 ms with the span.
func narrow(ctx context.Context, tx *sql.Tx, k TenantKey, s ReportSpec) (ReportSpec, error) {
	if s.Kind == KindConversationDetails {
		var first, last sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT epoch_us(min(first_at)), epoch_us(max(last_at)) FROM session_lookup
			WHERE `+sessionProbe+` AND org_uuid = ? AND env_uuid = ? AND bot_uuid = ?`,
			s.SessionCode, s.SessionCode, k.Org, k.Env, k.Bot).Scan(&first, &last)
		if err != nil {
			return s, err
		}
		// Without messages (no row, or a conversation record alone) the query stays
		// unbounded and finds no rows.
		if first.Valid && last.Valid {
			s.span = &[2]int64{first.Int64, last.Int64}
		}
		return s, nil
	}
	if s.Sampling != "LATEST" && s.Sampling != "OLDEST" || s.SampleSize <= 0 {
		return s, nil
	}
	f := s.Filter
	f.Tenant = k
	var table, col, where string
	var args []any
	switch s.Kind {
	case KindMessages:
		table, col = "messages", "created_at"
		where, args = f.messageWhere()
	case KindConversations:
		table, col = "conversation_facts", "started_at"
		where, args = f.conversationWhere()
	default:
		return s, nil
	}
	dir := "DESC"
	if s.Sampling == "OLDEST" {
		dir = "ASC"
	}
	us := "epoch_us(" + col + ")"
	hour := fmt.Sprintf("(%s - (%s %% %d + %d) %% %d) // %d", us, us, calendar.HourMicros, calendar.HourMicros, calendar.HourMicros, calendar.HourMicros) // floor, also before 1970
	rows, err := tx.QueryContext(ctx, "SELECT "+hour+" AS h, count(*) FROM "+table+" WHERE "+where+" GROUP BY h ORDER BY h "+dir, args...)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	var seen int64
	for rows.Next() {
		var h, n int64
		if err := rows.Scan(&h, &n); err != nil {
			return s, err
		}
		if seen+n >= int64(s.SampleSize) {
			s.split = &sampleSplit{hour: h, take: int(int64(s.SampleSize) - seen)}
			break
		}
		seen += n
	}
	return s, rows.Err()
}

// ExportFile writes a report's rows with DuckDB's COPY (csv or parquet) to path. The
// split of the sample and the rows are read in one transaction: a rollup committing
// in between cannot change the sample's size.
func (w *Warehouse) ExportFile(ctx context.Context, r *Report, path string) (rows int64, err error) {
	err = w.readTx(ctx, func(tx *sql.Tx) error {
		spec, err := narrow(ctx, tx, r.Tenant, r.Spec)
		if err != nil {
			return err
		}
		_, q, args := reportQuery(r.Tenant, spec, r.Spec.Export != "parquet")
		var copySQL string
		switch r.Spec.Export {
		case "parquet":
			copySQL = "COPY (" + q + ") TO " + duck.Literal(path) + " (FORMAT parquet, COMPRESSION zstd)"
		default:
			copySQL = "COPY (" + q + ") TO " + duck.Literal(path) + " (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\r\\n', TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%gZ')"
		}
		res, err := tx.ExecContext(ctx, copySQL, args...)
		if err != nil {
			return err
		}
		rows, err = res.RowsAffected()
		return err
	})
	return rows, err
}

// ReportRows streams a report's typed rows (xlsx is written in Go from them), read in
// one transaction like ExportFile's.
func (w *Warehouse) ReportRows(ctx context.Context, r *Report, fn func(cols []ReportColumn, row []any) error) (n int64, err error) {
	err = w.readTx(ctx, func(tx *sql.Tx) error {
		spec, err := narrow(ctx, tx, r.Tenant, r.Spec)
		if err != nil {
			return err
		}
		cols, q, args := reportQuery(r.Tenant, spec, false)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if err := fn(cols, vals); err != nil {
				return err
			}
			n++
		}
		return rows.Err()
	})
	return n, err
}

// ReportColumns are the columns of a report kind, in file order.
func ReportColumns(kind string) []ReportColumn {
	cols, _, _ := reportQuery(TenantKey{}, ReportSpec{Kind: kind}, false)
	return cols
}

// ListPageSQL is a list's page as typed report columns (the Arrow answer of the list
// endpoints): the same filter and order as the JSON list.
func ListPageSQL(kind string, f ListFilter) (string, []any) {
	_, q, args := reportQuery(f.Tenant, ReportSpec{Kind: kind, Filter: f, Sampling: "PAGE", SampleSize: f.Max}, false)
	return q, args
}
