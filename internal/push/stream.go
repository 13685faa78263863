package push

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// sink writes to one client: a WebSocket or an event stream.
type sink interface {
	// message writes one event's message.
	message(ctx context.Context, d *delivery) error
	// control writes a message of the stream itself (reset, authenticated).
	control(ctx context.Context, typ string, v any) error
}

// stream is one client's position: every event up to last has been
// considered for it, so a later live copy of one a replay sent is skipped,
// and a replay plus the live queue leave no gap.
type stream struct {
	h         *Hub
	c         *client
	out       sink
	transport string
	last      int64
}

// resetMessage tells a client its resume point is gone: it must re-read
// its tickets before trusting the stream again.
type resetMessage struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// resume replays everything for the client after the event id, or sends
// a reset when the id is not among the resumable events or lies more than
// ReplayLimit events back: a replay reads every event after the id, not
// only the player's, so without that bound one resume could make the
// server read the whole resume window.
func (s *stream) resume(ctx context.Context, after string) error {
	if after == "" {
		return nil
	}
	seq, ok := s.h.seqOf(after)
	why := "event " + after + " is not among the events kept for resuming; read your tickets again"
	if ok {
		var err error
		if ok, why, err = s.h.resumable(ctx, seq, after); err != nil {
			return err
		}
	}
	if !ok {
		s.h.m.resets.WithLabelValues(streamPlayer).Inc()
		return s.out.control(ctx, "reset", resetMessage{Type: "reset", Reason: why})
	}
	s.h.m.resumes.Inc()
	return s.replay(ctx, seq, seq+int64(s.h.cfg.ReplayLimit))
}

// resumable says whether a replay from the event (seq, id) may run, and
// if not, why. The outbox must still hold the event: it is pruned from its
// oldest end, so then it holds everything after it too. And no event may
// lie past seq+ReplayLimit: sequence numbers increase in commit order, so
// the replay then reads at most ReplayLimit events (fewer where a rolled
// back transaction left a gap), and an event numbered past that commits
// after this check, so after the client subscribed, and comes live.
func (h *Hub) resumable(ctx context.Context, seq int64, id string) (bool, string, error) {
	var at, beyond []store.Event
	err := h.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		if at, err = r.Events(ctx, store.EventQuery{After: seq - 1, Limit: 1}); err != nil {
			return err
		}
		beyond, err = r.Events(ctx, store.EventQuery{After: seq + int64(h.cfg.ReplayLimit), Limit: 1})
		return err
	})
	switch {
	case err != nil:
		return false, "", fmt.Errorf("push: check the resume point %s: %w", id, err)
	case len(at) != 1 || at[0].Seq != seq || at[0].ID != id:
		return false, "event " + id + " is no longer kept in the outbox; read your tickets again", nil
	case len(beyond) > 0:
		return false, fmt.Sprintf("event %s is more than %d events back; read your tickets again", id, h.cfg.ReplayLimit), nil
	}
	return true, "", nil
}

// replay sends the client's events after seq, read back from the outbox,
// up to end (resumable says why the events past end come live).
func (s *stream) replay(ctx context.Context, seq, end int64) error {
	for seq < end {
		var evs []store.Event
		err := s.h.cfg.Store.View(ctx, func(r store.Reader) error {
			var err error
			evs, err = r.Events(ctx, store.EventQuery{After: seq, Limit: int(min(500, end-seq))})
			return err
		})
		if err != nil {
			return fmt.Errorf("push: replay the outbox after %d: %w", seq, err)
		}
		if len(evs) == 0 {
			return nil
		}
		for i, ev := range evs {
			// Everything after seq is sent, even what this connection
			// already had live: a resume point before the connection's
			// first live event must not skip the events in between.
			seq = ev.Seq
			if !isPlayerEvent(ev.Type) || completedAtOnce(evs, i) {
				continue
			}
			if v, ok := decode(ev); ok && v.concerns(s.c.player) {
				d := &delivery{seq: ev.Seq, id: ev.ID, typ: ev.Type, data: v.encode(s.c.player), at: ev.Time}
				if err := s.write(ctx, d); err != nil {
					return err
				}
			}
		}
		s.last = max(s.last, seq)
	}
	return nil
}

// deliver writes a live delivery unless a replay already sent it.
func (s *stream) deliver(ctx context.Context, d *delivery) error {
	if d.seq <= s.last {
		return nil
	}
	s.last = d.seq
	return s.write(ctx, d)
}

func (s *stream) write(ctx context.Context, d *delivery) error {
	if err := s.out.message(ctx, d); err != nil {
		return err
	}
	s.h.m.pushed.WithLabelValues(s.transport).Inc()
	s.h.m.latency.Observe(max(0, s.h.cfg.Clock.Now().Sub(d.at)).Seconds())
	return nil
}

// open registers a client for player and counts it until closed; wake,
// when set, is called (without blocking) each time the Hub queues a
// delivery for the client or drops it.
func (h *Hub) open(player, transport string, wake func()) (*stream, func()) {
	c := h.subscribe(player, wake)
	h.m.clients.WithLabelValues(transport).Inc()
	return &stream{h: h, c: c, transport: transport}, func() {
		h.unsubscribe(c)
		h.m.clients.WithLabelValues(transport).Dec()
	}
}

// expiry arms a signal for when an access token expires, on the injected
// clock; rearm replaces the deadline (a renewed token).
type expiry struct {
	h     *Hub
	fired chan struct{}
	stop  func() bool
	at    time.Time
}

func newExpiry(h *Hub, at time.Time) *expiry {
	e := &expiry{h: h, fired: make(chan struct{}, 1)}
	e.rearm(at)
	return e
}

func (e *expiry) rearm(at time.Time) {
	if e.stop != nil {
		e.stop()
	}
	e.at = at
	e.stop = clock.AfterFuncAt(e.h.cfg.Clock, at, func() {
		select {
		case e.fired <- struct{}{}:
		default:
		}
	}).Stop
}

// passed says whether the current deadline has passed (a signal from a
// replaced deadline has not).
func (e *expiry) passed() bool { return !e.h.cfg.Clock.Now().Before(e.at) }

func (e *expiry) close() {
	if e.stop != nil {
		e.stop()
	}
}

// authenticated is sent when a client's token is accepted or renewed.
type authenticated struct {
	Type       string    `json:"type"`
	IdentityID string    `json:"identityId"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
