#!/usr/bin/env bash
# make bench: measures the service on a generated data set and writes BENCHMARKS.md.
#   BENCH_MESSAGES (default 10000000)  BENCH_DAYS (default 365)  BENCH_DIR (default ./bench-data)
#   BENCH_SECONDS per load test (default 10)  BENCH_PG=0 skips the PostgreSQL baseline
# Everything runs on loopback; the load generator and the server share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=-tags=duckdb_arrow
MSGS=${BENCH_MESSAGES:-10000000}
DAYS=${BENCH_DAYS:-365}
DIR=${BENCH_DIR:-./bench-data}/m${MSGS}-d${DAYS}
SECS=${BENCH_SECONDS:-10}
PORT=${BENCH_PORT:-18090}
OUT=${BENCH_OUT:-BENCHMARKS.md}
mkdir -p bin "$DIR"
go build -o bin/dashboard ./cmd/dashboard
go build -o bin/loadgen ./cmd/loadgen
go build -o bin/lakebench ./cmd/lakebench
START=$(date -u -d "$((DAYS)) days ago" +%Y-%m-%d)
LAST=$(date -u -d "1 day ago" +%Y-%m-%d)
RESULTS=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$RESULTS"' EXIT
row() { echo "$*" >> "$RESULTS/rows.md"; }
# timed FILE CMD…: "seconds peak-KB" into FILE (GNU time when installed; else no memory figure).
timed() {
  local out=$1; shift
  if [ -x /usr/bin/time ]; then /usr/bin/time -f "%e %M" -o "$out" "$@"; return; fi
  local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N)
  python3 -c "print(round($t1-$t0,2), 0)" > "$out"
}
secs() { python3 -c "import sys;print(round(float(sys.argv[1]),2))" "$1"; }

# 1. Data set (kept between runs; delete $DIR to regenerate).
if [ ! -f "$DIR/.generated" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  bin/dashboard generate --data-dir "$DIR" --messages "$MSGS" --days "$DAYS" --start "$START" --seed 1 --bad-lines-rate 0.001
  touch "$DIR/.generated"
fi
rm -rf "$DIR/lake" "$DIR/quarantine" "$DIR/warehouse" "$DIR/reports"
RAW=$(du -sb "$DIR/landing" | cut -f1)

# 2. Extract.
timed "$RESULTS/extract.time" bin/dashboard extract --data-dir "$DIR" --log-level warn > "$RESULTS/extract.out"
read EXT_S EXT_KB < "$RESULTS/extract.time"
LOADED=$(grep -o 'messages=[0-9]*' "$RESULTS/extract.out" | head -1 | cut -d= -f2)
row "| extract (landing → lake, $(numfmt --to=iec $RAW) gzip NDJSON) | $(secs $EXT_S) s | $(python3 -c "print(f'{$LOADED/$EXT_S:,.0f}')") messages/s | peak RSS $((EXT_KB/1024)) MB |"

# 2b. The extract issue's measure: a 2M-message landing set (30 days, gzip), extracted
# with full validation, deduplication and quarantine, against DuckDB's own COPY of the
# same files' messages (read_ndjson → Parquet by day, nothing checked), alternately, twice.
X2=${BENCH_DIR:-./bench-data}/x2m
if [ ! -f "$X2/.generated" ]; then
  rm -rf "$X2"
  bin/dashboard generate --data-dir "$X2" --messages 2000000 --days 30 --start "$(date -u -d '30 days ago' +%Y-%m-%d)" --seed 7 --bad-lines-rate 0.001 > /dev/null
  touch "$X2/.generated"
fi
X2RAW=$(du -sb "$X2/landing" | cut -f1)
for round in 1 2; do
  rm -rf "$X2/lake" "$X2/quarantine"
  timed "$RESULTS/x2.time" bin/dashboard extract --data-dir "$X2" --workers 2 --log-level warn > "$RESULTS/x2.out"
  read X2_S X2_KB < "$RESULTS/x2.time"
  X2_N=$(grep -o 'messages=[0-9]*' "$RESULTS/x2.out" | head -1 | cut -d= -f2)
  timed "$RESULTS/x2raw.time" bin/lakebench -copy "$X2/landing" -out "$X2/rawcopy" > "$RESULTS/x2raw.out"
  read XR_S XR_KB < "$RESULTS/x2raw.time"
  XR_N=$(grep -o 'rows=[0-9]*' "$RESULTS/x2raw.out" | cut -d= -f2)
  row "| extract, 2M-message landing set ($(numfmt --to=iec $X2RAW) gzip NDJSON), round $round | $(secs $X2_S) s | $(python3 -c "print(f'{$X2_N/$X2_S:,.0f}')") messages/s; DuckDB's raw COPY of the same messages (no validation, process) $(secs $XR_S) s, $(python3 -c "print(f'{$XR_N/$XR_S:,.0f}')")/s: extract at $(python3 -c "print(f'{($X2_N/$X2_S)/($XR_N/$XR_S):.0%}')") | peak RSS $((X2_KB/1024)) MB (raw COPY $((XR_KB/1024)) MB) |"
done
rm -rf "$X2/rawcopy"

# 3. Full rollup.
timed "$RESULTS/rollup.time" bin/dashboard rollup --data-dir "$DIR" --full --log-level warn > "$RESULTS/rollup.out"
read RU_S RU_KB < "$RESULTS/rollup.time"
row "| full rollup (summaries + facts, $(python3 -c "print(f'{$LOADED:,}')") messages; process, database close included) | $(secs $RU_S) s | $(cat $RESULTS/rollup.out) | peak RSS $((RU_KB/1024)) MB |"

# 4. Incremental: one more day lands.
NEXT=$(date -u +%Y-%m-%d)
bin/dashboard generate --data-dir "$DIR" --messages $((MSGS / DAYS)) --days 1 --start "$NEXT" --seed 2 --bad-lines-rate 0 > /dev/null
timed "$RESULTS/ext1.time" bin/dashboard extract --data-dir "$DIR" --log-level warn > /dev/null
timed "$RESULTS/ru1.time" bin/dashboard rollup --data-dir "$DIR" --log-level warn > "$RESULTS/ru1.out"
read EXT1_S _ < "$RESULTS/ext1.time"
read RU1_S _ < "$RESULTS/ru1.time"
row "| incremental: extract one new day ($((MSGS / DAYS)) messages) | $(secs $EXT1_S) s | | |"
row "| incremental: rollup of the touched days (process, database close included) | $(secs $RU1_S) s | $(cat $RESULTS/ru1.out) | |"
rm -f "$DIR"/landing/gen-2-*
# The same day in a long-lived process (as dashboard run rolls up: caches warm, the
# default checkpoint threshold): the newest day taken out and rolled up, put back and
# rolled up (timed), five rounds. It moves partitions of $DIR's lake, which every run
# of this script builds again from landing/.
DASHBOARD_BENCH_DIR="$(realpath "$DIR")" go test -run X -bench IncrementalRollup -benchtime 5x ./warehouse > "$RESULTS/ru1warm.out" 2>&1 || true
RU1W_MS=$(awk '/ns\/op/ {printf "%.0f", $3/1e6}' "$RESULTS/ru1warm.out")
row "| incremental: the same day's rollup in a long-lived process (as \`dashboard run\`; go test -bench IncrementalRollup, 5 rounds) | ${RU1W_MS:-failed} ms | $(grep -o 'rollup: .*WAL [0-9]* bytes' "$RESULTS/ru1warm.out" | head -1 || tail -1 "$RESULTS/ru1warm.out") | |"

# 5. The API under load.
bin/dashboard serve --data-dir "$DIR" --no-auth --addr 127.0.0.1:$PORT --log-level warn --max-sample 2000000 &
SERVER=$!
for i in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
# The list index is built in the background after the snapshot: the lists are measured on it.
LI0=$(date +%s)
for i in $(seq 1 1800); do curl -s "http://127.0.0.1:$PORT/healthz" | grep -q '"listIndex":"ready"' && break; sleep 0.2; done
echo "list index ready after $(( $(date +%s) - LI0 )) s (after the snapshot)" > "$RESULTS/listindex.txt"
T=$(python3 - "$DIR" <<'PY'
import sys, json, glob
# the large bot: the tenant with the most channel rows in the catalog is not enough; use the default tenant set's first bot
print("/org/e0292f69-f65b-44e6-9037-8c46e74a8abd/env/73259740-7753-4fb8-9a4d-c8f7300d020d/bot/a8a3385b-3db2-486b-963c-b5df91911239")
PY
)
BASE="http://127.0.0.1:$PORT$T"
CHANS=$(curl -s "$BASE/conversations/list?startDate=$START&endDate=$LAST&size=100" | python3 -c "import sys,json;print(','.join(sorted({r['channel']['uuid'] for r in json.load(sys.stdin)['content']})))")
M30S=$(date -u -d "30 days ago" +%Y-%m-%d)
load() { bin/loadgen -base "$BASE" -d ${SECS}s "$@" 2>/dev/null || true; }
fmt() { python3 -c "
import sys, json
r = json.loads(sys.argv[1]); print(f\"| {sys.argv[2]} | {r['rps']:,.0f} req/s | p50 {r['p50_ms']:.2f} ms | p99 {r['p99_ms']:.2f} ms | {r['mean_bytes']:,} B | {r['errors']} errors |\")" "$1" "$2"; }
api() { echo "$(fmt "$(load "$@" | tail -1)" "${NAME}")" >> "$RESULTS/api.md"; }

# The ceiling: the same answer bytes served from memory.
curl -s "$BASE/dashboard/conversations?startDate=$M30S&endDate=$LAST" -o "$RESULTS/answer.json"
bin/loadgen -serve-file "$RESULTS/answer.json" -addr 127.0.0.1:$((PORT+1)) &
CEIL=$!
sleep 0.5
NAME="ceiling: the same 30-day dashboard/conversations bytes from memory (32 conns)"
echo "$(fmt "$(bin/loadgen -base http://127.0.0.1:$((PORT+1)) -path x -query a=1 -d ${SECS}s -c 32 | tail -1)" "$NAME")" >> "$RESULTS/api.md"
kill $CEIL
NAME="repeated 30-day dashboard/conversations (cached answer, 32 conns)"; api -path dashboard/conversations -query "startDate=$M30S&endDate=$LAST" -c 32
NAME="repeated, gzip (32 conns)"; api -path dashboard/conversations -query "startDate=$M30S&endDate=$LAST" -c 32 -gzip
for ep in conversations messages users accuracy stacking/intents stacking/flows; do
  NAME="distinct 30-day dashboard/$ep (random ranges, hours, channels; 32 conns)"; api -path dashboard/$ep -days 30 -from "$START" -span $((DAYS-31)) -channels "$CHANS" -c 32
done
for ep in conversations messages users accuracy stacking/intents; do
  NAME="distinct 1-year dashboard/$ep (32 conns)"; api -path dashboard/$ep -days 365 -from "$START" -span 0 -channels "$CHANS" -c 32 -seed 3
done
# Lists: every request distinct (-uncached adds an ignored unique parameter), so none is
# answered from the answer cache.
for sort in conversationStartedAt satisfaction duration userMessages flowsTravelled; do
  NAME="conversations/list page 1, 1 month, sort=$sort (50 conns, uncached)"; api -path conversations/list -days 30 -from "$START" -span $((DAYS-31)) -extra "sort=$sort" -c 50 -uncached
done
for sort in deliveredAt confidence; do
  NAME="messages/list page 1, 1 month, sort=$sort (50 conns, uncached)"; api -path messages/list -days 30 -from "$START" -span $((DAYS-31)) -extra "sort=$sort&order=ASC" -c 50 -uncached
done
NAME="messages/list searchBy=QUESTION (50 conns, uncached)"; api -path messages/list -days 30 -from "$START" -span $((DAYS-31)) -extra "searchBy=QUESTION&searchTerm=boleto" -c 50 -uncached
NAME="messages/list searchBy=INTENT (50 conns, uncached)"; api -path messages/list -days 30 -from "$START" -span $((DAYS-31)) -extra "searchBy=INTENT&searchTerm=saudacao" -c 50 -uncached
NAME="messages/list searchBy=SESSION_CODE (50 conns, uncached)"; api -path messages/list -days 30 -from "$START" -span $((DAYS-31)) -extra "searchBy=SESSION_CODE&searchTerm=ab1" -c 50 -uncached
NAME="conversations/list searchBy=FLOW (50 conns, uncached)"; api -path conversations/list -days 30 -from "$START" -span $((DAYS-31)) -extra "searchBy=FLOW&searchTerm=Faturamento" -c 50 -uncached
NAME="conversations/list searchBy=SESSION_CODE (50 conns, uncached)"; api -path conversations/list -days 30 -from "$START" -span $((DAYS-31)) -extra "searchBy=SESSION_CODE&searchTerm=ab1" -c 50 -uncached
NAME="conversations/list searchBy=BUSINESS_KEY (50 conns, uncached)"; api -path conversations/list -days 30 -from "$START" -span $((DAYS-31)) -extra "searchBy=BUSINESS_KEY&searchTerm=0340/2025" -c 50 -uncached
NAME="messages/list searchBy=ENTITY (50 conns, uncached)"; api -path messages/list -days 30 -from "$START" -span $((DAYS-31)) -extra "searchBy=ENTITY&searchTerm=cpf" -c 50 -uncached
NAME="messages/list searchBy=DOCUMENT (50 conns, uncached)"; api -path messages/list -days 30 -from "$START" -span $((DAYS-31)) -extra "searchBy=DOCUMENT&searchTerm=Manual%20do%20Cliente.pdf" -c 50 -uncached
NAME="conversations/list page 500, 1 year (50 conns, uncached)"; api -path conversations/list -days 365 -from "$START" -span 0 -extra "page=500&size=20" -c 50 -uncached
NAME="messages/list page 500, 1 year, sort=confidence (50 conns, uncached)"; api -path messages/list -days 365 -from "$START" -span 0 -extra "page=500&size=20&sort=confidence" -c 50 -uncached
SESSION=$(curl -s "$BASE/conversations/list?startDate=$M30S&endDate=$LAST&size=1" | python3 -c "import sys,json;print(json.load(sys.stdin)['content'][0]['sessionCode'])")
NAME="conversations/details (one session, 50 conns)"; api -path conversations/details -query "sessionCode=$SESSION" -c 50
NAME="conversations/details (one session, 50 conns, uncached)"; api -path conversations/details -query "sessionCode=$SESSION" -c 50 -uncached
RSS_KB=$(ps -o rss= -p $SERVER | tr -d ' ')
echo "server RSS after the API load: $((RSS_KB / 1024)) MiB" >> "$RESULTS/listindex.txt"

# 6. Reports.
report() {
  local body=$1 t0 t1
  t0=$(date +%s.%N)
  curl -s -o /dev/null -X POST "$BASE/messages/request_report" -d "$body"
  for i in $(seq 1 6000); do
    st=$(curl -s "$BASE/reports/list?size=1" | grep -o '"status":"[A-Z]*"' | head -1)
    case "$st" in *DONE*|*FAILED*) break ;; esac
    sleep 0.25
  done
  t1=$(date +%s.%N)
  python3 -c "print(round($t1-$t0,2))"
}
ROWS=$(curl -s "$BASE/messages/list?startDate=$START&endDate=$LAST&size=1" | python3 -c "import sys,json;print(json.load(sys.stdin)['totalElements'])")
N1=$(( ROWS < 1000000 ? ROWS : 1000000 ))
# The server's own measure of a report run (worker start → DONE), from /metrics.
ran() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v e="$1" 'index($1, "dashboard_report_duration_seconds_sum") == 1 && index($1, "export=\""e"\"") && index($1, "status=\"DONE\"") {printf "%.2f", $2}'; }
CSV_S=$(report "{\"startDate\":\"$START\",\"endDate\":\"$LAST\",\"reportType\":\"LATEST\",\"sampleSize\":$N1}")
row "| CSV report, $(python3 -c "print(f'{$N1:,}')") messages × 14 columns (request → DONE, polled every 250 ms) | $CSV_S s | $(python3 -c "print(f'{$N1/$CSV_S:,.0f}')") rows/s | the server's run: $(ran csv) s |"
N2=$(( ROWS < 100000 ? ROWS : 100000 ))
XLSX_S=$(report "{\"startDate\":\"$START\",\"endDate\":\"$LAST\",\"reportType\":\"LATEST\",\"sampleSize\":$N2,\"exportType\":\"xlsx\"}")
row "| XLSX report, $(python3 -c "print(f'{$N2:,}')") messages × 14 columns (request → DONE, polled every 250 ms) | $XLSX_S s | $(python3 -c "print(f'{$N2*14/$XLSX_S:,.0f}')") cells/s | the server's run: $(ran xlsx) s |"
kill $SERVER; wait $SERVER 2>/dev/null || true
# The writers alone (query, file, fsync; no HTTP, no polling), and the XLSX writer's
# memory at 10x the rows.
go build -o bin/reportbench ./cmd/reportbench
bin/reportbench -data-dir "$DIR" -rows "$N1" -xlsx-rows "$N2" | while read -r kind n _ s _ rps _ cps _ mb _ _ _ _ rss _; do
  row "| $kind report writer alone, $(python3 -c "print(f'{$n:,}')") rows (cmd/reportbench) | $s s | $(python3 -c "print(f'{$rps:,}')") rows/s, $(python3 -c "print(f'{$cps:,}')") cells/s | file $mb MB, peak RSS $rss MB |"
done
bin/reportbench -data-dir "$DIR" -only xlsx -xlsx-rows $((N2 * 10)) | while read -r kind n _ s _ rps _ cps _ mb _ _ _ _ rss _; do
  row "| $kind report writer alone, $(python3 -c "print(f'{$n:,}')") rows (cmd/reportbench) | $s s | $(python3 -c "print(f'{$cps:,}')") cells/s | file $mb MB, peak RSS $rss MB |"
done

# 6b. The "no precompute" alternative: DuckDB over the raw lake at request time.
for q in conversations messages users accuracy intents; do
  r=$(bin/lakebench -lake "$DIR/lake" -q $q -days 30 -from "$START" -span $((DAYS-31)) -c 32 -d ${SECS}s 2>/dev/null | tail -1 || true)
  [ -n "$r" ] && echo "$(fmt "$r" "30-day $q from the raw lake (32 conns)")" >> "$RESULTS/lake.md"
  r=$(bin/lakebench -lake "$DIR/lake" -q $q -days 365 -from "$START" -span 0 -c 32 -d ${SECS}s 2>/dev/null | tail -1 || true)
  [ -n "$r" ] && echo "$(fmt "$r" "1-year $q from the raw lake (32 conns)")" >> "$RESULTS/lake.md"
done

# 7. BENCHMARKS.md
{
  echo "# Benchmarks"
  echo
  echo "\`make bench\` on $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(date -u +%Y-%m-%d); data set: $(python3 -c "print(f'{$MSGS:,}')") generated messages over $DAYS days (one large bot, four small), seed 1."
  echo "Load tests: \`cmd/loadgen\` on loopback for ${SECS} s each, sharing the 2 cores with the server."
  echo
  echo "## Jobs"
  echo
  echo "| step | time | rate | memory |"
  echo "|---|---|---|---|"
  cat "$RESULTS/rows.md"
  echo
  echo "## API"
  echo
  echo "| load | throughput | p50 | p99 | answer size | errors |"
  echo "|---|---|---|---|---|---|"
  cat "$RESULTS/api.md"
  echo
  echo "List index: $(cat "$RESULTS/listindex.txt" | tr '\n' ';' | sed 's/;$//; s/;/; /g')."
  echo
  echo "## The same questions asked of DuckDB over the raw Parquet lake at request time (cmd/lakebench)"
  echo
  echo "No precompute: each request reads the range's day partitions (hive-partitioned, so only those days) and aggregates the raw rows; same random ranges, hour windows and channel subsets as the API runs, answer bytes not built."
  echo
  echo "| load | throughput | p50 | p99 | answer size | errors |"
  echo "|---|---|---|---|---|---|"
  cat "$RESULTS/lake.md"
} > "$OUT"
[ "${BENCH_PG:-1}" = 1 ] && ./scripts/bench-pg.sh "$DIR" "$OUT" || true
cat "$OUT"
