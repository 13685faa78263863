package flexmatch

import (
	"fmt"
	"time"
)

// CheckRoster judges a roster as the engine judges a complete match: the
// players of tickets (whose players must all appear, each ticket's on one
// team) on the teams roster names, at now, every rule evaluated. backfill, if
// it has players, is a running match's current players, each on its Team, as
// Backfill takes them. It returns "" for a valid match, else why not.
func CheckRoster(rs *RuleSet, backfill Ticket, tickets []Ticket, roster []MatchTeam, now time.Time) string {
	e := NewEngine(rs, Options{})
	slotOf := map[string]int{}
	for ti, team := range roster {
		slots, ok := rs.teamSlots(team.Name)
		if !ok || len(slots) != 1 || slots[0] != ti {
			return fmt.Sprintf("team %d is named %q", ti, team.Name)
		}
		for _, id := range team.PlayerIDs {
			slotOf[id] = ti
		}
	}
	c := &e.c
	c.reset(len(rs.slots))
	push := func(t Ticket, backfill bool) string {
		wt, err := e.compile(t, backfill)
		if err != nil {
			return err.Error()
		}
		s, ok := slotOf[t.Players[0].ID]
		for _, p := range t.Players {
			if ps, in := slotOf[p.ID]; !in || ps != s {
				return fmt.Sprintf("player %s of %s is not on the team of its party", p.ID, t.ID)
			}
			delete(slotOf, p.ID)
		}
		if !ok {
			return "no players"
		}
		if backfill {
			wt.team = s
		}
		c.push(wt, s)
		return ""
	}
	groups := map[string][]Player{}
	var order []string
	for _, p := range backfill.Players {
		if _, seen := groups[p.Team]; !seen {
			order = append(order, p.Team)
		}
		groups[p.Team] = append(groups[p.Team], p)
	}
	for _, team := range order {
		if why := push(Ticket{ID: backfill.ID, Players: groups[team], StartTime: backfill.StartTime}, true); why != "" {
			return why
		}
	}
	c.backfill = len(c.members)
	for _, t := range tickets {
		if why := push(t, false); why != "" {
			return why
		}
	}
	if len(slotOf) > 0 {
		return fmt.Sprintf("the roster names %d players of no ticket", len(slotOf))
	}
	e.setLevel(now.UnixNano())
	if !e.sizesOK() {
		return fmt.Sprintf("team sizes %v outside %v..%v", c.counts, e.slotMin, e.slotMax)
	}
	e.chk.explain = true
	if !e.chk.check(c, true) {
		return e.chk.fail.text
	}
	return ""
}

// ExactSearchGaveUp reports whether the last cycle's exact search exceeded
// its budget on some partition and left it to the greedy search, whose
// matches are not the best set.
func (e *Engine) ExactSearchGaveUp() bool {
	for _, p := range e.partList {
		if p.greedy {
			return true
		}
	}
	return false
}
