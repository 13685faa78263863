package sqlite

import (
	"context"
	"time"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlstore"
)

// PruneEvents deletes the outbox's oldest events (store.EventPruner).
func (db *DB) PruneEvents(ctx context.Context, before time.Time, through int64, limit int) (int64, error) {
	var deleted int64
	err := db.Update(ctx, func(w store.Writer) (err error) {
		deleted, err = dialect.PruneEvents(ctx, w, pruneTx{w.(*txWriter)}, before, through, limit)
		return err
	})
	if err == nil && deleted > 0 {
		// Followers must not be handed what the outbox no longer keeps:
		// resuming from a pruned event is answered with a reset.
		db.recentEvents.clear()
	}
	return deleted, err
}

// pruneTx runs PruneEvents' statements through the writer's querier, in
// its transaction and under its context (stmtQuerier).
type pruneTx struct{ w *txWriter }

func (t pruneTx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return t.w.q.QueryRowContext(ctx, query, args...)
}

func (t pruneTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.w.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}
