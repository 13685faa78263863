package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/clock"
)

// What the backends' writers share beyond GroupCommit: the event an
// Append stores, the error of a Delete that removed nothing, and the loop
// that reclaims expired records, which GroupCommit runs.

// Prepared returns the event as Append stores it: an id and the time now
// filled in where the caller left them out, and its document as bytes
// ("{}" when empty). An event without a type is refused.
func (e Event) Prepared(now time.Time) (Event, []byte, error) {
	if e.Type == "" {
		return e, nil, fmt.Errorf("append event: type is required")
	}
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	doc := []byte(e.Doc)
	if doc == nil {
		doc = []byte("{}")
	}
	return e, doc, nil
}

// MissedDelete is the error of a Delete that removed no record: a conflict
// when the record is there at another version than the one asked for,
// else not found. r reads in the deleting transaction.
func MissedDelete(ctx context.Context, r Reader, kind, id string, version int64) error {
	if version > 0 {
		if _, err := r.Get(ctx, kind, id); err == nil {
			return fmt.Errorf("%s %q is not at version %d: %w", kind, id, version, ErrConflict)
		}
	}
	return fmt.Errorf("%s %q: %w", kind, id, ErrNotFound)
}

// sweepLoop runs sweep every interval on the clock until stop closes.
// Expired records are already invisible to readers; sweeping only
// reclaims their space, so a failed sweep is logged and tried again at the
// next tick.
func sweepLoop(c clock.Clock, interval time.Duration, stop <-chan struct{}, log *slog.Logger, sweep func(context.Context) (int64, error)) {
	t := c.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C():
			if n, err := sweep(context.Background()); err != nil {
				log.Warn("sweeping expired records failed", "err", err)
			} else if n > 0 {
				log.Debug("swept expired records", "count", n)
			}
		}
	}
}
