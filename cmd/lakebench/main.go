// Command lakebench measures the "no precompute" alternative: the dashboard's questions
// answered at request time by DuckDB straight from the Parquet lake (hive-partitioned
// by day, so a range reads only its days). It prints requests/s and latency percentiles
// as JSON lines, like cmd/loadgen, for scripts/bench.sh.
//
// With -copy LANDING it measures instead the extract issue's reference: DuckDB's own
// COPY of the landing set's messages from gzip NDJSON to Parquet partitioned by day
// (read_ndjson with the message columns declared, no validation, no deduplication, no
// quarantine), and prints the rows written and the time.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/dashboard-analytics/dashboard/internal/loadstat"
)

// The questions, as a competent engineer would ask them of the raw rows: the range's
// hourly series plus the previous period's total, hour window and channel filter.
var questions = map[string]string{
	"conversations": `SELECT channel_uuid, date_trunc('hour', started_at) AS h, count(*) FROM conversations
		WHERE %[1]s AND started_at >= $s AND started_at < $e AND %[2]s GROUP BY ALL
		UNION ALL SELECT 'prev', NULL, count(*) FROM conversations WHERE %[3]s AND started_at >= $ps AND started_at < $s AND %[2]s`,
	"messages": `SELECT date_trunc('hour', created_at) AS h, count(*) FROM messages
		WHERE %[1]s AND direction = 'USER' AND created_at >= $s AND created_at < $e AND %[4]s GROUP BY ALL
		UNION ALL SELECT NULL, count(*) FROM messages WHERE %[3]s AND direction = 'USER' AND created_at >= $ps AND created_at < $s AND %[4]s`,
	"users": `SELECT date_trunc('day', created_at) AS d, count(DISTINCT user_id) FROM messages
		WHERE %[1]s AND direction = 'USER' AND created_at >= $s AND created_at < $e AND %[4]s GROUP BY ALL
		UNION ALL SELECT NULL, count(DISTINCT user_id) FROM messages WHERE %[1]s AND direction = 'USER' AND created_at >= $s AND created_at < $e AND %[4]s`,
	"accuracy": `SELECT count(*) FILTER (WHERE minimum_confidence_achieved) * 100.0 / count(*) FROM messages
		WHERE %[1]s AND direction = 'USER' AND created_at >= $s AND created_at < $e AND %[4]s
		UNION ALL SELECT count(*) FILTER (WHERE minimum_confidence_achieved) * 100.0 / count(*) FROM messages
		WHERE %[3]s AND direction = 'USER' AND created_at >= $ps AND created_at < $s AND %[4]s`,
	"intents": `SELECT channel_uuid, intent, count(*) FROM messages
		WHERE %[1]s AND direction = 'USER' AND intent <> '' AND created_at >= $s AND created_at < $e AND %[4]s GROUP BY ALL`,
}

func main() {
	lake := flag.String("lake", "data/lake", "lake directory")
	question := flag.String("q", "messages", "conversations, messages, users, accuracy or intents")
	days := flag.Int("days", 30, "range length in days")
	from := flag.String("from", "2026-01-01", "earliest start day")
	span := flag.Int("span", 300, "days after --from a range may start")
	conns := flag.Int("c", 32, "concurrent queries")
	dur := flag.Duration("d", 10*time.Second, "duration")
	bot := flag.String("bot", "a8a3385b-3db2-486b-963c-b5df91911239", "bot UUID")
	name := flag.String("name", "", "result name")
	copyFrom := flag.String("copy", "", "landing directory: time DuckDB's raw COPY of its messages to Parquet instead")
	copyTo := flag.String("out", "", "with -copy: output directory (replaced)")
	flag.Parse()
	if *copyFrom != "" {
		if err := rawCopy(*copyFrom, *copyTo); err != nil {
			fmt.Fprintln(os.Stderr, "lakebench:", err)
			os.Exit(1)
		}
		return
	}
	q, ok := questions[*question]
	if !ok {
		fmt.Fprintln(os.Stderr, "lakebench: unknown question", *question)
		os.Exit(2)
	}
	start0, err := time.Parse("2006-01-02", *from)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lakebench: --from:", err)
		os.Exit(2)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "lakebench:", err)
		os.Exit(1)
	}
	db.SetMaxOpenConns(*conns)
	ctx := context.Background()
	for _, s := range []string{"SET TimeZone='UTC'", "SET threads=2",
		fmt.Sprintf(`CREATE VIEW messages AS SELECT * FROM read_parquet('%s/messages/*/*.parquet', hive_partitioning = true)`, *lake),
		fmt.Sprintf(`CREATE VIEW conversations AS SELECT * FROM read_parquet('%s/conversations/*/*.parquet', hive_partitioning = true)`, *lake)} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			fmt.Fprintln(os.Stderr, "lakebench:", err)
			os.Exit(1)
		}
	}
	if *name == "" {
		*name = *question
	}
	r := loadstat.Run(*name, *conns, *dur, func(c int) func() (int64, error) {
		rng := rand.New(rand.NewPCG(1, uint64(c)))
		return func() (int64, error) {
			s := start0.AddDate(0, 0, rng.IntN(*span+1))
			e := s.AddDate(0, 0, *days)
			ps := s.AddDate(0, 0, -*days)
			hours := "true"
			if rng.IntN(2) == 0 {
				sh, eh := rng.IntN(24), rng.IntN(24)
				op := "AND"
				if sh > eh {
					op = "OR"
				}
				hours = fmt.Sprintf("(hour(%%s) >= %d %s hour(%%s) <= %d)", sh, op, eh)
			}
			day := func(a, b time.Time) string {
				return fmt.Sprintf(`bot_uuid = '%s' AND "date" >= DATE '%s' AND "date" <= DATE '%s'`, *bot, a.Format("2006-01-02"), b.Format("2006-01-02"))
			}
			convHours, msgHours := fmt.Sprintf(hours, "started_at", "started_at"), fmt.Sprintf(hours, "created_at", "created_at")
			if hours == "true" {
				convHours, msgHours = "true", "true"
			}
			text := fmt.Sprintf(q, day(s, e), convHours, day(ps, s), msgHours)
			for _, p := range []struct{ k, v string }{{"$ps", ps.Format(time.RFC3339)}, {"$s", s.Format(time.RFC3339)}, {"$e", e.Format(time.RFC3339)}} {
				text = strings.ReplaceAll(text, p.k, "TIMESTAMPTZ '"+p.v+"'")
			}
			rows, err := db.QueryContext(ctx, text)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 0, err
			}
			for rows.Next() {
			}
			return 0, rows.Close()
		}
	})
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

// messageColumns declares the message fields of log format v1 for read_ndjson.
const messageColumns = `{kind: 'VARCHAR', orgUuid: 'VARCHAR', envUuid: 'VARCHAR', botUuid: 'VARCHAR',
	messageId: 'VARCHAR', sessionCode: 'VARCHAR', channelUuid: 'VARCHAR', userId: 'VARCHAR', direction: 'VARCHAR',
	createdAt: 'TIMESTAMPTZ', content: 'VARCHAR', type: 'VARCHAR', intent: 'VARCHAR', confidence: 'DOUBLE',
	minimumConfidenceAchieved: 'BOOLEAN', entities: 'VARCHAR[]',
	nlpResponses: 'STRUCT(responseType VARCHAR, paragraphNumber INTEGER, responseName VARCHAR)[]',
	replyTo: 'VARCHAR', answerName: 'VARCHAR', buttons: 'STRUCT(name VARCHAR, value VARCHAR, action VARCHAR)[]',
	flow: 'VARCHAR', tags: 'VARCHAR[]'}`

// rawCopy runs DuckDB's COPY of the messages of landing/*.ndjson.gz into out.
func rawCopy(landing, out string) error {
	if out == "" {
		return fmt.Errorf("-copy needs -out")
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "SET TimeZone='UTC'"); err != nil {
		return err
	}
	q := fmt.Sprintf(`COPY (SELECT * EXCLUDE (kind), CAST(createdAt AS DATE) AS day
		FROM read_ndjson('%s/*.ndjson.gz', ignore_errors = true, columns = %s) WHERE kind = 'message')
		TO '%s' (FORMAT parquet, PARTITION_BY (day), COMPRESSION snappy)`,
		strings.ReplaceAll(landing, "'", "''"), messageColumns, strings.ReplaceAll(out, "'", "''"))
	t0 := time.Now()
	res, err := db.ExecContext(ctx, q)
	if err != nil {
		return err
	}
	took := time.Since(t0)
	n, _ := res.RowsAffected()
	fmt.Printf("rows=%d took=%.2fs rate=%.0f\n", n, took.Seconds(), float64(n)/took.Seconds())
	return nil
}
