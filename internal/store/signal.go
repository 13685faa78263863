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

// RecentEventReader is implemented by a store that keeps the events of its
// latest commits in memory. Outbox readers ask it first and read the store
// (Reader.Events) when it cannot answer.
type RecentEventReader interface {
	// RecentEvents returns up to limit events after the sequence number
	// after, in commit order, as Reader.Events with no type would. ok is
	// false when memory cannot answer for certain; the caller then reads
	// the store.
	RecentEvents(after int64, limit int) (events []Event, ok bool)
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
