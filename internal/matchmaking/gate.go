package matchmaking

import (
	"context"
	"fmt"
	"maps"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// Gate lets the studio's own logic decide on players' tickets before they
// are written (package hook calls its beforeTicket hooks through it).
type Gate interface {
	// GatesTickets reports whether BeforeTicket may act on a ticket of the
	// configuration (true when it cannot tell). A ticket it does not gate
	// skips the checks made before the gate, which start makes anyway.
	GatesTickets(ctx context.Context, configuration string) bool
	// BeforeTicket may change d's players' attributes and configuration, or
	// refuse the ticket with an error (a *fault.Error the player sees).
	BeforeTicket(ctx context.Context, d *TicketDraft) error
}

// TicketDraft is a player's ticket before it is written.
type TicketDraft struct {
	// PlayerID is the caller: the party's leader for a party's ticket.
	PlayerID          string
	ConfigurationName string
	PartyID           string
	Players           []DraftPlayer
	// Types are the player attributes the configuration's rule set
	// declares, by name, as rule sets write them ("number",
	// "string_list").
	Types map[string]string
	// Open returns the declared attribute types of another configuration
	// players may use, or a fault naming why it cannot be used.
	Open func(ctx context.Context, name string) (map[string]string, error)
}

// DraftPlayer is one player of a TicketDraft.
type DraftPlayer struct {
	PlayerID    string
	LatencyInMs map[string]int32
	// Attributes are what the ticket carries: the player data table's
	// attributes the rule set declares, with their declared types.
	Attributes map[string]gamelift.AttributeValue
}

// startGated writes a player's ticket after the Gate, when it gates the
// ticket's configuration, has allowed it, in the configuration and with
// the attributes it chose.
func (s *Service) startGated(ctx context.Context, me string, c configRec, partyID string, players []playerRec) (gamelift.MatchmakingTicket, error) {
	if s.cfg.Gate == nil || !s.cfg.Gate.GatesTickets(ctx, c.Name) {
		if err := s.keepUsable(ctx, &c, me, players); err != nil {
			return gamelift.MatchmakingTicket{}, err
		}
		return s.start(ctx, ticketRequest{config: c.Name, players: players, party: partyID})
	}
	// What start would refuse anyway is refused before the studio's
	// service is asked: a shed ticket or a duplicate costs no hook call,
	// and a client retrying in a loop does not reach the studio.
	if err := s.refusedBeforeGate(ctx, c, players); err != nil {
		return gamelift.MatchmakingTicket{}, err
	}
	rs, err := s.viewRuleSet(ctx, c)
	if err != nil {
		return gamelift.MatchmakingTicket{}, err
	}
	d := &TicketDraft{PlayerID: me, ConfigurationName: c.Name, PartyID: partyID, Types: typeNames(rs), Open: s.openTypes}
	for _, pr := range players {
		d.Players = append(d.Players, DraftPlayer{PlayerID: pr.ID, LatencyInMs: pr.Latency, Attributes: maps.Clone(pr.Attributes)})
	}
	if err := s.cfg.Gate.BeforeTicket(ctx, d); err != nil {
		return gamelift.MatchmakingTicket{}, err
	}
	moved := d.ConfigurationName != c.Name
	if moved {
		nc, err := s.playerConfig(ctx, d.ConfigurationName)
		if err != nil {
			return gamelift.MatchmakingTicket{}, err
		}
		if rs, err = s.viewRuleSet(ctx, nc); err != nil {
			return gamelift.MatchmakingTicket{}, err
		}
		c = nc
	}
	if err := s.keepUsable(ctx, &c, me, players); err != nil {
		return gamelift.MatchmakingTicket{}, err
	}
	want := rs.AttributeNames()
	for i := range players {
		attrs := map[string]gamelift.AttributeValue{}
		if moved {
			// The new rule set may declare attributes the first did not:
			// they come from the player's record, as for a ticket sent
			// there directly; the hooks' answers are laid over them.
			if attrs, err = s.recordAttributes(ctx, players[i].ID, want); err != nil {
				return gamelift.MatchmakingTicket{}, err
			}
		}
		for k, v := range d.Players[i].Attributes {
			if t, ok := want[k]; ok && attrFits(v, t) {
				attrs[k] = v
			}
		}
		players[i].Attributes = attrs
	}
	return s.start(ctx, ticketRequest{config: c.Name, players: players, party: partyID})
}

// refusedBeforeGate says whether start would refuse a ticket of c for
// players now: the store or the queues are past their capacity, or a
// player is already in an active ticket of c.
func (s *Service) refusedBeforeGate(ctx context.Context, c configRec, players []playerRec) error {
	if err := s.admit(ctx, s.pool(c.Name)); err != nil {
		return fmt.Errorf("start matchmaking: %w", err)
	}
	return s.cfg.Store.View(ctx, func(r store.Reader) error {
		for i, p := range players {
			other, err := activeTicket(ctx, r, c.Name, p.ID)
			if err != nil {
				return err
			}
			if other != "" {
				return alreadyActive(i, p.ID, other, c.Name)
			}
		}
		return nil
	})
}

// playerConfig reads a configuration players may use.
func (s *Service) playerConfig(ctx context.Context, name string) (configRec, error) {
	c, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (configRec, error) {
		c, _, err := s.config(ctx, r, name, "$.configurationName")
		return c, err
	})
	if err != nil {
		return configRec{}, err
	}
	if !c.PlayerAccess {
		return configRec{}, fault.New(fault.Forbidden, "$.configurationName: players may not use matchmaking configuration %s", c.Name)
	}
	return c, nil
}

// openTypes is TicketDraft.Open.
func (s *Service) openTypes(ctx context.Context, name string) (map[string]string, error) {
	c, err := s.playerConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	rs, err := s.viewRuleSet(ctx, c)
	if err != nil {
		return nil, err
	}
	return typeNames(rs), nil
}

// viewRuleSet is configuration c's parsed rule set, whichever replica runs
// its pool.
func (s *Service) viewRuleSet(ctx context.Context, c configRec) (*flexmatch.RuleSet, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (*flexmatch.RuleSet, error) {
		return s.parsedRuleSet(ctx, r, c)
	})
}

func typeNames(rs *flexmatch.RuleSet) map[string]string {
	out := map[string]string{}
	for k, t := range rs.AttributeNames() {
		out[k] = t.String()
	}
	return out
}
