package bus

import (
	"context"
	"log/slog"

	"github.com/musterhq/muster/internal/store"
)

// Events relays "events were committed" between replicas, so that outbox
// readers (players' streams, event delivery) on one replica wake at once
// on a commit made by another: Announce publishes TopicEvents after each
// local commit that appended events, outside the commit, and Wake returns
// a channel closed when another replica announced one (or when the bus
// reconnected: Resync). Readers keep their bounded poll as the fallback
// for a wake-up that is lost.
type Events struct {
	bus    Bus
	id     string
	log    *slog.Logger
	remote store.Signal
	cancel func()
}

// NewEvents subscribes to TopicEvents on b; id names this replica, so its
// own announcements do not wake it (its store's notifier does).
func NewEvents(b Bus, id string, log *slog.Logger) *Events {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Events{bus: b, id: id, log: log}
	e.cancel = b.Subscribe(TopicEvents, func(from string) {
		if from != e.id {
			e.remote.Fire()
		}
	})
	return e
}

// Announce publishes TopicEvents after each commit of n that appended
// events, until ctx ends. Commits made while one announcement is sent
// share the next one.
func (e *Events) Announce(ctx context.Context, n store.EventNotifier) error {
	for {
		ch := n.EventsCommitted()
		select {
		case <-ctx.Done():
			return nil
		case <-ch:
		}
		if err := e.bus.Publish(ctx, TopicEvents, e.id); err != nil && ctx.Err() == nil {
			// Lost: the readers' bounded polls and reconnect catch-ups cover it.
			e.log.Warn("bus: announcing committed events failed", "err", err)
		}
	}
}

// Wake returns a channel closed when another replica commits events or
// Resync is called (outbox.Config.Wake).
func (e *Events) Wake() <-chan struct{} { return e.remote.Wait() }

// Resync wakes every reader: the bus reconnected, and announcements sent
// meanwhile were lost.
func (e *Events) Resync() { e.remote.Fire() }

// Close stops listening.
func (e *Events) Close() { e.cancel() }
