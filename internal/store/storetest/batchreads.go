package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

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
