package warehouse

import (
	"context"
	"database/sql"
	"fmt"
)

// PurgeResult counts the rows a purge removed from the warehouse.
type PurgeResult struct {
	Rows    map[string]int64
	Reports []Report // their files are the caller's to delete
}

var tenantTables = []string{"channels", "message_traffic", "conversation_traffic", "user_activity", "intent_counts",
	"flow_counts", "messages", "conversations", "conversation_facts", "message_answers", "session_lookup"}

// Purge removes a tenant (an organization, one of its environments, or one bot) from
// every summary and fact table and its report records, in one transaction.
func (w *Warehouse) Purge(ctx context.Context, org, env, bot string) (PurgeResult, error) {
	res := PurgeResult{Rows: map[string]int64{}}
	cond, args := "org_uuid = ?", []any{org}
	if env != "" {
		cond, args = cond+" AND env_uuid = ?", append(args, env)
	}
	if bot != "" {
		cond, args = cond+" AND bot_uuid = ?", append(args, bot)
	}
	var err error
	if res.Reports, err = w.queryReports(ctx, `SELECT `+reportColumns+` FROM reports WHERE `+cond, args...); err != nil {
		return res, err
	}
	err = w.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, t := range append(tenantTables, "reports") {
			r, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE "+cond, args...)
			if err != nil {
				return fmt.Errorf("purge %s: %w", t, err)
			}
			n, _ := r.RowsAffected()
			res.Rows[t] = n
		}
		_, err := tx.ExecContext(ctx, "UPDATE rollup_generation SET generation = generation + 1")
		return err
	})
	if err != nil {
		return res, err
	}
	if err := w.noteCommit(ctx); err != nil {
		return res, err
	}
	return res, w.Refresh(ctx)
}
