package relay

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Bus is what a Relay sends and receives on (bus.Bus).
type Bus interface {
	Publish(ctx context.Context, topic, payload string) error
	Subscribe(topic string, fn func(payload string)) (cancel func())
}

// maxPayload keeps a message under PostgreSQL's NOTIFY limit (8000
// bytes) with room for the topic and framing.
const maxPayload = 7000

// Relay coalesces ids per key into messages on one topic.
type Relay struct {
	bus   Bus
	topic string
	log   *slog.Logger

	mu       sync.Mutex
	pending  map[string][]string // key → ids not yet sent
	order    []string            // keys in the order they became pending
	inbox    []message
	handlers []func(key string, ids []string)
	signal   chan struct{}
}

type message struct {
	key string
	ids []string
}

// New returns a Relay on topic; log receives send failures (discarded when nil).
func New(b Bus, topic string, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{bus: b, topic: topic, log: log, pending: map[string][]string{}, signal: make(chan struct{}, 1)}
}

// Send queues ids (possibly none: the key alone is the message) for key.
// It never blocks; Run sends them.
func (r *Relay) Send(key string, ids ...string) {
	r.mu.Lock()
	old, ok := r.pending[key]
	if !ok {
		r.order = append(r.order, key)
	}
	r.pending[key] = append(old, ids...)
	r.mu.Unlock()
	r.wake()
}

func (r *Relay) wake() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// Listen calls fn for every message received on the topic (this
// replica's own included), one at a time on Run's goroutine, until the
// returned cancel is called.
func (r *Relay) Listen(fn func(key string, ids []string)) (cancel func()) {
	stop := r.bus.Subscribe(r.topic, func(payload string) {
		key, ids := parse(payload)
		r.mu.Lock()
		r.inbox = append(r.inbox, message{key, ids})
		r.mu.Unlock()
		r.wake()
	})
	r.mu.Lock()
	handlers := r.handlers
	r.handlers = append(handlers, fn)
	r.mu.Unlock()
	return stop
}

// Run sends queued ids and delivers received messages until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.signal:
		}
		r.deliver()
		r.flush(ctx)
	}
}

func (r *Relay) deliver() {
	r.mu.Lock()
	in, handlers := r.inbox, r.handlers
	r.inbox = nil
	r.mu.Unlock()
	for _, m := range in {
		for _, fn := range handlers {
			fn(m.key, m.ids)
		}
	}
}

// flush sends everything pending, a key's ids split across messages that
// each fit the payload limit.
func (r *Relay) flush(ctx context.Context) {
	r.mu.Lock()
	pending, order := r.pending, r.order
	r.pending, r.order = map[string][]string{}, nil
	r.mu.Unlock()
	for _, key := range order {
		for _, payload := range payloads(key, pending[key]) {
			if err := r.bus.Publish(ctx, r.topic, payload); err != nil && ctx.Err() == nil {
				// Lost: the receiver's catch-up from the store covers it.
				r.log.Warn("relay: sending failed", "topic", r.topic, "key", key, "err", err)
			}
		}
	}
}

// payloads renders key and ids as messages of at most maxPayload bytes.
func payloads(key string, ids []string) []string {
	var out []string
	var b strings.Builder
	b.WriteString(key)
	b.WriteByte('\n')
	n := 0
	for _, id := range ids {
		if n > 0 && b.Len()+1+len(id) > maxPayload {
			out = append(out, b.String())
			b.Reset()
			b.WriteString(key)
			b.WriteByte('\n')
			n = 0
		}
		if n > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(id)
		n++
	}
	return append(out, b.String())
}

// parse reads a message: the key, a newline, then ids separated by
// spaces (none when the line is empty).
func parse(payload string) (key string, ids []string) {
	key, rest, _ := strings.Cut(payload, "\n")
	if rest != "" {
		ids = strings.Split(rest, " ")
	}
	return key, ids
}
