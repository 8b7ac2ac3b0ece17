package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

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

const channelJoin = ` LEFT JOIN channels ch ON ch.org_uuid = f.org_uuid AND ch.env_uuid = f.env_uuid AND ch.bot_uuid = f.bot_uuid AND ch.channel_uuid = f.channel_uuid`

// reportQuery is the typed query of a report: its columns and rows in file order.
func reportQuery(k TenantKey, s ReportSpec) ([]ReportColumn, string, []any) {
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
		where, args := f.conversationWhere()
		inner, outer := sample(s, "started_at", "session_code")
		q := "SELECT " + selectList(cols) + " FROM (SELECT * FROM conversation_facts WHERE " + where + inner + ") f" + channelJoin + outer
		return cols, q, append(args, s.SampleSize)
	case KindMessages:
		cols := []ReportColumn{
			{"messageId", "f.message_id", ColString}, {"messageText", "f.content", ColString},
			{"sessionCode", "f.session_code", ColString}, {"businessKey", "c.business_key", ColString},
			{"minimumConfidenceAchieved", "coalesce(f.minimum_confidence_achieved, false)", ColBool},
			{"confidence", "f.confidence", ColFloat},
			{"nlpResponses", "list_transform(coalesce(f.nlp_responses, []), r -> r.response_name)", ColList},
			{"answerNames", "coalesce(a.answer_names, [])", ColList}, {"answerTexts", "coalesce(a.answer_texts, [])", ColList},
			{"answerButtons", "coalesce(a.answer_buttons, [])", ColList}, {"deliveredAt", "f.created_at", ColTime}}
		cols = append(append(cols, channelCols...), ReportColumn{"tags", "coalesce(f.tags, [])", ColList})
		where, args := f.messageWhere()
		inner, outer := sample(s, "created_at", "message_id")
		q := "SELECT " + selectList(cols) + " FROM (SELECT * FROM messages WHERE " + where + inner + ") f" + channelJoin +
			` LEFT JOIN message_answers a ON a.org_uuid = f.org_uuid AND a.env_uuid = f.env_uuid AND a.bot_uuid = f.bot_uuid AND a.message_id = f.message_id
			LEFT JOIN conversations c ON c.org_uuid = f.org_uuid AND c.env_uuid = f.env_uuid AND c.bot_uuid = f.bot_uuid AND c.session_code = f.session_code` + outer
		return cols, q, append(args, s.SampleSize)
	case KindGroupedMessages:
		cols := []ReportColumn{{"text", "text", ColString}, {"count", "count", ColInt}, {"understoodShare", "understood_share", ColFloat},
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
			SELECT ` + selectList(cols) + ` FROM (
				SELECT g.text, g.count, ((20000 * g.understood + g.count) // (2 * g.count)) / 10000.0 AS understood_share,
					ti.intent AS top_intent, g.first_seen, g.last_seen
				FROM g LEFT JOIN ti USING (text)) ORDER BY count DESC, text ASC LIMIT ?`
		return cols, q, append(args, s.SampleSize)
	default: // KindConversationDetails
		cols := []ReportColumn{{"messageId", "message_id", ColString}, {"createdAt", "created_at", ColTime},
			{"sender", "direction", ColString}, {"type", "type", ColString}, {"content", "content", ColString},
			{"intent", "CASE WHEN direction = 'USER' AND intent <> '' THEN intent END", ColString},
			{"isNe", "direction = 'USER' AND NOT coalesce(minimum_confidence_achieved, false)", ColBool},
			{"entities", "CASE WHEN direction = 'USER' THEN coalesce(entities, []) ELSE [] END", ColList},
			{"buttons", "CASE WHEN direction = 'BOT' THEN list_transform(coalesce(buttons, []), b -> b.name) ELSE [] END", ColList}}
		q := "SELECT " + selectList(cols) + ` FROM messages WHERE org_uuid = ? AND env_uuid = ? AND bot_uuid = ? AND session_code = ?
			ORDER BY created_at, message_id`
		return cols, q, []any{k.Org, k.Env, k.Bot, s.SessionCode}
	}
}

// sample returns the inner ORDER BY/LIMIT that picks the rows and the outer ORDER BY
// of the file: LATEST newest first, OLDEST oldest first, RANDOM a seeded uniform
// sample without replacement shown newest first. The LIMIT is the last parameter.
func sample(s ReportSpec, timeCol, tie string) (inner, outer string) {
	switch s.Sampling {
	case "PAGE":
		sorts := conversationSorts
		if tie == "message_id" {
			sorts = messageSorts
		}
		return " ORDER BY " + order(sorts[s.Filter.Sort], s.Filter.Desc, tie) + fmt.Sprintf(" LIMIT ? OFFSET %d", s.Filter.Offset),
			" ORDER BY " + order("f."+sorts[s.Filter.Sort], s.Filter.Desc, "f."+tie)
	case "OLDEST":
		return " ORDER BY " + timeCol + " ASC, " + tie + " ASC LIMIT ?", " ORDER BY f." + timeCol + " ASC, f." + tie + " ASC"
	case "RANDOM":
		return fmt.Sprintf(" ORDER BY hash(%s, %d), %s LIMIT ?", tie, s.Seed, tie), " ORDER BY f." + timeCol + " DESC, f." + tie + " ASC"
	default: // LATEST
		return " ORDER BY " + timeCol + " DESC, " + tie + " ASC LIMIT ?", " ORDER BY f." + timeCol + " DESC, f." + tie + " ASC"
	}
}

func selectList(cols []ReportColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c.Expr + " AS " + duck.Ident(c.Name)
	}
	return strings.Join(parts, ", ")
}

// csvList formats the typed columns as the contract's CSV cells: null empty, plain
// numbers, booleans true/false, times yyyy-MM-ddTHH:mm:ss.SSSZ, arrays joined by "; ".
func csvList(cols []ReportColumn) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		id := duck.Ident(c.Name)
		var e string
		switch c.Kind {
		case ColInt, ColBool:
			e = "CAST(" + id + " AS VARCHAR)"
		case ColFloat:
			e = "rtrim(rtrim(printf('%.15f', " + id + "), '0'), '.')"
		case ColTime:
			e = "strftime(" + id + ", '%Y-%m-%dT%H:%M:%S.%gZ')"
		case ColList:
			e = "array_to_string(" + id + ", '; ')"
		default:
			e = id
		}
		parts[i] = e + " AS " + id
	}
	return strings.Join(parts, ", ")
}

// ExportFile writes a report's rows with DuckDB's COPY (csv or parquet) to path.
func (w *Warehouse) ExportFile(ctx context.Context, r *Report, path string) (int64, error) {
	cols, q, args := reportQuery(r.Tenant, r.Spec)
	var copySQL string
	switch r.Spec.Export {
	case "parquet":
		copySQL = "COPY (" + q + ") TO " + duck.Literal(path) + " (FORMAT parquet, COMPRESSION zstd)"
	default:
		copySQL = "COPY (SELECT " + csvList(cols) + " FROM (" + q + ")) TO " + duck.Literal(path) + " (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"')"
	}
	res, err := w.db.SQL.ExecContext(ctx, copySQL, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ReportRows streams a report's typed rows (xlsx is written in Go from them).
func (w *Warehouse) ReportRows(ctx context.Context, r *Report, fn func(cols []ReportColumn, row []any) error) (int64, error) {
	cols, q, args := reportQuery(r.Tenant, r.Spec)
	rows, err := w.db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if err := fn(cols, vals); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// ReportColumns are the columns of a report kind, in file order.
func ReportColumns(kind string) []ReportColumn {
	cols, _, _ := reportQuery(TenantKey{}, ReportSpec{Kind: kind})
	return cols
}

// ListPageSQL is a list's page as typed report columns (the Arrow answer of the list
// endpoints): the same filter and order as the JSON list.
func ListPageSQL(kind string, f ListFilter) (string, []any) {
	_, q, args := reportQuery(f.Tenant, ReportSpec{Kind: kind, Filter: f, Sampling: "PAGE", SampleSize: f.Max})
	return q, args
}
