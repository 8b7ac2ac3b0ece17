package api

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// FuzzReportBody feeds arbitrary bodies to the request_report parser: it never panics,
// and it either accepts a body with a valid range and sample size or names what is wrong.
func FuzzReportBody(f *testing.F) {
	for _, s := range []string{
		`{"startDate":"2025-07-01","endDate":"2025-07-31","reportType":"RANDOM","sampleSize":10}`,
		`{"startDate":"2025-07-01T00:00:00.000Z","endDate":"2025-07-31T23:59:59.999-03:00","startHour":22,"endHour":3,"channelUuids":" ,A2DA95A8-3EC3-4DD6-887E-840043E58844,","reportType":"grouped","filterField":"question","filterTerm":"%_'","exportType":"XLSX"}`,
		`{"startDate":null}`, `[]`, `{}`, ``, `{"sampleSize":1e3}`, `{"startHour":"1"}`, `{"startDate":"2025-07-01","endDate":"2025-07-01"}{}`,
	} {
		f.Add(s)
	}
	s := &Server{cfg: Config{MaxRangeDays: 366, MaxPageSize: 100, MaxSample: 10000}}
	k := warehouse.TenantKey{Org: "o", Env: "e", Bot: "b"}
	f.Fuzz(func(t *testing.T, body string) {
		for _, kind := range []string{warehouse.KindConversations, warehouse.KindMessages} {
			r := httptest.NewRequest("POST", "/x", bytes.NewReader([]byte(body)))
			r = r.WithContext(context.WithValue(r.Context(), tenantKey, k))
			spec, err := s.parseReportBody(r, kind, messageSearch, []string{"RANDOM", "LATEST", "OLDEST", "GROUPED"})
			if err != nil {
				var pe *paramError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), ": ") {
					t.Fatalf("%q: error %v does not name a parameter", body, err)
				}
				continue
			}
			if spec.Filter.Start >= spec.Filter.End || spec.SampleSize < 1 || spec.SampleSize > 10000 {
				t.Fatalf("%q accepted with range %d..%d, sample %d", body, spec.Filter.Start, spec.Filter.End, spec.SampleSize)
			}
			if spec.Export != "csv" && spec.Export != "xlsx" && spec.Export != "parquet" {
				t.Fatalf("%q accepted with export %q", body, spec.Export)
			}
		}
	})
}
