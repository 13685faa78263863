package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/storetest"
)

// TestRecordsMoveToARowidTableWithEverythingKept builds a database as the
// migrations before 0006 left it (records in a WITHOUT ROWID table), with
// documents small and large enough to have overflowed its pages, and opens
// it: every record, key, version and expiry is kept, the table has rowids,
// and the (kind, id) key still refuses a second create.
func TestRecordsMoveToARowidTableWithEverythingKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "muster.db")
	clk := clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	raw := migratedThrough(t, path, 5)
	expires := clk.Now().Add(time.Hour).UnixMilli()
	const records = 300
	// record i's id, document (up to 3 KB: past a 4 KiB page's local
	// payload), first key and version.
	record := func(i int) (id, doc, key string, version int64) {
		return fmt.Sprintf("gs-%03d", i), fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("x", i*10)), fmt.Sprintf("fleet-%d", i%3), int64(i + 1)
	}
	for i := range records {
		id, doc, key, version := record(i)
		if _, err := raw.Exec(`INSERT INTO records (kind, id, doc, k1, k2, k3, version, expires_at) VALUES ('gamesession', ?, ?, ?, NULL, NULL, ?, ?)`,
			id, []byte(doc), key, version, expires); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := open(t, path, clk)
	defer db.Close()
	var schema string
	check, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	if err := check.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'records'`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(schema), "WITHOUT ROWID") {
		t.Fatalf("records is still a WITHOUT ROWID table: %s", schema)
	}
	err = db.View(ctx, func(r store.Reader) error {
		for i := range records {
			id, doc, key, version := record(i)
			it, err := r.Get(ctx, "gamesession", id)
			if err != nil {
				return fmt.Errorf("get %s: %w", id, err)
			}
			if string(it.Doc) != doc || it.Version != version || it.Keys[0] != key || it.ExpiresAt.UnixMilli() != expires {
				return fmt.Errorf("%s after the migration: doc %d bytes (want %d), version %d, keys %q, expires %v", id, len(it.Doc), len(doc), it.Version, it.Keys, it.ExpiresAt)
			}
		}
		byKey, err := r.Find(ctx, store.Query{Kind: "gamesession", Key: 1, Value: "fleet-1", Limit: 1000})
		if err != nil || len(byKey) != 100 {
			return fmt.Errorf("find by k1 after the migration: %d records, %v; want 100", len(byKey), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: "gamesession", ID: "gs-007", Doc: []byte(`{}`)})
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second create of gs-007 after the migration: %v, want a conflict", err)
	}
}

// migratedThrough creates a database at path with the migrations up to
// version applied and recorded, as a binary of that schema left it, and
// returns a connection to it for the test to write as that binary would.
func migratedThrough(t *testing.T, path string, version int) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range storetest.MigrationsThrough(t, version) {
		if _, err := raw.Exec(m.Body); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	return raw
}

// TestEventsWrittenBeforeTargetsWereKeptReadWithoutOne opens a database
// whose outbox predates 0007: its events read back whole, with no target
// recorded (nil, which delivery routes by the resource's current target),
// and events appended afterwards keep theirs.
func TestEventsWrittenBeforeTargetsWereKeptReadWithoutOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "muster.db")
	clk := clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	raw := migratedThrough(t, path, 6)
	if _, err := raw.Exec(`INSERT INTO events (id, time, type, resource, doc) VALUES ('old', ?, 'PlacementFailed', 'queue-arn', ?)`,
		clk.Now().UnixMilli(), []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	db := open(t, path, clk)
	defer db.Close()
	storetest.EventWrittenBeforeTargets(t, db)
}
