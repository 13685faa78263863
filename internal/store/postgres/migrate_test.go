package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/store/storetest"
)

// migratedThrough applies the migrations up to version to the database at
// url and records them, as a binary of that schema left it, and returns a
// connection for the test to write as that binary would.
func migratedThrough(t *testing.T, url string, version int) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range storetest.MigrationsThrough(t, version) {
		if _, err := conn.Exec(ctx, m.Body); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, $2, 0)`, m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// TestEventsWrittenBeforeTargetsWereKeptReadWithoutOne opens a database
// whose outbox predates 0003: its events read back whole, with no target
// recorded (nil, which delivery routes by the resource's current target),
// and events appended afterwards keep theirs.
func TestEventsWrittenBeforeTargetsWereKeptReadWithoutOne(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	clk := clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	old := migratedThrough(t, url, 2)
	if _, err := old.Exec(ctx, `INSERT INTO events (id, time, type, resource, doc) VALUES ('old', $1, 'PlacementFailed', 'queue-arn', $2)`,
		clk.Now().UnixMilli(), []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	db := open(t, url, clk)
	defer db.Close()
	storetest.EventWrittenBeforeTargets(t, db)
}
