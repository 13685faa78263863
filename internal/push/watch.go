package push

import (
	"context"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/clock"
)

// watch is one long poll waiting for a ticket's next event.
type watch struct {
	events chan struct{} // holds one signal: an event arrived
}

func (w *watch) notify() {
	select {
	case w.events <- struct{}{}:
	default:
	}
}

// WatchTicket watches a ticket of the player's for up to d on the Hub's clock
// (playermm.Waiter, for GET /v1/matchmaking/tickets/{id}?waitSeconds=).
// next returns true when an event about the ticket was committed since the
// watch began or since next last returned true, and false once d has
// passed or ctx ends. A nil Hub watches nothing: next returns false.
func (h *Hub) WatchTicket(playerID, ticketID string, d time.Duration) (next func(ctx context.Context) bool, stop func()) {
	if h == nil {
		return func(context.Context) bool { return false }, func() {}
	}
	w := &watch{events: make(chan struct{}, 1)}
	timeout := make(chan struct{})
	t := clock.AfterFuncAt(h.cfg.Clock, h.cfg.Clock.Now().Add(d), func() { close(timeout) })
	h.mu.Lock()
	addTo(h.waits, ticketID, w)
	h.mu.Unlock()
	h.m.watchers.Inc()
	next = func(ctx context.Context) bool {
		select {
		case <-w.events:
			return true
		case <-timeout:
			return false
		case <-ctx.Done():
			return false
		}
	}
	var once sync.Once
	stop = func() { once.Do(func() { h.unwatch(ticketID, w, t) }) }
	return next, stop
}

func (h *Hub) unwatch(ticketID string, w *watch, t clock.Timer) {
	t.Stop()
	h.mu.Lock()
	removeFrom(h.waits, ticketID, w)
	h.mu.Unlock()
	h.m.watchers.Dec()
}
