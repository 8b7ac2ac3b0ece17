package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestInjectionStrings sends SQL and format injection strings through every text
// parameter: each answer is a 200 (matching nothing) or a 400 naming the parameter,
// never a 500, and the tables are intact afterwards.
func TestInjectionStrings(t *testing.T) {
	rs := newReportServer(t)
	evil := []string{`' OR '1'='1`, `'; DROP TABLE messages; --`, `" OR ""="`, `%`, `_`, `\`, `%' --`, "\x00", `{{fold:x}}`,
		`); DELETE FROM conversations; SELECT (`, `$1`, `?`, "ΟΔΟΣ'", strings.Repeat("A", 5000)}
	countRows := func() int64 {
		var n int64
		db := rs.wh.DB().SQL
		for _, tb := range []string{"messages", "conversations", "conversation_facts", "message_traffic"} {
			var c int64
			if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+tb).Scan(&c); err != nil {
				t.Fatalf("table %s: %v", tb, err)
			}
			n += c
		}
		return n
	}
	before := countRows()
	rng := "startDate=2025-11-01&endDate=2026-02-28"
	for _, e := range evil {
		q := url.QueryEscape(e)
		paths := []string{
			"/conversations/list?" + rng + "&searchBy=SESSION_CODE&searchTerm=" + q,
			"/conversations/list?" + rng + "&searchBy=BUSINESS_KEY&searchTerm=" + q,
			"/conversations/list?" + rng + "&searchBy=FLOW&searchTerm=" + q,
			"/messages/list?" + rng + "&searchBy=QUESTION&searchTerm=" + q,
			"/messages/list?" + rng + "&searchBy=INTENT&searchTerm=" + q,
			"/messages/list?" + rng + "&searchBy=ENTITY&searchTerm=" + q,
			"/messages/list?" + rng + "&searchBy=DOCUMENT&searchTerm=" + q,
			"/messages/list?" + rng + "&searchBy=SESSION_CODE&searchTerm=" + q,
			"/conversations/details?sessionCode=" + q,
			"/conversations/list?" + rng + "&sort=" + q,
			"/conversations/list?" + rng + "&order=" + q,
			"/messages/list?" + rng + "&nlpResponseFilters=" + q,
			"/dashboard/messages?" + rng + "&channelUuids=" + q,
			"/dashboard/messages?startDate=" + q + "&endDate=2026-01-01",
			"/dashboard/messages?" + rng + "&startHour=" + q,
			"/reports/list?page=" + q,
		}
		for _, p := range paths {
			code, b := rs.do(t, "GET", exTenantA+p, "")
			if code != http.StatusOK && code != http.StatusBadRequest && code != http.StatusNotFound {
				t.Errorf("GET %s: %d %s", p, code, b)
			}
		}
		body := `{"startDate":"2025-11-01","endDate":"2026-02-28","reportType":"LATEST","filterField":"QUESTION","filterTerm":` + jsonString(e) + `}`
		if code, b := rs.do(t, "POST", exTenantA+"/messages/request_report", body); code != http.StatusAccepted {
			t.Errorf("report with filterTerm %q: %d %s", e, code, b)
		}
	}
	items := rs.waitReports(t, exTenantA, len(evil))
	for _, it := range items {
		if it.Status != "DONE" {
			t.Errorf("report %s: %s %v", it.FileName, it.Status, it.Error)
		}
	}
	if after := countRows(); after != before {
		t.Fatalf("tables changed: %d rows before, %d after", before, after)
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
