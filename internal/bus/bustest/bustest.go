package bustest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/bus"
)

// guard bounds waits for what should arrive at once; reaching it fails.
const guard = 10 * time.Second

// ReachesEveryReplica publishes one message on TopicEvents through pub and
// checks that each of replicas, by name, hears it there, and on that topic
// only (each also subscribes to TopicLease). pub may be one of replicas.
func ReachesEveryReplica(t *testing.T, pub bus.Bus, replicas map[string]bus.Bus) {
	t.Helper()
	got := make(chan string, 4*len(replicas))
	want := map[string]bool{}
	for name, b := range replicas {
		b.Subscribe(bus.TopicEvents, func(p string) { got <- name + ":" + p })
		b.Subscribe(bus.TopicLease, func(p string) { got <- name + "-lease:" + p })
		want[name+":replica-1"] = true
	}
	if err := pub.Publish(context.Background(), bus.TopicEvents, "replica-1"); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range replicas {
		select {
		case m := <-got:
			seen[m] = true
		case <-time.After(guard):
			t.Fatalf("only %v arrived", slices.Sorted(maps.Keys(seen)))
		}
	}
	if !maps.Equal(seen, want) {
		t.Fatalf("got %v, want the message at every replica and on its topic only: %v",
			slices.Sorted(maps.Keys(seen)), slices.Sorted(maps.Keys(want)))
	}
}
