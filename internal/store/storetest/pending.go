package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// testPendingCommitsWithTheFirstChange: a Pending event in the context
// is appended by the first transaction under it that commits, after that
// transaction's writes, and by no other; a rolled-back one gives it back.
func testPendingCommitsWithTheFirstChange(t *testing.T, s store.Store, _ *clock.Fake) {
	p := &store.Pending{Event: store.Event{Type: "Audit", Resource: "key-1", Doc: []byte(`{"op":"Create"}`)}}
	ctx := store.WithPending(context.Background(), p)
	boom := errors.New("boom")
	err := s.Update(ctx, func(w store.Writer) error {
		if _, err := w.Put(ctx, store.Record{Kind: "k", ID: "rolled-back", Doc: []byte(`1`)}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || p.Committed() || len(events(t, s, store.EventQuery{})) != 0 {
		t.Fatalf("a rolled-back transaction: err %v, committed %v", err, p.Committed())
	}
	for _, id := range []string{"first", "second"} {
		err := s.Update(ctx, func(w store.Writer) error {
			if _, err := w.Put(ctx, store.Record{Kind: "k", ID: id, Doc: []byte(`1`)}); err != nil {
				return err
			}
			return w.Append(ctx, store.Event{Type: "Created", Resource: id})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, e := range events(t, s, store.EventQuery{}) {
		got = append(got, e.Type+"/"+e.Resource)
	}
	if want := "[Created/first Audit/key-1 Created/second]"; !p.Committed() || p.Take() || fmt.Sprint(got) != want {
		t.Fatalf("events %v, want %s; committed %v", got, want, p.Committed())
	}
	q := &store.Pending{Event: store.Event{Type: "Audit"}}
	if !q.Take() || q.Take() {
		t.Fatal("a Pending no transaction took is taken once by its maker")
	}
}
