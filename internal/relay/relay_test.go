package relay_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/relay"
)

// countingBus is a bus.Local that counts and sizes what is published.
type countingBus struct {
	bus.Local
	sent    int
	longest int
}

func (b *countingBus) Publish(ctx context.Context, topic, payload string) error {
	b.sent++
	b.longest = max(b.longest, len(payload))
	return b.Local.Publish(ctx, topic, payload)
}

func TestRelayCoalescesAndSplits(t *testing.T) {
	b := &countingBus{}
	r := relay.New(b, "t", nil)
	got := map[string][]string{}
	done := make(chan struct{})
	r.Listen(func(key string, ids []string) {
		got[key] = append(got[key], ids...)
		if len(got["tickets/duel"]) == 1000 && len(got["config/duel"]) == 0 {
			if _, ok := got["config/duel"]; ok {
				close(done)
			}
		}
	})
	var want []string
	for i := range 1000 {
		want = append(want, fmt.Sprintf("%036d", i))
	}
	for _, id := range want {
		r.Send("tickets/duel", id)
	}
	r.Send("config/duel")
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { r.Run(ctx); close(stopped) }()
	<-done
	cancel()
	<-stopped
	if strings.Join(got["tickets/duel"], ",") != strings.Join(want, ",") {
		t.Fatalf("received %d ids, not the 1000 sent in order", len(got["tickets/duel"]))
	}
	if b.longest > 7000 || b.sent > 10 {
		t.Fatalf("%d messages, the longest %d bytes: want a few, each under NOTIFY's limit", b.sent, b.longest)
	}
}
