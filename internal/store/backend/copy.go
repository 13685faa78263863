package backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/musterhq/muster/internal/store"
)

// CopyStats says what Copy moved.
type CopyStats struct {
	Records, Events int
}

// errStop ends a dump early.
var errStop = errors.New("stop")

// Copy moves every record and event of from into to, which must be empty,
// keeping versions, expiries and event sequence numbers (so outbox cursors
// stay valid). Stop every server on both stores first: a write made during
// the copy may be missed.
func Copy(ctx context.Context, from, to store.Store) (CopyStats, error) {
	var stats CopyStats
	src, ok := from.(store.Dumper)
	if !ok {
		return stats, fmt.Errorf("store copy: the source store cannot list its records")
	}
	dst, ok := to.(store.Loader)
	if !ok {
		return stats, fmt.Errorf("store copy: the target store cannot load records")
	}
	if err := checkEmpty(ctx, to); err != nil {
		return stats, err
	}
	batch := make([]store.Item, 0, 1000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.LoadRecords(ctx, batch)
		stats.Records += len(batch)
		batch = batch[:0]
		return err
	}
	err := src.DumpRecords(ctx, func(it store.Item) error {
		batch = append(batch, it)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return stats, fmt.Errorf("store copy: records: %w", err)
	}
	var after int64
	for {
		var page []store.Event
		err := from.View(ctx, func(r store.Reader) error {
			var err error
			page, err = r.Events(ctx, store.EventQuery{After: after, Limit: 1000})
			return err
		})
		if err == nil && len(page) > 0 {
			err = dst.LoadEvents(ctx, page)
		}
		if err != nil {
			return stats, fmt.Errorf("store copy: events: %w", err)
		}
		if len(page) == 0 {
			return stats, nil
		}
		stats.Events += len(page)
		after = page[len(page)-1].Seq
	}
}

func checkEmpty(ctx context.Context, s store.Store) error {
	var records, events bool
	if d, ok := s.(store.Dumper); ok {
		err := d.DumpRecords(ctx, func(store.Item) error { records = true; return errStop })
		if err != nil && !errors.Is(err, errStop) {
			return fmt.Errorf("store copy: read the target: %w", err)
		}
	}
	err := s.View(ctx, func(r store.Reader) error {
		evs, err := r.Events(ctx, store.EventQuery{Limit: 1})
		events = len(evs) > 0
		return err
	})
	if err != nil {
		return fmt.Errorf("store copy: read the target: %w", err)
	}
	if records || events {
		return fmt.Errorf("store copy: the target store is not empty; copy into a new, empty database")
	}
	return nil
}
