package warehouse

import (
	"context"
	"database/sql"
	"time"
)

// JobRun is the record of one job run.
type JobRun struct {
	ID          int64
	Job         string
	Trigger     string // schedule, startup, manual
	Started     time.Time
	Finished    *time.Time
	Status      string // RUNNING, DONE, FAILED, SKIPPED
	RowsIn      int64
	Loaded      int64
	Duplicates  int64
	Superseded  int64 // records that lost to a newer one of the same key
	Quarantined int64
	Detail      string
	Error       string
}

// StartRun records a job run as RUNNING and returns its id.
func (w *Warehouse) StartRun(ctx context.Context, job, trigger string, started time.Time) (int64, error) {
	var id int64
	err := w.db.Write(ctx, func(ctx context.Context) error {
		return w.db.SQL.QueryRowContext(ctx, `INSERT INTO job_runs (job, trigger, started, status) VALUES (?, ?, ?, 'RUNNING') RETURNING id`,
			job, trigger, started.UTC()).Scan(&id)
	})
	return id, err
}

// FinishRun records a run's outcome.
func (w *Warehouse) FinishRun(ctx context.Context, r JobRun) error {
	return w.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE job_runs SET finished = ?, status = ?, rows_in = ?, loaded = ?, duplicates = ?,
			quarantined = ?, detail = ?, error = ? WHERE id = ?`,
			r.Finished.UTC(), r.Status, r.RowsIn, r.Loaded, r.Duplicates, r.Quarantined, r.Detail, nullIfEmpty(r.Error), r.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO job_run_superseded VALUES (?, ?)`, r.ID, r.Superseded)
		return err
	})
}

// AbandonRuns marks runs left RUNNING by a process that died as FAILED.
func (w *Warehouse) AbandonRuns(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := w.db.Write(ctx, func(ctx context.Context) error {
		res, err := w.db.SQL.ExecContext(ctx, `UPDATE job_runs SET status = 'FAILED', finished = ?,
			error = 'abandoned: the process stopped while the job ran' WHERE status = 'RUNNING'`, now.UTC())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// Runs lists the newest runs first.
func (w *Warehouse) Runs(ctx context.Context, job string, limit int) ([]JobRun, error) {
	rows, err := w.db.SQL.QueryContext(ctx, `SELECT id, job, trigger, started, finished, status, coalesce(rows_in, 0), coalesce(loaded, 0),
		coalesce(duplicates, 0), coalesce(s.superseded, 0), coalesce(quarantined, 0), coalesce(detail, ''), coalesce(error, '')
		FROM job_runs LEFT JOIN job_run_superseded s USING (id) WHERE ? = '' OR job = ? ORDER BY id DESC LIMIT ?`, job, job, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []JobRun
	for rows.Next() {
		var r JobRun
		var fin sql.NullTime
		if err := rows.Scan(&r.ID, &r.Job, &r.Trigger, &r.Started, &fin, &r.Status, &r.RowsIn, &r.Loaded, &r.Duplicates,
			&r.Superseded, &r.Quarantined, &r.Detail, &r.Error); err != nil {
			return nil, err
		}
		if fin.Valid {
			t := fin.Time.UTC()
			r.Finished = &t
		}
		r.Started = r.Started.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
