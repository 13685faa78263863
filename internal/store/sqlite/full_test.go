package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// TestFullDatabaseRefusesWritesClearlyAndResumes fills the database for
// real (SQLite's max_page_count makes a write that needs a new page fail
// as a full disk does): the write fails with store.ErrStorageFull, nothing
// of its transaction is kept, what was committed stays readable, and once
// there is room again writes succeed and the file is intact.
func TestFullDatabaseRefusesWritesClearlyAndResumes(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	t.Cleanup(func() { db.Close() })
	put := func(id string) error {
		return db.Update(ctx, func(w store.Writer) error {
			if _, err := w.Put(ctx, store.Record{Kind: "k", ID: id, Doc: []byte(`{"pad":"` + strings.Repeat("x", 2000) + `"}`)}); err != nil {
				return err
			}
			return w.Append(ctx, store.Event{Type: "Put", Resource: id, Doc: []byte(`{}`)})
		})
	}
	if err := put("before"); err != nil {
		t.Fatal(err)
	}
	fillToCurrentSize(t, db)
	var full error
	written := 0
	for i := range 100 {
		if err := put(fmt.Sprint("r", i)); err != nil {
			full = err
			break
		}
		written++
	}
	t.Logf("%d writes fit, then: %v", written, full)
	if !errors.Is(full, store.ErrStorageFull) {
		t.Fatalf("a write to a full database failed with %v, want store.ErrStorageFull", full)
	}
	if !strings.Contains(full.Error(), "out of disk space") {
		t.Errorf("the error %q does not say the disk is full", full)
	}
	// The refused write left nothing: neither its record nor its event.
	err := db.View(ctx, func(r store.Reader) error {
		if _, err := r.Get(ctx, "k", fmt.Sprint("r", written)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused record: %v, want not found", err)
		}
		evs, err := r.Events(ctx, store.EventQuery{Limit: 1000})
		if err != nil {
			return err
		}
		if len(evs) != written+1 {
			t.Errorf("%d events, want %d (the refused write's event must not be there)", len(evs), written+1)
		}
		_, err = r.Get(ctx, "k", "before")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A write that needs no new page still goes through.
	if err := db.Update(ctx, func(w store.Writer) error { return w.Delete(ctx, "k", "before", 0) }); err != nil {
		t.Fatalf("a delete on a full database: %v", err)
	}

	if _, err := db.SetMaxPages(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := put(fmt.Sprint("after", i)); err != nil {
			t.Fatalf("a write once there is room again: %v", err)
		}
	}
	if got := integrity(t, db); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
}

// fillToCurrentSize lets the database grow no more: from now on a write
// that needs a new page fails as it would on a full disk.
func fillToCurrentSize(t *testing.T, db *sqlite.DB) {
	t.Helper()
	pages, err := db.PageCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetMaxPages(context.Background(), pages); err != nil {
		t.Fatal(err)
	}
}

func integrity(t *testing.T, db interface {
	IntegrityCheck(context.Context) (string, error)
}) string {
	t.Helper()
	got, err := db.IntegrityCheck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestAFullDiskNeverCommitsAWriteItReportsFailed runs many writers at once
// against a full database, so that their transactions share commits: SQLite
// may roll a whole shared transaction back under the one write that found
// no room, and then every writer must be told exactly what happened — a
// write reported as failed is not in the database, and one reported as
// done is there with its event.
func TestAFullDiskNeverCommitsAWriteItReportsFailed(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	t.Cleanup(func() { db.Close() })
	const n = 40
	err := db.Update(ctx, func(w store.Writer) error {
		for i := range n {
			if _, err := w.Put(ctx, store.Record{Kind: "small", ID: fmt.Sprint(i), Doc: []byte(`{"v":0}`)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fillToCurrentSize(t, db)
	// Hold the writer so that the writes below queue up and share commits.
	release, held := make(chan struct{}), make(chan struct{})
	go db.Update(ctx, func(store.Writer) error { close(held); <-release; return nil })
	<-held
	results := make([]error, n)
	var started, done sync.WaitGroup
	for i := range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			results[i] = db.Update(ctx, func(w store.Writer) error {
				var err error
				if i%2 == 0 { // needs new pages
					_, err = w.Put(ctx, store.Record{Kind: "big", ID: fmt.Sprint(i), Doc: []byte(`{"pad":"` + strings.Repeat("x", 3000) + `"}`)})
				} else { // fits where it is
					_, err = w.Put(ctx, store.Record{Kind: "small", ID: fmt.Sprint(i), Doc: []byte(`{"v":1}`), Version: 1})
				}
				if err != nil {
					return err
				}
				return w.Append(ctx, store.Event{ID: fmt.Sprint("event-", i), Type: "Wrote", Resource: fmt.Sprint(i), Doc: []byte(`{}`)})
			})
		}()
	}
	started.Wait()
	close(release)
	done.Wait()

	events := map[string]bool{}
	evs, err := readAllEvents(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		events[e.ID] = true
	}
	failed := 0
	for i, res := range results {
		if res != nil {
			failed++
			if !errors.Is(res, store.ErrStorageFull) {
				t.Errorf("write %d failed with %v, want store.ErrStorageFull", i, res)
			}
		}
		var written bool
		err := db.View(ctx, func(r store.Reader) error {
			if i%2 == 0 {
				_, err := r.Get(ctx, "big", fmt.Sprint(i))
				written = err == nil
				return nil
			}
			it, err := r.Get(ctx, "small", fmt.Sprint(i))
			written = err == nil && it.Version == 2
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if written != (res == nil) || events[fmt.Sprint("event-", i)] != (res == nil) {
			t.Errorf("write %d: reported %v, but its record written %v and its event written %v", i, res, written, events[fmt.Sprint("event-", i)])
		}
	}
	if failed == 0 {
		t.Fatal("no write failed on the full database")
	}
	t.Logf("%d of %d writes refused", failed, n)
	if got := integrity(t, db); got != "ok" {
		t.Fatalf("integrity_check: %s", got)
	}
}

func readAllEvents(ctx context.Context, db store.Store) ([]store.Event, error) {
	var evs []store.Event
	err := db.View(ctx, func(r store.Reader) error {
		var err error
		evs, err = r.Events(ctx, store.EventQuery{Limit: 10000})
		return err
	})
	return evs, err
}
