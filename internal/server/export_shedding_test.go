package server

import "github.com/musterhq/muster/internal/clock"

// FakeClock is the server's clock under Config.FakeClock, for the external
// tests that must move it while the store's writer is held.
func (s *Server) FakeClock() *clock.Fake { return s.fake }
