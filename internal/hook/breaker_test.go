package hook_test

import (
	"net/http"
	"sync"
	"testing"
)

// TestADeadHookTripsItsBreakerInsteadOfPilingUpCalls sends many tickets at
// once through a hook that never answers: after five time-outs in a row
// the breaker opens and the rest pass (fail-open) without a call, so the
// calls made stay bounded by the senders in flight plus those five.
func TestADeadHookTripsItsBreakerInsteadOfPilingUpCalls(t *testing.T) {
	const senders, tickets, breakerFailures = 16, 320, 5
	e := newEnv(t)
	e.duel("duel")
	dead := newStudio(t, hang)
	h := e.hook(dead, "beforeTicket", `"failMode":"failOpen","timeoutMs":20`)
	players := make([]tokens, tickets)
	for i := range players {
		players[i] = e.player()
	}
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := w; i < tickets; i += senders {
				if r := e.do("POST", "/v1/matchmaking/tickets", players[i].bearer(), `{"configurationName":"duel"}`); r.Status != http.StatusCreated {
					t.Errorf("a ticket is answered %d: %s", r.Status, r.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	calls := dead.calls.Load()
	if calls > senders+breakerFailures {
		t.Fatalf("%d calls reached the dead hook for %d tickets; the breaker should have stopped them after %d", calls, tickets, breakerFailures)
	}
	if n := counter(t, e, "muster_hook_calls_total", h.ID); n != tickets {
		t.Fatalf("%v outcomes counted for %d tickets", n, tickets)
	}
	t.Logf("%d tickets, %d calls made to the dead hook", tickets, calls)
}
