package sdk

import (
	"context"
	"sync"
)

// DropConnection drops a process's current socket without a close frame,
// as a network failure would (tests only).
func (s *Server) DropConnection(processID string) bool {
	pr := s.lookup(processID)
	if pr == nil {
		return false
	}
	pr.mu.Lock()
	c := pr.conn
	pr.mu.Unlock()
	if c == nil {
		return false
	}
	c.CloseNow()
	return true
}

// Connected reports whether a process has a socket (tests only).
func (s *Server) Connected(processID string) bool {
	return s.connected(processID)
}

// Activations counts the ActivateServerProcess requests a process sent
// (tests only).
func (s *Server) Activations(processID string) int64 {
	pr := s.lookup(processID)
	if pr == nil {
		return 0
	}
	return pr.activations.Load()
}

// Connections counts the sockets a process attached (tests only).
func (s *Server) Connections(processID string) int64 {
	pr := s.lookup(processID)
	if pr == nil {
		return 0
	}
	return pr.connections.Load()
}

// PingsInFlight counts pings awaiting their pong and the rounds of pings
// sent so far (tests only).
func (s *Server) PingsInFlight() (pending, rounds int64) { return s.pings.Load(), s.pingRounds.Load() }

// HoldActivationAnswers makes the endpoint wait, after ProcessReady has
// committed and before the ActivateServerProcess answer is written, until
// release is called: the window in which a placement can already choose
// the process (tests only).
func (s *Server) HoldActivationAnswers() (release func()) {
	ch := make(chan struct{})
	hook := func() { <-ch }
	s.beforeActivationAnswer.Store(&hook)
	return sync.OnceFunc(func() { close(ch) })
}

// CatchUps counts the catch-up rounds done since the endpoint started.
func (s *Server) CatchUps() int64 { return s.replicas.catchUps.Load() }

// DeliverPendingUpdates sends a process connected here its pending
// updates now, from n senders at once, as the socket's catch-up, a wake
// and the periodic round may (tests only).
func (s *Server) DeliverPendingUpdates(processID string, n int) {
	pr := s.lookup(processID)
	if pr == nil {
		return
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { s.deliverUpdates(context.Background(), pr) })
	}
	wg.Wait()
}
