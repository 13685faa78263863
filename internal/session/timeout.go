package session

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// reservationTimers time out RESERVED player sessions at their deadline,
// one timer on the injected clock per reservation this replica made (or
// found RESERVED when RunTimeouts started), so PlayerSessionTimedOut is
// stored and announced when the 60 s end, not when the sweep next runs.
// The sweep (Sweep) stays the backstop for a reservation whose timer was
// lost with a stopped process or runs on another replica.
type reservationTimers struct {
	mu      sync.Mutex
	armed   map[string]clock.Timer // player session id → its timer
	stopped bool
}

// armTimeouts arms, once w commits, a timer for each new reservation in ps.
func (s *Service) armTimeouts(w store.Writer, ps []PlayerSession) {
	if len(ps) == 0 {
		return
	}
	w.AfterCommit(func() {
		for _, p := range ps {
			if deadline, ok := s.reservationDeadline(p); ok {
				s.armTimeout(p.ID, deadline)
			}
		}
	})
}

// armTimeout schedules the time-out of player session id at deadline.
func (s *Service) armTimeout(id string, deadline time.Time) {
	t := &s.timers
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.armed[id] != nil {
		return
	}
	if t.armed == nil {
		t.armed = map[string]clock.Timer{}
	}
	t.armed[id] = clock.AfterFuncAt(s.cfg.Clock, deadline, func() { s.reservationDue(id) })
}

// disarmTimeout forgets player session id's timer, once w commits (it was
// accepted or removed: its time-out would find nothing to do).
func (s *Service) disarmTimeout(w store.Writer, id string) {
	w.AfterCommit(func() {
		t := &s.timers
		t.mu.Lock()
		defer t.mu.Unlock()
		if timer := t.armed[id]; timer != nil {
			timer.Stop()
			delete(t.armed, id)
		}
	})
}

// reservationDue runs at a reservation's deadline: it stores TIMEDOUT and
// its event unless the player session left RESERVED meanwhile (accepted,
// removed, completed, or timed out by another replica).
func (s *Service) reservationDue(id string) {
	t := &s.timers
	t.mu.Lock()
	delete(t.armed, id)
	stopped := t.stopped
	t.mu.Unlock()
	if stopped {
		return
	}
	// A timer has no caller's context; the store bounds its own work.
	ctx := context.Background()
	if err := s.timeOutReservation(ctx, id); err != nil {
		s.cfg.Logger.Warn("player session time-out; the sweep will retry", "playerSessionId", id, "err", err)
	}
}

// timeOutReservation stores player session id as TIMEDOUT, with its
// event, if it is RESERVED and past its deadline. It reads first, so a
// session accepted in time costs no write.
func (s *Service) timeOutReservation(ctx context.Context, id string) error {
	due := func(r store.Reader) (PlayerSession, int64, bool, error) {
		p, version, err := store.GetJSON[PlayerSession](ctx, r, KindPlayerSession, id)
		if errors.Is(err, store.ErrNotFound) {
			return p, 0, false, nil
		}
		if err != nil || p.Status != gamelift.PlayerSessionReserved {
			return p, 0, false, err
		}
		p = s.effectivePlayer(p)
		return p, version, p.Status == gamelift.PlayerSessionTimedOut, nil
	}
	var yes bool
	err := s.cfg.Store.View(ctx, func(r store.Reader) (err error) {
		_, _, yes, err = due(r)
		return err
	})
	if err != nil || !yes {
		return err
	}
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		p, version, yes, err := due(w)
		if err != nil || !yes {
			return err
		}
		return putPlayerSession(ctx, w, p, version)
	})
}

// RunTimeouts is a background part of every replica: it arms the
// time-outs of the RESERVED player sessions already stored (made before a
// restart), then waits for ctx to end and stops every timer, so none
// fires on a closed store.
func (s *Service) RunTimeouts(ctx context.Context) error {
	var ps []PlayerSession
	err := s.cfg.Store.View(ctx, func(r store.Reader) (err error) {
		ps, err = store.FindAll[PlayerSession](ctx, r, store.Query{Kind: KindPlayerSession, Key: 3, Value: gamelift.PlayerSessionReserved})
		return err
	})
	if err != nil && ctx.Err() == nil {
		s.cfg.Logger.Warn("arming stored reservations' time-outs; the sweep covers them", "err", err)
	}
	for _, p := range ps {
		if deadline, ok := s.reservationDeadline(p); ok {
			s.armTimeout(p.ID, deadline)
		}
	}
	<-ctx.Done()
	t := &s.timers
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for id, timer := range t.armed {
		timer.Stop()
		delete(t.armed, id)
	}
	return nil
}
