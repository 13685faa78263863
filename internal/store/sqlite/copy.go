package sqlite

import (
	"context"
	"fmt"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlstore"
)

// DumpRecords lists every record, expired ones included (store.Dumper).
func (db *DB) DumpRecords(ctx context.Context, fn func(store.Item) error) error {
	kind, id := "", ""
	for {
		rows, err := db.reader.QueryContext(ctx, "SELECT "+sqlstore.ItemColumns+
			" FROM records WHERE (kind, id) > (?, ?) ORDER BY kind, id LIMIT 1000", kind, id)
		if err != nil {
			return fmt.Errorf("sqlite: dump: %w", err)
		}
		n := 0
		for rows.Next() {
			it, err := sqlstore.ScanItem(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: dump: %w", err)
			}
			if err := fn(it); err != nil {
				rows.Close()
				return err
			}
			kind, id, n = it.Kind, it.ID, n+1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: dump: %w", err)
		}
		if n < 1000 {
			return nil
		}
	}
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
			if _, err := tx.ExecContext(ctx, "INSERT INTO events (seq, id, time, type, resource, doc) VALUES (?, ?, ?, ?, ?, ?)",
				e.Seq, e.ID, e.Time.UnixMilli(), e.Type, e.Resource, []byte(e.Doc)); err != nil {
				return fmt.Errorf("sqlite: load event %d: %w", e.Seq, err)
			}
		}
		return nil
	})
}
