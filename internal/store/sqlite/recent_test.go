package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// The tests below hold point reads answered from the recently written
// records to what SQLite itself would answer.

func put(t *testing.T, db store.Store, r store.Record) int64 {
	t.Helper()
	var v int64
	if err := db.Update(context.Background(), func(w store.Writer) error {
		var err error
		v, err = w.Put(context.Background(), r)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// read gets a record through a View, or through the writer when inWriter.
func read(t *testing.T, db store.Store, inWriter bool, kind, id string) (store.Item, error) {
	t.Helper()
	var it store.Item
	get := func(r store.Reader) error {
		var err error
		it, err = r.Get(context.Background(), kind, id)
		return err
	}
	var err error
	if inWriter {
		err = db.Update(context.Background(), func(w store.Writer) error { return get(w) })
	} else {
		err = db.View(context.Background(), get)
	}
	return it, err
}

func viewGet(t *testing.T, db store.Store, kind, id string) (store.Item, error) {
	return read(t, db, false, kind, id)
}

func writerGet(t *testing.T, db store.Store, kind, id string) (store.Item, error) {
	return read(t, db, true, kind, id)
}

func wantDoc(t *testing.T, it store.Item, err error, doc string, version int64) {
	t.Helper()
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if string(it.Doc) != doc || it.Version != version {
		t.Fatalf("got %s at version %d, want %s at version %d", it.Doc, it.Version, doc, version)
	}
}

// A request that fails after writing shares its batch with one that reads
// the same record: the reader, and everyone after the commit, sees the
// record as it was before the failed request.
func TestAWriteItsRequestRolledBackIsNeverRead(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	t.Cleanup(func() { db.Close() })
	put(t, db, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"v":1}`)})

	holding, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() { // holds the writer so that the next two share a batch
		held <- db.Update(ctx, func(store.Writer) error { close(holding); <-release; return nil })
	}()
	<-holding
	failed, read := make(chan error, 1), make(chan error, 1)
	var seen store.Item
	go func() {
		failed <- db.Update(ctx, func(w store.Writer) error {
			if _, err := w.Put(ctx, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"v":2}`), Version: 1}); err != nil {
				return err
			}
			if it, err := w.Get(ctx, "k", "x"); err != nil || string(it.Doc) != `{"v":2}` {
				return errors.New("the request does not read its own write")
			}
			return errors.New("refused after writing")
		})
	}()
	for db.Waiting() < 2 {
		runtime.Gosched()
	}
	go func() {
		read <- db.Update(ctx, func(w store.Writer) error {
			var err error
			seen, err = w.Get(ctx, "k", "x")
			return err
		})
	}()
	for db.Waiting() < 3 {
		runtime.Gosched()
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := <-failed; err == nil || err.Error() != "refused after writing" {
		t.Fatalf("failing request: %v", err)
	}
	wantDoc(t, seen, <-read, `{"v":1}`, 1)
	it, err := viewGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":1}`, 1)
	it, err = writerGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":1}`, 1)
}

// Another process's commit (`muster keys` beside a running server) is seen
// by the writer's next transaction, and by readers once the writer's last
// check is older than the cache's freshness.
func TestAnotherConnectionsCommitIsSeen(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "muster.db")
	db := open(t, path, clk)
	t.Cleanup(func() { db.Close() })
	other := open(t, path, clk)
	t.Cleanup(func() { other.Close() })

	put(t, db, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"v":1}`)})
	it, err := viewGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":1}`, 1)
	put(t, other, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"v":2}`), Version: 1})

	clk.Advance(time.Second) // the writer has not checked for a second
	it, err = viewGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":2}`, 2)

	put(t, other, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"v":3}`), Version: 2})
	it, err = writerGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":3}`, 3)
	it, err = viewGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":3}`, 3)
}

// Expiry and deletion hide a record that is still in memory, within the
// transaction that deletes it and after.
func TestExpiredAndDeletedRecordsAreNotFound(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clk)
	t.Cleanup(func() { db.Close() })

	put(t, db, store.Record{Kind: "k", ID: "brief", Doc: []byte(`{}`), ExpiresAt: clk.Now().Add(time.Second)})
	put(t, db, store.Record{Kind: "k", ID: "gone", Doc: []byte(`{}`)})
	it, err := viewGet(t, db, "k", "brief")
	wantDoc(t, it, err, `{}`, 1)
	if !it.ExpiresAt.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("expiry %v, want %v", it.ExpiresAt, clk.Now().Add(time.Second))
	}

	err = db.Update(ctx, func(w store.Writer) error {
		if err := w.Delete(ctx, "k", "gone", 1); err != nil {
			return err
		}
		if _, err := w.Get(ctx, "k", "gone"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("get after delete in its transaction: %v, want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := viewGet(t, db, "k", "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("view get after delete: %v, want not found", err)
	}

	clk.Advance(time.Second)
	if _, err := writerGet(t, db, "k", "brief"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("writer get of an expired record: %v, want not found", err)
	}
	if _, err := viewGet(t, db, "k", "brief"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("view get of an expired record: %v, want not found", err)
	}
}

// A caller owns the document it is given: changing it changes nothing
// stored.
func TestAReadDocumentIsTheCallersOwn(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	t.Cleanup(func() { db.Close() })
	put(t, db, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"v":1}`)})
	for _, get := range []func(*testing.T, store.Store, string, string) (store.Item, error){viewGet, writerGet} {
		it, err := get(t, db, "k", "x")
		wantDoc(t, it, err, `{"v":1}`, 1)
		copy(it.Doc, `{"v":9}`)
		it, err = get(t, db, "k", "x")
		wantDoc(t, it, err, `{"v":1}`, 1)
	}
}

// With room for only a few records, reads of those that left memory come
// from SQLite, still current.
func TestRecordsThatLeftMemoryAreReadFromTheFile(t *testing.T) {
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), RecentBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for _, id := range ids {
		put(t, db, store.Record{Kind: "k", ID: id, Doc: []byte(`{"id":"` + id + `","pad":"` + strings.Repeat("p", 200) + `"}`)})
		put(t, db, store.Record{Kind: "k", ID: id, Doc: []byte(`{"id":"` + id + `"}`), Version: 1})
	}
	for _, id := range ids {
		it, err := viewGet(t, db, "k", id)
		wantDoc(t, it, err, `{"id":"`+id+`"}`, 2)
		it, err = writerGet(t, db, "k", id)
		wantDoc(t, it, err, `{"id":"`+id+`"}`, 2)
	}
}

// A record nobody wrote lately, read through a View, is kept: the next
// read of it is answered from memory (seen here through the freshness
// window another process's commit is subject to), and once the writer's
// check is old, from the file again.
func TestARecordReadOutsideTheWriterIsKept(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "muster.db")
	db := open(t, path, clk)
	put(t, db, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"v":1}`)})
	db.Close()
	db = open(t, path, clk) // an empty cache
	t.Cleanup(func() { db.Close() })
	other := open(t, path, clk)
	t.Cleanup(func() { other.Close() })

	put(t, db, store.Record{Kind: "k", ID: "y", Doc: []byte(`{}`)}) // the writer checks for other commits now
	it, err := viewGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":1}`, 1)
	put(t, other, store.Record{Kind: "k", ID: "x", Doc: []byte(`{"v":2}`), Version: 1})
	it, err = viewGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":1}`, 1) // from memory, within the window
	clk.Advance(time.Second)
	it, err = viewGet(t, db, "k", "x")
	wantDoc(t, it, err, `{"v":2}`, 2)
}

// Readers racing the writer's commits never go back to an older version
// than one they have seen, and end on the last one written.
func TestReadsRacingCommitsNeverGoBack(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "muster.db"), clock.Real{})
	t.Cleanup(func() { db.Close() })
	const writes = 300
	put(t, db, store.Record{Kind: "k", ID: "x", Doc: []byte(`{}`)})
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			seen := int64(0)
			for {
				select {
				case <-done:
					it, err := viewGet(t, db, "k", "x")
					if err == nil && it.Version != writes+1 {
						err = fmt.Errorf("after the last write a reader got version %d, want %d", it.Version, writes+1)
					}
					errs <- err
					return
				default:
				}
				it, err := viewGet(t, db, "k", "x")
				if err == nil && it.Version < seen {
					err = fmt.Errorf("a reader got version %d after version %d", it.Version, seen)
				}
				if err != nil {
					errs <- err
					return
				}
				seen = it.Version
			}
		}()
	}
	for v := int64(1); v <= writes; v++ {
		// Other records' commits in between: reads of x meet commits that
		// do not write it, too.
		put(t, db, store.Record{Kind: "k", ID: fmt.Sprint("other", v), Doc: []byte(`{}`)})
		put(t, db, store.Record{Kind: "k", ID: "x", Doc: []byte(`{}`), Version: v})
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
