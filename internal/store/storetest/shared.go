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

// SharedOpener opens n handles on one fresh, empty database, as n
// replicas of the control plane would. A backend that one process alone may
// open returns the same handle n times.
type SharedOpener func(t *testing.T, clk clock.Clock, n int) []store.Store

// RunShared runs the cases that only a database shared by several
// processes can fail: each drives two handles at once and checks a promise
// the services build on.
func RunShared(t *testing.T, open SharedOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"two processes reserving the last slots never overfill", testSharedLastSlot},
		{"two processes claiming idle processes never claim one twice", testSharedClaim},
		{"two processes updating one ticket lose no update", testSharedCounter},
		{"a reader following the outbox by cursor skips nothing written concurrently", testSharedOutboxOrder},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
			s := open(t, clk, 2)
			tc.fn(t, s[0], s[1])
		})
	}
}

// both runs f on a and b at once, n times each, and waits. f gets the
// handle, and a number unique across both handles' calls.
func both(a, b store.Store, n int, f func(s store.Store, i int)) {
	var wg sync.WaitGroup
	for h, s := range []store.Store{a, b} {
		for i := range n {
			wg.Go(func() { f(s, h*n+i) })
		}
	}
	wg.Wait()
}

// testSharedLastSlot is the count-then-insert rule behind a game session's
// last player slot: count the reservations, add one if there is room.
func testSharedLastSlot(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	const slots = 5
	var mu sync.Mutex
	granted := 0
	both(a, b, 20, func(s store.Store, i int) {
		err := s.Update(ctx, func(w store.Writer) error {
			taken, err := w.Find(ctx, store.Query{Kind: "reservation", Key: 1, Value: "gs-1", Limit: 100})
			if err != nil {
				return err
			}
			if len(taken) >= slots {
				return errFull
			}
			_, err = w.Put(ctx, store.Record{Kind: "reservation", ID: fmt.Sprint(i), Doc: []byte(`{}`), Keys: store.Keys{"gs-1"}})
			return err
		})
		switch {
		case err == nil:
			mu.Lock()
			granted++
			mu.Unlock()
		case !errors.Is(err, errFull):
			t.Error(err)
		}
	})
	var n int
	a.View(ctx, func(r store.Reader) error {
		items, err := r.Find(ctx, store.Query{Kind: "reservation", Key: 1, Value: "gs-1", Limit: 100})
		n = len(items)
		return err
	})
	if granted != slots || n != slots {
		t.Fatalf("%d reservations granted, %d stored, for %d slots", granted, n, slots)
	}
}

var errFull = errors.New("full")

// testSharedClaim is how placement chooses a process: take the first idle
// one and mark it busy, in one transaction.
func testSharedClaim(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	const processes = 10
	for i := range processes {
		put(t, a, store.Record{Kind: "process", ID: fmt.Sprintf("p%02d", i), Doc: []byte(`{}`), Keys: store.Keys{"IDLE"}})
	}
	var mu sync.Mutex
	claimedBy := map[string]int{}
	both(a, b, 15, func(s store.Store, _ int) {
		var claimed string
		err := s.Update(ctx, func(w store.Writer) error {
			idle, err := w.Find(ctx, store.Query{Kind: "process", Key: 1, Value: "IDLE", Limit: 1})
			if err != nil || len(idle) == 0 {
				return err
			}
			p := idle[0]
			if _, err := w.Put(ctx, store.Record{Kind: "process", ID: p.ID, Doc: p.Doc, Keys: store.Keys{"ACTIVE"}, Version: p.Version}); err != nil {
				return err
			}
			claimed = p.ID
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			t.Error(err)
		}
		if err == nil && claimed != "" {
			mu.Lock()
			claimedBy[claimed]++
			mu.Unlock()
		}
	})
	for id, n := range claimedBy {
		if n > 1 {
			t.Errorf("process %s claimed %d times", id, n)
		}
	}
	if len(claimedBy) != processes {
		t.Fatalf("%d of %d idle processes claimed by 30 tries", len(claimedBy), processes)
	}
}

// testSharedCounter is a ticket updated from two replicas at once, each
// read-modify-write retried on a version conflict.
func testSharedCounter(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	put(t, a, store.Record{Kind: "ticket", ID: "t", Doc: []byte(`0`)})
	both(a, b, 4, func(s store.Store, _ int) {
		for range 10 {
			err := updateUntilNoConflict(ctx, s, func(w store.Writer) error {
				it, err := w.Get(ctx, "ticket", "t")
				if err != nil {
					return err
				}
				var n int
				fmt.Sscan(string(it.Doc), &n)
				_, err = w.Put(ctx, store.Record{Kind: "ticket", ID: "t", Doc: []byte(fmt.Sprint(n + 1)), Version: it.Version})
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}
	})
	it, err := get(t, a, "ticket", "t")
	if err != nil || string(it.Doc) != "80" || it.Version != 81 {
		t.Fatalf("ticket = %s at version %d (%v), want 80 at version 81", it.Doc, it.Version, err)
	}
}

// testSharedOutboxOrder follows the outbox by cursor while two handles
// append events. A store whose sequence numbers are not in commit order
// lets the reader pass a number whose transaction commits later, and the
// reader never sees that event.
func testSharedOutboxOrder(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	const perWriter = 150
	writersDone := make(chan struct{})
	readerDone := make(chan struct{})
	var seen []string
	var readErr error
	go func() {
		defer close(readerDone)
		var after int64
		for {
			// Whether the writers had finished is read before the page, so
			// an empty page after they finished means nothing is left.
			finished := false
			select {
			case <-writersDone:
				finished = true
			default:
			}
			var page []store.Event
			readErr = a.View(ctx, func(r store.Reader) error {
				var err error
				page, err = r.Events(ctx, store.EventQuery{After: after, Limit: 50})
				return err
			})
			if readErr != nil {
				return
			}
			for _, e := range page {
				seen = append(seen, e.ID)
				after = e.Seq
			}
			if finished && len(page) == 0 {
				return
			}
		}
	}()
	both(a, b, 2, func(s store.Store, i int) {
		for j := range perWriter {
			err := s.Update(ctx, func(w store.Writer) error {
				return w.Append(ctx, store.Event{ID: fmt.Sprintf("%d-%d", i, j), Type: "Tick", Resource: "r"})
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	close(writersDone)
	<-readerDone
	if readErr != nil {
		t.Fatal(readErr)
	}
	unique := map[string]bool{}
	for _, id := range seen {
		unique[id] = true
	}
	if len(seen) != 4*perWriter || len(unique) != 4*perWriter {
		t.Fatalf("the reader saw %d events (%d distinct) of %d committed", len(seen), len(unique), 4*perWriter)
	}
}
