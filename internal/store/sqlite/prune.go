package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// PruneEvents deletes the outbox's oldest events (store.EventPruner).
func (db *DB) PruneEvents(ctx context.Context, before time.Time, through int64, limit int) (int64, error) {
	var deleted int64
	err := db.Update(ctx, func(w store.Writer) error {
		tx := w.(*txWriter).tx
		// The first event to keep: the oldest one not older than before.
		var keep sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT seq FROM events WHERE time >= ? ORDER BY seq LIMIT 1", before.UnixMilli()).Scan(&keep)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: prune events: %w", err)
		}
		if keep.Valid {
			through = min(through, keep.Int64-1)
		}
		var last sql.NullInt64
		err = tx.QueryRowContext(ctx, "SELECT max(seq) FROM (SELECT seq FROM events WHERE seq <= ? ORDER BY seq LIMIT ?)", through, limit).Scan(&last)
		if err != nil {
			return fmt.Errorf("sqlite: prune events: %w", err)
		}
		if !last.Valid {
			return nil
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM events WHERE seq <= ?", last.Int64)
		if err != nil {
			return fmt.Errorf("sqlite: prune events: %w", err)
		}
		deleted, _ = res.RowsAffected()
		return store.RecordPruned(ctx, w, last.Int64)
	})
	return deleted, err
}
