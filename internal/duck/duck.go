// Package duck owns DuckDB handles: it opens a database through duckdb.NewConnector with
// connection-init SQL (UTC time zone, threads, memory limit, spill directory, checkpoint
// threshold), serialises writers, and quotes the rare identifier or literal that cannot
// be a bound parameter.
// It is the only package that imports the DuckDB driver.
package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Options configure a DuckDB instance.
type Options struct {
	Path        string // database file; "" = in memory
	Threads     int    // 0 = DuckDB's default (all cores)
	MemoryLimit string // e.g. "2GB"; "" = DuckDB's default (80% of RAM)
	TempDir     string // spill directory; "" = DuckDB's default
	// CheckpointThreshold is the WAL size at which a commit also checkpoints (DuckDB's
	// checkpoint_threshold); "" = DuckDB's default (16MB).
	CheckpointThreshold string
	ReadOnly            bool
}

// DB is one DuckDB instance. Reads may run concurrently; Write serialises writers.
type DB struct {
	SQL       *sql.DB
	connector *duckdb.Connector
	writeMu   sync.Mutex
}

// Open opens (creating if needed) a DuckDB database.
func Open(ctx context.Context, o Options) (*DB, error) {
	// Session settings run on every new connection; instance settings run once (a
	// spill directory cannot be switched once used).
	session := []string{"SET TimeZone='UTC'"}
	var instance []string
	// Inserts need not keep input order (ORDER BY still orders): far less memory.
	instance = append(instance, "SET preserve_insertion_order=false")
	if o.Threads > 0 {
		instance = append(instance, fmt.Sprintf("SET threads=%d", o.Threads))
	}
	if o.MemoryLimit != "" {
		instance = append(instance, "SET memory_limit="+Literal(o.MemoryLimit))
	}
	if o.TempDir != "" {
		instance = append(instance, "SET temp_directory="+Literal(o.TempDir))
	}
	if o.CheckpointThreshold != "" {
		instance = append(instance, "SET checkpoint_threshold="+Literal(o.CheckpointThreshold))
	}
	init := session
	dsn := o.Path
	if o.ReadOnly && dsn != "" {
		dsn += "?access_mode=read_only"
	}
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		for _, q := range init {
			if _, err := execer.ExecContext(context.Background(), q, nil); err != nil {
				return fmt.Errorf("init %q: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb %q: %w", o.Path, err)
	}
	db := sql.OpenDB(connector)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		connector.Close()
		return nil, fmt.Errorf("open duckdb %q: %w", o.Path, err)
	}
	for _, q := range instance {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			connector.Close()
			return nil, fmt.Errorf("open duckdb %q: %s: %w", o.Path, q, err)
		}
	}
	return &DB{SQL: db, connector: connector}, nil
}

// Close closes the pool and the instance.
func (d *DB) Close() error {
	return errors.Join(d.SQL.Close(), d.connector.Close())
}

// Write runs fn while holding the writer lock: one writer at a time.
func (d *DB) Write(ctx context.Context, fn func(ctx context.Context) error) error {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	return fn(ctx)
}

// Tx runs fn in a transaction under the writer lock; it commits when fn returns nil.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return d.Write(ctx, func(ctx context.Context) error {
		tx, err := d.SQL.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := fn(tx); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

// ArrowConn is one connection with DuckDB's Arrow interface: register Arrow streams as
// views and read query results as Arrow record batches.
type ArrowConn struct {
	conn  driver.Conn
	arrow *duckdb.Arrow
}

// Arrow opens a dedicated connection for Arrow exchange. Close it when done.
func (d *DB) Arrow(ctx context.Context) (*ArrowConn, error) {
	conn, err := d.connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("arrow connect: %w", err)
	}
	a, err := duckdb.NewArrowFromConn(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("arrow connect: %w", err)
	}
	return &ArrowConn{conn: conn, arrow: a}, nil
}

// Exec runs a statement on this connection.
func (a *ArrowConn) Exec(ctx context.Context, query string) error {
	ex, ok := a.conn.(driver.ExecerContext)
	if !ok {
		return errors.New("duckdb connection cannot exec")
	}
	_, err := ex.ExecContext(ctx, query, nil)
	return err
}

// InsertRecords appends Arrow record batches to table through a registered view.
func (a *ArrowConn) InsertRecords(ctx context.Context, table string, schema *arrow.Schema, recs []arrow.RecordBatch) error {
	view := "arrow_in_" + strings.ReplaceAll(table, ".", "_")
	if err := a.ExecWithRecords(ctx, view, schema, recs, "INSERT INTO "+Ident(table)+" SELECT * FROM "+Ident(view)); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

// ExecWithRecords runs query with recs registered as the temporary view named view on
// this connection. A registered stream is read once, so each statement that scans the
// batches registers them anew; the batches stay the caller's (they are retained for the
// statement, not released).
func (a *ArrowConn) ExecWithRecords(ctx context.Context, view string, schema *arrow.Schema, recs []arrow.RecordBatch, query string) error {
	rdr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		return fmt.Errorf("record reader: %w", err)
	}
	defer rdr.Release()
	release, err := a.arrow.RegisterView(rdr, view)
	if err != nil {
		return fmt.Errorf("register arrow view: %w", err)
	}
	defer release()
	return a.Exec(ctx, query)
}

// Query runs a query and returns its result as an Arrow record stream.
func (a *ArrowConn) Query(ctx context.Context, query string, args ...any) (array.RecordReader, error) {
	return a.arrow.QueryContext(ctx, query, args...)
}

// Close closes the connection.
func (a *ArrowConn) Close() error { return a.conn.Close() }

// Ident quotes an SQL identifier (a dotted name quotes each part).
func Ident(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	return strings.Join(parts, ".")
}

// Literal quotes a string literal (file paths for read_parquet and COPY TO).
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// LiteralList quotes file paths as a list literal (read_parquet of many files).
func LiteralList(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = Literal(p)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// IsInterrupted reports whether err is DuckDB's answer to a cancelled query.
func IsInterrupted(err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "INTERRUPT"))
}

// IsOutOfMemory reports whether err is DuckDB running out of its memory limit.
func IsOutOfMemory(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Out of Memory")
}
