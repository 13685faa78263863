package postgres

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
		deleted, err = dialect.PruneEvents(ctx, w, pruneTx{w.(*writer).tx}, before, through, limit)
		return err
	})
	return deleted, err
}

// pruneTx runs PruneEvents' statements in the writer's transaction.
type pruneTx struct{ tx *pipeline }

func (t pruneTx) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	return t.tx.QueryRow(ctx, query, args...)
}

func (t pruneTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}
