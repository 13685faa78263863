package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/ids"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// ticketRequest is a validated StartMatchmaking or StartMatchBackfill.
type ticketRequest struct {
	id, config, gameSession, party string
	players                        []playerRec
	backfill                       bool
}

func (s *Service) checkPlayers(v *fault.Validator, players []gamelift.Player, max int, backfill bool) []playerRec {
	v.Check(len(players) >= 1 && len(players) <= max, "Players", "must have 1 to %d items", max)
	out := make([]playerRec, 0, len(players))
	seen := map[string]bool{}
	for i, p := range players {
		path := fmt.Sprintf("Players[%d]", i)
		gamelift.CheckLength(v, path+".PlayerId", p.PlayerId, 1, 1024)
		v.Check(!seen[p.PlayerId], path+".PlayerId", "player %q appears twice", p.PlayerId)
		seen[p.PlayerId] = true
		v.Check(len(p.PlayerAttributes) <= 10 || backfill, path+".PlayerAttributes", "must have at most 10 attributes")
		for k, a := range p.PlayerAttributes {
			if p := gamelift.Length(k, 1, 1024); p != "" {
				v.Add(path+".PlayerAttributes", "keys %s", p)
			}
			a.Validate(path+".PlayerAttributes."+k, v)
		}
		for loc, ms := range p.LatencyInMs {
			v.Check(loc != "", path+".LatencyInMs", "location names must not be empty")
			v.Check(ms >= 1, path+".LatencyInMs."+loc, "must be at least 1")
		}
		if backfill {
			v.Check(p.Team != "", path+".Team", "is required for every player of a backfill request")
		}
		gamelift.CheckLength(v, path+".Team", p.Team, 0, 1024)
		out = append(out, playerRec{ID: p.PlayerId, Attributes: p.PlayerAttributes, Latency: p.LatencyInMs, Team: p.Team})
	}
	return out
}

// StartMatchmaking starts a ticket.
func (s *Service) StartMatchmaking(ctx context.Context, in *gamelift.StartMatchmakingInput) (*gamelift.StartMatchmakingOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	if in.TicketId != "" {
		s.cfg.Formats.Check(&v, "TicketId", "MatchmakingIdStringModel", in.TicketId)
	}
	s.cfg.Formats.Check(&v, "ConfigurationName", "MatchmakingConfigurationName", in.ConfigurationName)
	players := s.checkPlayers(&v, in.Players, 10, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.checkTicketLatencies(ctx, in.ConfigurationName, players); err != nil {
		return nil, err
	}
	t, err := s.start(ctx, ticketRequest{id: in.TicketId, config: in.ConfigurationName, players: players})
	if err != nil {
		return nil, err
	}
	return &gamelift.StartMatchmakingOutput{MatchmakingTicket: &t}, nil
}

// checkTicketLatencies keeps, of the players' latencies, the locations the
// configuration can place in (usableLatencies). Only then is the
// configuration read before the ticket's transaction, which reads (or
// trusts its running pool for) the configuration anyway: most tickets carry
// no latencies, and the read cost a tenth of a StartMatchmaking's CPU.
func (s *Service) checkTicketLatencies(ctx context.Context, config string, players []playerRec) error {
	if !slices.ContainsFunc(players, func(p playerRec) bool { return len(p.Latency) > 0 }) {
		return nil
	}
	c, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (configRec, error) {
		c, _, err := s.config(ctx, r, config, "ConfigurationName")
		return c, err
	})
	if err != nil {
		return err
	}
	fields := make([]latencyField, len(players))
	for i, p := range players {
		fields[i] = latencyField{fmt.Sprintf("Players[%d].LatencyInMs", i), p.Latency, ""}
	}
	kept, err := s.usableLatencies(ctx, &c, fields...)
	if err != nil {
		return err
	}
	for i := range players {
		players[i].Latency = kept[i]
	}
	return nil
}

// start records a new QUEUED ticket and hands it to its pool.
func (s *Service) start(ctx context.Context, req ticketRequest) (gamelift.MatchmakingTicket, error) {
	known := s.pool(s.nameOf(gamelift.ResourceMatchmakingConfiguration, req.config))
	// A new ticket is new work: while the store's writer is behind, or
	// the queue its match would be placed through is past its capacity,
	// it is refused at once, so the capacity serves the matches and
	// placements already under way. A backfill serves a game already
	// running and is always taken.
	if !req.backfill {
		if err := s.admit(ctx, known); err != nil {
			return gamelift.MatchmakingTicket{}, fmt.Errorf("start matchmaking: %w", err)
		}
	}
	if req.id == "" {
		req.id = ids.UUID()
	}
	var rec ticketRec
	var existing bool
	var version int64
	// The ticket is encoded before the transaction for the configuration
	// the running pool vouches for, so that the single writer only writes.
	var vouched ticketDraft
	if known != nil && !req.backfill && s.cfg.Leases == nil {
		vouched = s.draft(req, configRec{Name: known.name, ARN: known.arn})
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var c configRec
		var d ticketDraft
		var err error
		if vouched.doc != nil && !known.closed.Load() {
			// The running pool vouches for the configuration: its deletion
			// marks the pool closed inside the deleting transaction.
			c, d = configRec{Name: known.name, ARN: known.arn}, vouched
		} else {
			if c, _, err = s.config(ctx, w, req.config, "ConfigurationName"); err != nil {
				return err
			}
			d = s.draft(req, c)
		}
		rec = d.rec
		version, err = w.Put(ctx, store.Record{Kind: KindTicket, ID: rec.ID, Doc: d.doc, Keys: ticketKeys(&rec)})
		if errors.Is(err, store.ErrConflict) {
			old, _, err := store.GetJSON[ticketRec](ctx, w, KindTicket, req.id)
			if err != nil {
				return err
			}
			if old.ConfigName == c.Name && samePlayers(old.Players, req.players) && old.Backfill == req.backfill {
				rec, existing = old, true
				return nil
			}
			return fault.New(fault.Invalid, "TicketId: a ticket with id %s already exists with other parameters", req.id)
		} else if err != nil {
			return err
		}
		if req.backfill {
			t := s.newTxn(ctx, w)
			if err := s.replaceBackfill(t, c, req.gameSession, rec.ID); err != nil {
				return err
			}
			return t.flush()
		}
		for i, p := range req.players {
			_, err := w.Put(ctx, store.Record{Kind: KindActive, ID: activeID(c.Name, p.ID), Doc: d.active})
			if errors.Is(err, store.ErrConflict) {
				other, _ := activeTicket(ctx, w, c.Name, p.ID)
				return alreadyActive(i, p.ID, other, c.Name)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return gamelift.MatchmakingTicket{}, fmt.Errorf("start matchmaking: %w", err)
	}
	if !existing {
		s.handOff(rec, version, true)
	}
	return rec.wire(s.waitSeconds(ctx, rec.ConfigName)), nil
}

// admit asks whether a new ticket may start: the store's writer must keep
// up (store.Admit) and, for a configuration whose pool runs here, its
// queues must be within their capacity (Placer.AdmitTicket; a replica
// that does not run the placer has no figures and admits).
func (s *Service) admit(ctx context.Context, known *pool) error {
	if err := store.Admit(s.cfg.Store, "ticket"); err != nil {
		return err
	}
	if known == nil || s.cfg.Placer == nil {
		return nil
	}
	if arns := *known.queueArns.Load(); len(arns) > 0 {
		return s.cfg.Placer.AdmitTicket(ctx, arns)
	}
	return nil
}

// ticketDraft is a new ticket and its documents, ready to write.
type ticketDraft struct {
	rec ticketRec
	doc []byte
	// active is the document of its players' active records.
	active []byte
}

// draft makes the QUEUED ticket req asks for in configuration c.
func (s *Service) draft(req ticketRequest, c configRec) ticketDraft {
	rec := ticketRec{ID: req.id, ConfigName: c.Name, ConfigArn: c.ARN, Status: gamelift.TicketQueued, Start: s.now(), Players: req.players,
		Backfill: req.backfill, PartyID: req.party}
	if req.gameSession != "" {
		rec.Conn = &connRec{GameSessionArn: req.gameSession}
	}
	return ticketDraft{rec: rec, doc: store.MustJSON(rec), active: store.MustJSON(activeRec{TicketID: rec.ID})}
}

// activeRec is a player's active record: the ticket it is in.
type activeRec struct {
	TicketID string `json:"ticketId"`
}

func samePlayers(a, b []playerRec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || !reflect.DeepEqual(a[i].Latency, b[i].Latency) || !reflect.DeepEqual(a[i].Attributes, b[i].Attributes) {
			return false
		}
	}
	return true
}

// DescribeMatchmaking returns the tickets that exist among up to 10 ids.
func (s *Service) DescribeMatchmaking(ctx context.Context, in *gamelift.DescribeMatchmakingInput) (*gamelift.DescribeMatchmakingOutput, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	var v fault.Validator
	v.Check(len(in.TicketIds) >= 1 && len(in.TicketIds) <= 10, "TicketIds", "must have 1 to 10 items")
	for i, id := range in.TicketIds {
		s.cfg.Formats.Check(&v, fmt.Sprintf("TicketIds[%d]", i), "MatchmakingIdStringModel", id)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	recs, err := s.tickets(ctx, in.TicketIds)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeMatchmakingOutput{TicketList: []gamelift.MatchmakingTicket{}}
	for _, r := range recs {
		out.TicketList = append(out.TicketList, s.wire(ctx, r))
	}
	return out, nil
}

func (s *Service) wire(ctx context.Context, r ticketRec) gamelift.MatchmakingTicket {
	return r.wire(s.waitSeconds(ctx, r.ConfigName))
}

func (s *Service) tickets(ctx context.Context, ids []string) ([]ticketRec, error) {
	var out []ticketRec
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		for _, id := range ids {
			t, _, err := store.GetJSON[ticketRec](ctx, r, KindTicket, id)
			if isNotFound(err) {
				continue
			} else if err != nil {
				return err
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// StopMatchmaking cancels a ticket.
func (s *Service) StopMatchmaking(ctx context.Context, in *gamelift.StopMatchmakingInput) (*gamelift.StopMatchmakingOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	v.Check(in.TicketId != "", "TicketId", "is required")
	s.cfg.Formats.Check(&v, "TicketId", "MatchmakingIdStringModel", in.TicketId)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &gamelift.StopMatchmakingOutput{}, s.stop(ctx, in.TicketId, nil)
}

// stop cancels a ticket; check, when set, vets the ticket first.
func (s *Service) stop(ctx context.Context, id string, check func(*ticketRec) error) error {
	var rec ticketRec
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		t := s.newTxn(ctx, w)
		r, err := t.existingTicket(id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(r); err != nil {
				return err
			}
		}
		c, _, err := s.config(ctx, w, r.ConfigName, "ConfigurationName")
		if err != nil {
			return err
		}
		switch r.Status {
		case gamelift.TicketPlacing:
			return fault.New(fault.Invalid, "TicketId: ticket %s is in PLACING status and cannot be canceled", id)
		case gamelift.TicketRequiresAcceptance:
			m, err := t.match(r.MatchID)
			if err != nil {
				return err
			}
			if err := t.failAcceptance(c, m, "Rejected", map[string]bool{r.ID: true}); err != nil {
				return err
			}
		case gamelift.TicketQueued, gamelift.TicketSearching:
			msg := "cancelled by request"
			t.end(r, gamelift.TicketCancelled, ReasonCancelled, msg)
			et, all := eventTickets([]*ticketRec{r}, false, nil, nil)
			if err := t.event(c, Detail{Type: EventCancelled, Tickets: et, GameSessionInfo: GameSessionInfo{Players: all}, Reason: ReasonCancelled, Message: msg}); err != nil {
				return err
			}
		default:
			return fault.New(fault.Invalid, "TicketId: ticket %s is %s and cannot be canceled", id, r.Status)
		}
		if r.Backfill {
			if err := s.notifyBackfill(t, r, UpdateBackfillCanceled); err != nil {
				return err
			}
		}
		rec = *r
		return t.flush()
	})
	if err != nil {
		return fmt.Errorf("stop matchmaking: %w", err)
	}
	s.takeOut(rec.ConfigName, rec.ID)
	return nil
}

// AcceptMatch records players' answers to a proposed match.
func (s *Service) AcceptMatch(ctx context.Context, in *gamelift.AcceptMatchInput) (*gamelift.AcceptMatchOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	v.Check(in.TicketId != "", "TicketId", "is required")
	s.cfg.Formats.Check(&v, "TicketId", "MatchmakingIdStringModel", in.TicketId)
	v.Check(len(in.PlayerIds) >= 1, "PlayerIds", "must name at least one player")
	v.Check(in.AcceptanceType == gamelift.AcceptanceAccept || in.AcceptanceType == gamelift.AcceptanceReject, "AcceptanceType", "must be ACCEPT or REJECT")
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &gamelift.AcceptMatchOutput{}, s.accept(ctx, in.TicketId, in.PlayerIds, in.AcceptanceType == gamelift.AcceptanceAccept)
}

func (s *Service) accept(ctx context.Context, ticketID string, players []string, yes bool) error {
	var done string
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		t := s.newTxn(ctx, w)
		r, err := t.existingTicket(ticketID)
		if err != nil {
			return err
		}
		switch {
		case r.Backfill:
			// Its players are already in the game: only the new ones
			// answer, on their own tickets.
			return fault.New(fault.Invalid, "TicketId: ticket %s is a backfill ticket; the players it adds accept on their own tickets", ticketID)
		case r.Status != gamelift.TicketRequiresAcceptance:
			return fault.New(fault.Invalid, "TicketId: ticket %s is %s, not REQUIRES_ACCEPTANCE", ticketID, r.Status)
		}
		for i, pid := range players {
			if !slices.ContainsFunc(r.Players, func(p playerRec) bool { return p.ID == pid }) {
				return fault.New(fault.Invalid, "PlayerIds[%d]: player %s is not in ticket %s", i, pid, ticketID)
			}
		}
		c, _, err := s.config(ctx, w, r.ConfigName, "ConfigurationName")
		if err != nil {
			return err
		}
		m, err := t.match(r.MatchID)
		if err != nil {
			return err
		}
		if m.State != matchAcceptance {
			return fault.New(fault.Invalid, "TicketId: the match of ticket %s no longer awaits acceptance", ticketID)
		}
		if m.Accepted == nil {
			m.Accepted = map[string]bool{}
		}
		for _, pid := range players {
			m.Accepted[pid] = yes
		}
		t.matchChanged(m)
		tickets, err := t.matchTickets(m)
		if err != nil {
			return err
		}
		et, all := eventTickets(tickets, true, m.Accepted, nil)
		if err := t.event(c, Detail{Type: EventAcceptMatch, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all}}); err != nil {
			return err
		}
		all2 := true
		for _, pid := range m.NeedAccept {
			if a, ok := m.Accepted[pid]; !ok || !a {
				all2 = false
			}
		}
		switch {
		case !yes:
			done = m.ID
			if err := t.failAcceptance(c, m, "Rejected", nil); err != nil {
				return err
			}
		case all2:
			done = m.ID
			et, all := eventTickets(tickets, true, m.Accepted, nil)
			if err := t.event(c, Detail{Type: EventAcceptMatchCompleted, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all}, Acceptance: "Accepted"}); err != nil {
				return err
			}
			if err := t.finish(c, m, tickets); err != nil {
				return err
			}
		}
		return t.flush()
	})
	if err != nil {
		return fmt.Errorf("accept match: %w", err)
	}
	if done != "" {
		s.disarmAcceptance(done)
	}
	return nil
}

// alreadyActive refuses the ticket of the i-th player, who is already in
// the active ticket other of config.
func alreadyActive(i int, player, other, config string) error {
	return fault.BadField(fmt.Sprintf("Players[%d].PlayerId", i), "player %s is already in active ticket %s of configuration %s", player, other, config)
}

// activeTicket returns the id of a player's active ticket in a
// configuration, or "".
func activeTicket(ctx context.Context, r store.Reader, config, player string) (string, error) {
	a, _, err := store.GetJSON[activeRec](ctx, r, KindActive, activeID(config, player))
	if isNotFound(err) {
		return "", nil
	}
	return a.TicketID, err
}
