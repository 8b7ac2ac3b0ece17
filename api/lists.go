package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dashboard-analytics/dashboard/internal/duck"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

func (s *Server) listRoutes() []route {
	return []route{
		{"GET", tenantPrefix + "/conversations/list", "conversationsList", "Conversations started in the range: search, sort, page", s.conversationsList, gateTenant, true},
		{"GET", tenantPrefix + "/messages/list", "messagesList", "USER messages in the range: search, filter, sort, page", s.messagesList, gateTenant, true},
		{"GET", tenantPrefix + "/conversations/details", "conversationDetails", "A conversation's messages, USER and BOT", s.conversationDetails, gateTenant, true},
	}
}

var (
	conversationSearch = []string{"SESSION_CODE", "BUSINESS_KEY", "FLOW"}
	messageSearch      = []string{"SESSION_CODE", "QUESTION", "INTENT", "ENTITY", "DOCUMENT"}
	conversationSortBy = []string{"satisfaction", "userMessages", "flowsTravelled", "conversationStartedAt", "duration"}
	messageSortBy      = []string{"deliveredAt", "confidence"}
)

func extraQueryParams(route string) []any {
	paging := []any{qp("page", "integer", "page number, from 1 (default 1)", false), qp("size", "integer", "page size, 1..max-page-size (default 5)", false),
		qp("order", "string", "ASC or DESC (default DESC)", false)}
	switch route {
	case "conversationsList":
		return append(append(append([]any{}, rangeParams...), paging...),
			qp("searchBy", "string", strings.Join(conversationSearch, ", "), false), qp("searchTerm", "string", "the term searched", false),
			qp("sort", "string", strings.Join(conversationSortBy, ", ")+" (default conversationStartedAt)", false))
	case "messagesList":
		return append(append(append([]any{}, rangeParams...), paging...),
			qp("searchBy", "string", strings.Join(messageSearch, ", "), false), qp("searchTerm", "string", "the term searched", false),
			qp("sort", "string", strings.Join(messageSortBy, ", ")+" (default deliveredAt)", false),
			qp("nlpResponseFilters", "string", "comma list of FOUND, NONE, ALL (default ALL)", false))
	case "conversationDetails":
		return []any{qp("sessionCode", "string", "the conversation's session code", true)}
	case "conversationDetailsRequestReport":
		return []any{qp("sessionCode", "string", "the conversation's session code", true),
			qp("exportType", "string", "csv (default), xlsx or parquet", false)}
	case "reportsList":
		return []any{qp("page", "integer", "page number, from 1 (default 1)", false), qp("size", "integer", "page size, 1..max-page-size (default 5)", false)}
	case "adminJobs":
		return []any{qp("job", "string", "only the runs of this job (incremental, nightly, …)", false), qp("limit", "integer", "1..1000 (default 50)", false)}
	}
	return nil
}

// pageNo is a requested page number. A number past int's range is still a page ("page
// >= 1 … a page past the end is an empty page"): n saturates at math.MaxInt and digits
// keeps the number as sent (without a sign or leading zeros) for the answer to echo.
type pageNo struct {
	n      int
	digits string // set only when n saturated
}

// page reads page and size (defaults 1 and 5).
func (s *Server) parsePage(q url.Values) (page pageNo, size int, err error) {
	return parsePageCap(q, s.cfg.MaxPageSize)
}

func parsePageCap(q url.Values, maxSize int) (page pageNo, size int, err error) {
	page, size = pageNo{n: 1}, 5
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err == nil && n >= 1:
			page.n = n
		case errors.Is(err, strconv.ErrRange) && n > 0 && allDigits(strings.TrimPrefix(v, "+")): // beyond int
			// (Atoi reports the overflow before it reads a later non-digit.)
			page = pageNo{n: math.MaxInt, digits: strings.TrimLeft(strings.TrimPrefix(v, "+"), "0")}
		default:
			return pageNo{}, 0, badParam("page", fmt.Sprintf("must be an integer >= 1, got %q", v))
		}
	}
	if v := q.Get("size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > maxSize {
			return pageNo{}, 0, badParam("size", fmt.Sprintf("must be an integer from 1 to %d, got %q", maxSize, v))
		}
	}
	return page, size, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseList reads the parameters shared by both lists.
func (s *Server) parseList(r *http.Request, searchBy, sorts []string, defSort string) (warehouse.ListFilter, pageNo, int, error) {
	q := r.URL.Query()
	var f warehouse.ListFilter
	rg, err := s.parseRange(queryInput(q))
	if err != nil {
		return f, pageNo{}, 0, err
	}
	f.Query = rg.Query(tenantOf(r))
	if f.SearchBy, err = enumParam("searchBy", q.Get("searchBy"), "", searchBy...); err != nil {
		return f, pageNo{}, 0, err
	}
	if f.SearchBy != "" {
		f.Term = q.Get("searchTerm")
		if f.Term == "" {
			return f, pageNo{}, 0, badParam("searchTerm", "required when searchBy is given")
		}
		if !utf8.ValidString(f.Term) {
			return f, pageNo{}, 0, badParam("searchTerm", notUTF8)
		}
	}
	if f.Sort, err = enumParam("sort", q.Get("sort"), defSort, sorts...); err != nil {
		return f, pageNo{}, 0, err
	}
	ord, err := enumParam("order", q.Get("order"), "DESC", "ASC", "DESC")
	if err != nil {
		return f, pageNo{}, 0, err
	}
	f.Desc = ord == "DESC"
	maxSize := s.cfg.MaxPageSize
	if wantsArrow(r) {
		maxSize = arrowPageCap
	}
	page, size, err := parsePageCap(q, maxSize)
	if err != nil {
		return f, pageNo{}, 0, err
	}
	f.Offset, f.Max = pageOffset(page.n, size), size
	return f, page, size, nil
}

// pageOffset is (page-1)×size, or math.MaxInt when that does not fit: such a page lies
// past the end of any list, an empty page rather than a negative OFFSET (and a 500).
func pageOffset(page, size int) int {
	if page-1 > math.MaxInt/size {
		return math.MaxInt
	}
	return (page - 1) * size
}

// parseNLPFilters reads nlpResponseFilters: FOUND, NONE, ALL; both or ALL mean all.
func parseNLPFilters(v string) (string, error) {
	found, none := false, false
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		x, err := enumParam("nlpResponseFilters", e, "", "FOUND", "NONE", "ALL")
		if err != nil {
			return "", err
		}
		switch x {
		case "FOUND":
			found = true
		case "NONE":
			none = true
		case "ALL":
			found, none = true, true
		}
	}
	switch {
	case found && !none:
		return "FOUND", nil
	case none && !found:
		return "NONE", nil
	}
	return "", nil
}

// heavyQuery runs fn within the cap of concurrent heavy queries and maps driver errors
// to answers: cancelled or out of memory → 503 with Retry-After; anything else → 500
// without internals.
func (s *Server) heavyQuery(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context) error) bool {
	select {
	case s.heavy <- struct{}{}:
	case <-r.Context().Done():
		w.Header().Set("Retry-After", "1")
		writeError(w, r, http.StatusServiceUnavailable, "the server is busy: try again")
		return false
	}
	defer func() { <-s.heavy }()
	err := fn(r.Context())
	if err == nil {
		return true
	}
	switch {
	case duck.IsInterrupted(err) || errors.Is(r.Context().Err(), context.DeadlineExceeded):
		w.Header().Set("Retry-After", "1")
		writeError(w, r, http.StatusServiceUnavailable, "the query took longer than the request deadline: narrow the range or try again")
	case duck.IsOutOfMemory(err):
		w.Header().Set("Retry-After", "5")
		writeError(w, r, http.StatusServiceUnavailable, "the server is out of query memory: try again")
	default:
		s.log.Error("query failed", "path", r.URL.Path, "err", err)
		writeError(w, r, http.StatusInternalServerError, "internal error")
	}
	return false
}

func (j *jw) pageOf(page pageNo, size int, total int64, n int, content func()) {
	totalPages := (total + int64(size) - 1) / int64(size)
	number := func() {
		if page.digits != "" {
			j.raw(page.digits)
		} else {
			j.int(int64(page.n))
		}
	}
	j.raw(`{"content":[`)
	content()
	j.raw(`],"pageable":{"pageNumber":`)
	number()
	j.raw(`,"pageSize":`)
	j.int(int64(size))
	j.raw(`,"sort":{"sorted":true,"unsorted":false,"empty":false},"offset":`)
	switch {
	case page.digits != "":
		j.b = appendDecimalOffset(j.b, page.digits, size)
	case page.n-1 > math.MaxInt64/size: // past int64 too: the same decimal product
		j.b = appendDecimalOffset(j.b, strconv.Itoa(page.n), size)
	default:
		j.int(int64(page.n-1) * int64(size))
	}
	j.raw(`,"paged":true,"unpaged":false},"totalElements":`)
	j.int(total)
	j.raw(`,"totalPages":`)
	j.int(totalPages)
	j.raw(`,"last":`)
	j.bool(int64(page.n) >= totalPages) // a saturated page is past every end
	j.raw(`,"size":`)
	j.int(int64(size))
	j.raw(`,"number":`)
	number()
	j.raw(`,"sort":{"sorted":true,"unsorted":false,"empty":false},"numberOfElements":`)
	j.int(int64(n))
	j.raw(`,"first":`)
	j.bool(page.n == 1)
	j.raw(`,"empty":`)
	j.bool(n == 0)
	j.byte('}')
}

// appendDecimalOffset appends (page-1)×size for page, a decimal of any length (> 1, no
// leading zeros), in time linear in its digits: math/big's conversions are quadratic,
// and a request line may hold a page of a million digits.
func appendDecimalOffset(dst []byte, page string, size int) []byte {
	d := []byte(page)
	for i := len(d) - 1; i >= 0; i-- { // page - 1
		if d[i] != '0' {
			d[i]--
			break
		}
		d[i] = '9'
	}
	carry := 0
	for i := len(d) - 1; i >= 0; i-- { // × size, from the last digit
		v := int(d[i]-'0')*size + carry
		d[i], carry = byte('0'+v%10), v/10
	}
	head := strconv.AppendInt(nil, int64(carry), 10)
	if carry == 0 {
		head = nil
	}
	out := append(append(dst, head...), d...)
	// Leading zeros (page 10…0 - 1 = 09…9) go, but a lone 0 stays.
	start := len(dst)
	i := start
	for i < len(out)-1 && out[i] == '0' {
		i++
	}
	return append(out[:start], out[i:]...)
}

func (j *jw) strings(ss []string) {
	j.byte('[')
	for i, s := range ss {
		if i > 0 {
			j.byte(',')
		}
		j.str(s)
	}
	j.byte(']')
}

func (j *jw) channel(k warehouse.TenantKey, c *warehouse.Channel) {
	j.raw(`{"uuid":`)
	j.str(c.UUID)
	j.raw(`,"botUuid":`)
	j.str(k.Bot)
	j.raw(`,"name":`)
	j.str(c.Name)
	j.raw(`,"description":`)
	j.optString(c.Description)
	j.raw(`,"channelType":`)
	if t := c.Type; t != nil {
		j.raw(`{"id":`)
		j.int(int64(t.ID))
		j.raw(`,"name":`)
		j.str(t.Name)
		j.raw(`,"image":`)
		j.str(t.Image)
		j.raw(`,"channelClassification":{"id":`)
		j.int(int64(t.ClassID))
		j.raw(`,"name":`)
		j.str(t.ClassName)
		j.raw(`}}`)
	} else {
		j.null()
	}
	j.byte('}')
}

func (j *jw) nlpResponses(rs []warehouse.NLPResponse) {
	j.byte('[')
	for i, n := range rs {
		if i > 0 {
			j.byte(',')
		}
		j.raw(`{"responseType":`)
		j.str(n.ResponseType)
		j.raw(`,"paragraphNumber":`)
		j.int(n.ParagraphNumber)
		j.raw(`,"responseName":`)
		j.str(n.ResponseName)
		j.byte('}')
	}
	j.byte(']')
}

func (s *Server) conversationsList(w http.ResponseWriter, r *http.Request) {
	f, page, size, err := s.parseList(r, conversationSearch, conversationSortBy, "conversationStartedAt")
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	listPage(s, w, r, warehouse.KindConversations, f, page, size, s.wh.ListConversations, writeConversationRow)
}

func writeConversationRow(j *jw, snap *warehouse.Snapshot, k warehouse.TenantKey, c *warehouse.ConversationRow) {
	j.raw(`{"sessionCode":`)
	j.str(c.SessionCode)
	j.raw(`,"businessKey":`)
	j.optString(c.BusinessKey)
	j.raw(`,"userMessage":`)
	j.optString(c.UserMessage)
	j.raw(`,"satisfaction":`)
	if c.Satisfaction != nil {
		j.int(*c.Satisfaction)
	} else {
		j.null()
	}
	j.raw(`,"userMessages":`)
	j.int(c.UserMessages)
	j.raw(`,"flowsTravelled":`)
	j.int(c.FlowsTravelled)
	j.raw(`,"flowsTravelledNames":`)
	j.strings(c.FlowsTravelledNames)
	j.raw(`,"conversationStartedAt":`)
	j.time(c.StartedAt)
	j.raw(`,"durationInSeconds":`)
	j.int(c.DurationSeconds)
	j.raw(`,"channel":`)
	j.channel(k, snap.Channel(k, c.ChannelUUID))
	j.raw(`,"tags":`)
	j.strings(c.Tags)
	j.byte('}')
}

func (s *Server) messagesList(w http.ResponseWriter, r *http.Request) {
	f, page, size, err := s.parseList(r, messageSearch, messageSortBy, "deliveredAt")
	if err == nil {
		f.NLP, err = parseNLPFilters(strings.Join(r.URL.Query()["nlpResponseFilters"], ","))
	}
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	listPage(s, w, r, warehouse.KindMessages, f, page, size, s.wh.ListMessages, writeMessageRow)
}

func writeMessageRow(j *jw, snap *warehouse.Snapshot, k warehouse.TenantKey, m *warehouse.MessageRow) {
	j.raw(`{"messageId":`)
	j.str(m.MessageID)
	j.raw(`,"messageText":`)
	j.str(m.Text)
	j.raw(`,"sessionCode":`)
	j.str(m.SessionCode)
	j.raw(`,"businessKey":`)
	j.optString(m.BusinessKey)
	j.raw(`,"minimumConfidenceAchieved":`)
	j.bool(m.Understood)
	j.raw(`,"confidence":`)
	if m.Confidence != nil {
		j.float(*m.Confidence)
	} else {
		j.null()
	}
	j.raw(`,"nlpResponses":`)
	j.nlpResponses(m.NLPResponses)
	j.raw(`,"answerNames":`)
	j.strings(m.AnswerNames)
	j.raw(`,"answerTexts":`)
	j.strings(m.AnswerTexts)
	j.raw(`,"answerButtons":`)
	j.strings(m.AnswerButtons)
	j.raw(`,"deliveredAt":`)
	j.time(m.DeliveredAt)
	j.raw(`,"channel":`)
	j.channel(k, snap.Channel(k, m.ChannelUUID))
	j.raw(`,"tags":`)
	j.strings(m.Tags)
	j.byte('}')
}

// listPage answers one page of a list: the rows as JSON (Spring-style page), or as an
// Arrow stream when the client asks for one.
func listPage[R any](s *Server, w http.ResponseWriter, r *http.Request, kind string, f warehouse.ListFilter, page pageNo, size int,
	list func(context.Context, warehouse.ListFilter) (int64, []R, error),
	write func(*jw, *warehouse.Snapshot, warehouse.TenantKey, *R)) {
	if wantsArrow(r) {
		s.listArrow(w, r, kind, f)
		return
	}
	var total int64
	var rows []R
	if !s.heavyQuery(w, r, func(ctx context.Context) (err error) {
		total, rows, err = list(ctx, f)
		return err
	}) {
		return
	}
	snap, k := s.snapshotOf(r), tenantOf(r)
	// A message row is about 850 bytes of JSON, a conversation's 600: grown from
	// nothing, the buffer's copies cost a deep page's requests 1.9 s of 13.5 (pprof).
	j := jw{b: getBuf(512 + 1024*len(rows))}
	j.pageOf(page, size, total, len(rows), func() {
		for i := range rows {
			if i > 0 {
				j.byte(',')
			}
			write(&j, snap, k, &rows[i])
		}
	})
	writeJSON(w, http.StatusOK, j.b)
}

func (s *Server) conversationDetails(w http.ResponseWriter, r *http.Request) {
	session, err := sessionParam(r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	k := tenantOf(r)
	var t *warehouse.Transcript
	if !s.heavyQuery(w, r, func(ctx context.Context) (err error) {
		t, err = s.wh.Details(ctx, k, session)
		return err
	}) {
		return
	}
	if t == nil {
		writeError(w, r, http.StatusNotFound, "sessionCode: no conversation "+strconv.Quote(session)+" for this bot")
		return
	}
	snap := s.snapshotOf(r)
	j := jw{b: getBuf(512 + 512*len(t.Messages))}
	j.raw(`{"sessionCode":`)
	j.str(t.SessionCode)
	j.raw(`,"startedAt":`)
	j.time(t.StartedAt)
	j.raw(`,"channel":`)
	j.channel(k, snap.Channel(k, t.ChannelUUID))
	j.raw(`,"messages":[`)
	for i := range t.Messages {
		m := &t.Messages[i]
		if i > 0 {
			j.byte(',')
		}
		j.raw(`{"messageId":`)
		j.str(m.MessageID)
		j.raw(`,"content":`)
		j.str(m.Content)
		j.raw(`,"isNe":`)
		j.bool(m.User && !m.Understood)
		j.raw(`,"intent":`)
		j.optString(m.Intent)
		j.raw(`,"type":`)
		j.str(m.Type)
		j.raw(`,"buttons":[`)
		for b, bt := range m.Buttons {
			if b > 0 {
				j.byte(',')
			}
			j.raw(`{"name":`)
			j.str(bt.Name)
			j.raw(`,"value":`)
			j.optString(bt.Value)
			j.raw(`,"action":`)
			j.optString(bt.Action)
			j.byte('}')
		}
		j.raw(`],"entities":`)
		j.strings(m.Entities)
		j.raw(`,"nlpResponses":`)
		j.nlpResponses(m.NLPResponses)
		j.raw(`,"hasButton":`)
		j.bool(len(m.Buttons) > 0)
		j.raw(`,"createdAt":`)
		j.time(m.CreatedAt)
		j.raw(`,"sender":`)
		if m.User {
			j.raw(`"USER"`)
		} else {
			j.raw(`"BOT"`)
		}
		j.byte('}')
	}
	j.raw(`]}`)
	writeJSON(w, http.StatusOK, j.b)
}

// sessionParam is the sessionCode query parameter: required, UTF-8.
func sessionParam(r *http.Request) (string, error) {
	session := r.URL.Query().Get("sessionCode")
	if session == "" {
		return "", badParam("sessionCode", "required")
	}
	if !utf8.ValidString(session) {
		return "", badParam("sessionCode", notUTF8)
	}
	return session, nil
}
