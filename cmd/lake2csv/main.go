// Command lake2csv exports the Parquet lake to CSV files that PostgreSQL's COPY … (FORMAT csv,
// HEADER) reads as they are: messages.csv, conversations.csv and channels.csv. It exists for
// scripts/bench-pg.sh, which loads the same logs into PostgreSQL as raw tables.
//
//	lake2csv -lake DIR/lake -out DIR/pg-csv [-threads 2] [-memory-limit 2GB]
//
// Conventions of the output: times are UTC, written without a zone ("2025-07-01 13:04:05.123456")
// and meant for a session whose TimeZone is UTC; a NULL is an empty unquoted field and an empty
// string is "" (PostgreSQL's CSV rules); conversations.flows is a PostgreSQL text[] literal
// ({"a","b"}); NUL characters, which PostgreSQL text cannot hold, are dropped. Rows are written in
// time order, as an append-only table fed by the logs would hold them.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// utc turns a TIMESTAMP WITH TIME ZONE column into a zone-less UTC TIMESTAMP, whatever the
// session's TimeZone.
func utc(col string) string {
	return fmt.Sprintf("make_timestamp(epoch_us(%s)) AS %s", col, col)
}

// text drops NUL characters from a VARCHAR column.
func text(col string) string {
	return fmt.Sprintf("replace(%s, chr(0), '') AS %s", col, col)
}

type table struct {
	name    string
	glob    string // relative to the lake
	columns []string
	order   string
}

var tables = []table{
	{
		name: "messages",
		glob: "messages/*/*.parquet",
		columns: []string{
			"org_uuid", "env_uuid", "bot_uuid", "message_id", "session_code", "channel_uuid", "user_id",
			"direction", utc("created_at"), text("content"), "type", text("intent"), "confidence",
			"minimum_confidence_achieved",
		},
		order: "created_at, message_id",
	},
	{
		name: "conversations",
		glob: "conversations/*/*.parquet",
		columns: []string{
			"org_uuid", "env_uuid", "bot_uuid", "session_code", text("business_key"), "channel_uuid", "user_id",
			utc("started_at"), utc("ended_at"), "satisfaction",
			// text[] literal: every element double-quoted, with \ and " escaped.
			`CASE WHEN flows IS NULL THEN NULL ELSE '{' || array_to_string(list_transform(flows, ` +
				`lambda f: CASE WHEN f IS NULL THEN 'NULL' ELSE '"' || replace(replace(replace(f, chr(0), ''), '\', '\\'), '"', '\"') || '"' END), ',') || '}' END AS flows`,
		},
		order: "started_at, session_code",
	},
	{
		name: "channels",
		glob: "channels/*.parquet",
		columns: []string{
			"org_uuid", "env_uuid", "bot_uuid", "channel_uuid", text("name"), text("description"),
			"channel_type_id", "channel_type_name", "channel_type_image", "classification_id",
			"classification_name",
		},
		order: "org_uuid, env_uuid, bot_uuid, channel_uuid",
	},
}

// bare is a column's output name.
func bare(col string) string {
	if i := strings.LastIndex(col, " AS "); i >= 0 {
		return col[i+4:]
	}
	return col
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func main() {
	lake := flag.String("lake", "", "the lake directory (holding messages/, conversations/, channels/)")
	out := flag.String("out", "", "directory the CSV files are written to (created)")
	threads := flag.Int("threads", 2, "DuckDB threads")
	memLimit := flag.String("memory-limit", "2GB", "DuckDB memory limit")
	flag.Parse()
	if *lake == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*lake, *out, *threads, *memLimit); err != nil {
		fmt.Fprintln(os.Stderr, "lake2csv:", err)
		os.Exit(1)
	}
}

func run(lake, out string, threads int, memLimit string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database, one connection: the settings below stick
	for _, s := range []string{
		fmt.Sprintf("SET threads = %d", threads),
		"SET memory_limit = " + quote(memLimit),
		"SET temp_directory = " + quote(filepath.Join(out, ".duckdb-tmp")),
	} {
		if _, err := db.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	defer os.RemoveAll(filepath.Join(out, ".duckdb-tmp"))
	for _, t := range tables {
		t0 := time.Now()
		dst := filepath.Join(out, t.name+".csv")
		files, err := filepath.Glob(filepath.Join(lake, t.glob))
		if err != nil {
			return err
		}
		if len(files) == 0 {
			// No data: a header-only file, so that the load still works.
			names := make([]string, len(t.columns))
			for i, c := range t.columns {
				names[i] = bare(c)
			}
			if err := os.WriteFile(dst, []byte(strings.Join(names, ",")+"\n"), 0o644); err != nil {
				return err
			}
			fmt.Printf("%s: 0 rows (no files)\n", t.name)
			continue
		}
		src := fmt.Sprintf("read_parquet(%s, hive_partitioning = true, union_by_name = true)",
			quote(filepath.Join(lake, strings.Replace(t.glob, "/*/", "/**/", 1))))
		q := fmt.Sprintf("COPY (SELECT %s FROM %s ORDER BY %s) TO %s (FORMAT csv, HEADER)",
			strings.Join(t.columns, ", "), src, t.order, quote(dst))
		res, err := db.Exec(q)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		n, _ := res.RowsAffected()
		fmt.Printf("%s: %d rows in %.2f s\n", t.name, n, time.Since(t0).Seconds())
	}
	return nil
}
