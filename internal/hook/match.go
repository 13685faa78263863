package hook

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/musterhq/muster/internal/matchmaking"
)

var _ matchmaking.MatchGate = (*Service)(nil)

// VetsMatches says whether a matchProposed hook names the configuration.
// The matchmaking cycle asks it in every pass, so it never waits for
// another goroutine's read of the registrations: the set in force answers
// while one is in progress. While Run keeps the set fresh the cycle never
// reads the store at all; without Run it reads the registrations itself,
// at most once per Reload, only when no one else is. While no read has
// succeeded, every configuration's matches are held for MatchProposed,
// which refuses them (503) until one does: a match is not let through
// unvetted because the hooks are unknown.
func (s *Service) VetsMatches(config string) bool {
	set := s.set.Load()
	if !s.running.Load() && s.due(set, s.now()) {
		set = s.reload(context.Background(), false)
	}
	if set == nil || set.byPoint == nil {
		return true
	}
	for _, e := range set.byPoint[MatchProposed] {
		if e.configs[config] {
			return true
		}
	}
	return false
}

// MatchProposed runs the matchProposed hooks that name the match's
// configuration, in order; the first refusal vetoes.
func (s *Service) MatchProposed(ctx context.Context, d *matchmaking.MatchDraft) (bool, error) {
	hooks, err := s.hooks(ctx, MatchProposed)
	if err != nil {
		return false, err
	}
	var call *MatchCall
	for _, e := range hooks {
		if !e.configs[d.ConfigurationName] {
			continue
		}
		if call == nil {
			if call, err = s.matchCall(ctx, d); err != nil {
				return false, err
			}
		}
		var ans MatchAnswer
		err := s.call(ctx, e, call, &ans, func() (bool, error) {
			return ans.Allow, checkReason(ans.Allow, ans.Reason)
		})
		var f *failure
		switch {
		case errors.As(err, &f) && f.outcome == outcomeOverload:
			// Too many calls in flight is no answer of the hook's, and a
			// burst of matches (a restart, an event's start) is what it
			// must see: the match waits for the next pass rather than
			// go through unvetted by failOpen.
			return false, err
		case err != nil:
			if err := failed(e, err); err != nil {
				return false, err
			}
		case !ans.Allow:
			s.cfg.Logger.Info("hooks: a match was vetoed", "hook", e.ID, "config", d.ConfigurationName, "reason", ans.Reason)
			return true, nil
		}
	}
	return false, nil
}

// matchCall is what matchProposed hooks are told of a match.
func (s *Service) matchCall(ctx context.Context, d *matchmaking.MatchDraft) (*MatchCall, error) {
	var ids []string
	for _, t := range d.Tickets {
		for _, p := range t.Players {
			ids = append(ids, p.PlayerID)
		}
	}
	data, err := s.signInDataIfHooked(ctx, ids)
	if err != nil {
		return nil, err
	}
	call := &MatchCall{Point: MatchProposed, ConfigurationName: d.ConfigurationName, Tickets: []MatchTicket{}}
	for _, t := range d.Tickets {
		mt := MatchTicket{TicketID: t.TicketID, Players: []MatchPlayer{}}
		for _, p := range t.Players {
			mt.Players = append(mt.Players, MatchPlayer{PlayerID: p.PlayerID, Team: p.Team, Attributes: orEmpty(p.Attributes),
				SignInData: json.RawMessage(data[p.PlayerID])})
		}
		call.Tickets = append(call.Tickets, mt)
	}
	return call, nil
}
