package bus_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/store"
)

// notifier is a store's "events committed" signal without a store.
type notifier struct{ store.Signal }

func (n *notifier) EventsCommitted() <-chan struct{} { return n.Wait() }

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestEventsWakeTheOtherReplicasNotTheOneThatCommitted(t *testing.T) {
	var b bus.Local // both "replicas" hear every message, as on a shared bus
	a, other := bus.NewEvents(&b, "a", nil), bus.NewEvents(&b, "b", nil)
	wakeA, wakeOther := a.Wake(), other.Wake()
	var commits notifier
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Announce(ctx, &commits) }()
	for !closed(wakeOther) {
		commits.Fire() // a commit on a (repeated until the announcer waits for it)
		runtime.Gosched()
	}
	cancel()
	<-done
	if closed(wakeA) {
		t.Fatal("a replica's own announcement woke it: its store's notifier already does")
	}
	a.Resync()
	if !closed(wakeA) {
		t.Fatal("Resync did not wake the readers")
	}
	a.Close()
	other.Close()
}
