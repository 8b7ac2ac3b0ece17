package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

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
	intents  []topicCount
	intentNm []string
	flows    []topicCount
	flowNm   []string
}

// Snapshot is an immutable in-memory copy of the summary tables, built after every
// rollup. A request reads one snapshot from start to end, so it never mixes the numbers
// of two rollups.
type Snapshot struct {
	Generation int64
	Built      time.Time
	tenants    map[TenantKey]*tenantData
	catalog    map[TenantKey]map[string]*Channel
}

// Snapshot returns the current snapshot (never nil after Refresh).
func (w *Warehouse) Snapshot() *Snapshot {
	w.snapMu.RLock()
	defer w.snapMu.RUnlock()
	return w.snap
}

// Refresh rebuilds the in-memory snapshot from the summary tables.
func (w *Warehouse) Refresh(ctx context.Context) error {
	start := time.Now()
	s, err := w.loadSnapshot(ctx)
	if err != nil {
		return err
	}
	w.snapMu.Lock()
	w.snap = s
	w.snapMu.Unlock()
	w.log.Info("snapshot loaded", "generation", s.Generation, "tenants", len(s.tenants), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (w *Warehouse) loadSnapshot(ctx context.Context) (*Snapshot, error) {
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
			t = &tenantData{chanIdx: map[string]int32{}}
			s.tenants[k] = t
		}
		return t
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
			SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, epoch_ms(bucket) // 3600000 AS hour,
				0 AS conversations, user_messages AS users, understood FROM message_traffic
			UNION ALL
			SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, epoch_ms(bucket) // 3600000,
				conversations, 0, 0 FROM conversation_traffic)
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
	var lastKey TenantKey
	var userIdx map[string]int32
	err = scanRows(ctx, tx, `SELECT DISTINCT org_uuid, env_uuid, bot_uuid, channel_uuid, epoch_ms(bucket) // 3600000 AS hour, user_id
		FROM user_activity ORDER BY org_uuid, env_uuid, bot_uuid, hour, user_id, channel_uuid`,
		func(r rowScanner) error {
			var k TenantKey
			var ch, user string
			var e userEvent
			if err := r.Scan(&k.Org, &k.Env, &k.Bot, &ch, &e.hour, &user); err != nil {
				return err
			}
			t := tenant(k)
			if k != lastKey || userIdx == nil {
				lastKey, userIdx = k, map[string]int32{}
			}
			u, ok := userIdx[user]
			if !ok {
				u = int32(len(userIdx))
				userIdx[user] = u
				t.nUsers = len(userIdx)
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
		var lastKey TenantKey
		var names map[string]int32
		err = scanRows(ctx, tx, `SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, epoch_ms(bucket) // 3600000 AS hour, `+topic.col+`, sum(n)::INTEGER
			FROM `+topic.table+` GROUP BY ALL ORDER BY org_uuid, env_uuid, bot_uuid, hour`,
			func(r rowScanner) error {
				var k TenantKey
				var ch, name string
				var c topicCount
				if err := r.Scan(&k.Org, &k.Env, &k.Bot, &ch, &c.hour, &name, &c.n); err != nil {
					return err
				}
				t := tenant(k)
				if k != lastKey || names == nil {
					lastKey, names = k, map[string]int32{}
				}
				nm := &t.flowNm
				if topic.intents {
					nm = &t.intentNm
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
		sort.SliceStable(t.counts, func(i, j int) bool { return t.counts[i].hour < t.counts[j].hour })
	}
	return s, nil
}

type rowScanner interface{ Scan(dest ...any) error }

type arrowTx struct{ conn *duck.ArrowConn }

// scanRows runs q and calls fn once per row, reading the Arrow record batches.
func scanRows(ctx context.Context, tx *arrowTx, q string, fn func(rowScanner) error) error {
	rdr, err := tx.conn.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rdr.Release()
	row := &arrowRow{}
	for rdr.Next() {
		rec := rdr.RecordBatch()
		row.cols = rec.Columns()
		for row.i = 0; row.i < int(rec.NumRows()); row.i++ {
			if err := fn(row); err != nil {
				return err
			}
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
func stringAt(col arrow.Array, i int) string {
	switch a := col.(type) {
	case *array.String:
		return strings.Clone(a.Value(i))
	case *array.LargeString:
		return strings.Clone(a.Value(i))
	case *array.StringView:
		return strings.Clone(a.Value(i))
	}
	return col.ValueStr(i)
}

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
