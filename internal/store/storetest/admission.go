package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// testAdmission: while the writer is held and a write has waited past the
// bound, Admit refuses new work and counts it by door, while work already
// queued commits; once the queue drains new work is admitted again.
func testAdmission(t *testing.T, s store.Store, clk *clock.Fake) {
	a, ok := s.(store.Admitter)
	if !ok {
		t.Fatalf("%T does not implement store.Admitter", s)
	}
	ctx := context.Background()
	if err := a.Admit("ticket"); err != nil {
		t.Fatalf("Admit with no bound = %v", err)
	}
	a.SetAdmissionBound(100 * time.Millisecond)
	if err := a.Admit("ticket"); err != nil {
		t.Fatalf("Admit on an idle writer = %v", err)
	}
	// hold starts an Update whose function blocks the writer until release
	// closes; held closes once it runs.
	hold := func(id string) (held, release chan struct{}, done chan error) {
		held, release, done = make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- s.Update(ctx, func(w store.Writer) error {
				close(held)
				<-release
				_, err := w.Put(ctx, store.Record{Kind: "admit", ID: id, Doc: []byte(`{}`)})
				return err
			})
		}()
		return held, release, done
	}
	heldA, releaseA, doneA := hold("a")
	<-heldA
	heldB, releaseB, doneB := hold("b")
	waitFor(t, func() bool { return a.Waiting() == 2 }, "the second write to be queued")
	if err := a.Admit("ticket"); err != nil {
		t.Fatalf("Admit before any write waited = %v", err)
	}
	clk.Advance(time.Second) // b waits a second behind a
	close(releaseA)
	<-heldB // the writer took b, which had waited a second
	// One batch that waited is a stall, not a writer past its capacity:
	// new work is still admitted until the writer has been behind for the
	// bound.
	if err := a.Admit("ticket"); err != nil {
		t.Fatalf("Admit right after one batch waited = %v", err)
	}
	clk.Advance(100 * time.Millisecond)
	for _, door := range []string{"ticket", "ticket", "sign-in"} {
		if err := a.Admit(door); !errors.Is(err, store.ErrOverloaded) {
			t.Fatalf("Admit(%q) with the writer behind = %v, want ErrOverloaded", door, err)
		}
	}
	if got := a.Refused(); got["ticket"] != 2 || got["sign-in"] != 1 {
		t.Fatalf("Refused = %v, want ticket 2 and sign-in 1", got)
	}
	close(releaseB)
	for _, done := range []chan error{doneA, doneB} {
		if err := <-done; err != nil {
			t.Fatalf("an admitted write failed: %v", err)
		}
	}
	if err := a.Admit("ticket"); err != nil {
		t.Fatalf("Admit once the queue drained = %v", err)
	}
	put(t, s, store.Record{Kind: "admit", ID: "c", Doc: []byte(`{}`)}) // taken at once: the delay is back to 0
	heldD, releaseD, doneD := hold("d")
	<-heldD
	if err := a.Admit("ticket"); err != nil {
		t.Fatalf("Admit with a write that did not wait = %v", err)
	}
	close(releaseD)
	if err := <-doneD; err != nil {
		t.Fatal(err)
	}
	a.SetAdmissionBound(0)
	if err := a.Admit("ticket"); err != nil {
		t.Fatalf("Admit with the bound off = %v", err)
	}
}

// waitFor waits until cond holds: for another goroutine to reach a state
// the test cannot be told of, never for time to pass.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i == 10000 {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
