package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashboard-analytics/dashboard/warehouse"
)

// TestIncrementalRollupEqualsRebuild: a warehouse rolled up after every landing file
// (small incremental rollups, which read only the days their sessions and replies live
// on) has the same tables as one rebuilt from the whole lake at once (a bulk rollup,
// which reads every day). The files are hostile to the shortcuts: replies days after
// their message, before it, in an earlier file, to messages that never come; sessions
// over many days; a message moved to another day by a file that sorts earlier; a second
// tenant reusing the same session codes and message ids; conversation updates landing
// later; days more than a chunk apart.
func TestIncrementalRollupEqualsRebuild(t *testing.T) {
	const otherBot = "5b7f1c1e-3c53-4c55-9a55-0d4f6f3c0a05"
	r := rand.New(rand.NewPCG(7, 11))
	day0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	const days = 200 // more than 2*30 days: the rebuild is bulk, in more than one 92-day chunk
	at := func(d int) string {
		return day0.Add(time.Duration(d)*24*time.Hour + time.Duration(r.IntN(86400000))*time.Millisecond).Format(time.RFC3339Nano)
	}
	line := func(bot, kind, fields string) string {
		s := smLine(kind, fields)
		if bot != "" {
			s = strings.Replace(s, smBot, bot, 1)
		}
		return s
	}
	type msg struct {
		id, session string
		day         int
	}
	var users []msg
	files := make([]strings.Builder, 12)
	// Files 1..11 each hold a window of at most 20 days (an incremental rollup each);
	// file 0 sorts first and lands last.
	for f := 1; f < len(files); f++ {
		lo := r.IntN(days - 20)
		b := &files[f]
		for i := 0; i < 60; i++ {
			d := lo + r.IntN(20)
			bot := ""
			if r.IntN(4) == 0 {
				bot = otherBot
			}
			session := fmt.Sprintf("s-%d", r.IntN(40)) // sessions recur over many days and files
			id := fmt.Sprintf("m-%d-%d", f, i)
			if r.IntN(10) == 0 && len(users) > 0 {
				id = users[r.IntN(len(users))].id // the other tenant's id, or a duplicate
			}
			content := fmt.Sprintf("Text %d", r.IntN(5))
			if r.IntN(8) == 0 {
				b.WriteString(line(bot, "message", fmt.Sprintf(`"messageId":%q,"sessionCode":%q,"direction":"USER","createdAt":%q,"content":"","type":"IMAGE"`, id, session, at(d))))
			} else {
				b.WriteString(line(bot, "message", fmt.Sprintf(`"messageId":%q,"sessionCode":%q,"direction":"USER","createdAt":%q,"content":%q,"type":"TEXT","minimumConfidenceAchieved":%v,"intent":"i%d"`,
					id, session, at(d), content, r.IntN(2) == 0, r.IntN(3))))
			}
			if bot == "" {
				users = append(users, msg{id, session, d})
			}
			// Replies: to this message, to an earlier one (any day), to one not yet
			// loaded, to one that never comes; the same day, days later or earlier.
			for j := 0; j < r.IntN(3); j++ {
				to, rd := id, d+r.IntN(2)
				switch r.IntN(5) {
				case 0:
					if len(users) > 0 {
						u := users[r.IntN(len(users))]
						to, rd = u.id, u.day+r.IntN(30)-5
					}
				case 1:
					to = fmt.Sprintf("m-%d-%d", f+1+r.IntN(3), r.IntN(60)) // a later file's
				case 2:
					to = fmt.Sprintf("ghost-%d", r.IntN(5))
				}
				rd = max(0, min(days-1, rd))
				b.WriteString(line(bot, "message", fmt.Sprintf(`"messageId":"r-%d-%d-%d","sessionCode":%q,"direction":"BOT","createdAt":%q,"content":"Reply %d","type":"BUTTONS","replyTo":%q,"answerName":"a%d","buttons":[{"name":"B%d","value":"v","action":"postback"}]`,
					f, i, j, session, at(rd), r.IntN(9), to, r.IntN(4), r.IntN(3))))
			}
			if r.IntN(3) == 0 {
				b.WriteString(line(bot, "conversation", fmt.Sprintf(`"sessionCode":%q,"businessKey":"K%d","startedAt":%q,"updatedAt":%q,"flows":["f%d","f%d","f%d"],"satisfaction":%d`,
					session, r.IntN(9), at(max(0, d-r.IntN(3))), at(d+r.IntN(3)), r.IntN(3), r.IntN(3), r.IntN(3), 1+r.IntN(5))))
			}
		}
	}
	// File 0 sorts before the others: its copies of earlier messages win and move them
	// to other days (both days are rewritten).
	for i := 0; i < 15; i++ {
		u := users[r.IntN(len(users))]
		files[0].WriteString(line("", "message", fmt.Sprintf(`"messageId":%q,"sessionCode":%q,"direction":"USER","createdAt":%q,"content":"moved","type":"TEXT"`,
			u.id, u.session, at(max(0, min(days-1, u.day+r.IntN(9)-4))))))
	}

	l := newSmLake(t)
	wh := l.open()
	for f := 1; f < len(files); f++ {
		l.load(fmt.Sprintf("f%02d.ndjson", f), files[f].String())
		res, err := wh.Rollup(context.Background(), warehouse.RollupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.MessageDays+res.ConversationDays > 60 {
			t.Fatalf("file %d: rollup of %d+%d days is not incremental", f, res.MessageDays, res.ConversationDays)
		}
	}
	l.load("f00.ndjson", files[0].String())
	l.rollup(wh, false)
	// A day of messages leaves the lake (as the retention removes it) and an incremental
	// rollup follows; then a new reply to a message of that day lands days later. The
	// gone message's row of answers must lose its time (message_at NULL), and the new
	// reply must join its old replies in it.
	var goneDay, goneID string
	if err := wh.DB().SQL.QueryRow(`SELECT strftime(m.day, '%Y-%m-%d'), m.message_id FROM message_answers a JOIN messages m
		USING (org_uuid, env_uuid, bot_uuid, message_id)
		WHERE m.bot_uuid = ? AND a.reply_last_day > m.day ORDER BY ALL LIMIT 1`, smBot).Scan(&goneDay, &goneID); err != nil {
		t.Fatal("no message with replies on a later day:", err)
	}
	if err := os.RemoveAll(filepath.Join(l.dir, "lake", "messages", "date="+goneDay)); err != nil {
		t.Fatal(err)
	}
	l.rollup(wh, false)
	late, _ := time.Parse("2006-01-02", goneDay)
	l.load("g01.ndjson", line("", "message", fmt.Sprintf(`"messageId":"r-late","sessionCode":"s-late","direction":"BOT","createdAt":%q,"content":"Late reply","type":"TEXT","replyTo":%q`,
		late.AddDate(0, 0, 3).Add(time.Hour).Format(time.RFC3339), goneID)))
	l.rollup(wh, false)

	rebuilt := &smLake{t: t, dir: t.TempDir()}
	copyTree(t, filepath.Join(l.dir, "lake"), filepath.Join(rebuilt.dir, "lake"))
	wb := rebuilt.open()
	res, err := wb.Rollup(context.Background(), warehouse.RollupOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageDays+res.ConversationDays <= 60 {
		t.Fatalf("the rebuild is %d+%d days: not bulk", res.MessageDays, res.ConversationDays)
	}
	for _, table := range []string{"messages", "conversations", "conversation_facts", "message_answers", "session_lookup",
		"message_traffic", "user_activity", "intent_counts", "conversation_traffic", "flow_counts"} {
		a, b := tableRows(t, wh.DB().SQL, table), tableRows(t, wb.DB().SQL, table)
		if len(a) == 0 {
			t.Fatalf("%s is empty", table)
		}
		if !slices.Equal(a, b) {
			for i := 0; i < max(len(a), len(b)); i++ {
				var x, y string
				if i < len(a) {
					x = a[i]
				}
				if i < len(b) {
					y = b[i]
				}
				if x != y {
					t.Errorf("%s differs at row %d of %d/%d:\nincremental %s\nrebuilt     %s", table, i, len(a), len(b), x, y)
					break
				}
			}
		}
	}
	// session_lookup, kept session by session, is what its definition gives over the
	// whole tables.
	for name, db := range map[string]*sql.DB{"incremental": wh.DB().SQL, "rebuilt": wb.DB().SQL} {
		got, want := tableRows(t, db, "session_lookup"), tableRows(t, db, "("+sessionLookupSQL+")")
		if !slices.Equal(got, want) {
			t.Errorf("%s: session_lookup has %d rows, its definition %d:\n%q\n%q", name, len(got), len(want), got, want)
		}
	}
	// The hostile cases happened: answers to a message that never came, and answers
	// whose replies span days.
	var ghosts, spread int
	if err := wh.DB().SQL.QueryRow(`SELECT count(*) FILTER (WHERE message_at IS NULL), count(*) FILTER (WHERE len(answer_texts) > 1) FROM message_answers`).Scan(&ghosts, &spread); err != nil {
		t.Fatal(err)
	}
	if ghosts == 0 || spread == 0 {
		t.Fatalf("fixture too tame: %d answers without their message, %d with several replies", ghosts, spread)
	}

	// Migrations 0008 and 0009 fill session_lookup and the answers' reply days from the
	// data of a warehouse made before them as the rollups would have: the incremental
	// warehouse taken back to 0007 and opened again.
	want := map[string][]string{}
	for _, table := range []string{"session_lookup", "message_answers"} {
		want[table] = tableRows(t, wh.DB().SQL, table)
	}
	for _, q := range []string{"DROP TABLE session_lookup",
		"ALTER TABLE message_answers DROP COLUMN reply_first_day", "ALTER TABLE message_answers DROP COLUMN reply_last_day",
		"CREATE INDEX messages_session ON messages (session_code)", "CREATE INDEX conversations_session ON conversations (session_code)",
		"DELETE FROM schema_migrations WHERE version >= 8", "CHECKPOINT"} {
		if _, err := wh.DB().SQL.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	wh.Close()
	wh = l.open()
	for table, rows := range want {
		if got := tableRows(t, wh.DB().SQL, table); !slices.Equal(got, rows) {
			t.Errorf("%s after the migrations differs from what the rollups kept (%d rows against %d)", table, len(got), len(rows))
		}
	}
	var indexes int
	if err := wh.DB().SQL.QueryRow("SELECT count(*) FROM duckdb_indexes()").Scan(&indexes); err != nil || indexes != 0 {
		t.Errorf("%d ART indexes left after migration 0008 (%v)", indexes, err)
	}
}

// sessionLookupSQL is session_lookup's definition (migration 0008) over the whole
// messages and conversations tables.
const sessionLookupSQL = `WITH m AS (
    SELECT org_uuid, env_uuid, bot_uuid, session_code,
           min(created_at) AS first_at, max(created_at) AS last_at, min(day) AS first_day, max(day) AS last_day
    FROM messages GROUP BY ALL)
SELECT md5_number_upper(session_code), session_code, org_uuid, env_uuid, bot_uuid,
       m.first_at, m.last_at, m.first_day, m.last_day, c.started_at, c.channel_uuid, c.business_key, c.day
FROM m FULL JOIN conversations c USING (org_uuid, env_uuid, bot_uuid, session_code)`

// tableRows is a table's rows as sorted strings.
func tableRows(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			if v == nil {
				b.WriteString("NULL")
			} else {
				b.WriteString(*v)
			}
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
