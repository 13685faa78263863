package matchmaking

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// Update reasons pushed to game servers (server SDK OnUpdateGameSession).
const (
	UpdateDataUpdated      = "MATCHMAKING_DATA_UPDATED"
	UpdateBackfillFailed   = "BACKFILL_FAILED"
	UpdateBackfillTimedOut = "BACKFILL_TIMED_OUT"
	UpdateBackfillCanceled = "BACKFILL_CANCELLED"
)

// StartMatchBackfill starts a backfill ticket for a running match.
func (s *Service) StartMatchBackfill(ctx context.Context, in *gamelift.StartMatchBackfillInput) (*gamelift.StartMatchBackfillOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	t, err := s.startBackfill(ctx, in)
	if err != nil {
		return nil, err
	}
	return &gamelift.StartMatchBackfillOutput{MatchmakingTicket: &t}, nil
}

func (s *Service) startBackfill(ctx context.Context, in *gamelift.StartMatchBackfillInput) (gamelift.MatchmakingTicket, error) {
	var v fault.Validator
	if in.TicketId != "" {
		s.cfg.Formats.Check(&v, "TicketId", "MatchmakingIdStringModel", in.TicketId)
	}
	s.cfg.Formats.Check(&v, "ConfigurationName", "MatchmakingConfigurationName", in.ConfigurationName)
	if in.GameSessionArn != "" {
		s.cfg.Formats.Check(&v, "GameSessionArn", "ArnStringModel", in.GameSessionArn)
	}
	players := s.checkPlayers(&v, in.Players, 199, true)
	if err := v.Err(); err != nil {
		return gamelift.MatchmakingTicket{}, err
	}
	if in.GameSessionArn != "" {
		if s.cfg.Sessions == nil {
			return gamelift.MatchmakingTicket{}, fault.New(fault.Unsupported, "GameSessionArn: game session backfill needs the hosting service")
		}
		var err error
		if players, err = s.present(ctx, in.GameSessionArn, players); err != nil {
			return gamelift.MatchmakingTicket{}, err
		}
		if len(players) == 0 {
			return gamelift.MatchmakingTicket{}, fault.New(fault.Invalid, "Players: every listed player has left game session %s", in.GameSessionArn)
		}
	}
	return s.start(ctx, ticketRequest{id: in.TicketId, config: in.ConfigurationName, gameSession: in.GameSessionArn, players: players, backfill: true})
}

// present drops the players who have left a game session: those whose
// player sessions there are all COMPLETED or TIMEDOUT.
func (s *Service) present(ctx context.Context, gameSession string, players []playerRec) ([]playerRec, error) {
	left := map[string]bool{}
	here := map[string]bool{}
	tok := ""
	for {
		ps, next, err := s.cfg.Sessions.DescribePlayerSessions(ctx, session.PlayerQuery{GameSessionID: gameSession, Limit: 1000, NextToken: tok})
		if err != nil {
			return nil, fmt.Errorf("backfill: player sessions of %s: %w", gameSession, err)
		}
		for _, p := range ps {
			switch p.Status {
			case gamelift.PlayerSessionCompleted, gamelift.PlayerSessionTimedOut:
				left[p.PlayerID] = true
			default:
				here[p.PlayerID] = true
			}
		}
		if next == "" {
			break
		}
		tok = next
	}
	out := players[:0:0]
	for _, p := range players {
		if left[p.ID] && !here[p.ID] {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// replaceBackfill cancels a game session's active backfill tickets: a new
// request replaces the old one.
func (s *Service) replaceBackfill(t *txn, c configRec, gameSession, keep string) error {
	if gameSession == "" {
		return nil
	}
	items, err := t.w.Find(t.ctx, store.Query{Kind: KindTicket, Key: 3, Value: gameSession, Limit: 10})
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.ID == keep {
			continue
		}
		r, err := t.ticket(it.ID)
		if err != nil || r == nil {
			return err
		}
		if r.Status != gamelift.TicketQueued && r.Status != gamelift.TicketSearching {
			continue
		}
		msg := "replaced by a newer backfill request"
		t.end(r, gamelift.TicketCancelled, ReasonCancelled, msg)
		et, all := eventTickets([]*ticketRec{r}, true, nil, nil)
		if err := t.event(c, Detail{Type: EventCancelled, Tickets: et, GameSessionInfo: GameSessionInfo{Players: all}, Reason: ReasonCancelled, Message: msg}); err != nil {
			return err
		}
		id, cfg := r.ID, r.ConfigName
		t.w.AfterCommit(func() {
			if p := s.pool(cfg); p != nil {
				p.remove(id)
			}
		})
	}
	return nil
}

// notifyBackfill tells the game server a backfill ticket ended without a
// match, after commit.
func (s *Service) notifyBackfill(t *txn, r *ticketRec, reason string) {
	if s.cfg.Sessions == nil || r.Conn == nil || r.Conn.GameSessionArn == "" {
		return
	}
	arn, id := r.Conn.GameSessionArn, r.ID
	t.w.AfterCommit(func() {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.cfg.Sessions.UpdateMatchmakerData(context.Background(), arn, "", reason, id); err != nil {
				s.log.Warn("matchmaking: telling the game server about its backfill failed", "game_session", arn, "ticket", id, "err", err)
			}
		}()
	})
}

// goReserve runs reserveBackfill on its own goroutine, which Stop waits for.
func (s *Service) goReserve(matchID string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.reserveBackfill(matchID)
	}()
}

// reserveBackfill completes a backfill match into its game session:
// reserve the new players' sessions, complete the tickets, push the new
// matchmaker data. After a crash it resumes from the match record (players
// already holding a session there are not reserved again).
func (s *Service) reserveBackfill(matchID string) {
	ctx := context.Background()
	var m matchRec
	var tickets []ticketRec
	var c configRec
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		if m, _, err = store.GetJSON[matchRec](ctx, r, KindMatch, matchID); err != nil {
			return err
		}
		if c, _, err = s.config(ctx, r, m.ConfigName, "ConfigurationName"); err != nil {
			return err
		}
		for _, id := range m.TicketIDs {
			t, _, err := store.GetJSON[ticketRec](ctx, r, KindTicket, id)
			if err != nil {
				return err
			}
			tickets = append(tickets, t)
		}
		return nil
	})
	if err != nil || m.State != matchReserving || s.cfg.Sessions == nil {
		if err != nil {
			s.log.Error("matchmaking: backfill match unreadable", "match", matchID, "err", err)
		}
		return
	}
	held := map[string]session.PlayerSession{}
	if ps, _, err := s.cfg.Sessions.DescribePlayerSessions(ctx, session.PlayerQuery{GameSessionID: m.GameSessionArn, Limit: 1000}); err == nil {
		for _, p := range ps {
			if p.Status == gamelift.PlayerSessionReserved || p.Status == gamelift.PlayerSessionActive {
				held[p.PlayerID] = p
			}
		}
	}
	var want []session.DesiredPlayer
	for _, t := range tickets {
		if t.Backfill {
			continue
		}
		for _, p := range t.Players {
			if _, ok := held[p.ID]; !ok {
				want = append(want, session.DesiredPlayer{PlayerID: p.ID})
			}
		}
	}
	var reserveErr error
	if len(want) > 0 {
		ps, err := s.cfg.Sessions.ReservePlayerSessions(ctx, m.GameSessionArn, want)
		reserveErr = err
		for _, p := range ps {
			held[p.PlayerID] = p
		}
	}
	var data, autoID string
	err = s.cfg.Store.Update(ctx, func(w store.Writer) error {
		t := s.newTxn(ctx, w)
		mr, err := t.match(matchID)
		if err != nil {
			return err
		}
		if mr.State != matchReserving {
			return nil
		}
		recs, err := t.matchTickets(mr)
		if err != nil {
			return err
		}
		mr.State = matchDone
		t.matchChanged(mr)
		if reserveErr != nil {
			mr.State = matchFailed
			for _, r := range recs {
				if r.Backfill {
					s.notifyBackfill(t, r, UpdateBackfillFailed)
				}
			}
			if err := t.failMatch(c, mr, recs, ReasonUnexpected, "reserving player sessions failed: "+reserveErr.Error()); err != nil {
				return err
			}
			return t.flush()
		}
		sessions := map[string]string{}
		var conn connRec
		for _, p := range held {
			sessions[p.PlayerID] = p.ID
			conn = connRec{GameSessionArn: m.GameSessionArn, IPAddress: p.IPAddress, DNSName: p.DNSName, Port: p.Port}
		}
		count := 0
		for _, r := range recs {
			cc := conn
			r.Conn = &cc
			for i := range r.Players {
				r.Players[i].Session = sessions[r.Players[i].ID]
			}
			count += len(r.Players)
			t.end(r, gamelift.TicketCompleted, "", "")
		}
		if c.BackfillMode == gamelift.BackfillAutomatic && count < s.maxPlayers(c) {
			autoID = "auto-backfill-" + uuid.NewString()
		}
		if data, err = s.matchmakerData(ctx, c, mr, recs, autoID); err != nil {
			return err
		}
		et, all := eventTickets(recs, true, nil, sessions)
		if err := t.event(c, Detail{Type: EventSucceeded, Tickets: et, MatchID: mr.ID, GameSessionInfo: GameSessionInfo{GameSessionArn: conn.GameSessionArn,
			IPAddress: conn.IPAddress, DNSName: conn.DNSName, Port: conn.Port, PlayerGatewayStatus: "DISABLED", Players: all}}); err != nil {
			return err
		}
		if autoID != "" {
			if err := s.autoBackfill(t, c, autoID, conn.GameSessionArn, recs); err != nil {
				return err
			}
		}
		return t.flush()
	})
	if err != nil {
		s.log.Error("matchmaking: completing a backfill match failed", "match", matchID, "err", err)
		return
	}
	if data != "" {
		if err := s.cfg.Sessions.UpdateMatchmakerData(ctx, m.GameSessionArn, data, UpdateDataUpdated, m.Backfill); err != nil {
			s.log.Warn("matchmaking: pushing matchmaker data failed", "game_session", m.GameSessionArn, "err", err)
		}
	}
}

// autoBackfill creates an automatic backfill ticket that follows a match.
func (s *Service) autoBackfill(t *txn, c configRec, id, gameSession string, recs []*ticketRec) error {
	var players []playerRec
	for _, r := range recs {
		for _, p := range r.Players {
			p.Session = ""
			players = append(players, p)
		}
	}
	rec := t.created(ticketRec{ID: id, ConfigName: c.Name, ConfigArn: c.ARN, Status: gamelift.TicketQueued, Start: t.now, Players: players,
		Backfill: true, Conn: &connRec{GameSessionArn: gameSession}})
	cp := *rec
	t.w.AfterCommit(func() {
		if p := s.pool(c.Name); p != nil {
			p.add(cp, true)
		}
	})
	return nil
}

// Backfiller returns the session.Backfiller that serves the server SDK's
// StartMatchBackfill and StopMatchBackfill.
func (s *Service) Backfiller() session.Backfiller { return sdkBackfill{s} }

type sdkBackfill struct{ s *Service }

func (b sdkBackfill) StartMatchBackfill(ctx context.Context, req session.BackfillRequest) (string, error) {
	in := &gamelift.StartMatchBackfillInput{TicketId: req.TicketID, ConfigurationName: req.MatchmakingConfigurationArn, GameSessionArn: req.GameSessionArn}
	for _, p := range req.Players {
		gp := gamelift.Player{PlayerId: p.PlayerId, Team: p.Team}
		if len(p.LatencyInMs) > 0 {
			gp.LatencyInMs = map[string]int32{}
			for k, v := range p.LatencyInMs {
				gp.LatencyInMs[k] = int32(v)
			}
		}
		if len(p.PlayerAttributes) > 0 {
			gp.PlayerAttributes = map[string]gamelift.AttributeValue{}
			for k, a := range p.PlayerAttributes {
				var av gamelift.AttributeValue
				switch a.AttrType {
				case "STRING":
					sv := a.S
					av.S = &sv
				case "DOUBLE":
					n := a.N
					av.N = &n
				case "STRING_LIST":
					av.SL = a.SL
				case "STRING_DOUBLE_MAP":
					av.SDM = a.SDM
				default:
					continue
				}
				gp.PlayerAttributes[k] = av
			}
		}
		in.Players = append(in.Players, gp)
	}
	t, err := b.s.startBackfill(ctx, in)
	if err != nil {
		return "", err
	}
	return t.TicketId, nil
}

// StopMatchBackfill of a ticket this game session's backfill already
// stopped succeeds, so a call re-sent across a restart is answered alike.
func (b sdkBackfill) StopMatchBackfill(ctx context.Context, gameSessionArn, _, ticketID string) error {
	err := b.s.stop(ctx, ticketID, func(r *ticketRec) error {
		if !r.Backfill || r.Conn == nil || r.Conn.GameSessionArn != gameSessionArn {
			return fault.New(fault.Forbidden, "ticket %s is not a backfill ticket of game session %s", ticketID, gameSessionArn)
		}
		if r.Status == gamelift.TicketCancelled {
			return errAlreadyStopped
		}
		return nil
	})
	if errors.Is(err, errAlreadyStopped) {
		return nil
	}
	return err
}

var errAlreadyStopped = errors.New("already stopped")

// PlacementEnded hears a placement end inside the transaction that records
// it (docs/matchmaking-placement.md). Placements that are not matches are
// ignored.
func (s *Service) PlacementEnded(ctx context.Context, w store.Writer, p PlacementResult) error {
	t := s.newTxn(ctx, w)
	m, err := t.match(p.PlacementID)
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	if m.State != matchPlacing {
		return nil
	}
	c, _, err := s.config(ctx, w, m.ConfigName, "ConfigurationName")
	if err != nil {
		return err
	}
	recs, err := t.matchTickets(m)
	if err != nil {
		return err
	}
	t.matchChanged(m)
	switch p.Status {
	case "FULFILLED":
		m.State, m.GameSessionArn = matchDone, p.GameSessionArn
		sessions := map[string]string{}
		for _, ps := range p.PlayerSessions {
			sessions[ps.PlayerId] = ps.PlayerSessionId
		}
		count := 0
		for _, r := range recs {
			r.Conn = &connRec{GameSessionArn: p.GameSessionArn, IPAddress: p.IpAddress, DNSName: p.DnsName, Port: p.Port}
			for i := range r.Players {
				r.Players[i].Session = sessions[r.Players[i].ID]
			}
			count += len(r.Players)
			t.end(r, gamelift.TicketCompleted, "", "")
		}
		et, all := eventTickets(recs, true, nil, sessions)
		if err := t.event(c, Detail{Type: EventSucceeded, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{GameSessionArn: p.GameSessionArn,
			IPAddress: p.IpAddress, DNSName: p.DnsName, Port: p.Port, PlayerGatewayStatus: "DISABLED", Players: all}}); err != nil {
			return err
		}
		if c.BackfillMode == gamelift.BackfillAutomatic && count < s.maxPlayers(c) {
			if err := s.autoBackfill(t, c, autoTicketID(m), p.GameSessionArn, recs); err != nil {
				return err
			}
		}
	case "TIMED_OUT":
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

// autoTicketID is the automatic backfill ticket id a placed match's
// matchmaker data announces.
func autoTicketID(m *matchRec) string { return "auto-backfill-" + m.ID }
