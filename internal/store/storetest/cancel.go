package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// testCancelledCallerLeavesItsBatchAlone: a function whose caller's
// context ends while it runs does not take the functions that share its
// batch down with it. Each caller below gives up inside its function and
// then writes under its ended context; whatever becomes of that caller's
// own write, every other caller's commits. (A shared transaction is
// easily lost to one caller: a backend that sends the batch's own
// statements under the running function's context, or whose engine rolls
// the whole transaction back when a statement is interrupted.)
func testCancelledCallerLeavesItsBatchAlone(t *testing.T, s store.Store, _ *clock.Fake) {
	ctx := context.Background()
	release := HoldWriter(t, s)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			callCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			errs[i] = s.Update(callCtx, func(w store.Writer) error {
				if i%2 == 1 {
					cancel() // the caller gives up while its function runs
				}
				_, err := w.Put(callCtx, store.Record{Kind: "k", ID: fmt.Sprint(i), Doc: []byte(`{}`)})
				return err
			})
		})
	}
	// Queued behind the held writer, the eight share the next batch.
	WaitQueued(t, s, n+1)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		getErr := s.View(ctx, func(r store.Reader) error {
			_, err := r.Get(ctx, "k", fmt.Sprint(i))
			return err
		})
		switch {
		case i%2 == 0 && (err != nil || getErr != nil):
			t.Errorf("write %d, beside callers that gave up: err %v, read back: %v; want it committed", i, err, getErr)
		case i%2 == 1 && (err == nil) != (getErr == nil):
			t.Errorf("write %d, whose caller gave up: answered %v, read back: %v; the answer must say what happened", i, err, getErr)
		}
	}
}
