package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/postgres"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/store/storetest"
)

func open(t testing.TB, url string, clk clock.Clock) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), postgres.Config{URL: url, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk clock.Clock) store.Store {
		db := open(t, pgtest.NewDatabase(t), clk)
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestSharedConformance opens one database from two stores, as two
// replicas would.
func TestSharedConformance(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T, clk clock.Clock, n int) []store.Store {
		url := pgtest.NewDatabase(t)
		handles := make([]store.Store, n)
		for i := range handles {
			db := open(t, url, clk)
			t.Cleanup(func() { db.Close() })
			handles[i] = db
		}
		return handles
	})
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)

	t.Run("two stores opening one database apply each migration once and share its data", func(t *testing.T) {
		a, b := open(t, url, nil), open(t, url, nil)
		defer a.Close()
		defer b.Close()
		n, err := b.MigrationCount(ctx)
		if err != nil || n != postgres.EmbeddedMigrations() {
			t.Fatalf("MigrationCount = %d, %v; want %d", n, err, postgres.EmbeddedMigrations())
		}
		err = a.Update(ctx, func(w store.Writer) error {
			_, err := w.Put(ctx, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"a":1}`)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = b.View(ctx, func(r store.Reader) error {
			_, err := r.Get(ctx, "k", "x")
			return err
		})
		if err != nil {
			t.Fatalf("the second store does not see the first's write: %v", err)
		}
	})

	t.Run("a schema newer than the binary knows is refused", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)"); err != nil {
			t.Fatal(err)
		}
		_, err = postgres.Open(ctx, postgres.Config{URL: url})
		if err == nil || !strings.Contains(err.Error(), "newer than this binary knows") {
			t.Fatalf("Open on a newer schema = %v, want a refusal naming the schema", err)
		}
	})
}

// TestStatementErrorInBatch: in one batch, a function whose statement the
// server refuses — a write, or an event append held back for the next
// round trip — fails alone, its earlier writes undone, and the functions
// around it commit with their events.
func TestStatementErrorInBatch(t *testing.T) {
	ctx := context.Background()
	db := open(t, pgtest.NewDatabase(t), nil)
	defer db.Close()
	// Hold the writer so that the functions below queue and share a batch.
	release := storetest.HoldWriter(t, db)
	const (
		fine            = iota // writes a record and appends an event
		badWrite               // writes a record the server refuses
		writeBadNote           // writes a record, then appends an event the server refuses
		badNoteOnly            // only appends an event the server refuses
		badNoteThenList        // appends an event the server refuses, then lists records
		kinds
	)
	const n = 4 * kinds
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Update(ctx, func(w store.Writer) error {
				id, eventType := fmt.Sprint(i), "fine-"+fmt.Sprint(i)
				switch i % kinds {
				case badWrite:
					id = "bad\x00" + id // text refuses NUL: the statement fails in the server
				case writeBadNote, badNoteOnly, badNoteThenList:
					eventType = "bad\x00" + eventType
				}
				if i%kinds == badNoteThenList {
					if err := w.Append(ctx, store.Event{Type: eventType}); err != nil {
						return err
					}
					_, err := w.Find(ctx, store.Query{Kind: "k", Limit: 1})
					return err
				}
				if i%kinds != badNoteOnly {
					if _, err := w.Put(ctx, store.Record{Kind: "k", ID: id, Doc: []byte(`{}`)}); err != nil {
						return err
					}
				}
				return w.Append(ctx, store.Event{Type: eventType})
			})
		})
	}
	storetest.WaitQueued(t, db, n+1)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	events := map[string]bool{}
	if err := db.View(ctx, func(r store.Reader) error {
		evs, err := r.Events(ctx, store.EventQuery{Limit: 100})
		for _, e := range evs {
			events[e.Type] = true
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		getErr := db.View(ctx, func(r store.Reader) error {
			_, err := r.Get(ctx, "k", fmt.Sprint(i))
			return err
		})
		switch i % kinds {
		case fine:
			if err != nil || getErr != nil || !events["fine-"+fmt.Sprint(i)] {
				t.Errorf("write %d beside refused statements: err=%v, read back: %v, event committed: %v", i, err, getErr, events["fine-"+fmt.Sprint(i)])
			}
		case writeBadNote:
			if err == nil || !errors.Is(getErr, store.ErrNotFound) {
				t.Errorf("write %d with a refused event: err=%v, read back: %v; want an error and no record", i, err, getErr)
			}
		default:
			if err == nil {
				t.Errorf("function %d with a refused statement committed", i)
			}
		}
	}
	if len(events) != n/kinds {
		t.Errorf("events committed: %v; want the %d fine ones", events, n/kinds)
	}
}

// TestABatchThatCannotCommitFailsInTime: a batch whose transaction the
// database does not let finish (here the write lock held by a session
// outside Muster, which no idle-in-transaction limit ends) fails after
// CommitTimeout instead of holding the writer, and the writer takes the
// next batch once the lock is free.
func TestABatchThatCannotCommitFailsInTime(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	db, err := postgres.Open(ctx, postgres.Config{URL: url, CommitTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", postgres.WriteLockKey); err != nil {
		t.Fatal(err)
	}
	put := func(id string) error {
		return db.Update(ctx, func(w store.Writer) error {
			_, err := w.Put(ctx, store.Record{Kind: "k", ID: id, Doc: []byte(`{}`)})
			return err
		})
	}
	if err := put("blocked"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a write behind a lock never released: %v; want its batch to fail with the commit deadline", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The writer recovers. Its next batch may still miss the 200 ms
	// deadline on a busy machine (PostgreSQL grants the freed lock in real
	// time): a writer that recovers succeeds within a few tries, one that
	// stays stuck behind the failed batch never does.
	for try := 0; try < 20; try++ {
		if err = put(fmt.Sprintf("after-%d", try)); err == nil || !errors.Is(err, context.DeadlineExceeded) {
			break
		}
	}
	if err != nil {
		t.Fatalf("the writer after the lock was freed: %v", err)
	}
}
