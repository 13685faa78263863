package bus

import (
	"context"
	"sync"
)

// Bus sends wake-ups to every replica, this one included.
type Bus interface {
	// Publish sends payload on topic to every subscriber of every replica.
	Publish(ctx context.Context, topic, payload string) error
	// Subscribe calls fn for each message on topic until cancel is
	// called. fn runs on the bus's goroutine: it must return quickly.
	Subscribe(topic string, fn func(payload string)) (cancel func())
}

// Topics Muster publishes on.
const (
	// TopicEvents: a commit appended events to the outbox (payload: the
	// replica that committed).
	TopicEvents = "events"
	// TopicLease: a lease was released and may be taken now (payload: its name).
	TopicLease = "lease"
	// TopicSDK: a push waits for a game server process whose SDK socket
	// may be on another replica (payload: the process id and what to
	// push, as ids; the SDK endpoint reads the rest from the store).
	TopicSDK = "sdk"
)

// Subscribers is the fan-out every implementation shares: topic →
// subscribers, safe for concurrent use. The zero value is ready.
type Subscribers struct {
	mu   sync.Mutex
	next int
	subs map[string]map[int]func(string)
}

// Add registers fn for topic and returns its cancel function.
func (s *Subscribers) Add(topic string, fn func(string)) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[string]map[int]func(string){}
	}
	if s.subs[topic] == nil {
		s.subs[topic] = map[int]func(string){}
	}
	s.next++
	id := s.next
	s.subs[topic][id] = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs[topic], id)
	}
}

// Deliver calls every subscriber of topic with payload.
func (s *Subscribers) Deliver(topic, payload string) {
	s.mu.Lock()
	fns := make([]func(string), 0, len(s.subs[topic]))
	for _, fn := range s.subs[topic] {
		fns = append(fns, fn)
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn(payload)
	}
}

// Local is the bus of a single process.
type Local struct {
	subs Subscribers
}

// Publish delivers payload to this process's subscribers of topic.
func (l *Local) Publish(_ context.Context, topic, payload string) error {
	l.subs.Deliver(topic, payload)
	return nil
}

// Subscribe registers fn for topic.
func (l *Local) Subscribe(topic string, fn func(string)) func() { return l.subs.Add(topic, fn) }
