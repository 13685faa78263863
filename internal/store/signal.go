package store

import "sync"

// EventNotifier is implemented by a store that can tell, within its own
// process, when a commit has appended events to the outbox. Outbox readers
// use it to wake at once on a local commit; commits made by other
// processes reach them through the bus or their bounded polling.
type EventNotifier interface {
	// EventsCommitted returns a channel that is closed once a commit that
	// appended events has completed after the call.
	EventsCommitted() <-chan struct{}
}

// Signal is a broadcast that may fire many times: Wait returns a channel
// that the next Fire closes. The zero value is ready to use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns the channel the next Fire closes.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Fire wakes everyone waiting and starts a new round.
func (s *Signal) Fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
