package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dashboard-analytics/dashboard/api"
	"github.com/dashboard-analytics/dashboard/jobs"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

const (
	exTenantA = "/org/940eee3c-ba6f-475c-ae84-496e7857dd86/env/b938451e-e325-4aa6-b340-6bc44dc2a627/bot/c2354e2b-b774-4a63-81d8-fac168fb90d7"
	exTenantB = "/org/a2da95a8-3ec3-4dd6-887e-840043e58844/env/5aab0a37-7f90-4de7-bc38-d756d0055979/bot/9d9b532a-ba4e-4c36-86ff-0de26a769806"
)

type reportServer struct {
	*dataset
	url   string
	queue *jobs.ReportQueue
}

func newReportServer(t *testing.T) *reportServer {
	t.Helper()
	ds := newDataset(t, filepath.Join(examplesDir, "landing"))
	srv := api.New(ds.wh, api.Config{MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000, NoAuth: true}, nil)
	q := jobs.NewReportQueue(ds.wh, filepath.Join(ds.dir, "reports"), 2, nil, nil)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop(context.Background()) })
	srv.SetReports(q)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &reportServer{dataset: ds, url: hs.URL, queue: q}
}

func (rs *reportServer) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, rs.url+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type reportItem struct {
	FileName, CreatedAt, FileURL, ReportType, Status string
	Error                                            *string
}

// waitReports polls reports/list until every report is finished.
func (rs *reportServer) waitReports(t *testing.T, tenant string, n int) []reportItem {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		code, b := rs.do(t, "GET", tenant+"/reports/list?size=100", "")
		if code != 200 {
			t.Fatalf("reports/list: %d %s", code, b)
		}
		var page struct{ Content []reportItem }
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, r := range page.Content {
			if r.Status == "DONE" || r.Status == "FAILED" {
				done++
			}
		}
		if len(page.Content) >= n && done == len(page.Content) {
			return page.Content
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("reports did not finish")
	return nil
}

func (rs *reportServer) download(t *testing.T, url string) (http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(rs.url + url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("download %s: %d %s", url, resp.StatusCode, b)
	}
	return resp.Header, b
}

func parseCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not RFC 4180 CSV: %v", err)
	}
	return rows
}

// listAll returns every row of a list endpoint (pages of 100) as generic JSON.
func (rs *reportServer) listAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	var all []map[string]any
	for page := 1; ; page++ {
		code, b := rs.do(t, "GET", fmt.Sprintf("%s&size=100&page=%d", path, page), "")
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, b)
		}
		var p struct {
			Content []map[string]any
			Last    bool
		}
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Content...)
		if p.Last || len(p.Content) == 0 {
			return all
		}
	}
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if m, ok := e.(map[string]any); ok {
				parts[i] = fmt.Sprint(m["responseName"])
			} else {
				parts[i] = fmt.Sprint(e)
			}
		}
		return strings.Join(parts, "; ")
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.15f", x), "0"), ".")
	default:
		return fmt.Sprint(x)
	}
}

// TestReportsEndToEnd: request → poll the list → download → parse → the rows equal the
// list endpoint's rows for the same filters.
func TestReportsEndToEnd(t *testing.T) {
	rs := newReportServer(t)
	const rng = `"startDate":"2025-11-01","endDate":"2026-02-28"`
	reqs := []struct{ path, body string }{
		{"/conversations/request_report", `{` + rng + `,"reportType":"LATEST","sampleSize":10000}`},
		{"/messages/request_report", `{` + rng + `,"reportType":"OLDEST","sampleSize":10000,"filterField":"intent","filterTerm":"SAUDACAO"}`},
		{"/messages/request_report", `{` + rng + `,"reportType":"RANDOM","sampleSize":25}`},
		{"/messages/request_report", `{` + rng + `,"reportType":"GROUPED","sampleSize":10000}`},
		{"/conversations/request_report", `{` + rng + `,"reportType":"LATEST","sampleSize":7.0,"startHour":0e0,"exportType":"XLSX"}`},
		{"/conversations/details/request_report?sessionCode=fb-jCZyhW8dc", ``},
		{"/messages/request_report", `{` + rng + `,"reportType":"latest","sampleSize":5,"exportType":"parquet"}`},
	}
	for _, r := range reqs {
		if code, b := rs.do(t, "POST", exTenantA+r.path, r.body); code != 202 || len(b) != 0 {
			t.Fatalf("POST %s: %d %q, want 202 and no body", r.path, code, b)
		}
	}
	items := rs.waitReports(t, exTenantA, len(reqs))
	byName := map[string]reportItem{}
	for i, it := range items {
		if it.Status != "DONE" {
			t.Fatalf("report %s: %s %v", it.FileName, it.Status, it.Error)
		}
		if i > 0 && items[i-1].CreatedAt < it.CreatedAt {
			t.Errorf("reports/list is not newest first: %s before %s", items[i-1].CreatedAt, it.CreatedAt)
		}
		byName[it.ReportType+"/"+it.FileName[strings.LastIndex(it.FileName, ".")+1:]+"/"+fmt.Sprint(i)] = it
	}
	// The list is newest first: items[len-1] is the first request.
	convCSV := items[len(items)-1]
	h, b := rs.download(t, convCSV.FileURL)
	if !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(h.Get("Content-Disposition"), convCSV.FileName) {
		t.Errorf("download headers: %v", h)
	}
	rows := parseCSV(t, b)
	// RFC 4180: every record ends with CRLF (a line break inside a quoted cell is data).
	if header, _, _ := bytes.Cut(b, []byte("\n")); !bytes.HasSuffix(header, []byte("\r")) || !bytes.HasSuffix(b, []byte("\r\n")) ||
		bytes.Count(b, []byte("\r\n")) < len(rows) {
		t.Errorf("CSV records do not end with CRLF: %q", b[:min(len(b), 300)])
	}
	wantHeader := "sessionCode,businessKey,userMessage,satisfaction,userMessages,flowsTravelled,flowsTravelledNames,conversationStartedAt,durationInSeconds,channelName,channelType,tags"
	if strings.Join(rows[0], ",") != wantHeader {
		t.Fatalf("conversations header %v", rows[0])
	}
	list := rs.listAll(t, exTenantA+"/conversations/list?startDate=2025-11-01&endDate=2026-02-28")
	if len(rows)-1 != len(list) {
		t.Fatalf("conversations report has %d rows, the list %d", len(rows)-1, len(list))
	}
	for i, row := range list {
		ch := row["channel"].(map[string]any)
		chType := ""
		if ct, ok := ch["channelType"].(map[string]any); ok {
			chType = ct["name"].(string)
		}
		want := []string{cell(row["sessionCode"]), cell(row["businessKey"]), cell(row["userMessage"]), cell(row["satisfaction"]),
			cell(row["userMessages"]), cell(row["flowsTravelled"]), cell(row["flowsTravelledNames"]), cell(row["conversationStartedAt"]),
			cell(row["durationInSeconds"]), cell(ch["name"]), chType, cell(row["tags"])}
		if strings.Join(rows[i+1], "|") != strings.Join(want, "|") {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i+1], want)
		}
	}

	// Messages filtered by intent, OLDEST: the list's rows in ascending time.
	msgCSV := items[len(items)-2]
	_, b = rs.download(t, msgCSV.FileURL)
	rows = parseCSV(t, b)
	mlist := rs.listAll(t, exTenantA+"/messages/list?startDate=2025-11-01&endDate=2026-02-28&searchBy=INTENT&searchTerm=saudacao&order=ASC")
	if len(rows)-1 != len(mlist) || len(mlist) == 0 {
		t.Fatalf("messages report has %d rows, the list %d", len(rows)-1, len(mlist))
	}
	for i, row := range mlist {
		if rows[i+1][0] != row["messageId"] || rows[i+1][10] != row["deliveredAt"] || rows[i+1][7] != cell(row["answerNames"]) ||
			rows[i+1][9] != cell(row["answerButtons"]) || rows[i+1][6] != cell(row["nlpResponses"]) || rows[i+1][5] != cell(row["confidence"]) {
			t.Errorf("message row %d: %q vs %v", i, rows[i+1], row)
		}
	}

	// RANDOM: the right size, no repeats, all from the list.
	_, b = rs.download(t, items[len(items)-3].FileURL)
	rows = parseCSV(t, b)
	all := rs.listAll(t, exTenantA+"/messages/list?startDate=2025-11-01&endDate=2026-02-28")
	ids := map[string]bool{}
	for _, r := range all {
		ids[r["messageId"].(string)] = true
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if seen[r[0]] || !ids[r[0]] {
			t.Errorf("RANDOM row %s repeated or not in the list", r[0])
		}
		seen[r[0]] = true
	}
	if len(rows)-1 != 25 {
		t.Errorf("RANDOM has %d rows, want 25", len(rows)-1)
	}

	// GROUPED: counts add up to the messages of the range.
	_, b = rs.download(t, items[len(items)-4].FileURL)
	rows = parseCSV(t, b)
	if strings.Join(rows[0], ",") != "text,count,understoodShare,topIntent,firstSeen,lastSeen" {
		t.Fatalf("grouped header %v", rows[0])
	}
	total := 0
	for i, r := range rows[1:] {
		var n int
		fmt.Sscan(r[1], &n)
		total += n
		if r[0] != strings.ToLower(strings.TrimSpace(r[0])) {
			t.Errorf("grouped text %q is not trimmed and lower-cased", r[0])
		}
		if share := r[2]; len(share) != 6 || share[1] != '.' || share > "1.0000" || strings.Trim(share, "0123456789.") != "" {
			t.Errorf("grouped understoodShare %q is not a fraction 0..1 with 4 decimals", share)
		}
		if i > 0 {
			var prev int
			fmt.Sscan(rows[i][1], &prev)
			if prev < n || (prev == n && rows[i][0] > r[0]) {
				t.Errorf("grouped rows out of order at %d", i)
			}
		}
	}
	if total != len(all) {
		t.Errorf("grouped counts add up to %d, the list has %d", total, len(all))
	}

	// XLSX: excelize reads it back; 7 rows, numbers as numbers.
	xl := items[len(items)-5]
	h, b = rs.download(t, xl.FileURL)
	if h.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("xlsx content type %q", h.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("excelize cannot read the report: %v", err)
	}
	xrows, err := f.GetRows("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if len(xrows) != 8 || xrows[0][0] != "sessionCode" || xrows[1][0] != list[0]["sessionCode"] {
		t.Errorf("xlsx rows: %d, first %v", len(xrows), xrows[:min(2, len(xrows))])
	}
	if typ, _ := f.GetCellType("Sheet1", "E2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("userMessages cell type %v, want a number", typ)
	}

	// Details report.
	_, b = rs.download(t, items[len(items)-6].FileURL)
	rows = parseCSV(t, b)
	if strings.Join(rows[0], ",") != "messageId,createdAt,sender,type,content,intent,isNe,entities,buttons" || len(rows) < 3 {
		t.Errorf("details report: %v", rows)
	}
	// Its rows are the transcript's messages, first to last (the report reads them
	// within the session's span in session_lookup: an end left out shows here).
	code, b := rs.do(t, "GET", exTenantA+"/conversations/details?sessionCode=fb-jCZyhW8dc", "")
	var tr struct {
		Messages []struct{ MessageID, Sender, CreatedAt string }
	}
	if err := json.Unmarshal(b, &tr); code != 200 || err != nil {
		t.Fatalf("details: %d %s %v", code, b, err)
	}
	if len(rows)-1 != len(tr.Messages) {
		t.Fatalf("details report has %d rows, the transcript %d messages", len(rows)-1, len(tr.Messages))
	}
	for i, m := range tr.Messages {
		if r := rows[i+1]; r[0] != m.MessageID || r[1] != m.CreatedAt || r[2] != m.Sender {
			t.Errorf("details row %d: %q, transcript %+v", i, r, m)
		}
	}
}

// TestReportsTenantIsolationAndErrors: another tenant's file is a 404; bad bodies are 400s.
func TestReportsTenantIsolationAndErrors(t *testing.T) {
	rs := newReportServer(t)
	if code, _ := rs.do(t, "POST", exTenantA+"/conversations/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"OLDEST","sampleSize":3}`); code != 202 {
		t.Fatal(code)
	}
	items := rs.waitReports(t, exTenantA, 1)
	other := strings.Replace(items[0].FileURL, exTenantA, exTenantB, 1)
	if code, b := rs.do(t, "GET", other, ""); code != 404 {
		t.Errorf("another tenant's fileUrl: %d %s", code, b)
	}
	if code, b := rs.do(t, "GET", exTenantB+"/reports/list", ""); code != 200 || strings.Contains(string(b), items[0].FileName) {
		t.Errorf("tenant B sees A's report: %s", b)
	}
	// A session of tenant A asked under tenant B: 404.
	if code, _ := rs.do(t, "POST", exTenantB+"/conversations/details/request_report?sessionCode=fb-jCZyhW8dc", ""); code != 404 {
		t.Errorf("other tenant's session: %d", code)
	}
	// A session with messages but no conversation record: accepted.
	if code, _ := rs.do(t, "POST", exTenantA+"/conversations/details/request_report?sessionCode=web-eArM3D7KV", ""); code != 202 {
		t.Errorf("session without a conversation record: %d", code)
	}
	bad := []struct{ path, body, param string }{
		{"/conversations/request_report", `not json`, "body"},
		{"/conversations/request_report", `{"endDate":"2026-02-28","reportType":"LATEST"}`, "startDate"},
		{"/conversations/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"LATEST","sampleSize":0}`, "sampleSize"},
		{"/conversations/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"LATEST","sampleSize":10001}`, "sampleSize"},
		{"/conversations/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"GROUPED"}`, "reportType"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"SOME"}`, "reportType"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"LATEST","exportType":"pdf"}`, "exportType"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"LATEST","filterField":"FLOW","filterTerm":"x"}`, "filterField"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"LATEST","filterField":"INTENT"}`, "filterTerm"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","startHour":24,"reportType":"LATEST"}`, "startHour"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","endHour":"3","reportType":"LATEST"}`, "endHour"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","sampleSize":"10","reportType":"LATEST"}`, "sampleSize"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","sampleSize":2.5,"reportType":"LATEST"}`, "sampleSize"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","sampleSize":1e5,"reportType":"LATEST"}`, "sampleSize"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","sampleSize":99999999999999999999,"reportType":"LATEST"}`, "sampleSize"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","startHour":23.5,"reportType":"LATEST"}`, "startHour"},
		{"/messages/request_report", `{"startDate":"2025-11-01","endDate":"2026-02-28","channelUuids":"x","reportType":"LATEST"}`, "channelUuids"},
		{"/conversations/details/request_report", ``, "sessionCode"},
	}
	for _, c := range bad {
		code, b := rs.do(t, "POST", exTenantA+c.path, c.body)
		var e struct {
			Status               int
			Error, Message, Path string
		}
		json.Unmarshal(b, &e)
		if code != 400 || e.Error != "Bad Request" || !strings.HasPrefix(e.Message, c.param) {
			t.Errorf("%s %s: %d %s, want 400 naming %s", c.path, c.body, code, b, c.param)
		}
	}
}

// TestReportRestartAndFailure: a report left PENDING by a stopped process runs at the
// next start; a report that cannot be written is FAILED with a message.
func TestReportRestartAndFailure(t *testing.T) {
	ds := newDataset(t, filepath.Join(examplesDir, "landing"))
	ctx := context.Background()
	k := warehouse.TenantKey{Org: "940eee3c-ba6f-475c-ae84-496e7857dd86", Env: "b938451e-e325-4aa6-b340-6bc44dc2a627", Bot: "c2354e2b-b774-4a63-81d8-fac168fb90d7"}
	rep := &warehouse.Report{ID: "11111111-2222-4333-8444-555555555555", Tenant: k, CreatedAt: time.Now().UTC(), Status: "PENDING",
		FileName: "left-behind.csv", Spec: warehouse.ReportSpec{Kind: warehouse.KindConversationDetails, Export: "csv", SessionCode: "fb-jCZyhW8dc"}}
	if err := ds.wh.CreateReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	// The "restarted" process: a new queue picks it up.
	dir := filepath.Join(ds.dir, "reports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, rep.ID+".csv.tmp"), []byte("half"), 0o644) // a killed writer's leftover
	q := jobs.NewReportQueue(ds.wh, dir, 1, nil, nil)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := ds.wh.GetReport(ctx, k, rep.ID)
		if r.Status == "DONE" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left-behind report: %s %s", r.Status, r.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b, err := os.ReadFile(filepath.Join(dir, rep.ID+".csv")); err != nil || !bytes.HasPrefix(b, []byte("messageId,")) {
		t.Fatalf("file: %v %q", err, b)
	}
	if _, err := os.Stat(filepath.Join(dir, rep.ID+".csv.tmp")); !os.IsNotExist(err) {
		t.Errorf("the half-written file is still there")
	}
	// A queue whose directory is gone (a file in its place): FAILED, with the error.
	blockedDir := filepath.Join(ds.dir, "reports-blocked")
	bad := jobs.NewReportQueue(ds.wh, blockedDir, 1, nil, nil)
	if err := bad.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer bad.Stop(ctx)
	os.RemoveAll(blockedDir)
	os.WriteFile(blockedDir, []byte("not a directory"), 0o644)
	rep2 := *rep
	rep2.ID, rep2.FileName = "11111111-2222-4333-8444-666666666666", "cannot.csv"
	if err := ds.wh.CreateReport(ctx, &rep2); err != nil {
		t.Fatal(err)
	}
	bad.Submit(rep2.ID, k)
	deadline = time.Now().Add(10 * time.Second)
	for {
		r, _ := ds.wh.GetReport(ctx, k, rep2.ID)
		if r.Status == "FAILED" && r.Error != "" {
			break
		}
		if r.Status == "DONE" || time.Now().After(deadline) {
			t.Fatalf("unwritable report: %s %q", r.Status, r.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
