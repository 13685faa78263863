package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// Tx runs statements in a writer's transaction, for PruneEvents.
type Tx interface {
	// QueryRow runs a query that returns one row.
	QueryRow(ctx context.Context, query string, args ...any) Scanner
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
}

// PruneEvents deletes the outbox's oldest events as
// store.EventPruner.PruneEvents says, in the transaction of w, whose
// statements tx runs, and returns how many it deleted.
func (d Dialect) PruneEvents(ctx context.Context, w store.Writer, tx Tx, before time.Time, through int64, limit int) (int64, error) {
	// The first event to keep: the oldest one not older than before. The
	// subquery makes "none" a NULL rather than no row, which each driver
	// reports in its own way.
	var keep *int64
	if err := tx.QueryRow(ctx, "SELECT (SELECT seq FROM events WHERE time >= "+d.Param(1)+" ORDER BY seq LIMIT 1)",
		before.UnixMilli()).Scan(&keep); err != nil {
		return 0, fmt.Errorf("%s: prune events: %w", d.Name, err)
	}
	if keep != nil {
		through = min(through, *keep-1)
	}
	var last *int64
	if err := tx.QueryRow(ctx, "SELECT max(seq) FROM (SELECT seq FROM events WHERE seq <= "+d.Param(1)+" ORDER BY seq LIMIT "+d.Param(2)+") s",
		through, limit).Scan(&last); err != nil {
		return 0, fmt.Errorf("%s: prune events: %w", d.Name, err)
	}
	if last == nil {
		return 0, nil
	}
	deleted, err := tx.Exec(ctx, "DELETE FROM events WHERE seq <= "+d.Param(1), *last)
	if err != nil {
		return 0, fmt.Errorf("%s: prune events: %w", d.Name, err)
	}
	return deleted, store.RecordPruned(ctx, w, *last)
}
