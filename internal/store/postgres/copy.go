package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlstore"
)

// DumpRecords lists every record, expired ones included (store.Dumper).
func (db *DB) DumpRecords(ctx context.Context, fn func(store.Item) error) error {
	return dialect.Dump(fn, func(query string, args ...any) ([]store.Item, error) {
		rows, err := db.pool.Query(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("postgres: dump: %w", err)
		}
		items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Item, error) { return sqlstore.ScanItem(r) })
		if err != nil {
			return nil, fmt.Errorf("postgres: dump: %w", err)
		}
		return items, nil
	})
}

// LoadRecords writes records as given (store.Loader), with COPY.
func (db *DB) LoadRecords(ctx context.Context, items []store.Item) error {
	rows := make([][]any, len(items))
	for i, it := range items {
		rows[i] = []any{it.Kind, it.ID, it.Doc, sqlstore.Key(it.Keys[0]), sqlstore.Key(it.Keys[1]), sqlstore.Key(it.Keys[2]), it.Version, sqlstore.Expiry(it.ExpiresAt)}
	}
	_, err := db.pool.CopyFrom(ctx, pgx.Identifier{"records"},
		[]string{"kind", "id", "doc", "k1", "k2", "k3", "version", "expires_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("postgres: load records: %w", err)
	}
	return nil
}

// LoadEvents writes events with their sequence numbers (store.Loader) and
// moves the outbox's sequence past the last one, so new events follow them.
func (db *DB) LoadEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{e.Seq, e.ID, e.Time.UnixMilli(), e.Type, e.Resource, []byte(e.Doc), e.Target}
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// The events' seq is GENERATED ALWAYS: COPY may not set it, so
		// load through a staging table with OVERRIDING SYSTEM VALUE.
		if _, err := tx.Exec(ctx, "CREATE TEMP TABLE events_load (LIKE events) ON COMMIT DROP"); err != nil {
			return fmt.Errorf("postgres: load events: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events_load"},
			[]string{"seq", "id", "time", "type", "resource", "doc", "target"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("postgres: load events: %w", err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO events OVERRIDING SYSTEM VALUE SELECT * FROM events_load"); err != nil {
			return fmt.Errorf("postgres: load events: %w", err)
		}
		if _, err := tx.Exec(ctx, "SELECT setval(pg_get_serial_sequence('events', 'seq'), (SELECT max(seq) FROM events))"); err != nil {
			return fmt.Errorf("postgres: load events: %w", err)
		}
		return nil
	})
}
