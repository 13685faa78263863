package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// Opener opens a fresh empty store that reads time from clk.
type Opener func(t *testing.T, clk clock.Clock) store.Store

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, clk *clock.Fake)
	}{
		{"a created record reads back with version 1", testCreateGet},
		{"creating an existing record conflicts", testCreateConflict},
		{"an update with a stale version conflicts and changes nothing", testStaleUpdate},
		{"an upsert ignores versions", testUpsert},
		{"a missing record is not found", testNotFound},
		{"delete removes and checks versions", testDelete},
		{"find looks up secondary keys in order with a cursor", testFind},
		{"find by prefix", testFindPrefix},
		{"an expired record is invisible and may be created again", testExpiry},
		{"an event is appended exactly when its change commits", testEventsCommitWithChange},
		{"events page in sequence order and filter by type", testEventPaging},
		{"an event's recorded target reads back as written, none recorded as nil", testEventTargets},
		{"a failing transaction does not disturb others committed beside it", testIsolationInBatch},
		{"a caller cancelled while its function runs leaves the others of its batch alone", testCancelledCallerLeavesItsBatchAlone},
		{"concurrent writers all commit and versions never repeat", testConcurrentWriters},
		{"after-commit hooks run only on commit", testAfterCommit},
		{"an after-commit hook that blocks holds up no other commit, and may write", testHookDoesNotBlockWriter},
		{"a transaction sees its own writes", testReadYourWrites},
		{"functions of one batch read what those before them committed, never a failed one's writes", testReadsInABatch},
		{"forgetting deletes a record at any version, an absent one is no error, a failed function's forgetting is undone", testForget},
		{"a held put writes as Put does, and its conflict fails its own function alone", testPutHeld},
		{"a pending event commits with the first change made under its context", testPendingCommitsWithTheFirstChange},
		{"pruning deletes the oldest events up to a seq and a cut-off", testPruneEvents},
		{"new work is refused at the door while the writer is behind, admitted work commits", testAdmission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
			s := open(t, clk)
			tc.fn(t, s, clk)
		})
	}
}

func put(t *testing.T, s store.Store, r store.Record) int64 {
	t.Helper()
	var v int64
	err := s.Update(context.Background(), func(w store.Writer) error {
		var err error
		v, err = w.Put(context.Background(), r)
		return err
	})
	if err != nil {
		t.Fatalf("put %s/%s: %v", r.Kind, r.ID, err)
	}
	return v
}

// updateUntilNoConflict runs fn in an Update, again for as long as it ends
// in a version conflict, as a service's read-modify-write does.
func updateUntilNoConflict(ctx context.Context, s store.Store, fn func(store.Writer) error) error {
	for {
		if err := s.Update(ctx, fn); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
}

func get(t *testing.T, s store.Store, kind, id string) (store.Item, error) {
	t.Helper()
	var it store.Item
	err := s.View(context.Background(), func(r store.Reader) error {
		var err error
		it, err = r.Get(context.Background(), kind, id)
		return err
	})
	return it, err
}

func testCreateGet(t *testing.T, s store.Store, _ *clock.Fake) {
	v := put(t, s, store.Record{Kind: "fleet", ID: "fleet-1", Doc: []byte(`{"name":"a"}`), Keys: store.Keys{"x", "", "z"}})
	if v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	it, err := get(t, s, "fleet", "fleet-1")
	if err != nil {
		t.Fatal(err)
	}
	if string(it.Doc) != `{"name":"a"}` || it.Version != 1 || it.Keys != (store.Keys{"x", "", "z"}) {
		t.Fatalf("got %+v", it)
	}
}

func testCreateConflict(t *testing.T, s store.Store, _ *clock.Fake) {
	put(t, s, store.Record{Kind: "k", ID: "a", Doc: []byte(`1`)})
	err := s.Update(context.Background(), func(w store.Writer) error {
		_, err := w.Put(context.Background(), store.Record{Kind: "k", ID: "a", Doc: []byte(`2`)})
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	it, _ := get(t, s, "k", "a")
	if string(it.Doc) != "1" {
		t.Fatalf("doc changed to %s", it.Doc)
	}
}

func testStaleUpdate(t *testing.T, s store.Store, _ *clock.Fake) {
	put(t, s, store.Record{Kind: "k", ID: "a", Doc: []byte(`1`)})
	if v := put(t, s, store.Record{Kind: "k", ID: "a", Doc: []byte(`2`), Version: 1}); v != 2 {
		t.Fatalf("version = %d, want 2", v)
	}
	err := s.Update(context.Background(), func(w store.Writer) error {
		_, err := w.Put(context.Background(), store.Record{Kind: "k", ID: "a", Doc: []byte(`3`), Version: 1})
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	it, _ := get(t, s, "k", "a")
	if string(it.Doc) != "2" || it.Version != 2 {
		t.Fatalf("got %s v%d", it.Doc, it.Version)
	}
}

func testUpsert(t *testing.T, s store.Store, _ *clock.Fake) {
	if v := put(t, s, store.Record{Kind: "k", ID: "a", Doc: []byte(`1`), Upsert: true}); v != 1 {
		t.Fatalf("first upsert version %d", v)
	}
	if v := put(t, s, store.Record{Kind: "k", ID: "a", Doc: []byte(`2`), Upsert: true}); v != 2 {
		t.Fatalf("second upsert version %d", v)
	}
}

func testNotFound(t *testing.T, s store.Store, _ *clock.Fake) {
	if _, err := get(t, s, "k", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	err := s.Update(context.Background(), func(w store.Writer) error {
		_, err := w.Put(context.Background(), store.Record{Kind: "k", ID: "nope", Doc: []byte(`1`), Version: 3})
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing record: err = %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s store.Store, _ *clock.Fake) {
	put(t, s, store.Record{Kind: "k", ID: "a", Doc: []byte(`1`)})
	del := func(version int64) error {
		return s.Update(context.Background(), func(w store.Writer) error {
			return w.Delete(context.Background(), "k", "a", version)
		})
	}
	if err := del(7); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete with wrong version: %v", err)
	}
	if err := del(1); err != nil {
		t.Fatal(err)
	}
	if err := del(0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func testFind(t *testing.T, s store.Store, _ *clock.Fake) {
	for i := range 5 {
		status := "ACTIVE"
		if i%2 == 1 {
			status = "IDLE"
		}
		put(t, s, store.Record{Kind: "proc", ID: fmt.Sprintf("p%d", i), Doc: []byte(`{}`), Keys: store.Keys{"", status}})
	}
	put(t, s, store.Record{Kind: "other", ID: "p9", Doc: []byte(`{}`), Keys: store.Keys{"", "ACTIVE"}})
	var got []string
	q := store.Query{Kind: "proc", Key: 2, Value: "ACTIVE", Limit: 2}
	for {
		var items []store.Item
		err := s.View(context.Background(), func(r store.Reader) error {
			var err error
			items, err = r.Find(context.Background(), q)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			got = append(got, it.ID)
		}
		if len(items) < q.Limit {
			break
		}
		q.After = q.Cursor(items[len(items)-1])
	}
	if fmt.Sprint(got) != "[p0 p2 p4]" {
		t.Fatalf("found %v", got)
	}
	var all []store.Item
	s.View(context.Background(), func(r store.Reader) error {
		var err error
		all, err = r.Find(context.Background(), store.Query{Kind: "proc", Prefix: true})
		return err
	})
	if len(all) != 5 {
		t.Fatalf("listing the kind found %d records, want 5", len(all))
	}
	var bare []store.Item
	s.View(context.Background(), func(r store.Reader) error {
		var err error
		bare, err = r.Find(context.Background(), store.Query{Kind: "proc", Key: 2, Value: "IDLE", NoDocs: true})
		return err
	})
	if len(bare) != 2 || bare[0].ID != "p1" || len(bare[0].Doc) != 0 || bare[0].Keys[1] != "IDLE" || bare[0].Version != 1 {
		t.Fatalf("a NoDocs find returned %+v", bare)
	}
}

func testFindPrefix(t *testing.T, s store.Store, _ *clock.Fake) {
	for _, k := range []string{"fleet-a/loc-1/IDLE", "fleet-a/loc-2/IDLE", "fleet-b/loc-1/IDLE", "fleet-a%/x"} {
		put(t, s, store.Record{Kind: "proc", ID: k, Doc: []byte(`{}`), Keys: store.Keys{k}})
	}
	q := store.Query{Kind: "proc", Key: 1, Value: "fleet-a/", Prefix: true, Limit: 1}
	var got []string
	for range 5 {
		var items []store.Item
		s.View(context.Background(), func(r store.Reader) error {
			var err error
			items, err = r.Find(context.Background(), q)
			return err
		})
		if len(items) == 0 {
			break
		}
		got = append(got, items[0].ID)
		q.After = q.Cursor(items[0])
	}
	if fmt.Sprint(got) != "[fleet-a/loc-1/IDLE fleet-a/loc-2/IDLE]" {
		t.Fatalf("prefix found %v", got)
	}
}

func testExpiry(t *testing.T, s store.Store, clk *clock.Fake) {
	put(t, s, store.Record{Kind: "k", ID: "a", Doc: []byte(`1`), Keys: store.Keys{"x"}, ExpiresAt: clk.Now().Add(time.Minute)})
	if _, err := get(t, s, "k", "a"); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	clk.Advance(time.Minute)
	if _, err := get(t, s, "k", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after expiry: err = %v, want ErrNotFound", err)
	}
	var items []store.Item
	s.View(context.Background(), func(r store.Reader) error {
		items, _ = r.Find(context.Background(), store.Query{Kind: "k", Key: 1, Value: "x"})
		return nil
	})
	if len(items) != 0 {
		t.Fatalf("find returned an expired record")
	}
	if v := put(t, s, store.Record{Kind: "k", ID: "a", Doc: []byte(`2`)}); v != 1 {
		t.Fatalf("re-created expired record at version %d, want 1", v)
	}
}

func events(t *testing.T, s store.Store, q store.EventQuery) []store.Event {
	t.Helper()
	var evs []store.Event
	if err := s.View(context.Background(), func(r store.Reader) error {
		var err error
		evs, err = r.Events(context.Background(), q)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

func testEventsCommitWithChange(t *testing.T, s store.Store, clk *clock.Fake) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(w store.Writer) error {
		if _, err := w.Put(ctx, store.Record{Kind: "k", ID: "rolled-back", Doc: []byte(`1`)}); err != nil {
			return err
		}
		if err := w.Append(ctx, store.Event{Type: "Created", Resource: "rolled-back", Doc: []byte(`{}`)}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if evs := events(t, s, store.EventQuery{}); len(evs) != 0 {
		t.Fatalf("a rolled-back change left %d events", len(evs))
	}
	if _, err := get(t, s, "k", "rolled-back"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a rolled-back record is visible: %v", err)
	}
	err = s.Update(ctx, func(w store.Writer) error {
		if _, err := w.Put(ctx, store.Record{Kind: "k", ID: "kept", Doc: []byte(`1`)}); err != nil {
			return err
		}
		return w.Append(ctx, store.Event{Type: "Created", Resource: "kept", Doc: []byte(`{"a":1}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := events(t, s, store.EventQuery{})
	if len(evs) != 1 || evs[0].Resource != "kept" || evs[0].ID == "" || !evs[0].Time.Equal(clk.Now()) || string(evs[0].Doc) != `{"a":1}` {
		t.Fatalf("events = %+v", evs)
	}
}

func testEventPaging(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	for i := range 10 {
		typ := "A"
		if i%3 == 0 {
			typ = "B"
		}
		if err := s.Update(ctx, func(w store.Writer) error {
			return w.Append(ctx, store.Event{Type: typ, Resource: fmt.Sprint(i)})
		}); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int64
	var after int64
	for {
		page := events(t, s, store.EventQuery{After: after, Limit: 3})
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seqs = append(seqs, e.Seq)
		}
		after = page[len(page)-1].Seq
	}
	if len(seqs) != 10 {
		t.Fatalf("paged %d events, want 10", len(seqs))
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("sequence not increasing: %v", seqs)
		}
	}
	if b := events(t, s, store.EventQuery{Type: "B"}); len(b) != 4 {
		t.Fatalf("type filter found %d, want 4", len(b))
	}
}

func testIsolationInBatch(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range 40 {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(w store.Writer) error {
				if _, err := w.Put(ctx, store.Record{Kind: "k", ID: fmt.Sprint(i), Doc: []byte(`1`)}); err != nil {
					return err
				}
				if err := w.Append(ctx, store.Event{Type: "E", Resource: fmt.Sprint(i)}); err != nil {
					return err
				}
				if i%2 == 1 {
					return fmt.Errorf("odd %d fails", i)
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		_, getErr := get(t, s, "k", fmt.Sprint(i))
		if i%2 == 1 {
			if err == nil || !errors.Is(getErr, store.ErrNotFound) {
				t.Fatalf("failed write %d: err=%v, record visible=%v", i, err, getErr == nil)
			}
		} else if err != nil || getErr != nil {
			t.Fatalf("good write %d: err=%v get=%v", i, err, getErr)
		}
	}
	if evs := events(t, s, store.EventQuery{Limit: 1000}); len(evs) != 20 {
		t.Fatalf("%d events, want 20", len(evs))
	}
}

func testConcurrentWriters(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	put(t, s, store.Record{Kind: "counter", ID: "c", Doc: []byte(`0`)})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int64]bool{}
	for range 8 {
		wg.Go(func() {
			for range 25 {
				var v int64
				err := updateUntilNoConflict(ctx, s, func(w store.Writer) error {
					it, err := w.Get(ctx, "counter", "c")
					if err != nil {
						return err
					}
					v, err = w.Put(ctx, store.Record{Kind: "counter", ID: "c", Doc: it.Doc, Version: it.Version})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[v] {
					t.Errorf("version %d produced twice", v)
				}
				seen[v] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	it, _ := get(t, s, "counter", "c")
	if it.Version != 201 {
		t.Fatalf("version = %d after 200 updates, want 201", it.Version)
	}
}

func testAfterCommit(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	ran := 0
	s.Update(ctx, func(w store.Writer) error {
		w.AfterCommit(func() { ran++ })
		return nil
	})
	s.Update(ctx, func(w store.Writer) error {
		w.AfterCommit(func() { ran += 100 })
		return errors.New("no")
	})
	if ran != 1 {
		t.Fatalf("hooks ran %d, want 1", ran)
	}
}

func testReadYourWrites(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	err := s.Update(ctx, func(w store.Writer) error {
		if _, err := w.Put(ctx, store.Record{Kind: "k", ID: "a", Doc: []byte(`5`), Keys: store.Keys{"q"}}); err != nil {
			return err
		}
		it, err := w.Get(ctx, "k", "a")
		if err != nil || string(it.Doc) != "5" {
			return fmt.Errorf("get inside transaction: %v %s", err, it.Doc)
		}
		items, err := w.Find(ctx, store.Query{Kind: "k", Key: 1, Value: "q"})
		if err != nil || len(items) != 1 {
			return fmt.Errorf("find inside transaction: %v %d", err, len(items))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testHookDoesNotBlockWriter holds one transaction's after-commit hook until
// a second transaction has committed — which the second can do only if
// hooks run off the store's writer — and lets that hook write.
func testHookDoesNotBlockWriter(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Update(ctx, func(w store.Writer) error {
			w.AfterCommit(func() {
				<-release
				err := s.Update(ctx, func(w store.Writer) error {
					_, err := w.Put(ctx, store.Record{Kind: "k", ID: "from-hook", Doc: []byte(`{}`)})
					return err
				})
				if err != nil {
					t.Errorf("a write from an after-commit hook: %v", err)
				}
			})
			_, err := w.Put(ctx, store.Record{Kind: "k", ID: "first", Doc: []byte(`{}`)})
			return err
		})
	}()
	// The first transaction's hook is now (or soon) blocked. The second
	// commits regardless; with hooks on the writer it would wait forever,
	// and the test's deadline names the culprit.
	put(t, s, store.Record{Kind: "k", ID: "second", Doc: []byte(`{}`)})
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, s, "k", "from-hook"); err != nil {
		t.Fatalf("the hook's write: %v", err)
	}
}

// testReadsInABatch: functions that share a batch each read what the
// functions before them committed to it, their own writes, and never the
// writes of a function that failed. A backend that keeps what a
// transaction read or wrote (to spare round trips) must forget a
// failed function's writes with it.
func testReadsInABatch(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	put(t, s, store.Record{Kind: "cfg", ID: "x", Doc: []byte(`"one"`)})
	release := HoldWriter(t, s)
	errFailed := errors.New("fails after writing")
	steps := []func(w store.Writer) error{
		func(w store.Writer) error { return wantRead(ctx, w, 1, `"one"`) },
		func(w store.Writer) error {
			if _, err := w.Put(ctx, store.Record{Kind: "cfg", ID: "x", Doc: []byte(`"two"`), Version: 1}); err != nil {
				return err
			}
			if err := wantRead(ctx, w, 2, `"two"`); err != nil {
				return err
			}
			return errFailed
		},
		func(w store.Writer) error { return wantRead(ctx, w, 1, `"one"`) },
		func(w store.Writer) error {
			if _, err := w.Put(ctx, store.Record{Kind: "cfg", ID: "x", Doc: []byte(`"three"`), Version: 1}); err != nil {
				return err
			}
			return wantRead(ctx, w, 2, `"three"`)
		},
		func(w store.Writer) error {
			if err := wantRead(ctx, w, 2, `"three"`); err != nil {
				return err
			}
			if err := w.Delete(ctx, "cfg", "x", 2); err != nil {
				return err
			}
			if _, err := w.Get(ctx, "cfg", "x"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("a deleted record reads %v, want not found", err)
			}
			return nil
		},
	}
	errs := make([]chan error, len(steps))
	for i, step := range steps {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- s.Update(ctx, step) }()
		WaitQueued(t, s, i+2) // in this order, behind the held writer
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for i := range steps {
		err := <-errs[i]
		if i == 1 {
			if !errors.Is(err, errFailed) {
				t.Errorf("function %d: %v, want its own failure", i, err)
			}
		} else if err != nil {
			t.Errorf("function %d: %v", i, err)
		}
	}
	if _, err := get(t, s, "cfg", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the batch the record reads %v, want deleted", err)
	}
}

// wantRead checks that cfg/x reads at version with doc.
func wantRead(ctx context.Context, w store.Writer, version int64, doc string) error {
	it, err := w.Get(ctx, "cfg", "x")
	if err != nil {
		return err
	}
	if it.Version != version || string(it.Doc) != doc {
		return fmt.Errorf("read version %d %s, want version %d %s", it.Version, it.Doc, version, doc)
	}
	return nil
}

func testForget(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	put(t, s, store.Record{Kind: "cfg", ID: "x", Doc: []byte(`1`)})
	put(t, s, store.Record{Kind: "cfg", ID: "x", Doc: []byte(`2`), Version: 1})
	put(t, s, store.Record{Kind: "cfg", ID: "y", Doc: []byte(`1`)})
	err := s.Update(ctx, func(w store.Writer) error {
		for _, id := range []string{"x", "absent"} {
			if err := store.Forget(ctx, w, "cfg", id); err != nil {
				return err
			}
		}
		if _, err := w.Get(ctx, "cfg", "x"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("a forgotten record reads %v in its transaction, want not found", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, s, "cfg", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a forgotten record reads %v after commit, want not found", err)
	}
	// In one batch: a function that forgets y and fails leaves y there for
	// the next.
	release := HoldWriter(t, s)
	errFailed := errors.New("fails after forgetting")
	failed, next := make(chan error, 1), make(chan error, 1)
	go func() {
		failed <- s.Update(ctx, func(w store.Writer) error {
			if err := store.Forget(ctx, w, "cfg", "y"); err != nil {
				return err
			}
			return errFailed
		})
	}()
	WaitQueued(t, s, 2)
	go func() {
		next <- s.Update(ctx, func(w store.Writer) error {
			_, err := w.Get(ctx, "cfg", "y")
			return err
		})
	}()
	WaitQueued(t, s, 3)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := <-failed; !errors.Is(err, errFailed) {
		t.Fatalf("the forgetting function: %v, want its own failure", err)
	}
	if err := <-next; err != nil {
		t.Fatalf("after a failed function forgot it, y reads %v", err)
	}
}

func testPutHeld(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	put(t, s, store.Record{Kind: "cfg", ID: "x", Doc: []byte(`1`)})
	release := HoldWriter(t, s)
	steps := []func(w store.Writer) error{
		// Writes x at version 2 and a new y, each with the version Put
		// would give, and reads them back.
		func(w store.Writer) error {
			if v, err := store.PutHeld(ctx, w, store.Record{Kind: "cfg", ID: "x", Doc: []byte(`2`), Version: 1}); err != nil || v != 2 {
				return fmt.Errorf("held update: version %d, %v", v, err)
			}
			if v, err := store.PutHeld(ctx, w, store.Record{Kind: "cfg", ID: "y", Doc: []byte(`1`)}); err != nil || v != 1 {
				return fmt.Errorf("held create: version %d, %v", v, err)
			}
			it, err := w.Get(ctx, "cfg", "x")
			if err != nil || it.Version != 2 || string(it.Doc) != "2" {
				return fmt.Errorf("x reads %+v, %v after its held update", it, err)
			}
			return nil
		},
		// A stale version: the function fails with a conflict, here or
		// when it ends, and writes nothing.
		func(w store.Writer) error {
			if _, err := store.PutHeld(ctx, w, store.Record{Kind: "cfg", ID: "z", Doc: []byte(`1`)}); err != nil {
				return err
			}
			_, err := store.PutHeld(ctx, w, store.Record{Kind: "cfg", ID: "x", Doc: []byte(`stale`), Version: 1})
			return err
		},
		// So does a create of a record that exists.
		func(w store.Writer) error {
			_, err := store.PutHeld(ctx, w, store.Record{Kind: "cfg", ID: "y", Doc: []byte(`again`)})
			return err
		},
		func(w store.Writer) error { return wantRead(ctx, w, 2, "2") },
	}
	errs := make([]chan error, len(steps))
	for i, step := range steps {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- s.Update(ctx, step) }()
		WaitQueued(t, s, i+2)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for i := range steps {
		err := <-errs[i]
		if conflict := i == 1 || i == 2; conflict != errors.Is(err, store.ErrConflict) {
			t.Errorf("function %d: %v", i, err)
		}
	}
	if _, err := get(t, s, "cfg", "z"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the failed function's z reads %v, want not found", err)
	}
}
