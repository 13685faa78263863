package sqlite

import (
	"context"
	"fmt"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlstore"
)

// DumpRecords lists every record, expired ones included (store.Dumper).
func (db *DB) DumpRecords(ctx context.Context, fn func(store.Item) error) error {
	return dialect.Dump(fn, func(query string, args ...any) ([]store.Item, error) {
		rows, err := db.reader.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: dump: %w", err)
		}
		defer rows.Close()
		items, err := sqlstore.Collect(rows, sqlstore.ScanItem)
		if err != nil {
			return nil, fmt.Errorf("sqlite: dump: %w", err)
		}
		return items, nil
	})
}

// LoadRecords writes records as given (store.Loader).
func (db *DB) LoadRecords(ctx context.Context, items []store.Item) error {
	return db.Update(ctx, func(w store.Writer) error {
		tx := w.(*txWriter).tx
		for _, it := range items {
			var exp any
			if !it.ExpiresAt.IsZero() {
				exp = it.ExpiresAt.UnixMilli()
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO records (kind, id, doc, k1, k2, k3, version, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				it.Kind, it.ID, it.Doc, sqlstore.Key(it.Keys[0]), sqlstore.Key(it.Keys[1]), sqlstore.Key(it.Keys[2]), it.Version, exp); err != nil {
				return fmt.Errorf("sqlite: load %s/%s: %w", it.Kind, it.ID, err)
			}
		}
		return nil
	})
}

// LoadEvents writes events with their sequence numbers (store.Loader).
func (db *DB) LoadEvents(ctx context.Context, events []store.Event) error {
	return db.Update(ctx, func(w store.Writer) error {
		tx := w.(*txWriter).tx
		for _, e := range events {
			if _, err := tx.ExecContext(ctx, "INSERT INTO events (seq, id, time, type, resource, doc, target) VALUES (?, ?, ?, ?, ?, ?, ?)",
				e.Seq, e.ID, e.Time.UnixMilli(), e.Type, e.Resource, []byte(e.Doc), e.Target); err != nil {
				return fmt.Errorf("sqlite: load event %d: %w", e.Seq, err)
			}
		}
		return nil
	})
}
