package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/dashboard-analytics/dashboard/etl"
	"github.com/dashboard-analytics/dashboard/warehouse"
)

// TestXLSXPastTheSheetLimit: past a sheet's row limit the rows go on in the next sheet,
// each with the header, none lost or repeated, in list order (the limit lowered to 4
// rows, header included).
func TestXLSXPastTheSheetLimit(t *testing.T) {
	defer func(n int) { xlsxSheetRows = n }(xlsxSheetRows)
	xlsxSheetRows = 4
	dir := t.TempDir()
	var ids []string
	for i := range 10 {
		ids = append(ids, fmt.Sprintf("m-%02d", i))
	}
	landMessages(t, dir, "a.ndjson", ids...)
	ctx := context.Background()
	wh, k, f := loadDay(t, dir)
	for _, n := range []int{10, 9, 3, 0} {
		r := &warehouse.Report{ID: fmt.Sprintf("x%d", n), Tenant: k, Spec: warehouse.ReportSpec{Kind: warehouse.KindMessages, Export: "xlsx",
			Filter: f, SampleSize: max(n, 1), Sampling: "OLDEST"}}
		if n == 0 {
			r.Spec.Filter.Start, r.Spec.Filter.End = f.Start-48, f.Start-24 // a day without messages
		}
		path := filepath.Join(dir, r.ID+".xlsx")
		rows, err := writeXLSX(ctx, wh, r, path)
		if err != nil || rows != int64(n) {
			t.Fatalf("%d rows: wrote %d, %v", n, rows, err)
		}
		x, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wantSheets := max(1, (n+2)/3)
		if got := x.GetSheetList(); len(got) != wantSheets {
			t.Errorf("%d rows: sheets %v, want %d", n, got, wantSheets)
		}
		var seen []string
		for _, sh := range x.GetSheetList() {
			all, err := x.GetRows(sh)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) == 0 || all[0][0] != "messageId" || len(all) > xlsxSheetRows {
				t.Errorf("%d rows, %s: %d rows, header %v", n, sh, len(all), all[:min(1, len(all))])
				continue
			}
			for _, row := range all[1:] {
				seen = append(seen, row[0])
			}
		}
		if fmt.Sprint(seen) != fmt.Sprint(ids[:n]) {
			t.Errorf("%d rows: %v, want %v", n, seen, ids[:n])
		}
		x.Close()
	}
}

// TestXLSXLongCells: Excel holds at most 32,767 characters (UTF-16 code units) in a
// cell; a longer text is cut there (a surrogate pair is never split), the rest of the row
// intact. CSV and Parquet reports keep the whole text (README).
func TestXLSXLongCells(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("a", 40000) + "END"
	emoji := strings.Repeat("\U0001F600", 16384) // 32,768 code units: one pair too many
	var b []byte
	for i, content := range []string{long, emoji, "short"} {
		b = append(b, fmt.Sprintf(`{"kind":"message",%s,"messageId":"m-%d","sessionCode":"s1","channelUuid":"44444444-4444-4444-8444-444444444444","userId":"u1","direction":"USER","createdAt":"2026-01-05T10:00:0%dZ","content":%q,"type":"TEXT"}`+"\n",
			tenantLine, i, i, content)...)
	}
	if err := os.MkdirAll(filepath.Join(dir, "landing"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "landing", "a.ndjson"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	wh, k, f := loadDay(t, dir)
	r := &warehouse.Report{ID: "long", Tenant: k, Spec: warehouse.ReportSpec{Kind: warehouse.KindMessages, Export: "xlsx",
		Filter: f, SampleSize: 10, Sampling: "OLDEST"}}
	path := filepath.Join(dir, "long.xlsx")
	if n, err := writeXLSX(ctx, wh, r, path); err != nil || n != 3 {
		t.Fatalf("wrote %d rows, %v", n, err)
	}
	x, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows("Sheet1")
	if err != nil || len(rows) != 4 || rows[0][1] != "messageText" {
		t.Fatalf("rows %d, %v; header %v", len(rows), err, rows[:min(1, len(rows))])
	}
	want := map[string]string{"m-0": long[:32767], "m-1": strings.Repeat("\U0001F600", 16383), "m-2": "short"}
	for _, row := range rows[1:] {
		if len(row) < 3 {
			t.Fatalf("row %q: want messageId, messageText, sessionCode, …", row)
		}
		if row[1] != want[row[0]] {
			t.Errorf("%s: messageText of %d bytes (%d code units), want %d bytes", row[0], len(row[1]), len(utf16.Encode([]rune(row[1]))), len(want[row[0]]))
		}
		if row[2] != "s1" {
			t.Errorf("%s: sessionCode %q after the long text", row[0], row[2])
		}
	}
}

// loadDay extracts and rolls up dir's landing files; it returns the warehouse, the test
// tenant and a list filter of 2026-01-05, every hour.
func loadDay(t *testing.T, dir string) (*warehouse.Warehouse, warehouse.TenantKey, warehouse.ListFilter) {
	t.Helper()
	ctx := context.Background()
	if _, err := etl.Extract(ctx, etl.Options{LandingDir: filepath.Join(dir, "landing"), LakeDir: filepath.Join(dir, "lake"),
		QuarantineDir: filepath.Join(dir, "quarantine"), MemoryLimit: "1GB"}); err != nil {
		t.Fatal(err)
	}
	wh := openWarehouse(t, dir)
	if _, err := wh.Rollup(ctx, warehouse.RollupOptions{}); err != nil {
		t.Fatal(err)
	}
	k := warehouse.TenantKey{Org: "11111111-1111-4111-8111-111111111111", Env: "22222222-2222-4222-8222-222222222222", Bot: "33333333-3333-4333-8333-333333333333"}
	f := warehouse.ListFilter{Query: warehouse.Query{Tenant: k, Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Unix() / 3600}}
	f.End = f.Start + 24
	for h := range f.Mask {
		f.Mask[h] = true
	}
	return wh, k, f
}
