package matchmaking

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// PlayerTicketRequest is what a game client may say when it asks for a
// match: its latencies and its party, never its attributes.
type PlayerTicketRequest struct {
	ConfigurationName string           `json:"configurationName"`
	LatencyInMs       map[string]int32 `json:"latencyInMs,omitempty"`
	PartyID           string           `json:"partyId,omitempty"`
}

func playerOf(ctx context.Context) (string, error) {
	p := auth.From(ctx)
	if p.Kind != auth.Player || p.IdentityID == "" {
		return "", fault.New(fault.Unauthenticated, "a player access token is required")
	}
	return p.IdentityID, nil
}

// StartForPlayer starts a ticket for the calling player, or for its whole
// party when the caller leads it. Attributes come from the player data
// table: only the rule set's playerAttributes, a missing one taking the
// rule set's default.
func (s *Service) StartForPlayer(ctx context.Context, req PlayerTicketRequest) (gamelift.MatchmakingTicket, error) {
	me, err := playerOf(ctx)
	if err != nil {
		return gamelift.MatchmakingTicket{}, err
	}
	var v fault.Validator
	s.cfg.Formats.Check(&v, "$.configurationName", "MatchmakingConfigurationName", req.ConfigurationName)
	checkPlayerLatencies(&v, req.LatencyInMs)
	if err := v.Err(); err != nil {
		return gamelift.MatchmakingTicket{}, err
	}
	// The configuration and its rule set come from the store (the rule set
	// parsed once): the pool may run on another replica.
	var rs *flexmatch.RuleSet
	c, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (configRec, error) {
		c, _, err := s.config(ctx, r, req.ConfigurationName, "$.configurationName")
		if err == nil {
			rs, err = s.parsedRuleSet(ctx, r, c)
		}
		return c, err
	})
	if err != nil {
		return gamelift.MatchmakingTicket{}, err
	}
	if !c.PlayerAccess {
		return gamelift.MatchmakingTicket{}, fault.New(fault.Forbidden, "$.configurationName: players may not use matchmaking configuration %s", c.Name)
	}
	members := []partyMember{{ID: me, Latency: req.LatencyInMs}}
	if req.PartyID != "" {
		party, err := s.party(ctx, req.PartyID)
		if err != nil {
			return gamelift.MatchmakingTicket{}, err
		}
		if party.Leader != me {
			return gamelift.MatchmakingTicket{}, fault.New(fault.Forbidden, "$.partyId: only the party's leader may start its ticket")
		}
		members = party.Members
		for i := range members {
			if members[i].ID == me && len(req.LatencyInMs) > 0 {
				members[i].Latency = req.LatencyInMs
			}
			if len(members[i].Latency) == 0 {
				members[i].Latency = req.LatencyInMs
			}
		}
	}
	want := rs.AttributeNames()
	players := make([]playerRec, 0, len(members))
	for _, m := range members {
		attrs, err := s.recordAttributes(ctx, m.ID, want)
		if err != nil {
			return gamelift.MatchmakingTicket{}, err
		}
		players = append(players, playerRec{ID: m.ID, Latency: m.Latency, Attributes: attrs})
	}
	return s.startGated(ctx, me, c, req.PartyID, players)
}

// recordAttributes reads a player's attributes from the player data table,
// those a rule set declares (want: name → type) with their declared types.
func (s *Service) recordAttributes(ctx context.Context, player string, want map[string]flexmatch.AttrType) (map[string]gamelift.AttributeValue, error) {
	out := map[string]gamelift.AttributeValue{}
	if s.cfg.Attributes == nil {
		return out, nil
	}
	attrs, err := s.cfg.Attributes.Attributes(ctx, player)
	if err != nil {
		return nil, fmt.Errorf("read attributes of %s: %w", player, err)
	}
	for k, t := range want {
		if a, ok := attrs[k]; ok && attrFits(a, t) {
			out[k] = a
		}
	}
	return out, nil
}

// checkPlayerLatencies checks the latencies a player sends: location names
// of 1 to 128 characters, each 1 to 60000 ms.
func checkPlayerLatencies(v *fault.Validator, ms map[string]int32) {
	for loc, n := range ms {
		v.Check(loc != "" && utf8.RuneCountInString(loc) <= 128, "$.latencyInMs", "location names must be 1 to 128 characters")
		v.Check(n >= 1 && n <= 60000, "$.latencyInMs."+loc, "must be 1 to 60000")
	}
}

// keepUsable keeps, of each player's latencies, the locations a match of c
// can be placed in (usableLatencies): the caller's own latencies are
// named $.latencyInMs, a party member's by the party and the member.
func (s *Service) keepUsable(ctx context.Context, c *configRec, me string, players []playerRec) error {
	fields := make([]latencyField, len(players))
	for i, p := range players {
		fields[i] = latencyField{"$.latencyInMs", p.Latency, ""}
		if p.ID != me {
			fields[i] = latencyField{"$.partyId", p.Latency, p.ID}
		}
	}
	kept, err := s.usableLatencies(ctx, c, fields...)
	if err != nil {
		return err
	}
	for i := range players {
		players[i].Latency = kept[i]
	}
	return nil
}

func attrFits(a gamelift.AttributeValue, t flexmatch.AttrType) bool {
	switch t {
	case flexmatch.AttrString:
		return a.S != nil
	case flexmatch.AttrNumber:
		return a.N != nil
	case flexmatch.AttrStringList:
		return a.SL != nil
	case flexmatch.AttrStringNumberMap:
		return a.SDM != nil
	}
	return false
}

// playerTicket reads a ticket the calling player is in. A backfill ticket
// is never a player's: it lists the players already in the game, and is
// the game server's (or the automatic backfill's) to stop; its new
// players answer on their own tickets.
func (s *Service) playerTicket(ctx context.Context, id string) (ticketRec, string, error) {
	me, err := playerOf(ctx)
	if err != nil {
		return ticketRec{}, "", err
	}
	if err := s.checkTicketID(id); err != nil {
		return ticketRec{}, "", err
	}
	recs, err := s.tickets(ctx, []string{id})
	if err != nil {
		return ticketRec{}, "", err
	}
	if len(recs) == 0 || recs[0].Backfill || !slices.ContainsFunc(recs[0].Players, func(p playerRec) bool { return p.ID == me }) {
		return ticketRec{}, "", fault.New(fault.NotFound, "no matchmaking ticket %s of yours", id)
	}
	return recs[0], me, nil
}

// checkTicketID refuses an id no ticket can have (too long, or characters
// GameLift's ticket ids never hold), so a mistyped id is told so instead of
// "not found".
func (s *Service) checkTicketID(id string) error {
	var v fault.Validator
	s.cfg.Formats.Check(&v, "TicketId", "MatchmakingIdStringModel", id)
	return v.Err()
}

// PlayerTicket is a ticket as its player reads it: GameLift's shape and
// the id of the match it is in while it has one, which tells a player one
// proposed match from the next (GameLift's ticket has no such member).
type PlayerTicket struct {
	gamelift.MatchmakingTicket
	MatchID string
}

// TicketForPlayer returns a ticket the calling player is in.
func (s *Service) TicketForPlayer(ctx context.Context, id string) (PlayerTicket, error) {
	r, _, err := s.playerTicket(ctx, id)
	if err != nil {
		return PlayerTicket{}, err
	}
	t := PlayerTicket{MatchmakingTicket: s.wire(ctx, r)}
	switch r.Status {
	case gamelift.TicketRequiresAcceptance, gamelift.TicketPlacing, gamelift.TicketCompleted:
		// A ticket back to searching after a failed round keeps the old
		// match's id in its record; only these statuses are in a match.
		t.MatchID = r.MatchID
	}
	return t, nil
}

// CancelForPlayer cancels a ticket the calling player is in, also while
// it is PLACING (giveUp).
func (s *Service) CancelForPlayer(ctx context.Context, id string) error {
	if _, _, err := s.playerTicket(ctx, id); err != nil {
		return err
	}
	if done, err := s.giveUp(ctx, id); done || err != nil {
		return err
	}
	return s.stop(ctx, id, nil)
}

// AcceptForPlayer answers a proposed match for the calling player.
func (s *Service) AcceptForPlayer(ctx context.Context, id string, accept bool) error {
	_, me, err := s.playerTicket(ctx, id)
	if err != nil {
		return err
	}
	return s.accept(ctx, id, []string{me}, accept)
}

// Explanation is why a ticket is where it is.
type Explanation struct {
	TicketID string `json:"ticketId"`
	Status   string `json:"status"`
	// Engine is the engine's explanation while the ticket is SEARCHING
	// (for a player: only what concerns its own ticket).
	Engine any    `json:"engine,omitempty"`
	Text   string `json:"text"`
}

// Explain explains a ticket to an operator.
func (s *Service) Explain(ctx context.Context, id string) (Explanation, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return Explanation{}, err
	}
	if err := s.checkTicketID(id); err != nil {
		return Explanation{}, err
	}
	recs, err := s.tickets(ctx, []string{id})
	if err != nil {
		return Explanation{}, err
	}
	if len(recs) == 0 {
		return Explanation{}, fault.New(fault.NotFound, "no matchmaking ticket %s", id)
	}
	return s.explain(ctx, recs[0], false)
}

// ExplainForPlayer explains a ticket to one of its players, without other
// players' data.
func (s *Service) ExplainForPlayer(ctx context.Context, id string) (Explanation, error) {
	r, _, err := s.playerTicket(ctx, id)
	if err != nil {
		return Explanation{}, err
	}
	return s.explain(ctx, r, true)
}

func (s *Service) explain(ctx context.Context, r ticketRec, private bool) (Explanation, error) {
	x := Explanation{TicketID: r.ID, Status: r.Status}
	if r.Status == gamelift.TicketSearching || r.Status == gamelift.TicketQueued {
		p := s.pool(r.ConfigName)
		if p != nil {
			if ex, ok := p.explain(r.ID); ok {
				x.Engine, x.Text = ex, ex.String()
				if private {
					x.Engine, x.Text = privateView(ex)
				}
				return x, nil
			}
		}
		x.Text = "waiting for the next matchmaking cycle"
		if p == nil && s.cfg.Leases != nil {
			x.Text = s.explainElsewhere(ctx, r.ConfigName)
		}
		return x, nil
	}
	x.Text = fmt.Sprintf("ticket is %s", r.Status)
	if r.Reason != "" {
		x.Text += " (" + r.Reason + ": " + r.Message + ")"
	}
	if r.MatchID != "" {
		x.Text += "; match " + r.MatchID
	}
	if r.Status == gamelift.TicketPlacing && r.MatchID != "" && s.cfg.Placer != nil {
		// The match's placement has the match id: say why it waits.
		why, err := s.cfg.Placer.Explain(ctx, r.MatchID)
		if err != nil {
			return x, fmt.Errorf("explain placement: %w", err)
		}
		x.Text += "; " + why
	}
	return x, nil
}

// privateView keeps the parts of an explanation that concern the ticket
// itself (age, expansion step, whether it can match, which rules block
// it), never other tickets' ids or details.
func privateView(ex flexmatch.Explanation) (any, string) {
	var m map[string]any
	json.Unmarshal(store.MustJSON(ex), &m)
	out := map[string]any{}
	for _, k := range []string{"ticketId", "ageSeconds", "step", "steps", "nextStepSeconds", "never", "matchable", "ruleCounts"} {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	text := fmt.Sprintf("ticket %s: waiting %s, expansion step %d of %d", ex.TicketID, ex.Age.Round(time.Second), ex.Step, ex.Steps)
	switch {
	case ex.Never != "":
		text += "; never matches: " + ex.Never
	case ex.Matchable:
		text += "; a match is possible now"
	default:
		var rules []string
		for r := range ex.RuleCounts {
			rules = append(rules, r)
		}
		slices.Sort(rules)
		if len(rules) > 0 {
			text += "; blocked by " + strings.Join(rules, ", ")
		}
		// What the closest match lacks ("team red has 1 of 5 players")
		// tells a player how many more must come; it names no one.
		if len(ex.Candidates) > 0 && ex.Candidates[0].Shortfall != "" {
			text += "; short of a match: " + ex.Candidates[0].Shortfall
		}
	}
	return out, text
}
