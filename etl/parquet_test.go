package etl

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

func TestUTCDay(t *testing.T) {
	const day = 86_400_000_000
	for _, c := range []struct {
		micros int64
		want   arrow.Date32
	}{
		{0, 0}, {day - 1, 0}, {day, 1}, {-1, -1}, {-day, -1}, {-day - 1, -2},
		{1_767_225_600_000_000, 20454}, // 2026-01-01T00:00:00Z
		{1_767_225_599_999_999, 20453}, // one microsecond before
	} {
		if got := utcDay(c.micros); got != c.want {
			t.Errorf("utcDay(%d) = %d, want %d", c.micros, got, c.want)
		}
	}
}

// daySlices must give every row that is not a loser exactly once, under its own day, in
// its batch order, whatever the mix of days and losers.
func TestDaySlices(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "source_file", Type: arrow.BinaryTypes.String},
		{Name: "source_line", Type: arrow.PrimitiveTypes.Int64},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32},
	}, nil)
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var recs []arrow.RecordBatch
		losers := map[string]map[int64]bool{}
		want := map[arrow.Date32][]string{}
		for bi := range 1 + rng.IntN(3) {
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			day := arrow.Date32(rng.IntN(3))
			for i := range rng.IntN(40) {
				if rng.IntN(4) == 0 { // days come in runs, sometimes alternate
					day = arrow.Date32(rng.IntN(3))
				}
				file := fmt.Sprintf("f%d", rng.IntN(2))
				line := int64(bi*1000 + i)
				b.Field(0).(*array.StringBuilder).Append(file)
				b.Field(1).(*array.Int64Builder).Append(line)
				b.Field(2).(*array.Date32Builder).Append(day)
				if rng.IntN(5) == 0 {
					if losers[file] == nil {
						losers[file] = map[int64]bool{}
					}
					losers[file][line] = true
				} else {
					want[day] = append(want[day], fmt.Sprintf("%s:%d", file, line))
				}
			}
			recs = append(recs, b.NewRecordBatch())
			b.Release()
		}
		got := map[arrow.Date32][]string{}
		byDay := daySlices(recs, losers)
		for d, slices := range byDay {
			for _, s := range slices {
				if s.NumRows() == 0 {
					t.Fatalf("seed %d: an empty slice", seed)
				}
				files := s.Column(0).(*array.String)
				lines := s.Column(1).(*array.Int64)
				days := s.Column(2).(*array.Date32)
				for i := 0; i < int(s.NumRows()); i++ {
					if days.Value(i) != d {
						t.Fatalf("seed %d: a row of day %d in the slices of day %d", seed, days.Value(i), d)
					}
					got[d] = append(got[d], fmt.Sprintf("%s:%d", files.Value(i), lines.Value(i)))
				}
			}
		}
		releaseDays(byDay)
		for _, r := range recs {
			r.Release()
		}
		for d := range 3 {
			d := arrow.Date32(d)
			if !slices.Equal(got[d], want[d]) {
				t.Fatalf("seed %d day %d:\n got %v\nwant %v", seed, d, got[d], want[d])
			}
		}
	}
}

// The partition files extract writes itself and the ones DuckDB writes (a partition
// rewritten for a late record, compaction) must show readers one schema: the same
// columns, physical and logical types and repetitions.
func TestLakeFilesMatchDuckDBsSchema(t *testing.T) {
	d := newDataDir(t)
	d.writeLines(t, "a.ndjson",
		msg("m1", "2026-01-05T10:00:00Z", "entities", []any{"a"}, "tags", []any{"t"}),
		line(botMessage(), "messageId", "r1", "createdAt", "2026-01-05T10:00:01Z"),
		conv("s1", "2026-01-05T10:00:00Z", "2026-01-05T10:00:00Z", "satisfaction", 4, "flows", []any{"F"}))
	d.extract(t)
	d.writeLines(t, "b.ndjson", msg("m2", "2026-01-05T11:00:00Z"), conv("s2", "2026-01-05T11:00:00Z", "2026-01-05T11:00:00Z"))
	d.extract(t)
	db := openDuck(t)
	ours := map[string]string{}
	for _, ds := range []string{MessagesDir, ConversationsDir} {
		files, _ := filepath.Glob(filepath.Join(d.lake, ds, "date=2026-01-05", "*.parquet"))
		if len(files) != 2 {
			t.Fatalf("%s: %d files, want one per extract", ds, len(files))
		}
		ours[ds] = filepath.Join(t.TempDir(), ds+".parquet")
		copyTree(t, files[0], ours[ds])
	}
	// Compaction rewrites the day's two files as one, with DuckDB.
	if _, err := Compact(context.Background(), d.lake, "1GB", nil); err != nil {
		t.Fatal(err)
	}
	for _, ds := range []string{MessagesDir, ConversationsDir} {
		theirs, _ := filepath.Glob(filepath.Join(d.lake, ds, "date=2026-01-05", "*.parquet"))
		if len(theirs) != 1 {
			t.Fatalf("%s: %d files after compaction", ds, len(theirs))
		}
		// Logical types are compared where DuckDB writes one (timestamps: UTC, micros);
		// arrow-go also annotates strings, lists and integers with the logical type
		// equal to their converted type, which readers treat alike.
		schema := func(f string) string {
			rows, err := db.SQL.Query(fmt.Sprintf(`SELECT name, coalesce(type, ''), coalesce(converted_type, ''), repetition_type,
				CASE WHEN converted_type LIKE 'TIMESTAMP%%' THEN logical_type ELSE '' END
				FROM parquet_schema(%s) WHERE name NOT IN ('schema', 'duckdb_schema')`, duck.Literal(f)))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var a, b, c, e, g string
				if err := rows.Scan(&a, &b, &c, &e, &g); err != nil {
					t.Fatal(err)
				}
				out = append(out, strings.Join([]string{a, b, c, e, g}, " "))
			}
			return strings.Join(out, "\n")
		}
		if got, want := schema(ours[ds]), schema(theirs[0]); got != want {
			t.Errorf("%s: the extract's file schema differs from the compacted file's (DuckDB):\n%s\n--- DuckDB:\n%s", ds, got, want)
		}
	}
}
