package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/store/storetest"
)

// The tests below hold the outbox followers' answers from memory
// (RecentEvents) to what SQLite itself holds.

// commitEvents appends events with the given ids in one transaction.
func commitEvents(t *testing.T, db store.Store, ids ...string) {
	t.Helper()
	ctx := context.Background()
	target := "arn:target"
	if err := db.Update(ctx, func(w store.Writer) error {
		for i, id := range ids {
			e := store.Event{ID: id, Type: "Tick", Resource: "r/" + id, Doc: []byte(`{"id":"` + id + `"}`)}
			if i%2 == 1 {
				e.Target = &target
				e.Time = time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC) // finer than the file keeps
			}
			if err := w.Append(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func fileEvents(t *testing.T, db store.Store, after int64, limit int) []store.Event {
	t.Helper()
	var evs []store.Event
	if err := db.View(context.Background(), func(r store.Reader) error {
		var err error
		evs, err = r.Events(context.Background(), store.EventQuery{After: after, Limit: limit})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// agree checks every answer memory gives against the file, from before the
// first event to after the last, and returns how many it gave.
func agree(t *testing.T, db *sqlite.DB, limit int) (answered int) {
	t.Helper()
	all := fileEvents(t, db, 0, 1000)
	last := all[len(all)-1].Seq
	for after := int64(0); after <= last+1; after++ {
		got, ok := db.RecentEvents(after, limit)
		if !ok {
			continue
		}
		answered++
		if want := fileEvents(t, db, after, limit); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %d: memory answered\n%+v\nthe file holds\n%+v", after, got, want)
		}
	}
	return answered
}

// Events of released savepoints are answered as the file holds them; the
// event of a request that failed in the same batch is not.
func TestRecentEventsAreWhatTheFileHolds(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	t.Cleanup(func() { db.Close() })
	commitEvents(t, db, "a", "b", "c")
	commitEvents(t, db, "d")

	release := storetest.HoldWriter(t, db)
	results := make(chan error, 3)
	for i, id := range []string{"e", "failed", "f"} {
		go func() {
			results <- db.Update(ctx, func(w store.Writer) error {
				if err := w.Append(ctx, store.Event{ID: id, Type: "Tick", Resource: "r", Doc: []byte(`{}`)}); err != nil {
					return err
				}
				if id == "failed" {
					return errors.New("refused")
				}
				return nil
			})
		}()
		storetest.WaitQueued(t, db, i+1) // queued in this order
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for range 3 {
		if err := <-results; err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d of the batch's writes failed, want 1", failed)
	}

	all := fileEvents(t, db, 0, 100)
	for _, e := range all {
		if e.ID == "failed" {
			t.Fatalf("the failed request's event was committed: %+v", all)
		}
	}
	if n := agree(t, db, 2); n != len(all) {
		t.Fatalf("memory answered %d of the %d reads it holds the events for", n, len(all))
	}
	if got, ok := db.RecentEvents(all[len(all)-1].Seq, 10); ok {
		t.Fatalf("memory answered %+v for what lies after the newest event; only the file can say", got)
	}
}

// Events another process appends between the writer's commits are never
// skipped: memory gives up what it cannot vouch for, and the file answers.
func TestAnotherProcessesEventsAreNotSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "muster.db")
	db := open(t, path, clock.Real{})
	t.Cleanup(func() { db.Close() })
	other := open(t, path, clock.Real{})
	t.Cleanup(func() { other.Close() })

	commitEvents(t, db, "a", "b")
	commitEvents(t, other, "theirs")
	commitEvents(t, db, "c")
	agree(t, db, 10)
	all := fileEvents(t, db, 0, 100)
	if len(all) != 4 || all[2].ID != "theirs" {
		t.Fatalf("the file holds %+v", all)
	}
	if got, ok := db.RecentEvents(all[1].Seq, 10); ok {
		t.Fatalf("memory answered %+v after b, which would skip the other process's event", got)
	}
	if got, ok := db.RecentEvents(all[2].Seq, 10); !ok || len(got) != 1 || got[0].ID != "c" {
		t.Fatalf("after the other process's event memory answered %+v, %v; want c", got, ok)
	}
}

// With room for a few events only, older ones are read from the file.
func TestEventsThatLeftMemoryAreReadFromTheFile(t *testing.T) {
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), RecentEventBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for i := range 30 {
		commitEvents(t, db, fmt.Sprintf("e%d", i))
	}
	if _, ok := db.RecentEvents(0, 10); ok {
		t.Fatal("memory answered from the first event with room for a few")
	}
	if n := agree(t, db, 5); n == 0 || n >= 30 {
		t.Fatalf("memory answered %d of 30 reads, want some and not all", n)
	}
}

// A caller may change the documents it is given.
func TestARecentEventsDocumentIsTheCallersOwn(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	t.Cleanup(func() { db.Close() })
	commitEvents(t, db, "a", "b")
	got, ok := db.RecentEvents(0, 10)
	if !ok || len(got) != 2 {
		t.Fatalf("memory answered %+v, %v", got, ok)
	}
	got[0].Doc[2] = 'X'
	*got[1].Target = "changed"
	if again, _ := db.RecentEvents(0, 10); string(again[0].Doc) != `{"id":"a"}` || *again[1].Target != "arn:target" {
		t.Fatalf("a caller's change reached memory: %s, %s", again[0].Doc, *again[1].Target)
	}
}

// Events the outbox pruned are not handed out from memory: a follower
// resuming from before them is told by the file that they are gone.
func TestPrunedEventsAreNotAnsweredFromMemory(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	t.Cleanup(func() { db.Close() })
	commitEvents(t, db, "a", "b", "c")
	if n, err := db.PruneEvents(context.Background(), time.Now().Add(time.Hour), 2, 100); err != nil || n != 2 {
		t.Fatalf("pruned %d: %v", n, err)
	}
	if got, ok := db.RecentEvents(0, 10); ok {
		t.Fatalf("memory answered %+v after pruning", got)
	}
	commitEvents(t, db, "d")
	agree(t, db, 10)
}
