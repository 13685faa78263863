package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/musterhq/muster/internal/store"
)

// PruneEvents deletes the outbox's oldest events (store.EventPruner).
func (db *DB) PruneEvents(ctx context.Context, before time.Time, through int64, limit int) (int64, error) {
	var deleted int64
	err := db.Update(ctx, func(w store.Writer) error {
		tx := w.(*writer).tx
		// The first event to keep: the oldest one not older than before.
		var keep int64
		err := tx.QueryRow(ctx, "SELECT seq FROM events WHERE time >= $1 ORDER BY seq LIMIT 1", before.UnixMilli()).Scan(&keep)
		switch {
		case err == nil:
			through = min(through, keep-1)
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("postgres: prune events: %w", err)
		}
		var last *int64
		if err := tx.QueryRow(ctx, "SELECT max(seq) FROM (SELECT seq FROM events WHERE seq <= $1 ORDER BY seq LIMIT $2) s", through, limit).Scan(&last); err != nil {
			return fmt.Errorf("postgres: prune events: %w", err)
		}
		if last == nil {
			return nil
		}
		tag, err := tx.Exec(ctx, "DELETE FROM events WHERE seq <= $1", *last)
		if err != nil {
			return fmt.Errorf("postgres: prune events: %w", err)
		}
		deleted = tag.RowsAffected()
		return store.RecordPruned(ctx, w, *last)
	})
	return deleted, err
}
