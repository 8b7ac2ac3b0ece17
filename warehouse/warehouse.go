// Package warehouse owns the DuckDB database under data/warehouse: its schema
// (numbered, embedded migrations), the rollups that turn the lake into summary tables,
// and every query the API runs. It reads the lake; it never writes it, and it never
// imports the API.
package warehouse

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dashboard-analytics/dashboard/internal/duck"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed sql/*.sql
var sqlFiles embed.FS

// Options configure the warehouse.
type Options struct {
	Dir         string // data/warehouse
	LakeDir     string // data/lake
	Threads     int
	MemoryLimit string
	// CheckpointThreshold is the WAL size at which a commit also checkpoints ("" =
	// DuckDB's 16MB). A checkpoint writes every changed table again, so a large one
	// leaves the incremental rollups' commits to the WAL; a full or bulk rollup
	// checkpoints at its end whatever the size.
	CheckpointThreshold string
	Logger              *slog.Logger
	Now                 func() time.Time
	// ListIndex builds the in-memory list index after every snapshot refresh (serve);
	// without it, or until it is built, lists run in DuckDB.
	ListIndex bool
	// ListBlockRows is the rows of a block of the list index's class counts, a power
	// of two (rounded down, from 8 to 1M); 0: 512. Tenants of fewer than 16 blocks
	// have none. Tests set it small to count blocks in small data.
	ListBlockRows int
}

// Warehouse is the DuckDB database of summaries and facts.
type Warehouse struct {
	db   *duck.DB
	opts Options
	log  *slog.Logger

	snapMu    sync.RWMutex
	snap      *Snapshot
	refreshMu sync.Mutex // one snapshot load at a time

	lists     listBuilder
	committed atomic.Int64    // the generation last committed (this process is the only writer)
	closing   context.Context // cancelled by Close: stops a list index build
	close     context.CancelFunc
	closeOnce sync.Once
	closeErr  error
	foldMu    sync.Mutex
	foldCache map[string][]byte
	foldBytes int
}

// File is the database file under the warehouse directory.
const File = "warehouse.duckdb"

// Open opens the warehouse, creating it and applying migrations as needed.
func Open(ctx context.Context, o Options) (*Warehouse, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	db, err := duck.Open(ctx, duck.Options{
		Path:                filepath.Join(o.Dir, File),
		Threads:             o.Threads,
		MemoryLimit:         o.MemoryLimit,
		TempDir:             filepath.Join(o.Dir, "tmp"),
		CheckpointThreshold: o.CheckpointThreshold,
	})
	if err != nil {
		if strings.Contains(err.Error(), "Could not set lock") {
			return nil, fmt.Errorf("warehouse %s is in use by another dashboard process (serve or run): "+
				"stop it first (one process writes a DuckDB database at a time; dashboard run rolls up on its own schedules): %w", o.Dir, err)
		}
		return nil, err
	}
	w := &Warehouse{db: db, opts: o, log: o.Logger, foldCache: map[string][]byte{}}
	w.closing, w.close = context.WithCancel(context.Background())
	if err := w.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := w.noteCommit(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return w, nil
}

// Close stops a list index build and closes the database.
func (w *Warehouse) Close() error {
	w.closeOnce.Do(func() {
		w.close()
		w.stopListBuilds()
		w.closeErr = w.db.Close()
	})
	return w.closeErr
}

// DB exposes the database to the packages that store their records here (jobs).
func (w *Warehouse) DB() *duck.DB { return w.db }

func (w *Warehouse) migrate(ctx context.Context) error {
	db := w.db.SQL
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := db.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		if applied[v] {
			continue
		}
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return err
		}
		err = w.db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (?, ?, ?)", v, e.Name(), w.opts.Now().UTC())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		w.log.Info("migration applied", "version", v, "name", e.Name())
		// Into the database file at once: DuckDB cannot replay some DDL from its WAL
		// (an ALTER or DROP INDEX on a table whose columns have defaults fails with
		// "GetDefaultDatabase with no default database set", duckdb/duckdb#18259,
		// #22044), so a process killed before its next checkpoint would leave a
		// warehouse that does not open.
		if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("checkpoint after migration %s: %w", e.Name(), err)
		}
	}
	return nil
}

// noteCommit records the committed generation, after a write that may have changed it.
func (w *Warehouse) noteCommit(ctx context.Context) error {
	var gen int64
	if err := w.db.SQL.QueryRowContext(ctx, "SELECT generation FROM rollup_generation").Scan(&gen); err != nil {
		return err
	}
	w.committed.Store(gen)
	return nil
}

// Ping checks that the summary tables can be read.
func (w *Warehouse) Ping(ctx context.Context) error {
	var n int64
	return w.db.SQL.QueryRowContext(ctx, "SELECT generation FROM rollup_generation").Scan(&n)
}
