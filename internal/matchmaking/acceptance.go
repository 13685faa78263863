package matchmaking

import (
	"context"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// armAcceptance ends a match's acceptance round at its deadline.
func (s *Service) armAcceptance(matchID string, deadline time.Time) {
	s.mu.Lock()
	run := s.running
	s.mu.Unlock()
	if run == nil {
		return
	}
	s.timersMu.Lock()
	defer s.timersMu.Unlock()
	if old := s.timers[matchID]; old != nil {
		old.Stop()
	}
	// At the deadline itself, not after a duration read from Now: the clock
	// may move between the two.
	s.timers[matchID] = clock.AfterFuncAt(s.cfg.Clock, deadline, func() {
		s.disarmAcceptance(matchID)
		if err := s.acceptanceTimedOut(run, matchID); err != nil && run.Err() == nil {
			s.log.Error("matchmaking: ending an acceptance round failed", "match", matchID, "err", err)
		}
	})
}

func (s *Service) disarmAcceptance(matchID string) {
	s.timersMu.Lock()
	defer s.timersMu.Unlock()
	if t := s.timers[matchID]; t != nil {
		t.Stop()
		delete(s.timers, matchID)
	}
}

// acceptanceTimedOut fails a round some players did not answer in time.
func (s *Service) acceptanceTimedOut(ctx context.Context, matchID string) error {
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		t := s.newTxn(ctx, w)
		m, c, ok, err := t.matchIn(matchID, matchAcceptance)
		if !ok {
			return err
		}
		if err := t.failAcceptance(c, m, "TimedOut", nil); err != nil {
			return err
		}
		return t.flush()
	})
}

// resumeMatches re-arms the acceptance timers of pending matches and
// resumes backfill reservations after a restart: those of configuration
// config, or of all of them when config is "".
func (s *Service) resumeMatches(ctx context.Context, config string) error {
	var pending, placing []matchRec
	all := config == ""
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		if pending, err = findAll[matchRec](ctx, r, store.Query{Kind: KindMatch, Key: 1, Value: config, Prefix: all}); err != nil {
			return err
		}
		placing, err = findAll[matchRec](ctx, r, store.Query{Kind: KindMatch, Key: 2, Value: config, Prefix: all})
		return err
	})
	if err != nil {
		return fmt.Errorf("matchmaking: load pending matches: %w", err)
	}
	for _, m := range pending {
		if m.State == matchAcceptance {
			s.armAcceptance(m.ID, m.Deadline)
		}
	}
	for _, m := range placing {
		if m.State == matchReserving {
			s.goReserve(m.ID)
		}
	}
	return nil
}
