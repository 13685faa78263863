package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/store/storetest"
)

func open(t testing.TB, path string, clk clock.Clock) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk clock.Clock) store.Store {
		db := open(t, filepath.Join(t.TempDir(), "muster.db"), clk)
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestSharedConformance runs the several-process cases on one handle: a
// SQLite file belongs to one process, whose writer serialises everything.
func TestSharedConformance(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T, clk clock.Clock, n int) []store.Store {
		db := open(t, filepath.Join(t.TempDir(), "muster.db"), clk)
		t.Cleanup(func() { db.Close() })
		handles := make([]store.Store, n)
		for i := range handles {
			handles[i] = db
		}
		return handles
	})
}

func TestDataSurvivesReopenAndMigrationsApplyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "muster.db")
	ctx := context.Background()
	db := open(t, path, clock.Real{})
	if err := db.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: "k", ID: "a", Doc: []byte(`{"x":1}`)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, path, clock.Real{})
	defer db.Close()
	var it store.Item
	if err := db.View(ctx, func(r store.Reader) error {
		var err error
		it, err = r.Get(ctx, "k", "a")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if string(it.Doc) != `{"x":1}` {
		t.Fatalf("doc after reopen = %s", it.Doc)
	}
	n, err := db.MigrationCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := sqlite.EmbeddedMigrations(); n != want {
		t.Fatalf("%d migrations recorded after two opens, want %d", n, want)
	}
}

func TestUpdateAfterCloseFails(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	db.Close()
	if err := db.Update(context.Background(), func(store.Writer) error { return nil }); err != store.ErrClosed {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

// BenchmarkDurableWrites measures single-record durable transactions from
// concurrent writers: group commit is what lets them exceed one fsync each.
func BenchmarkDurableWrites(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			db := open(b, filepath.Join(b.TempDir(), "muster.db"), clock.Real{})
			defer db.Close()
			ctx := context.Background()
			doc := []byte(`{"name":"a fleet","description":"x","status":"ACTIVE","count":12345}`)
			var mu sync.Mutex
			n := 0
			b.SetParallelism(writers)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					n++
					id := fmt.Sprint(n)
					mu.Unlock()
					err := db.Update(ctx, func(w store.Writer) error {
						if _, err := w.Put(ctx, store.Record{Kind: "bench", ID: id, Doc: doc, Keys: store.Keys{"k"}}); err != nil {
							return err
						}
						return w.Append(ctx, store.Event{Type: "Bench", Resource: id, Doc: doc})
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

// BenchmarkFind measures a point Find through View: the path every list
// operation takes.
func BenchmarkFind(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "muster.db"), clock.Real{})
	defer db.Close()
	ctx := context.Background()
	for i := range 200 {
		db.Update(ctx, func(w store.Writer) error {
			_, err := w.Put(ctx, store.Record{Kind: "location", ID: fmt.Sprintf("custom-%03d", i), Doc: []byte(`{"name":"x"}`), Keys: store.Keys{"a"}})
			return err
		})
	}
	for b.Loop() {
		err := db.View(ctx, func(r store.Reader) error {
			_, err := r.Find(ctx, store.Query{Kind: "location", Prefix: true, Limit: 11})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindByKey measures a Find on a secondary key (a partial index
// named with INDEXED BY) among many records of the kind.
func BenchmarkFindByKey(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "muster.db"), clock.Real{})
	defer db.Close()
	ctx := context.Background()
	for i := range 2000 {
		db.Update(ctx, func(w store.Writer) error {
			_, err := w.Put(ctx, store.Record{Kind: "proc", ID: fmt.Sprintf("p-%04d", i), Doc: []byte(`{"s":1}`), Keys: store.Keys{"", fmt.Sprintf("fleet-%d/IDLE", i%50)}})
			return err
		})
	}
	for b.Loop() {
		err := db.View(ctx, func(r store.Reader) error {
			items, err := r.Find(ctx, store.Query{Kind: "proc", Key: 2, Value: "fleet-7/IDLE", Limit: 10})
			if err == nil && len(items) != 10 {
				err = fmt.Errorf("found %d", len(items))
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
