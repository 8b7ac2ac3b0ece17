package warehouse

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dashboard-analytics/dashboard/internal/calendar"
	"github.com/dashboard-analytics/dashboard/internal/duck"
)

// TenantKey is the (org, env, bot) triple, lower-case.
type TenantKey struct{ Org, Env, Bot string }

// ChannelType is a catalogued channel's type.
type ChannelType struct {
	ID        int32
	Name      string
	Image     string
	ClassID   int32
	ClassName string
}

// Channel is a channel as the API shows it. An uncatalogued channel has its UUID as
// name, no description and no type.
type Channel struct {
	UUID        string
	Name        string
	Description *string
	Type        *ChannelType
}

// hourCounts are the traffic counts of one channel in one UTC hour.
type hourCounts struct {
	hour                             int64
	ch                               int32
	conversations, users, understood int32
}

// userEvent: a user sent a USER message on a channel in an hour.
type userEvent struct {
	hour int64
	user int32
	ch   int32
}

// userRun is one (hour, channel)'s users: runIDs[previous run's end:end], ascending.
type userRun struct {
	hour int64
	ch   int32
	end  int32
}

func userRuns(events []userEvent) ([]userRun, []int32) {
	ev := slices.Clone(events)
	slices.SortFunc(ev, func(a, b userEvent) int {
		return cmp.Or(cmp.Compare(a.hour, b.hour), cmp.Compare(a.ch, b.ch), cmp.Compare(a.user, b.user))
	})
	ids := make([]int32, len(ev))
	var runs []userRun
	for i, e := range ev {
		ids[i] = e.user
		if n := len(runs); n == 0 || runs[n-1].hour != e.hour || runs[n-1].ch != e.ch {
			runs = append(runs, userRun{hour: e.hour, ch: e.ch})
		}
		runs[len(runs)-1].end = int32(i + 1)
	}
	return runs, ids
}

// topicCount: n messages (intents) or conversations (flows) of one topic.
type topicCount struct {
	hour  int64
	ch    int32
	topic int32
	n     int32
}

// tenantData is one bot's summaries in memory, each sorted by hour.
type tenantData struct {
	firstAt  int64 // microseconds
	hasData  bool
	channels []*Channel // data channels by index
	chanIdx  map[string]int32
	counts   []hourCounts
	users    []userEvent
	nUsers   int
	// The users again, grouped by (hour, channel): the distinct counts test the hour
	// and the channel once per run and then read a plain array of user ids.
	runs     []userRun
	runIDs   []int32
	intents  []topicCount
	intentNm []string
	flows    []topicCount
	flowNm   []string
	// Running totals of intents and flows at each day boundary (nil when too large).
	intentDays, flowDays *dayTotals
	// Dictionaries, used only while loading (an incremental refresh extends them).
	userIdx, intentIdx, flowIdx map[string]int32
}

// Snapshot is an immutable in-memory copy of the summary tables, built after every
// rollup. A request reads one snapshot from start to end, so it never mixes the numbers
// of two rollups.
type Snapshot struct {
	Generation int64
	Built      time.Time
	tenants    map[TenantKey]*tenantData
	catalog    map[TenantKey]map[string]*Channel
	lists      atomic.Pointer[listIndexes] // set once its build finishes
}

// Snapshot returns the current snapshot: empty (generation -1) until Refresh runs.
func (w *Warehouse) Snapshot() *Snapshot {
	w.snapMu.RLock()
	defer w.snapMu.RUnlock()
	if w.snap == nil {
		return emptySnapshot
	}
	return w.snap
}

var emptySnapshot = &Snapshot{Generation: -1, tenants: map[TenantKey]*tenantData{}, catalog: map[TenantKey]map[string]*Channel{}}

// loaded reports whether a snapshot was loaded in this process.
func (w *Warehouse) loaded() bool {
	w.snapMu.RLock()
	defer w.snapMu.RUnlock()
	return w.snap != nil
}

// Refresh rebuilds the in-memory snapshot from the summary tables.
func (w *Warehouse) Refresh(ctx context.Context) error { return w.refresh(ctx, nil) }

// refresh loads a new snapshot: all of it, or (days set, a snapshot loaded before)
// only the hours of those UTC days, the rest shared with the previous snapshot.
func (w *Warehouse) refresh(ctx context.Context, days []string) error {
	w.refreshMu.Lock()
	defer w.refreshMu.Unlock()
	start := time.Now()
	prev := w.Snapshot()
	if !w.loaded() || len(days) > maxIncrementalDays {
		days = nil
	}
	s, err := w.loadSnapshot(ctx, prev, days)
	if err == nil && days != nil && s.Generation != prev.Generation+1 {
		// A commit in between was not loaded (its refresh failed, or it came from
		// another process): the days of this rollup are not all that changed.
		w.log.Warn("snapshot skipped a generation: loading all of it", "had", prev.Generation, "now", s.Generation)
		days = nil
		s, err = w.loadSnapshot(ctx, prev, nil)
	}
	if err != nil {
		return err
	}
	w.snapMu.Lock()
	w.snap = s
	w.snapMu.Unlock()
	if w.opts.ListIndex {
		w.scheduleListIndex(s)
	}
	w.log.Info("snapshot loaded", "generation", s.Generation, "tenants", len(s.tenants), "days", len(days),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// bucketHour is the hour (since the epoch) of a bucket: floor division, as DuckDB's
// // truncates toward zero (a bucket at 1969-12-31T23:30Z is in hour -1, not 0).
const bucketHour = "((epoch_ms(bucket) - ((epoch_ms(bucket) % 3600000) + 3600000) % 3600000) // 3600000)"

// maxIncrementalDays: past this many touched days a full load is as cheap.
const maxIncrementalDays = 60

func (w *Warehouse) loadSnapshot(ctx context.Context, prev *Snapshot, days []string) (*Snapshot, error) {
	// One read transaction on one Arrow connection: every table as of the same commit,
	// read as record batches (millions of rows, no per-value driver calls).
	conn, err := w.db.Arrow(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, err
	}
	defer conn.Exec(context.Background(), "ROLLBACK")
	tx := &arrowTx{conn: conn}
	s := &Snapshot{Built: time.Now(), tenants: map[TenantKey]*tenantData{}, catalog: map[TenantKey]map[string]*Channel{}}
	err = scanRows(ctx, tx, "SELECT generation FROM rollup_generation", func(r rowScanner) error { return r.Scan(&s.Generation) })
	if err != nil {
		return nil, fmt.Errorf("read generation: %w", err)
	}
	// Catalog.
	err = scanRows(ctx, tx, `SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, name, description,
		channel_type_id, channel_type_name, channel_type_image, classification_id, classification_name FROM channels`,
		func(r rowScanner) error {
			var k TenantKey
			var c Channel
			var t ChannelType
			var desc sql.NullString
			if err := r.Scan(&k.Org, &k.Env, &k.Bot, &c.UUID, &c.Name, &desc, &t.ID, &t.Name, &t.Image, &t.ClassID, &t.ClassName); err != nil {
				return err
			}
			if desc.Valid {
				c.Description = &desc.String
			}
			c.Type = &t
			if s.catalog[k] == nil {
				s.catalog[k] = map[string]*Channel{}
			}
			s.catalog[k][c.UUID] = &c
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("load channels: %w", err)
	}
	tenant := func(k TenantKey) *tenantData {
		t := s.tenants[k]
		if t == nil {
			t = &tenantData{chanIdx: map[string]int32{}, userIdx: map[string]int32{}, intentIdx: map[string]int32{}, flowIdx: map[string]int32{}}
			s.tenants[k] = t
		}
		return t
	}
	// Only these days' rows are read when refreshing incrementally; the previous
	// snapshot's other hours are kept (copied, never shared mutably).
	dayFilter := ""
	oldLen := map[*tenantData][4]int{}
	if days != nil {
		touched := map[int64]bool{}
		lits := make([]string, len(days))
		for i, d := range days {
			lits[i] = duck.Literal(d)
			if t, err := time.Parse("2006-01-02", d); err == nil {
				touched[t.Unix()/86400] = true
			}
		}
		dayFilter = " WHERE CAST(bucket AS DATE) IN (" + strings.Join(lits, ", ") + ")"
		keep := func(hour int64) bool { return !touched[floorDay(hour)] }
		for k, ot := range prev.tenants {
			// The topic dictionaries are cloned: a refresh that fails after adding names to
			// shared maps would leave the previous snapshot's maps naming indexes past its
			// name lists, and the next refresh would give two names one index. (User ids
			// are numbered by the map's own length, so a stale entry only wastes a number.)
			t := &tenantData{firstAt: ot.firstAt, hasData: ot.hasData, nUsers: ot.nUsers,
				userIdx: ot.userIdx, intentIdx: maps.Clone(ot.intentIdx), flowIdx: maps.Clone(ot.flowIdx),
				intentNm: ot.intentNm, flowNm: ot.flowNm, chanIdx: make(map[string]int32, len(ot.chanIdx))}
			for uuid, i := range ot.chanIdx {
				t.chanIdx[uuid] = i
			}
			t.channels = make([]*Channel, len(ot.channels))
			for i, c := range ot.channels {
				t.channels[i] = s.channel(k, c.UUID) // names from the new catalog
			}
			t.counts = filterHours(ot.counts, func(c *hourCounts) bool { return keep(c.hour) })
			t.users = filterHours(ot.users, func(e *userEvent) bool { return keep(e.hour) })
			t.intents = filterHours(ot.intents, func(c *topicCount) bool { return keep(c.hour) })
			t.flows = filterHours(ot.flows, func(c *topicCount) bool { return keep(c.hour) })
			t.hasData, t.firstAt = false, 0 // recomputed below
			s.tenants[k] = t
			oldLen[t] = [4]int{len(t.counts), len(t.users), len(t.intents), len(t.flows)}
		}
	}
	chIndex := func(k TenantKey, t *tenantData, uuid string) int32 {
		if i, ok := t.chanIdx[uuid]; ok {
			return i
		}
		i := int32(len(t.channels))
		t.chanIdx[uuid] = i
		t.channels = append(t.channels, s.channel(k, uuid))
		return i
	}
	// First data.
	err = scanRows(ctx, tx, `SELECT org_uuid, env_uuid, bot_uuid, epoch_us(min(first_at)) FROM (
			SELECT org_uuid, env_uuid, bot_uuid, first_at FROM message_traffic
			UNION ALL SELECT org_uuid, env_uuid, bot_uuid, first_at FROM conversation_traffic) GROUP BY ALL`,
		func(r rowScanner) error {
			var k TenantKey
			var first int64
			if err := r.Scan(&k.Org, &k.Env, &k.Bot, &first); err != nil {
				return err
			}
			t := tenant(k)
			t.hasData, t.firstAt = true, first
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("load first data: %w", err)
	}
	// Hourly counts.
	err = scanRows(ctx, tx, `SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, hour,
			sum(conversations)::INTEGER, sum(users)::INTEGER, sum(understood)::INTEGER FROM (
			SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, `+bucketHour+` AS hour,
				0 AS conversations, user_messages AS users, understood FROM message_traffic`+dayFilter+`
			UNION ALL
			SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, `+bucketHour+`,
				conversations, 0, 0 FROM conversation_traffic`+dayFilter+`)
		GROUP BY ALL HAVING sum(conversations) + sum(users) > 0
		ORDER BY org_uuid, env_uuid, bot_uuid, hour, channel_uuid`,
		func(r rowScanner) error {
			var k TenantKey
			var ch string
			var c hourCounts
			if err := r.Scan(&k.Org, &k.Env, &k.Bot, &ch, &c.hour, &c.conversations, &c.users, &c.understood); err != nil {
				return err
			}
			t := tenant(k)
			c.ch = chIndex(k, t, ch)
			t.counts = append(t.counts, c)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("load traffic: %w", err)
	}
	// Users: dictionary-encoded per tenant.
	err = scanRows(ctx, tx, `SELECT DISTINCT org_uuid, env_uuid, bot_uuid, channel_uuid, `+bucketHour+` AS hour, user_id
		FROM user_activity`+dayFilter+` ORDER BY org_uuid, env_uuid, bot_uuid, hour, user_id, channel_uuid`,
		func(r rowScanner) error {
			var k TenantKey
			var ch, user string
			var e userEvent
			if err := r.Scan(&k.Org, &k.Env, &k.Bot, &ch, &e.hour, &user); err != nil {
				return err
			}
			t := tenant(k)
			u, ok := t.userIdx[user]
			if !ok {
				u = int32(len(t.userIdx))
				t.userIdx[user] = u
				t.nUsers = len(t.userIdx)
			}
			e.user, e.ch = u, chIndex(k, t, ch)
			t.users = append(t.users, e)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	for _, topic := range []struct {
		table, col string
		intents    bool
	}{{"intent_counts", "intent", true}, {"flow_counts", "flow", false}} {
		err = scanRows(ctx, tx, `SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, `+bucketHour+` AS hour, `+topic.col+`, sum(n)::INTEGER
			FROM `+topic.table+dayFilter+` GROUP BY ALL ORDER BY org_uuid, env_uuid, bot_uuid, hour`,
			func(r rowScanner) error {
				var k TenantKey
				var ch, name string
				var c topicCount
				if err := r.Scan(&k.Org, &k.Env, &k.Bot, &ch, &c.hour, &name, &c.n); err != nil {
					return err
				}
				t := tenant(k)
				nm, names := &t.flowNm, t.flowIdx
				if topic.intents {
					nm, names = &t.intentNm, t.intentIdx
				}
				i, ok := names[name]
				if !ok {
					i = int32(len(*nm))
					names[name] = i
					*nm = append(*nm, name)
				}
				c.topic, c.ch = i, chIndex(k, t, ch)
				if topic.intents {
					t.intents = append(t.intents, c)
				} else {
					t.flows = append(t.flows, c)
				}
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", topic.table, err)
		}
	}
	for _, t := range s.tenants {
		// Rows read now come after the rows kept: merge them by hour.
		n := oldLen[t]
		t.counts = mergeByHour(t.counts, n[0], func(c *hourCounts) int64 { return c.hour })
		t.users = mergeByHour(t.users, n[1], func(e *userEvent) int64 { return e.hour })
		t.runs, t.runIDs = userRuns(t.users)
		t.intents = mergeByHour(t.intents, n[2], func(c *topicCount) int64 { return c.hour })
		t.flows = mergeByHour(t.flows, n[3], func(c *topicCount) int64 { return c.hour })
		t.intentDays = buildDayTotals(t.intents, len(t.channels), len(t.intentNm))
		t.flowDays = buildDayTotals(t.flows, len(t.channels), len(t.flowNm))
	}
	return s, nil
}

// dayTotals are the running totals of a tenant's topic counts at each UTC day boundary,
// by hour of day: cum[(d*24+h)*stride + ch*ntop + topic] sums n over the rows before day
// first+d at hour of day h (stride = channels × topics). The counts of the whole days of
// a range, under any hour window, are then differences of two blocks of it, not a scan
// of every hour's rows: a year of the large bot's intents took 1.5 ms of CPU (go test
// -bench Distinct/intents ./warehouse). Its intents take 0.85M entries (6.8 MB).
type dayTotals struct {
	first  int64 // days since the epoch of the first row
	stride int
	cum    []int64
}

// maxDayTotals caps the entries of one dayTotals (32 MB; a tenant has two: intents and
// flows), and a dayTotals holds at most dayTotalsPerRow entries per row it sums (plus a
// floor of minDayTotals): sparse data keeps its scan instead of a mostly empty table.
const (
	maxDayTotals    = 1 << 22
	dayTotalsPerRow = 4
	minDayTotals    = 1 << 16
)

func buildDayTotals(rows []topicCount, nch, ntop int) *dayTotals {
	stride := nch * ntop
	if len(rows) == 0 || stride == 0 {
		return nil
	}
	first, last := floorDay(rows[0].hour), floorDay(rows[len(rows)-1].hour)
	days := last - first + 1
	block := 24 * int64(stride)
	if days > maxDayTotals || (days+1)*block > min(maxDayTotals, max(minDayTotals, dayTotalsPerRow*int64(len(rows)))) {
		return nil
	}
	for i := range rows {
		if r := &rows[i]; r.ch < 0 || int(r.ch) >= nch || r.topic < 0 || int(r.topic) >= ntop ||
			(i > 0 && r.hour < rows[i-1].hour) {
			return nil // not the layout the totals assume: the scan serves
		}
	}
	cum := make([]int64, (days+1)*block)
	i := 0
	for d := range days {
		cur := cum[(d+1)*block : (d+2)*block]
		copy(cur, cum[d*block:(d+1)*block])
		for end := (first + d + 1) * 24; i < len(rows) && rows[i].hour < end; i++ {
			r := &rows[i]
			cur[calendar.HourOfDay(r.hour)*stride+int(r.ch)*ntop+int(r.topic)] += int64(r.n)
		}
	}
	return &dayTotals{first: first, stride: stride, cum: cum}
}

// wholeDays returns the whole UTC days [d0, d1) of the hours [start, end) that are
// worth taking from the totals: some, and more rows in them than a few passes over the
// totals' 24 × stride entries would cost. i0 and i1 are the first rows of d0 and d1; ok
// is false when the rows are to be scanned.
func (dt *dayTotals) wholeDays(rows []topicCount, stride int, start, end int64) (d0, d1 int64, i0, i1 int, ok bool) {
	if dt == nil || dt.stride != stride {
		return 0, 0, 0, 0, false
	}
	d0, d1 = floorDay(start+23), floorDay(end)
	if d0 >= d1 {
		return 0, 0, 0, 0, false
	}
	hourAt := func(i int) int64 { return rows[i].hour }
	i0, i1 = searchHour(len(rows), hourAt, d0*24), searchHour(len(rows), hourAt, d1*24)
	return d0, d1, i0, i1, i1-i0 > 8*stride
}

// between returns the blocks of cum for days d0 and d1 (days since the epoch), clamped
// to the days the rows cover, or nil, nil when no day is left between them.
func (dt *dayTotals) between(d0, d1 int64) (lo, hi []int64) {
	block := 24 * int64(dt.stride)
	n := int64(len(dt.cum))/block - 1
	a, b := min(max(d0-dt.first, 0), n), min(max(d1-dt.first, 0), n)
	if a >= b {
		return nil, nil
	}
	return dt.cum[a*block : (a+1)*block], dt.cum[b*block : (b+1)*block]
}

type rowScanner interface{ Scan(dest ...any) error }

type arrowTx struct{ conn *duck.ArrowConn }

// scanRows runs q and calls fn once per row, reading the Arrow record batches.
func scanRows(ctx context.Context, tx *arrowTx, q string, fn func(rowScanner) error) error {
	row := &arrowRow{}
	return eachBatch(ctx, tx, q, func(cols []arrow.Array, rows int) error {
		row.cols = cols
		for row.i = 0; row.i < rows; row.i++ {
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachBatch runs q and calls fn with each record batch's columns and row count (the
// columns are released after fn returns).
func eachBatch(ctx context.Context, tx *arrowTx, q string, fn func(cols []arrow.Array, rows int) error) error {
	rdr, err := tx.conn.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		if err := fn(rec.Columns(), int(rec.NumRows())); err != nil {
			return err
		}
	}
	return rdr.Err()
}

// arrowRow scans one row of a record batch into *string, *sql.NullString, *int64
// and *int32 destinations.
type arrowRow struct {
	cols []arrow.Array
	i    int
}

func (r *arrowRow) Scan(dest ...any) error {
	for c, d := range dest {
		col := r.cols[c]
		null := col.IsNull(r.i)
		switch p := d.(type) {
		case *string:
			if null {
				return fmt.Errorf("column %d: NULL into string", c)
			}
			*p = stringAt(col, r.i)
		case *sql.NullString:
			p.Valid = !null
			if !null {
				p.String = stringAt(col, r.i)
			}
		case *int64:
			if null {
				return fmt.Errorf("column %d: NULL into int64", c)
			}
			v, err := intAt(col, r.i)
			if err != nil {
				return err
			}
			*p = v
		case *int32:
			if null {
				return fmt.Errorf("column %d: NULL into int32", c)
			}
			v, err := intAt(col, r.i)
			if err != nil {
				return err
			}
			*p = int32(v)
		default:
			return fmt.Errorf("column %d: cannot scan into %T", c, d)
		}
	}
	return nil
}

// stringAt copies a string out of a record batch: Arrow's Value aliases memory that is
// freed with the batch.
func stringAt(col arrow.Array, i int) string { return strings.Clone(rawString(col, i)) }

func intAt(col arrow.Array, i int) (int64, error) {
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(i), nil
	case *array.Int32:
		return int64(a.Value(i)), nil
	case *array.Int16:
		return int64(a.Value(i)), nil
	case *array.Int8:
		return int64(a.Value(i)), nil
	case *array.Uint64:
		return int64(a.Value(i)), nil
	case *array.Uint32:
		return int64(a.Value(i)), nil
	}
	return 0, fmt.Errorf("column of type %s is not an integer", col.DataType())
}

// channel returns the catalog entry of a tenant's channel, or the uncatalogued form.
func (s *Snapshot) channel(k TenantKey, uuid string) *Channel {
	if c := s.catalog[k][uuid]; c != nil {
		return c
	}
	return &Channel{UUID: uuid, Name: uuid}
}

// Channel is the tenant's channel as the API shows it.
func (s *Snapshot) Channel(k TenantKey, uuid string) *Channel { return s.channel(k, uuid) }

// Busiest is the tenant with the most traffic hours, and its last one (Unix hours): what
// a welcome message can point at. ok is false when no tenant has traffic.
func (s *Snapshot) Busiest() (k TenantKey, lastHour int64, ok bool) {
	best := 0
	for tk, t := range s.tenants {
		if n := len(t.counts); n > best || n == best && n > 0 && tenantLess(tk, k) {
			k, lastHour, best, ok = tk, t.counts[n-1].hour, n, true
		}
	}
	return k, lastHour, ok
}

func tenantLess(a, b TenantKey) bool {
	if a.Org != b.Org {
		return a.Org < b.Org
	}
	if a.Env != b.Env {
		return a.Env < b.Env
	}
	return a.Bot < b.Bot
}

func floorDay(hour int64) int64 {
	d := hour / 24
	if hour < 0 && hour%24 != 0 {
		d--
	}
	return d
}

// filterHours copies the entries that keep returns true for.
func filterHours[T any](in []T, keep func(*T) bool) []T {
	out := make([]T, 0, len(in))
	for i := range in {
		if keep(&in[i]) {
			out = append(out, in[i])
		}
	}
	return out
}

// mergeByHour merges s[:n] and s[n:], each sorted by hour, into one sorted slice.
func mergeByHour[T any](s []T, n int, hour func(*T) int64) []T {
	if n == 0 || n == len(s) || hour(&s[n-1]) <= hour(&s[n]) {
		if !sort.SliceIsSorted(s, func(i, j int) bool { return hour(&s[i]) < hour(&s[j]) }) {
			sort.SliceStable(s, func(i, j int) bool { return hour(&s[i]) < hour(&s[j]) })
		}
		return s
	}
	out := make([]T, 0, len(s))
	a, b := s[:n], s[n:]
	for len(a) > 0 && len(b) > 0 {
		if hour(&b[0]) < hour(&a[0]) {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}
