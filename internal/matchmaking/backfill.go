package matchmaking

import (
	"context"
	"errors"
	"fmt"

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
		t.w.AfterCommit(func() { s.takeOut(cfg, id) })
	}
	return nil
}

// notifyBackfill tells the game server a backfill ticket ended without a
// match, in t's transaction: the push is kept with the ticket's end, so a
// crash right after the commit cannot lose it. A game session that has
// ended since has no one to tell.
func (s *Service) notifyBackfill(t *txn, r *ticketRec, reason string) error {
	if s.cfg.Sessions == nil || r.Conn == nil || r.Conn.GameSessionArn == "" {
		return nil
	}
	err := s.cfg.Sessions.UpdateMatchmakerDataIn(t.ctx, t.w, r.Conn.GameSessionArn, "", reason, r.ID)
	if k := fault.KindOf(err); k == fault.InvalidGameSessionStatus || k == fault.NotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tell game session %s its backfill %s ended: %w", r.Conn.GameSessionArn, r.ID, err)
	}
	return nil
}

// autoBackfill creates an automatic backfill ticket that follows a match.
func (s *Service) autoBackfill(t *txn, c configRec, id, gameSession string, recs []*ticketRec) {
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
	t.w.AfterCommit(func() { s.handOff(cp, 0, true) })
}

// Backfiller returns the session.Backfiller that serves the server SDK's
// StartMatchBackfill and StopMatchBackfill.
func (s *Service) Backfiller() session.Backfiller { return sdkBackfill{s} }

type sdkBackfill struct{ s *Service }

func (b sdkBackfill) StartMatchBackfill(ctx context.Context, req session.BackfillRequest) (string, error) {
	in := &gamelift.StartMatchBackfillInput{TicketId: req.TicketID, ConfigurationName: req.MatchmakingConfigurationArn, GameSessionArn: req.GameSessionArn}
	for _, p := range req.Players {
		gp := gamelift.Player{PlayerId: p.PlayerId, Team: p.Team, LatencyInMs: p.LatencyInMs}
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
