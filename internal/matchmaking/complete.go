package matchmaking

import (
	"context"
	"errors"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// A WITH_QUEUE match ends in one of two ways: a new match is placed by the
// placement service (PlacementEnded hears the outcome), a backfill match
// is reserved into its running game session (reserveBackfill). Both record
// a placed match with complete.

// seats is where a placed match's players sit: the game session's
// connection and each player's player session.
type seats struct {
	conn     connRec
	sessions map[string]string // player id → player session id
}

// complete records a placed match in t: its tickets COMPLETED with the
// connection and each player's session, MatchmakingSucceeded, and, for a
// configuration with AUTOMATIC backfill whose match has room left, the
// automatic backfill ticket (autoTicketID). It returns that ticket's id,
// "" without one.
func (t *txn) complete(c configRec, m *matchRec, recs []*ticketRec, at seats) (string, error) {
	m.State, m.GameSessionArn = matchDone, at.conn.GameSessionArn
	t.matchChanged(m)
	count := 0
	for _, r := range recs {
		conn := at.conn
		r.Conn = &conn
		for i := range r.Players {
			r.Players[i].Session = at.sessions[r.Players[i].ID]
		}
		count += len(r.Players)
		t.end(r, gamelift.TicketCompleted, "", "")
	}
	et, all := eventTickets(recs, true, nil, at.sessions)
	if err := t.event(c, Detail{Type: EventSucceeded, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{GameSessionArn: at.conn.GameSessionArn,
		IPAddress: at.conn.IPAddress, DNSName: at.conn.DNSName, Port: at.conn.Port, PlayerGatewayStatus: "DISABLED", Players: all}}); err != nil {
		return "", err
	}
	if c.BackfillMode != gamelift.BackfillAutomatic {
		return "", nil
	}
	if most, err := t.maxPlayers(c); err != nil || count >= most {
		return "", err
	}
	id := autoTicketID(m)
	t.s.autoBackfill(t, c, id, at.conn.GameSessionArn, recs)
	return id, nil
}

// autoTicketID is the id of the automatic backfill ticket that follows a
// placed match; a new match's MatchmakerData announces it when the
// placement starts.
func autoTicketID(m *matchRec) string { return "auto-backfill-" + m.ID }

// PlacementEnded hears a placement end inside the transaction that records
// it (placement.Listener; docs/matchmaking-placement.md). Placements that
// are not matches are ignored.
func (s *Service) PlacementEnded(ctx context.Context, w store.Writer, p placement.Placement) error {
	t := s.newTxn(ctx, w)
	m, c, ok, err := t.matchIn(p.PlacementID, matchPlacing)
	if !ok {
		return err // not a match (any more) waiting for this placement
	}
	recs, err := t.matchTickets(m)
	if err != nil {
		return err
	}
	t.matchChanged(m)
	if recs = placingTickets(recs); len(recs) == 0 {
		m.State = matchDone // every player gave up; the game session was already made
		return t.flush()
	}
	switch p.Status {
	case gamelift.PlacementFulfilled:
		at := seats{conn: connRec{GameSessionArn: p.GameSessionArn, IPAddress: p.IpAddress, DNSName: p.DnsName, Port: p.Port}, sessions: map[string]string{}}
		for _, ps := range p.PlacedPlayerSessions {
			at.sessions[ps.PlayerId] = ps.PlayerSessionId
		}
		if _, err := t.complete(c, m, recs, at); err != nil {
			return err
		}
	case gamelift.PlacementTimedOut:
		m.State = matchFailed
		msg := "the game session placement timed out"
		for _, r := range recs {
			t.end(r, gamelift.TicketTimedOut, ReasonTimedOut, msg)
		}
		et, all := eventTickets(recs, true, nil, nil)
		if err := t.event(c, Detail{Type: EventTimedOut, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all}, Reason: ReasonTimedOut, Message: msg}); err != nil {
			return err
		}
	default:
		m.State = matchFailed
		if err := t.failMatch(c, m, recs, ReasonUnexpected, "error while placing the match: placement "+p.Status); err != nil {
			return err
		}
	}
	return t.flush()
}

// goReserve runs reserveBackfill on its own goroutine, which Stop waits for.
func (s *Service) goReserve(matchID string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.reserveBackfill(matchID)
	}()
}

// reserveBackfill completes a backfill match into its game session, in
// one transaction: seat the new players, complete the match, store the
// new matchmaker data; the game server is pushed it once that commits.
// After a crash the match, still reserving, is resumed whole; a second
// runner (a replica that took the pool over) finds it no longer
// reserving and does nothing.
func (s *Service) reserveBackfill(matchID string) {
	ctx := context.Background()
	m, c, err := s.reserving(ctx, matchID)
	if err != nil {
		s.log.Error("matchmaking: backfill match unreadable", "match", matchID, "err", err)
		return
	}
	if m.State != matchReserving || s.cfg.Sessions == nil {
		return
	}
	err = s.cfg.Store.Update(ctx, func(w store.Writer) error {
		t := s.newTxn(ctx, w)
		mr, err := t.match(matchID)
		if err != nil || mr.State != matchReserving {
			return err
		}
		recs, err := t.matchTickets(mr)
		if err != nil {
			return err
		}
		at, err := s.seat(ctx, w, mr, recs)
		var fe *fault.Error
		switch {
		case errors.As(err, &fe) && fe.Kind != fault.Internal:
			// Nothing was written: the game session is full, ended or
			// takes no players; the match fails.
			return s.failReserving(t, c, mr, recs, err)
		case err != nil:
			return err
		}
		auto, err := t.complete(c, mr, recs, at)
		if err != nil {
			return err
		}
		data, err := s.matchmakerData(c, mr, recs, auto)
		if err != nil {
			return err
		}
		if err := s.cfg.Sessions.UpdateMatchmakerDataIn(ctx, w, mr.GameSessionArn, data, UpdateDataUpdated, mr.Backfill); err != nil {
			return err
		}
		return t.flush()
	})
	if err != nil {
		s.log.Error("matchmaking: completing a backfill match failed", "match", matchID, "err", err)
	}
}

// failReserving fails a backfill match whose players could not be seated.
func (s *Service) failReserving(t *txn, c configRec, m *matchRec, recs []*ticketRec, cause error) error {
	m.State = matchFailed
	t.matchChanged(m)
	for _, r := range recs {
		if r.Backfill {
			if err := s.notifyBackfill(t, r, UpdateBackfillFailed); err != nil {
				return err
			}
		}
	}
	if err := t.failMatch(c, m, recs, ReasonUnexpected, "reserving player sessions failed: "+cause.Error()); err != nil {
		return err
	}
	return t.flush()
}

// reserving reads a backfill match and its configuration.
func (s *Service) reserving(ctx context.Context, matchID string) (matchRec, configRec, error) {
	var m matchRec
	var c configRec
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		if m, _, err = store.GetJSON[matchRec](ctx, r, KindMatch, matchID); err != nil {
			return err
		}
		c, _, err = s.config(ctx, r, m.ConfigName, "ConfigurationName")
		return err
	})
	return m, c, err
}

// seat gives the players of a backfill match's new tickets a player
// session in its game session, in w, and returns every player's seat.
func (s *Service) seat(ctx context.Context, w store.Writer, m *matchRec, recs []*ticketRec) (seats, error) {
	var want []session.DesiredPlayer
	for _, t := range recs {
		if t.Backfill {
			continue
		}
		for _, p := range t.Players {
			want = append(want, session.DesiredPlayer{PlayerID: p.ID})
		}
	}
	ps, err := s.cfg.Sessions.SeatIn(ctx, w, m.GameSessionArn, want)
	if err != nil {
		return seats{}, err
	}
	at := seats{conn: connRec{GameSessionArn: m.GameSessionArn}, sessions: map[string]string{}}
	for _, p := range ps {
		at.sessions[p.PlayerID] = p.ID
		at.conn.IPAddress, at.conn.DNSName, at.conn.Port = p.IPAddress, p.DNSName, p.Port
	}
	return at, nil
}
