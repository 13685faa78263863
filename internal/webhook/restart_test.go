package webhook_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/outbox"
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
		if seen[evs[40]] < 2 {
			t.Errorf("the event in flight at the stop was delivered %d times, want again after the restart", seen[evs[40]])
		}
	})
}
