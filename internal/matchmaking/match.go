package matchmaking

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/ids"
	"github.com/musterhq/muster/internal/placement"
)

// Status reasons (docs/flexmatch.md, "Tickets").
const (
	ReasonAcceptanceFailed  = "ACCEPTANCE_FAILED"
	ReasonTimedOut          = "TimedOut"
	ReasonCancelled         = "Cancelled"
	ReasonRejected          = "REJECTED"
	ReasonAcceptanceTimeout = "ACCEPTANCE_TIMEOUT"
	ReasonUnexpected        = "UNEXPECTED_ERROR"
)

// matchTickets reads a match's tickets.
func (t *txn) matchTickets(m *matchRec) ([]*ticketRec, error) {
	out := make([]*ticketRec, 0, len(m.TicketIDs))
	for _, id := range m.TicketIDs {
		r, err := t.ticket(id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func ruleMetrics(rs *flexmatch.RuleSet) []RuleMetric {
	if rs == nil {
		return nil
	}
	names := rs.RuleNames()
	out := make([]RuleMetric, len(names))
	for i, n := range names {
		out[i] = RuleMetric{RuleName: n}
	}
	return out
}

// propose records a match the engine formed. Every ticket must still be
// SEARCHING (or QUEUED and picked up in this transaction); otherwise the
// match is dropped and ok is false: the caller returns the other tickets to
// the pool.
func (t *txn) propose(p *pool, fm flexmatch.Match, backfillID string) (bool, error) {
	c := p.cfg
	tickets := make([]*ticketRec, 0, len(fm.TicketIDs)+1)
	ticketIDs := fm.TicketIDs
	if backfillID != "" {
		ticketIDs = append([]string{backfillID}, ticketIDs...)
	}
	for _, id := range ticketIDs {
		r, err := t.ticket(id)
		if err != nil {
			return false, err
		}
		if r == nil || r.Status != gamelift.TicketSearching {
			return false, nil
		}
		tickets = append(tickets, r)
	}
	team := map[string]string{}
	for _, tm := range fm.Teams {
		for _, pid := range tm.PlayerIDs {
			team[pid] = tm.Name
		}
	}
	m := matchRec{ID: ids.UUID(), ConfigName: c.Name, TicketIDs: ticketIDs, Teams: fm.Teams, Locations: fm.Locations, Created: t.now, Backfill: backfillID}
	for _, r := range tickets {
		r.MatchID = m.ID
		for i := range r.Players {
			r.Players[i].Team = team[r.Players[i].ID]
		}
		if r.Backfill {
			if r.Conn != nil {
				m.GameSessionArn = r.Conn.GameSessionArn
			}
			continue
		}
		t.samples[c.Name] = append(t.samples[c.Name], t.now.Sub(r.Start))
		for _, pl := range r.Players {
			m.NeedAccept = append(m.NeedAccept, pl.ID)
		}
	}
	et, all := eventTickets(tickets, true, nil, nil)
	acc := c.AcceptanceRequired
	d := Detail{Type: EventPotentialMatch, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all},
		AcceptanceRequired: &acc, RuleEvaluationMetrics: ruleMetrics(p.rs)}
	if acc {
		d.AcceptanceTimeout = &c.AcceptanceTimeout
	}
	if err := t.event(c, d); err != nil {
		return false, err
	}
	if acc {
		m.State = matchAcceptance
		m.Deadline = t.now.Add(secs(c.AcceptanceTimeout))
		m.Accepted = map[string]bool{}
		for _, r := range tickets {
			r.Status, r.Reason, r.Message = gamelift.TicketRequiresAcceptance, "", ""
			t.changed(r)
		}
		mr := t.putMatch(m)
		t.timers = append(t.timers, mr)
		return true, nil
	}
	return true, t.finish(c, t.putMatch(m), tickets)
}

// finish moves an agreed match on: STANDALONE completes it, WITH_QUEUE
// starts its placement (or, for a backfill of a game session, reserves the
// new players' sessions after commit).
func (t *txn) finish(c configRec, m *matchRec, tickets []*ticketRec) error {
	switch {
	case c.standalone():
		m.State = matchDone
		for _, r := range tickets {
			t.end(r, gamelift.TicketCompleted, "", "")
		}
		et, all := eventTickets(tickets, true, nil, nil)
		return t.event(c, Detail{Type: EventSucceeded, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all}})
	case m.GameSessionArn != "":
		m.State = matchReserving
		for _, r := range tickets {
			r.Status, r.Reason, r.Message = gamelift.TicketPlacing, "", ""
			t.changed(r)
		}
		id := m.ID
		t.w.AfterCommit(func() { t.s.goReserve(id) })
		return nil
	case t.s.cfg.Placer == nil:
		m.State = matchFailed
		return t.failMatch(c, m, tickets, ReasonUnexpected, "no game session placement service is available to place WITH_QUEUE matches")
	}
	m.State = matchPlacing
	for _, r := range tickets {
		r.Status, r.Reason, r.Message = gamelift.TicketPlacing, "", ""
		t.changed(r)
	}
	maxPlayers, err := t.maxPlayers(c)
	if err != nil {
		return err
	}
	req := placement.Request{PlacementID: m.ID, MaximumPlayerSessionCount: int32(maxPlayers), GameSessionName: m.ID,
		GameProperties: c.GameProperties, GameSessionData: c.GameSessionData}
	if len(c.QueueArns) > 0 {
		req.QueueName = c.QueueArns[0]
	}
	auto := ""
	if c.BackfillMode == gamelift.BackfillAutomatic {
		auto = autoTicketID(m)
	}
	data, err := t.s.matchmakerData(c, m, tickets, auto)
	if err != nil {
		return err
	}
	req.MatchmakerData = data
	for _, r := range tickets {
		for _, p := range r.Players {
			req.DesiredPlayerSessions = append(req.DesiredPlayerSessions, gamelift.DesiredPlayerSession{PlayerId: p.ID})
			for loc, ms := range p.Latency {
				req.PlayerLatencies = append(req.PlayerLatencies, gamelift.PlayerLatency{PlayerId: p.ID, RegionIdentifier: loc, LatencyInMilliseconds: ptr(float32(ms))})
			}
		}
	}
	if err := t.s.cfg.Placer.StartIn(t.ctx, t.w, req); err != nil {
		// A refused placement (the queue was deleted, the configuration
		// asks for something the queue cannot take, or the queue is far
		// past its capacity) fails this match's tickets; it must not abort
		// the cycle's other decisions. StartIn validates before it writes,
		// so nothing of it is left behind.
		if k := fault.KindOf(err); k == fault.Invalid || k == fault.NotFound || k == fault.FleetCapacityExceeded {
			m.State = matchFailed
			return t.failMatch(c, m, tickets, ReasonUnexpected, "game session placement refused: "+err.Error())
		}
		return fmt.Errorf("start placement of match %s: %w", m.ID, err)
	}
	return nil
}

// failMatch ends every ticket of a match FAILED.
func (t *txn) failMatch(c configRec, m *matchRec, tickets []*ticketRec, reason, message string) error {
	for _, r := range tickets {
		t.end(r, gamelift.TicketFailed, reason, message)
	}
	et, all := eventTickets(tickets, true, nil, nil)
	return t.event(c, Detail{Type: EventFailed, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all}, Reason: reason, Message: message})
}

// failAcceptance drops a proposal: tickets whose players all accepted go
// back to SEARCHING, the others are CANCELLED.
func (t *txn) failAcceptance(c configRec, m *matchRec, acceptance string, cancelled map[string]bool) error {
	tickets, err := t.matchTickets(m)
	if err != nil {
		return err
	}
	m.State = matchFailed
	t.matchChanged(m)
	et, all := eventTickets(tickets, true, m.Accepted, nil)
	if err := t.event(c, Detail{Type: EventAcceptMatchCompleted, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all}, Acceptance: acceptance}); err != nil {
		return err
	}
	for _, r := range tickets {
		if r.Status != gamelift.TicketRequiresAcceptance {
			continue
		}
		ok := !cancelled[r.ID]
		if !r.Backfill {
			for _, p := range r.Players {
				if !m.Accepted[p.ID] {
					ok = false
				}
			}
		}
		if ok {
			r.Status, r.Reason, r.Message, r.MatchID = gamelift.TicketSearching, ReasonAcceptanceFailed, "another player in the proposed match did not accept", ""
			for i := range r.Players {
				if !r.Backfill {
					r.Players[i].Team = ""
				}
			}
			t.changed(r)
			t.readd = append(t.readd, r)
			et, all := eventTickets([]*ticketRec{r}, r.Backfill, nil, nil) // a backfill ticket's players have their teams
			if err := t.event(c, Detail{Type: EventSearching, Tickets: et, GameSessionInfo: GameSessionInfo{Players: all}, EstimatedWaitMillis: t.s.eventWait(t.ctx, c.Name),
				Reason: r.Reason, Message: r.Message}); err != nil {
				return err
			}
			continue
		}
		reason, msg := ReasonAcceptanceTimeout, "a player in this ticket did not answer in time"
		if acceptance == "Rejected" {
			msg = "a player in this ticket had not accepted when another player rejected the match"
		}
		switch {
		case cancelled[r.ID]:
			reason, msg = ReasonCancelled, "cancelled by request"
		case acceptance == "Rejected":
			rejected := false
			for _, p := range r.Players {
				if a, answered := m.Accepted[p.ID]; answered && !a {
					rejected = true
				}
			}
			if rejected {
				reason, msg = ReasonRejected, "a player in this ticket rejected the match"
			}
		}
		t.end(r, gamelift.TicketCancelled, reason, msg)
		et, all := eventTickets([]*ticketRec{r}, true, nil, nil)
		// The event's reason is the ticket's StatusReason, so a player
		// pushed the event reads what the ticket says.
		if err := t.event(c, Detail{Type: EventCancelled, Tickets: et, MatchID: m.ID, GameSessionInfo: GameSessionInfo{Players: all}, Reason: reason, Message: msg}); err != nil {
			return err
		}
	}
	return nil
}

// maxPlayers is the most players a match of c holds, from its rule set
// (read in the transaction when c's pool runs on another replica).
func (t *txn) maxPlayers(c configRec) (int, error) {
	rs, err := t.s.parsedRuleSet(t.ctx, t.w, c)
	if err != nil {
		return 0, fmt.Errorf("rule set of %s: %w", c.Name, err)
	}
	return rs.MaxPlayers(), nil
}

// matchmakerData renders the MatchmakerData document (docs/flexmatch.md,
// "Matchmaker data").
func (s *Service) matchmakerData(c configRec, m *matchRec, tickets []*ticketRec, autoTicket string) (string, error) {
	type attr struct {
		AttributeType  string `json:"attributeType"`
		ValueAttribute any    `json:"valueAttribute"`
	}
	type player struct {
		PlayerID   string          `json:"playerId"`
		Attributes map[string]attr `json:"attributes"`
	}
	type team struct {
		Name    string   `json:"name"`
		Players []player `json:"players"`
	}
	players := map[string]playerRec{}
	for _, r := range tickets {
		for _, p := range r.Players {
			players[p.ID] = p
		}
	}
	doc := struct {
		MatchID              string  `json:"matchId"`
		ConfigurationArn     string  `json:"matchmakingConfigurationArn"`
		Teams                []team  `json:"teams"`
		AutoBackfillMode     *string `json:"autoBackfillMode"`
		AutoBackfillTicketID *string `json:"autoBackfillTicketId"`
	}{MatchID: m.ID, ConfigurationArn: c.ARN}
	for _, tm := range m.Teams {
		tt := team{Name: tm.Name, Players: []player{}}
		for _, pid := range tm.PlayerIDs {
			p := players[pid]
			pl := player{PlayerID: pid, Attributes: map[string]attr{}}
			for k, v := range p.Attributes {
				switch {
				case v.S != nil:
					pl.Attributes[k] = attr{"STRING", *v.S}
				case v.N != nil:
					pl.Attributes[k] = attr{"DOUBLE", json.RawMessage(fmtDouble(*v.N))}
				case v.SL != nil:
					pl.Attributes[k] = attr{"STRING_LIST", v.SL}
				case v.SDM != nil:
					pl.Attributes[k] = attr{"STRING_DOUBLE_MAP", v.SDM}
				}
			}
			tt.Players = append(tt.Players, pl)
		}
		doc.Teams = append(doc.Teams, tt)
	}
	mode := c.BackfillMode
	doc.AutoBackfillMode = &mode
	if autoTicket != "" {
		doc.AutoBackfillTicketID = &autoTicket
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// fmtDouble renders a number with a fractional part (173 → 173.0).
func fmtDouble(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%.1f", f)
	}
	b, _ := json.Marshal(f)
	return string(b)
}

func ptr[T any](v T) *T { return &v }
