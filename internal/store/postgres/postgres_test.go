package postgres_test

import (
	"context"
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

// TestStatementErrorInBatch: a function whose statement PostgreSQL refuses
// (which aborts the transaction until its savepoint is rolled back) fails
// alone; the functions committed beside it in the same batch keep their
// writes, before and after it.
func TestStatementErrorInBatch(t *testing.T) {
	ctx := context.Background()
	db := open(t, pgtest.NewDatabase(t), nil)
	defer db.Close()
	// Hold the writer so that the functions below queue and share a batch.
	held, release, heldDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		heldDone <- db.Update(ctx, func(store.Writer) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Update(ctx, func(w store.Writer) error {
				id := fmt.Sprint(i)
				if i%3 == 1 {
					id = "bad\x00" + id // text refuses NUL: the statement fails in the server
				}
				_, err := w.Put(ctx, store.Record{Kind: "k", ID: id, Doc: []byte(`{}`)})
				return err
			})
		})
	}
	// Wait for the goroutines to queue (not for time to pass); give up
	// rather than hang if they never do.
	for i := 0; db.Waiting() < n+1; i++ {
		if i == 10000 {
			close(release) // so that Close does not wait on the held writer
			t.Fatalf("%d writes queued, want %d", db.Waiting(), n+1)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-heldDone; err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		var getErr error
		if i%3 != 1 {
			getErr = db.View(ctx, func(r store.Reader) error {
				_, err := r.Get(ctx, "k", fmt.Sprint(i))
				return err
			})
		}
		switch {
		case i%3 == 1 && err == nil:
			t.Errorf("write %d with a NUL in its id committed", i)
		case i%3 != 1 && (err != nil || getErr != nil):
			t.Errorf("write %d beside a refused statement: err=%v, read back: %v", i, err, getErr)
		}
	}
}
