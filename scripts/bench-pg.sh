#!/usr/bin/env bash
# scripts/bench-pg.sh DIR OUT — the PostgreSQL baseline of `make bench` ("the same questions asked of
# PostgreSQL"): loads the lake of DIR (DIR/lake, as written by `dashboard extract`) into a throw-away
# PostgreSQL 15 cluster as raw tables with the usual indexes, answers the dashboard questions by SQL
# at request time under pgbench, and appends a section to the Markdown file OUT.
#   BENCH_SECONDS per load test (default 10)   BENCH_PG_PORT first port tried (default 55432)
#   BENCH_PG_CLIENTS (default 32)  BENCH_PG_LIST_CLIENTS (default 50, as the API's list tests)
#   BENCH_PG_KEEP=1 leaves the cluster and the work files in place (for a look afterwards)
# Installs PostgreSQL 15 from the distribution's packages (apt) when it is missing and we are root.
# The server listens on 127.0.0.1 only; it is stopped and its files removed on exit.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DIR OUT" >&2; exit 2; }
[ -d "$1/lake/messages" ] || { echo "bench-pg: no lake under $1" >&2; exit 1; }
DIR=$(cd "$1" && pwd)
OUT=$(realpath -m "$2")
cd "$(dirname "$0")/.."
export GOFLAGS=-tags=duckdb_arrow
SECS=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_PG_CLIENTS:-32}
LIST_CLIENTS=${BENCH_PG_LIST_CLIENTS:-50}
LIST_SIZE=5 # the API's default page size, which the API's list tests use
ORG=e0292f69-f65b-44e6-9037-8c46e74a8abd
ENV=73259740-7753-4fb8-9a4d-c8f7300d020d
BOT=a8a3385b-3db2-486b-963c-b5df91911239
log() { echo "bench-pg: $*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "import sys;print(f'{float(sys.argv[2])-float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

# 1. PostgreSQL 15 (Debian: postgresql-15; pgbench ships in postgresql-client-15).
PGBIN=/usr/lib/postgresql/15/bin
INSTALLED=
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ] || [ ! -x "$PGBIN/pgbench" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing PostgreSQL 15 (apt-get) …"
    T=$(now)
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-client-15 >/dev/null
    # The package may have created and started a default cluster: it is not ours to keep running.
    command -v pg_ctlcluster >/dev/null && pg_ctlcluster 15 main stop 2>/dev/null || true
    INSTALLED=$(since $T)
    log "installed in $INSTALLED s"
  fi
fi
if [ ! -x "$PGBIN/initdb" ]; then # another layout: whatever initdb is on the PATH
  PGBIN=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
fi
for b in initdb pg_ctl postgres psql pgbench; do
  [ -x "$PGBIN/$b" ] || command -v $b >/dev/null || { log "no $b (PostgreSQL 15 is not installed; run as root to install it)"; exit 1; }
done
pgb() { if [ -x "$PGBIN/$1" ]; then echo "$PGBIN/$1"; else command -v "$1"; fi; }
PSQL_BIN=$(pgb psql); PGBENCH=$(pgb pgbench)
PG_VERSION=$("$(pgb postgres)" --version | sed 's/^postgres (PostgreSQL) //')

# 2. A throw-away cluster in DIR/pg, run by a non-root user.
WORK=$(mktemp -d)
PGDATA=$DIR/pg
CSV=$DIR/pg-csv
if [ "$(id -u)" = 0 ]; then
  PGUSER_OS=postgres
  id -u $PGUSER_OS >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $PGUSER_OS
  asdb() { runuser -u $PGUSER_OS -- "$@"; }
else
  asdb() { "$@"; }
fi
cleanup() {
  if [ -f "$PGDATA/postmaster.pid" ]; then asdb "$(pgb pg_ctl)" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true; fi
  if [ "${BENCH_PG_KEEP:-0}" != 1 ]; then rm -rf "$PGDATA" "$CSV" "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$PGDATA" "$CSV"
mkdir -p "$PGDATA"
chmod 700 "$PGDATA"
if [ "$(id -u)" = 0 ]; then
  chown $PGUSER_OS: "$PGDATA"
  if ! asdb test -w "$PGDATA"; then # DIR not reachable by that user: keep the cluster under /tmp
    rmdir "$PGDATA"; PGDATA=$(mktemp -d /tmp/bench-pg.XXXXXX); chown $PGUSER_OS: "$PGDATA"
  fi
fi
PORT=${BENCH_PG_PORT:-55432}
while (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do PORT=$((PORT + 1)); done
asdb "$(pgb initdb)" -D "$PGDATA" -U postgres -A trust -E UTF8 --no-locale >/dev/null
cat >> "$PGDATA/postgresql.conf" <<EOF
# scripts/bench-pg.sh
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = ''
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
random_page_cost = 1.1
jit = off
timezone = 'UTC'
log_timezone = 'UTC'
EOF
asdb "$(pgb pg_ctl)" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 120 start >/dev/null
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
PSQL=("$PSQL_BIN" -X -q -v ON_ERROR_STOP=1)
log "PostgreSQL $PG_VERSION on 127.0.0.1:$PORT, data in $PGDATA"

# 3. The same logs as raw tables: lake → CSV (DuckDB) → \copy; then the indexes and statistics.
go build -o "$WORK/lake2csv" ./cmd/lake2csv
T=$(now)
"$WORK/lake2csv" -lake "$DIR/lake" -out "$CSV" -threads 2 >&2
EXPORT_S=$(since $T)
T=$(now)
"${PSQL[@]}" <<EOF
CREATE TABLE messages (
  org_uuid uuid NOT NULL, env_uuid uuid NOT NULL, bot_uuid uuid NOT NULL, message_id text NOT NULL,
  session_code text, channel_uuid uuid, user_id text, direction text NOT NULL, created_at timestamptz NOT NULL,
  content text, type text, intent text, confidence double precision, minimum_confidence_achieved boolean);
CREATE TABLE conversations (
  org_uuid uuid NOT NULL, env_uuid uuid NOT NULL, bot_uuid uuid NOT NULL, session_code text NOT NULL,
  business_key text, channel_uuid uuid, user_id text, started_at timestamptz NOT NULL, ended_at timestamptz,
  satisfaction int, flows text[]);
CREATE TABLE channels (
  org_uuid uuid NOT NULL, env_uuid uuid NOT NULL, bot_uuid uuid NOT NULL, channel_uuid uuid NOT NULL,
  name text, description text, channel_type_id int, channel_type_name text, channel_type_image text,
  classification_id int, classification_name text);
\copy messages FROM '$CSV/messages.csv' WITH (FORMAT csv, HEADER true)
\copy conversations FROM '$CSV/conversations.csv' WITH (FORMAT csv, HEADER true)
\copy channels FROM '$CSV/channels.csv' WITH (FORMAT csv, HEADER true)
EOF
COPY_S=$(since $T)
rm -rf "$CSV"
T=$(now)
"${PSQL[@]}" <<'EOF'
ALTER TABLE messages ADD PRIMARY KEY (org_uuid, env_uuid, bot_uuid, message_id);
ALTER TABLE conversations ADD PRIMARY KEY (org_uuid, env_uuid, bot_uuid, session_code);
ALTER TABLE channels ADD PRIMARY KEY (org_uuid, env_uuid, bot_uuid, channel_uuid);
-- time ranges over all messages (and the messages/list, reports)
CREATE INDEX messages_tenant_time ON messages (org_uuid, env_uuid, bot_uuid, created_at);
-- the dashboards count USER messages only: a partial index, covering what they read
CREATE INDEX messages_user_tenant_time ON messages (org_uuid, env_uuid, bot_uuid, created_at)
  INCLUDE (channel_uuid, user_id, intent, minimum_confidence_achieved) WHERE direction = 'USER';
-- a conversation's messages (lists, details)
CREATE INDEX messages_tenant_session ON messages (org_uuid, env_uuid, bot_uuid, session_code, created_at);
CREATE INDEX conversations_tenant_time ON conversations (org_uuid, env_uuid, bot_uuid, started_at)
  INCLUDE (channel_uuid, satisfaction);
EOF
INDEX_S=$(since $T)
T=$(now)
"${PSQL[@]}" -c "VACUUM (ANALYZE) messages" -c "VACUUM (ANALYZE) conversations" -c "VACUUM (ANALYZE) channels"
ANALYZE_S=$(since $T)
log "loaded: export ${EXPORT_S} s, copy ${COPY_S} s, indexes ${INDEX_S} s, vacuum analyze ${ANALYZE_S} s"

# The big bot's data: first day, days covered, its channels (the API's load draws subsets of them).
read -r BASE NDAYS < <("${PSQL[@]}" -At -F ' ' -c "
  SELECT extract(epoch FROM min(created_at)::date::timestamptz)::bigint,
         (max(created_at)::date - min(created_at)::date) + 1
  FROM messages WHERE org_uuid = '$ORG' AND env_uuid = '$ENV' AND bot_uuid = '$BOT'")
[ -n "$BASE" ] || { log "the big bot has no messages"; exit 1; }
"${PSQL[@]}" -c "CREATE TABLE bench_channels AS
  SELECT (row_number() OVER (ORDER BY channel_uuid) - 1)::int AS idx, channel_uuid
  FROM (SELECT DISTINCT channel_uuid FROM conversations
        WHERE org_uuid = '$ORG' AND env_uuid = '$ENV' AND bot_uuid = '$BOT') c"
NCHAN=$("${PSQL[@]}" -At -c "SELECT count(*) FROM bench_channels")
SPAN30=$((NDAYS > 31 ? NDAYS - 31 : 0))

# 4. The questions, as pgbench scripts. Per transaction: a range (:s, :e as epoch seconds; :ps the
# previous period's start), half the time an hour window (:sh..:eh, wrapping when :sh > :eh), half
# the time a random subset of the bot's channels (:mask, 0 = all) — the draws of cmd/loadgen.
# pgbench sends them by the simple protocol, so the planner sees constants and folds the switches.
TENANT="org_uuid = '$ORG' AND env_uuid = '$ENV' AND bot_uuid = '$BOT'"
tenant() { echo "$1.org_uuid = '$ORG' AND $1.env_uuid = '$ENV' AND $1.bot_uuid = '$BOT'"; }
hours() { # the hour filter on a time column
  echo "(:hf = 0 OR (:sh <= :eh AND extract(hour FROM $1) BETWEEN :sh AND :eh)" \
    "OR (:sh > :eh AND (extract(hour FROM $1) >= :sh OR extract(hour FROM $1) <= :eh)))"
}
chans() { # the channel filter on a table alias
  echo "(:mask = 0 OR $1.channel_uuid = ANY (ARRAY(SELECT channel_uuid FROM bench_channels WHERE (:mask >> idx) & 1 = 1)))"
}
in_range() { echo "$1 >= to_timestamp(:s) AND $1 < to_timestamp(:e)"; }
in_prev() { echo "$1 >= to_timestamp(:ps) AND $1 < to_timestamp(:s)"; }
header() { # days span
  cat <<EOF
\set day random(0, $2)
\set s $BASE + 86400 * :day
\set e :s + 86400 * $1
\set ps :s - 86400 * $1
\set hf random(0, 1)
\set sh random(0, 23)
\set eh random(0, 23)
\set mask random(0, $(((1 << NCHAN) - 1))) * random(0, 1)
\set size $LIST_SIZE
EOF
}
Q=$WORK/q; mkdir -p "$Q"

# (a) dashboard/conversations: per channel and hour bucket (days, weeks, months and totals are sums of
# the hours), with the channel's name and type; the previous period per channel.
cat > "$Q/conversations.sql" <<EOF
SELECT t.channel_uuid, ch.name, ch.channel_type_name, t.hour, t.n
FROM (SELECT c.channel_uuid, date_trunc('hour', c.started_at) AS hour, count(*) AS n
      FROM conversations c
      WHERE $(tenant c) AND $(in_range c.started_at) AND $(hours c.started_at) AND $(chans c)
      GROUP BY 1, 2) t
LEFT JOIN channels ch ON $(tenant ch) AND ch.channel_uuid = t.channel_uuid
ORDER BY ch.name, t.channel_uuid, t.hour;
SELECT c.channel_uuid, count(*) AS previous
FROM conversations c
WHERE $(tenant c) AND $(in_prev c.started_at) AND $(hours c.started_at) AND $(chans c)
GROUP BY 1;
EOF
# (b) dashboard/messages: USER messages per hour bucket; the previous period's total.
cat > "$Q/messages.sql" <<EOF
SELECT date_trunc('hour', m.created_at) AS hour, count(*) AS n
FROM messages m
WHERE $(tenant m) AND m.direction = 'USER' AND $(in_range m.created_at) AND $(hours m.created_at) AND $(chans m)
GROUP BY 1 ORDER BY 1;
SELECT count(*) AS previous
FROM messages m
WHERE $(tenant m) AND m.direction = 'USER' AND $(in_prev m.created_at) AND $(hours m.created_at) AND $(chans m);
EOF
# (c) dashboard/users: exact distinct users per hour, day, week (Monday-started, split at months)
# and month bucket and over the whole range; the previous period's distinct users.
cat > "$Q/users.sql" <<EOF
SELECT date_trunc('hour', m.created_at) AS hour, date_trunc('day', m.created_at) AS day,
       date_trunc('month', m.created_at) AS month, date_trunc('week', m.created_at) AS week,
       count(DISTINCT m.user_id) AS users
FROM messages m
WHERE $(tenant m) AND m.direction = 'USER' AND $(in_range m.created_at) AND $(hours m.created_at) AND $(chans m)
GROUP BY GROUPING SETS ((hour), (day), (month, week), (month), ());
SELECT count(DISTINCT m.user_id) AS previous
FROM messages m
WHERE $(tenant m) AND m.direction = 'USER' AND $(in_prev m.created_at) AND $(hours m.created_at) AND $(chans m);
EOF
# (d) dashboard/accuracy: understood / total USER messages, current and previous, in one pass.
cat > "$Q/accuracy.sql" <<EOF
SELECT count(*) FILTER (WHERE m.created_at >= to_timestamp(:s)) AS total,
       count(*) FILTER (WHERE m.created_at >= to_timestamp(:s) AND m.minimum_confidence_achieved) AS understood,
       count(*) FILTER (WHERE m.created_at < to_timestamp(:s)) AS previous_total,
       count(*) FILTER (WHERE m.created_at < to_timestamp(:s) AND m.minimum_confidence_achieved) AS previous_understood
FROM messages m
WHERE $(tenant m) AND m.direction = 'USER' AND m.created_at >= to_timestamp(:ps) AND m.created_at < to_timestamp(:e)
  AND $(hours m.created_at) AND $(chans m);
EOF
# (e) dashboard/stacking/intents: USER messages with an intent per channel and intent, the
# intent's total over the channels, the channel's name; sorted as the answer is.
cat > "$Q/intents.sql" <<EOF
SELECT t.channel_uuid, ch.name, t.intent, t.n AS channel_value, sum(t.n) OVER (PARTITION BY t.intent) AS total_value
FROM (SELECT m.channel_uuid, m.intent, count(*) AS n
      FROM messages m
      WHERE $(tenant m) AND m.direction = 'USER' AND m.intent <> '' AND $(in_range m.created_at)
        AND $(hours m.created_at) AND $(chans m)
      GROUP BY 1, 2) t
LEFT JOIN channels ch ON $(tenant ch) AND ch.channel_uuid = t.channel_uuid
ORDER BY ch.name, t.channel_uuid, total_value DESC, t.intent;
EOF
# The columns of a conversations/list row, for a page p of conversations: the session's USER
# messages (all of them, not only those in the range), its first USER message, its duration (to
# ended_at, else to its last message), its distinct flows in first-travel order, its channel.
list_row() {
  cat <<EOF
SELECT p.session_code, p.business_key, s.first_user_message, p.satisfaction, s.user_messages,
       cardinality(fl.names) AS flows_travelled, fl.names AS flows_travelled_names, p.started_at,
       coalesce(floor(extract(epoch FROM coalesce(p.ended_at, s.last_at) - p.started_at)), 0)::bigint AS duration_s,
       p.channel_uuid, ch.name, ch.description, ch.channel_type_id, ch.channel_type_name, ch.channel_type_image,
       ch.classification_id, ch.classification_name
FROM page p
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE m.direction = 'USER') AS user_messages,
         (array_agg(m.content ORDER BY m.created_at, m.message_id) FILTER (WHERE m.direction = 'USER'))[1] AS first_user_message,
         max(m.created_at) AS last_at
  FROM messages m WHERE $(tenant m) AND m.session_code = p.session_code) s
CROSS JOIN LATERAL (
  SELECT coalesce(array_agg(x.flow ORDER BY x.i), '{}') AS names
  FROM (SELECT u.flow, min(u.i) AS i FROM unnest(p.flows) WITH ORDINALITY AS u(flow, i) GROUP BY u.flow) x) fl
LEFT JOIN channels ch ON $(tenant ch) AND ch.channel_uuid = p.channel_uuid
EOF
}
# (f) conversations/list, page 1 of a month, sort=satisfaction (DESC, nulls last, then session code):
# the page from the conversations, then the per-conversation aggregates for its rows; the total.
cat > "$Q/list_satisfaction.sql" <<EOF
WITH page AS (
  SELECT c.* FROM conversations c
  WHERE $(tenant c) AND $(in_range c.started_at) AND $(hours c.started_at) AND $(chans c)
  ORDER BY c.satisfaction DESC NULLS LAST, c.session_code
  LIMIT :size)
$(list_row)
ORDER BY p.satisfaction DESC NULLS LAST, p.session_code;
SELECT count(*) AS total_elements FROM conversations c
WHERE $(tenant c) AND $(in_range c.started_at) AND $(hours c.started_at) AND $(chans c);
EOF
# (g) conversations/list, page 1 of a month, sort=userMessages: the sort key needs every
# conversation's USER-message count (a join and an aggregate over the month's conversations).
cat > "$Q/list_user_messages.sql" <<EOF
WITH conv AS (
  SELECT c.* FROM conversations c
  WHERE $(tenant c) AND $(in_range c.started_at) AND $(hours c.started_at) AND $(chans c)),
counted AS (
  SELECT c.session_code, count(m.session_code) AS n
  FROM conv c LEFT JOIN messages m ON $(tenant m) AND m.session_code = c.session_code AND m.direction = 'USER'
  GROUP BY c.session_code),
page AS (
  SELECT c.*, k.n FROM conv c JOIN counted k USING (session_code)
  ORDER BY k.n DESC, c.session_code
  LIMIT :size)
$(list_row)
ORDER BY p.n DESC, p.session_code;
SELECT count(*) AS total_elements FROM conversations c
WHERE $(tenant c) AND $(in_range c.started_at) AND $(hours c.started_at) AND $(chans c);
EOF

# One run of a question at a fixed sample (the bot's last 30 days, no hour or channel filter):
# the rows each of its statements returns, "a + b" (a sanity check that the questions find data).
LAST_S=$((BASE + 86400 * NDAYS))
sample_rows() {
  "${PSQL[@]}" -P pager=off -v s=$((LAST_S - 86400 * 30)) -v e=$LAST_S -v ps=$((LAST_S - 86400 * 60)) \
    -v hf=0 -v sh=0 -v eh=23 -v mask=0 -v size=$LIST_SIZE -f "$1" 2>"$WORK/sample.err" > "$WORK/sample.out" || return 1
  sed -n 's/^(\([0-9]*\) rows\{0,1\})$/\1/p' "$WORK/sample.out" | paste -sd+ | sed 's/+/ + /g'
}
ROWS=$WORK/rows.md
: > "$ROWS"
# bench NAME SQL DAYS SPAN CLIENTS
bench() {
  local name=$1 sql=$2 days=$3 span=$4 clients=$5 script=$WORK/$(basename "$2" .sql)-$3.pgb
  { header "$days" "$span"; cat "$sql"; } > "$script"
  local sample
  sample=$(sample_rows "$sql") || { echo "| $name | error: $(head -c 200 "$WORK/sample.err" | tr '\n|' '  ') | | | | |" >> "$ROWS"; return; }
  rm -f "$WORK"/pgb_log.*
  log "$name …"
  "$PGBENCH" -n -f "$script" -c "$clients" -j 2 -T "$SECS" --random-seed=1 -l --log-prefix="$WORK/pgb_log" \
    > "$WORK/pgb.out" 2> "$WORK/pgb.err" || true
  python3 - "$name" "$WORK/pgb.out" "$WORK/pgb.err" "$sample" "$WORK"/pgb_log.* >> "$ROWS" <<'PY'
import re, sys
name, out, err, sample, logs = sys.argv[1], open(sys.argv[2]).read(), open(sys.argv[3]).read(), sys.argv[4], sys.argv[5:]
def num(pattern, text=out):
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else 0.0
tps, avg = num(r"^tps = ([0-9.]+)"), num(r"^latency average = ([0-9.]+) ms")
n, failed = int(num(r"^number of transactions actually processed: (\d+)")), int(num(r"^number of failed transactions: (\d+)"))
aborted = len(re.findall(r"^client \d+ aborted", err, re.M))
lat = []
for f in logs:
    for line in open(f):
        p = line.split()
        if len(p) > 2 and p[2].isdigit():
            lat.append(int(p[2]) / 1000)
lat.sort()
pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0.0
errors = failed + aborted
note = f"{errors} errors" if errors else "0 errors"
if aborted:
    first = re.search(r"^client \d+ aborted.*$", err, re.M).group(0)
    note += f" ({aborted} clients aborted: {first[:160]})"
print(f"| {name} | {tps:,.1f} tx/s | p50 {pct(0.50):.2f} ms / avg {avg:.2f} ms | p99 {pct(0.99):.2f} ms | {n:,} | {sample} | {note} |")
PY
}
bench "(a) 30-day dashboard/conversations: per channel × hour + previous ($CLIENTS conns)" "$Q/conversations.sql" 30 $SPAN30 $CLIENTS
bench "(b) 30-day dashboard/messages: USER messages per hour + previous ($CLIENTS conns)" "$Q/messages.sql" 30 $SPAN30 $CLIENTS
bench "(c) 30-day dashboard/users: exact distinct users per hour/day/week/month + range + previous ($CLIENTS conns)" "$Q/users.sql" 30 $SPAN30 $CLIENTS
bench "(d) 30-day dashboard/accuracy: current and previous ($CLIENTS conns)" "$Q/accuracy.sql" 30 $SPAN30 $CLIENTS
bench "(e) 30-day dashboard/stacking/intents: per channel × intent ($CLIENTS conns)" "$Q/intents.sql" 30 $SPAN30 $CLIENTS
bench "(a) 1-year dashboard/conversations ($CLIENTS conns)" "$Q/conversations.sql" 365 0 $CLIENTS
bench "(b) 1-year dashboard/messages ($CLIENTS conns)" "$Q/messages.sql" 365 0 $CLIENTS
bench "(c) 1-year dashboard/users ($CLIENTS conns)" "$Q/users.sql" 365 0 $CLIENTS
bench "(d) 1-year dashboard/accuracy ($CLIENTS conns)" "$Q/accuracy.sql" 365 0 $CLIENTS
bench "(e) 1-year dashboard/stacking/intents ($CLIENTS conns)" "$Q/intents.sql" 365 0 $CLIENTS
bench "(f) conversations/list page 1, 1 month, sort=satisfaction: page + per-row aggregates + total ($LIST_CLIENTS conns)" "$Q/list_satisfaction.sql" 30 $SPAN30 $LIST_CLIENTS
bench "(g) conversations/list page 1, 1 month, sort=userMessages: join + aggregate over the month ($LIST_CLIENTS conns)" "$Q/list_user_messages.sql" 30 $SPAN30 $LIST_CLIENTS

# 5. The section.
SIZES=$("${PSQL[@]}" -At -F '|' -c "
  SELECT t, n, pg_size_pretty(pg_table_size(t::regclass)), pg_size_pretty(pg_indexes_size(t::regclass)),
         pg_size_pretty(pg_total_relation_size(t::regclass))
  FROM (VALUES ('messages', (SELECT count(*) FROM messages)), ('conversations', (SELECT count(*) FROM conversations)),
               ('channels', (SELECT count(*) FROM channels))) AS v(t, n)")
LAKE=$(du -sb "$DIR/lake" | cut -f1)
{
  echo
  echo "## The same questions asked of PostgreSQL 15 (raw tables, request-time SQL)"
  echo
  echo "\`scripts/bench-pg.sh\`: PostgreSQL $PG_VERSION on the same machine (127.0.0.1, \`shared_buffers=1GB\`, \`work_mem=64MB\`,"
  echo "\`maintenance_work_mem=512MB\`, \`random_page_cost=1.1\`, \`jit=off\` — its compile time costs these queries more than it"
  echo "saves — otherwise the defaults, parallel query on). The same lake, loaded as raw tables \`messages\`, \`conversations\`"
  echo "(\`flows text[]\`) and \`channels\`; UUID columns \`uuid\`, C collation."
  echo "Indexes: primary keys; \`messages (org, env, bot, created_at)\`; \`messages (org, env, bot, created_at) INCLUDE (channel_uuid,"
  echo "user_id, intent, minimum_confidence_achieved) WHERE direction = 'USER'\`; \`messages (org, env, bot, session_code, created_at)\`;"
  echo "\`conversations (org, env, bot, started_at) INCLUDE (channel_uuid, satisfaction)\`; then \`VACUUM (ANALYZE)\`."
  echo
  [ -z "$INSTALLED" ] || echo "PostgreSQL was installed by the script (\`apt-get install postgresql-15 postgresql-client-15\`, $INSTALLED s, not counted below)."
  echo "Load: lake ($(numfmt --to=iec "$LAKE") Parquet) → CSV with DuckDB (\`cmd/lake2csv\`) ${EXPORT_S} s; \`\\copy\` ${COPY_S} s;"
  echo "indexes ${INDEX_S} s; \`VACUUM (ANALYZE)\` ${ANALYZE_S} s; total $(python3 -c "print(f'{$EXPORT_S+$COPY_S+$INDEX_S+$ANALYZE_S:.1f}')") s."
  echo
  echo "| table | rows | heap | indexes | total |"
  echo "|---|---|---|---|---|"
  echo "$SIZES" | while IFS='|' read -r t n heap idx total; do
    echo "| $t | $(python3 -c "print(f'{$n:,}')") | $heap | $idx | $total |"
  done
  echo
  echo "Each question is one pgbench transaction: the statements the API's answer needs, against the big bot"
  echo "($NDAYS days, $NCHAN channels), sent by the simple protocol (planned with the constants). Ranges are drawn like"
  echo "\`cmd/loadgen\`'s: a random 30-day range starting in the first $((SPAN30 + 1)) days (or the year from the first day), half the"
  echo "time a random hour window (wrapping midnight when startHour > endHour), half the time a random subset of the"
  echo "channels; the previous period has the same filters. \`pgbench -n -c N -j 2 -T $SECS\` on loopback, sharing the"
  echo "$(nproc) cores with the server; p50 and p99 from the per-transaction log (\`-l\`). As with \`cmd/loadgen\`, transactions in"
  echo "flight at the deadline finish, so a run lasts at least one transaction and tps = transactions / elapsed time."
  echo "The channel subset is \`channel_uuid = ANY (ARRAY(SELECT … FROM bench_channels WHERE bit set))\` (a helper table of"
  echo "the bot's $NCHAN channels: pgbench variables are numbers only). \"sample rows\": rows each statement returns in one run on the last 30 days"
  echo "without filters. The days/weeks/months series of conversations and messages, and the relative increases, are left to"
  echo "the application (sums of the hour buckets); the users series need their own distinct counts (GROUPING SETS)."
  echo
  echo "| query | PostgreSQL tps | p50 / avg | p99 | transactions | sample rows | errors |"
  echo "|---|---|---|---|---|---|---|"
  cat "$ROWS"
} >> "$OUT"
log "appended to $OUT"
