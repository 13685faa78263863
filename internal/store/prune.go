package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// EventPruner is implemented by a store that can drop the outbox's oldest
// events. Both backends implement it.
type EventPruner interface {
	// PruneEvents deletes, oldest first, at most limit events that are
	// older than before and whose seq is at most through, stopping at the
	// first event it must keep, so what is deleted is always a prefix of
	// the outbox. It records the highest seq deleted (PrunedThrough) in
	// the same transaction and returns how many events it deleted.
	PruneEvents(ctx context.Context, before time.Time, through int64, limit int) (int64, error)
}

// KindOutboxPruned is the record (id "outbox") holding the highest seq
// pruned from the outbox: a resume from before it has lost events.
const KindOutboxPruned = "outboxpruned"

type prunedDoc struct {
	Through int64 `json:"through"`
}

// PrunedThrough returns the highest seq pruned from the outbox, 0 when
// nothing was.
func PrunedThrough(ctx context.Context, r Reader) (int64, error) {
	d, _, err := GetJSON[prunedDoc](ctx, r, KindOutboxPruned, "outbox")
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return d.Through, err
}

// RecordPruned raises the pruned mark to through inside w's transaction
// (for EventPruner implementations).
func RecordPruned(ctx context.Context, w Writer, through int64) error {
	old, err := PrunedThrough(ctx, w)
	if err != nil || through <= old {
		return err
	}
	doc, _ := json.Marshal(prunedDoc{Through: through})
	_, err = w.Put(ctx, Record{Kind: KindOutboxPruned, ID: "outbox", Doc: doc, Upsert: true})
	return err
}
