package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// ReportRunner runs recorded reports in the background (jobs.ReportQueue).
type ReportRunner interface {
	Submit(id string, k warehouse.TenantKey)
	FilePath(r *warehouse.Report) string
}

// SetReports connects the report runner; without one, report requests answer 503.
func (s *Server) SetReports(r ReportRunner) { s.reports = r }

func (s *Server) reportRoutes() []route {
	return []route{
		{"POST", tenantPrefix + "/conversations/request_report", "conversationsRequestReport", "Request a conversations report (202; written in the background)", s.requestConversationsReport, gateTenant, false},
		{"POST", tenantPrefix + "/messages/request_report", "messagesRequestReport", "Request a messages report (202; written in the background)", s.requestMessagesReport, gateTenant, false},
		{"POST", tenantPrefix + "/conversations/details/request_report", "conversationDetailsRequestReport", "Request a report of one conversation's messages", s.requestDetailsReport, gateTenant, false},
		{"GET", tenantPrefix + "/reports/list", "reportsList", "The bot's reports, newest first", s.reportsList, gateTenant, false},
		{"GET", tenantPrefix + "/reports/{reportId}/file", "reportFile", "Download a finished report file", s.reportFile, gateTenant, false},
	}
}

// reportBody is the JSON body of request_report (CONTRACT §5 and the seed).
type reportBody struct {
	StartDate   *string         `json:"startDate"`
	EndDate     *string         `json:"endDate"`
	StartHour   json.RawMessage `json:"startHour"`
	EndHour     json.RawMessage `json:"endHour"`
	ChannelUuid *string         `json:"channelUuids"`
	SampleSize  json.RawMessage `json:"sampleSize"`
	ReportType  *string         `json:"reportType"`
	FilterField *string         `json:"filterField"`
	FilterTerm  *string         `json:"filterTerm"`
	ExportType  *string         `json:"exportType"`
}

const maxBodyBytes = 64 << 10

// jsonInt reads an optional JSON integer field as the text parseHour expects. A number
// with an integral value is an integer (3.0 = 3 = 3e0, as Jackson and the log format read
// it); a JSON string holding digits is a wrong type, as in the log: the seed's bodies send
// numbers, and "3" and 3 must not mean one thing for startHour and another for sampleSize.
func jsonInt(name string, raw json.RawMessage) (*string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var n json.Number
	if raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return nil, badParam(name, "must be an integer, got "+string(raw))
	}
	v := n.String()
	if _, err := strconv.Atoi(v); err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, badParam(name, "must be an integer, got "+v)
		}
		v = strconv.FormatFloat(f, 'f', 0, 64)
	}
	return &v, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) parseReportBody(r *http.Request, kind string, searchBy []string, sampling []string) (warehouse.ReportSpec, error) {
	var spec warehouse.ReportSpec
	var b reportBody
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err := dec.Decode(&b); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return spec, badParam("body", fmt.Sprintf("larger than %d bytes", maxBodyBytes))
		}
		return spec, badParam("body", "not a valid JSON object: "+err.Error())
	}
	if dec.More() {
		return spec, badParam("body", "more than one JSON value")
	}
	in := rangeInput{startDate: b.StartDate, endDate: b.EndDate}
	var err error
	if in.startHour, err = jsonInt("startHour", b.StartHour); err != nil {
		return spec, err
	}
	if in.endHour, err = jsonInt("endHour", b.EndHour); err != nil {
		return spec, err
	}
	if b.ChannelUuid != nil {
		in.channels = []string{*b.ChannelUuid}
	}
	rg, err := s.parseRange(in)
	if err != nil {
		return spec, err
	}
	spec.Kind = kind
	spec.Filter.Query = rg.Query(tenantOf(r))
	spec.SampleSize = s.cfg.MaxSample
	size, err := jsonInt("sampleSize", b.SampleSize)
	if err != nil {
		return spec, err
	}
	if size != nil {
		n, err := strconv.Atoi(*size)
		if err != nil || n < 1 || n > s.cfg.MaxSample {
			return spec, badParam("sampleSize", fmt.Sprintf("must be an integer from 1 to %d (maxSample), got %s", s.cfg.MaxSample, string(b.SampleSize)))
		}
		spec.SampleSize = n
	}
	if b.ReportType == nil || *b.ReportType == "" {
		return spec, badParam("reportType", "required: one of "+strings.Join(sampling, ", "))
	}
	if spec.Sampling, err = enumParam("reportType", *b.ReportType, "", sampling...); err != nil {
		return spec, err
	}
	if spec.Sampling == "GROUPED" {
		spec.Kind = warehouse.KindGroupedMessages
	}
	if spec.Filter.SearchBy, err = enumParam("filterField", str(b.FilterField), "", searchBy...); err != nil {
		return spec, err
	}
	if spec.Filter.SearchBy != "" {
		if spec.Filter.Term = str(b.FilterTerm); spec.Filter.Term == "" {
			return spec, badParam("filterTerm", "required when filterField is given")
		}
	}
	if spec.Export, err = enumParam("exportType", str(b.ExportType), "csv", "csv", "xlsx", "parquet"); err != nil {
		return spec, err
	}
	spec.Export = strings.ToLower(spec.Export)
	return spec, nil
}

func (s *Server) requestConversationsReport(w http.ResponseWriter, r *http.Request) {
	spec, err := s.parseReportBody(r, warehouse.KindConversations, conversationSearch, []string{"RANDOM", "LATEST", "OLDEST"})
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	spec.Filter.Sort, spec.Filter.Desc = "conversationStartedAt", true
	s.submitReport(w, r, spec)
}

func (s *Server) requestMessagesReport(w http.ResponseWriter, r *http.Request) {
	spec, err := s.parseReportBody(r, warehouse.KindMessages, messageSearch, []string{"RANDOM", "LATEST", "OLDEST", "GROUPED"})
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	spec.Filter.Sort, spec.Filter.Desc = "deliveredAt", true
	s.submitReport(w, r, spec)
}

func (s *Server) requestDetailsReport(w http.ResponseWriter, r *http.Request) {
	session, err := sessionParam(r)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	var exists bool
	if !s.heavyQuery(w, r, func(ctx context.Context) (err error) {
		exists, err = s.wh.SessionExists(ctx, tenantOf(r), session)
		return err
	}) {
		return
	}
	if !exists {
		writeError(w, r, http.StatusNotFound, "sessionCode: no conversation "+strconv.Quote(session)+" for this bot")
		return
	}
	export, err := enumParam("exportType", r.URL.Query().Get("exportType"), "csv", "csv", "xlsx", "parquet")
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	s.submitReport(w, r, warehouse.ReportSpec{Kind: warehouse.KindConversationDetails, Export: strings.ToLower(export), SessionCode: session})
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) submitReport(w http.ResponseWriter, r *http.Request, spec warehouse.ReportSpec) {
	if s.reports == nil {
		w.Header().Set("Retry-After", "30")
		writeError(w, r, http.StatusServiceUnavailable, "reports are not running on this server")
		return
	}
	k := tenantOf(r)
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := newID()
	seed, _ := strconv.ParseInt(strings.ReplaceAll(id, "-", "")[:12], 16, 64)
	spec.Seed = seed
	rep := &warehouse.Report{ID: id, Tenant: k, Spec: spec, CreatedAt: now, Status: "PENDING",
		FileName: fmt.Sprintf("%s-%s-%s.%s", strings.ToLower(strings.ReplaceAll(spec.Kind, "_", "-")), now.Format("20060102-150405.000"), id[:8], spec.Export)}
	if err := s.wh.CreateReport(r.Context(), rep); err != nil {
		s.log.Error("record report", "err", err)
		writeError(w, r, http.StatusInternalServerError, "internal error")
		return
	}
	s.reports.Submit(id, k)
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) reportFileURL(k warehouse.TenantKey, id string) string {
	return fmt.Sprintf("/org/%s/env/%s/bot/%s/reports/%s/file", k.Org, k.Env, k.Bot, id)
}

func (s *Server) reportsList(w http.ResponseWriter, r *http.Request) {
	page, size, err := s.parsePage(r.URL.Query())
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	k := tenantOf(r)
	var total int64
	var reps []warehouse.Report
	if !s.heavyQuery(w, r, func(ctx context.Context) (err error) {
		total, reps, err = s.wh.ListReports(ctx, k, pageOffset(page.n, size), size)
		return err
	}) {
		return
	}
	var j jw
	j.pageOf(page, size, total, len(reps), func() {
		for i := range reps {
			rep := &reps[i]
			if i > 0 {
				j.byte(',')
			}
			j.raw(`{"fileName":`)
			j.str(rep.FileName)
			j.raw(`,"createdAt":`)
			j.time(rep.CreatedAt.UnixMicro())
			j.raw(`,"fileUrl":`)
			j.str(s.reportFileURL(k, rep.ID))
			j.raw(`,"reportType":`)
			j.str(rep.Spec.Kind)
			j.raw(`,"status":`)
			j.str(rep.Status)
			j.raw(`,"error":`)
			if rep.Status == "FAILED" {
				j.str(rep.Error)
			} else {
				j.null()
			}
			j.byte('}')
		}
	})
	writeJSON(w, http.StatusOK, j.b)
}

var contentTypes = map[string]string{
	"csv":     "text/csv; charset=utf-8",
	"xlsx":    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"parquet": "application/vnd.apache.parquet",
}

func (s *Server) reportFile(w http.ResponseWriter, r *http.Request) {
	k := tenantOf(r)
	id := mux.Vars(r)["reportId"]
	rep, err := s.wh.GetReport(r.Context(), k, id)
	if err != nil {
		s.log.Error("load report", "err", err)
		writeError(w, r, http.StatusInternalServerError, "internal error")
		return
	}
	if rep == nil || s.reports == nil {
		writeError(w, r, http.StatusNotFound, "reportId: no report "+strconv.Quote(id)+" for this bot")
		return
	}
	if rep.Status != "DONE" {
		writeError(w, r, http.StatusNotFound, "reportId: the report is "+rep.Status+", its file is not ready")
		return
	}
	f, err := os.Open(s.reports.FilePath(rep))
	if err != nil {
		writeError(w, r, http.StatusNotFound, "reportId: the report's file is gone")
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", contentTypes[rep.Spec.Export])
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, rep.FileName))
	info, _ := f.Stat()
	http.ServeContent(w, r, rep.FileName, info.ModTime(), f)
}
