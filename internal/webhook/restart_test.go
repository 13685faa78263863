package webhook_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook"
)

func TestRestart(t *testing.T) {
	t.Run("a service stopped mid-delivery and started again on the same file delivers every event, from its cursor", func(t *testing.T) {
		e := newEnv(t, nil) // batches of 16
		hold := make(chan struct{})
		e.rcv.script(func(w http.ResponseWriter, d delivery) {
			if strings.Contains(string(d.body), `"ticketId":"hold"`) {
				<-hold // the receiver is mid-request when the service stops
			}
		})
		sub := e.subscribe("studio", nil)
		var tickets, evs []string
		for i := range 60 {
			tickets = append(tickets, "t"+string(rune('a'+i%7)))
		}
		tickets[40] = "hold"
		for _, ev := range e.publish("arena", tickets...) {
			evs = append(evs, ev.ID)
		}
		seen := map[string]int{}
		for range 41 {
			seen[id(e.rcv.next())]++
		}
		cursor, err := outbox.Cursor(context.Background(), e.db, "webhook/"+sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.stop()
		close(hold)
		e.restart()
		first := ""
		for len(seen) < len(evs) {
			d := e.rcv.next()
			if first == "" {
				first = id(d)
			}
			seen[id(d)]++
		}
		for i, ev := range evs {
			if seen[ev] == 0 {
				t.Errorf("event %d never delivered", i)
			}
		}
		// The cursor had passed the first batches: the new service starts
		// after them, not from the beginning.
		if cursor < 32 || first == evs[0] {
			t.Errorf("cursor %d at the stop, first delivery after the restart %s: want a resume past 32 events", cursor, first)
		}
		if first != evs[40] {
			t.Errorf("first delivery after the restart %s, want the event in flight at the stop (%s): those before it were delivered", first, evs[40])
		}
		if seen[evs[40]] < 2 {
			t.Errorf("the event in flight at the stop was delivered %d times, want again after the restart", seen[evs[40]])
		}
	})
}

func TestRetain(t *testing.T) {
	t.Run("pruning stops at the slowest enabled subscription's cursor", func(t *testing.T) {
		e := newEnv(t, func(c *webhook.Config) { c.Batch = 1 })
		if _, ok, err := e.svc.Retain(e.ctx); ok || err != nil {
			t.Errorf("without subscriptions: ok %v, err %v", ok, err)
		}
		off := false // disabled before any event: it would hold everything back
		e.subscribe("off", func(in *webhook.CreateInput) { in.Enabled = &off })
		e.publish("arena", "t0")
		hold := make(chan struct{})
		defer close(hold)
		e.rcv.script(func(w http.ResponseWriter, d delivery) {
			if strings.HasPrefix(d.path, "/hooks/slow") {
				<-hold
			}
		})
		fast := e.subscribe("fast", nil)
		e.subscribe("slow", nil)
		evs := e.publish("arena", "t1", "t2", "t3")
		for range 4 { // three to fast, the first to slow, which holds it
			e.rcv.next()
		}
		e.caughtUp(fast.ID)
		seq, ok, err := e.svc.Retain(e.ctx)
		if err != nil || !ok || seq != 1 {
			t.Errorf("Retain = %d, %v, %v; want 1: slow has delivered nothing since its creation after event 1 (%d events)", seq, ok, err, len(evs))
		}
	})
}

func TestDelete(t *testing.T) {
	t.Run("deleting a subscription mid-delivery leaves nothing of it behind", func(t *testing.T) {
		e := newEnv(t, nil)
		hold := make(chan struct{})
		e.rcv.script(func(w http.ResponseWriter, d delivery) { <-hold })
		sub := e.subscribe("studio", nil)
		e.publish("arena", "t1")
		e.rcv.next() // the worker is mid-request
		if err := e.svc.Delete(e.ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
		close(hold)
		waitFor(t, "the subscription's records to go", func() bool {
			var left int
			err := e.db.View(context.Background(), func(r store.Reader) error {
				for _, kind := range []string{webhook.KindSubscription, webhook.KindDeliveries, outbox.KindCursor} {
					items, err := r.Find(context.Background(), store.Query{Kind: kind, Prefix: true, NoDocs: true})
					if err != nil {
						return err
					}
					left += len(items)
				}
				return nil
			})
			return err == nil && left == 0
		})
		if _, err := e.svc.Deliveries(e.ctx, sub.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("deliveries of a deleted subscription: %v", err)
		}
	})
}
