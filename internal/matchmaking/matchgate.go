package matchmaking

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// MatchGate lets the studio's own logic veto the matches the engine
// proposes for some configurations, before acceptance and placement
// (package hook calls its matchProposed hooks through it). A Gate that is
// also a MatchGate is used as one.
type MatchGate interface {
	// VetsMatches says whether a configuration's matches go through
	// MatchProposed. It is asked inside the configuration's cycle and must
	// not block.
	VetsMatches(config string) bool
	// MatchProposed decides on a match, outside the cycle: vetoed true
	// sends its tickets back to the pool and the group is not proposed
	// again; an error sends them back without remembering the group.
	MatchProposed(ctx context.Context, m *MatchDraft) (vetoed bool, err error)
}

// MatchDraft is a match the engine proposed.
type MatchDraft struct {
	ConfigurationName string
	Tickets           []DraftTicket

	match flexmatch.Match
}

// DraftTicket is one ticket of a MatchDraft.
type DraftTicket struct {
	TicketID string
	Players  []DraftMatchPlayer
}

// DraftMatchPlayer is one player of a proposed match.
type DraftMatchPlayer struct {
	PlayerID   string
	Team       string
	Attributes map[string]gamelift.AttributeValue
}

// gatedMatches are a pool's matches waiting for a MatchGate's answer and
// the groups it vetoed. The engine knows nothing of vetoes: a vetoed group
// is kept from being proposed again by taking one of its tickets out of
// the engine and running the cycle again (see cycle).
type gatedMatches struct {
	// mu guards answers, which the gate's goroutines add to.
	mu      sync.Mutex
	answers []gateAnswer

	// The rest is guarded by the pool's engMu.
	// pending are matches held in this pass, dispatched after it.
	pending []*MatchDraft
	// held are the waiters of tickets whose match awaits an answer.
	held map[string]*waiter
	// vetoed are the vetoed groups, by each of their tickets, for as long
	// as the ticket is in the pool or held.
	vetoed map[string][][]string
}

type gateAnswer struct {
	match   flexmatch.Match
	allowed bool
	vetoed  bool // remember the group
	// back are the match's tickets still waiting, read again from the
	// store, when the match does not go on.
	back []ticketRec
}

// maxVetoRounds bounds the engine runs of one pass that avoid vetoed
// groups.
const maxVetoRounds = 4

// matchGate returns the service's MatchGate when it has one that vets c.
func (p *pool) matchGate() MatchGate {
	if mg, ok := p.s.cfg.Gate.(MatchGate); ok && mg.VetsMatches(p.cfg.Name) {
		return mg
	}
	return nil
}

// cycle runs the engine at now and returns the matches to propose in this
// pass: those the gate allowed since the last pass, and — when no gate vets
// the configuration — the engine's new ones. With a gate, new matches are
// held (their tickets out of the pool) until dispatch has them answered;
// a match holding a vetoed group is never proposed.
func (p *pool) cycle(now time.Time) []flexmatch.Match {
	g := &p.gated
	out := p.answered()
	gate := p.matchGate()
	if gate == nil && len(g.vetoed) == 0 {
		return append(out, p.eng.Cycle(now)...)
	}
	var benched []*waiter
	for round := 0; round < maxVetoRounds; round++ {
		again := false
		for _, m := range p.eng.Cycle(now) {
			if grp := g.vetoedIn(m.TicketIDs); grp != nil {
				// Keep the group apart: its last ticket sits out the rest of
				// this pass, the others go back into the engine.
				sit := grp[len(grp)-1]
				for _, id := range m.TicketIDs {
					if w := p.waiting[id]; w != nil {
						if id == sit {
							benched = append(benched, w)
						} else {
							p.eng.Add(p.engineTicket(w))
						}
					}
				}
				again = true
				continue
			}
			if gate != nil {
				p.hold(m)
				continue
			}
			out = append(out, m)
		}
		if !again {
			break
		}
	}
	for _, w := range benched {
		p.eng.Add(p.engineTicket(w))
	}
	g.prune(p.waiting)
	return out
}

// answered takes the gate's answers: allowed matches come back to be
// proposed (their tickets back in waiting, for the pass to take); the
// tickets of the others return to the pool, their group remembered when it
// was vetoed.
func (p *pool) answered() []flexmatch.Match {
	g := &p.gated
	g.mu.Lock()
	answers := g.answers
	g.answers = nil
	g.mu.Unlock()
	var out []flexmatch.Match
	for _, a := range answers {
		for _, id := range a.match.TicketIDs {
			if w := g.held[id]; w != nil && a.allowed {
				// Held tickets missed the versions a pass wrote: read them.
				w.version = 0
				p.waiting[id] = w
			}
			delete(g.held, id)
			if a.vetoed {
				if g.vetoed == nil {
					g.vetoed = map[string][][]string{}
				}
				g.vetoed[id] = append(g.vetoed[id], a.match.TicketIDs)
			}
		}
		if a.allowed {
			out = append(out, a.match)
		}
		for _, rec := range a.back {
			p.admit(arrival{rec: rec})
		}
	}
	return out
}

// hold takes a new match's tickets out of the pool until the gate answers.
func (p *pool) hold(m flexmatch.Match) {
	g := &p.gated
	if g.held == nil {
		g.held = map[string]*waiter{}
	}
	team := map[string]string{}
	for _, tm := range m.Teams {
		for _, pid := range tm.PlayerIDs {
			team[pid] = tm.Name
		}
	}
	d := &MatchDraft{ConfigurationName: p.cfg.Name, match: m}
	for _, id := range m.TicketIDs {
		w := p.waiting[id]
		if w == nil {
			continue
		}
		g.held[id] = w
		delete(p.waiting, id)
		dt := DraftTicket{TicketID: id}
		rec, _ := p.recOf(w)
		for _, pl := range rec.Players {
			dt.Players = append(dt.Players, DraftMatchPlayer{PlayerID: pl.ID, Team: team[pl.ID], Attributes: pl.Attributes})
		}
		d.Tickets = append(d.Tickets, dt)
	}
	g.pending = append(g.pending, d)
}

// dispatch asks the gate about the matches this pass held, each on its own
// goroutine (owned by the service), so a slow answer delays only its own
// match. It runs after the pass decided, under engMu.
func (p *pool) dispatch(ctx context.Context) {
	g := &p.gated
	if len(g.pending) == 0 {
		return
	}
	gate, _ := p.s.cfg.Gate.(MatchGate)
	for _, d := range g.pending {
		p.s.wg.Go(func() {
			vetoed, err := gate.MatchProposed(ctx, d)
			if err != nil {
				p.s.log.Warn("matchmaking: a proposed match could not be decided; its tickets go back to the pool", "config", p.name, "err", err)
			}
			a := gateAnswer{match: d.match, allowed: err == nil && !vetoed, vetoed: err == nil && vetoed}
			if !a.allowed {
				a.back = p.searching(ctx, d.match.TicketIDs)
			}
			g.mu.Lock()
			g.answers = append(g.answers, a)
			g.mu.Unlock()
			if a.allowed {
				// An allowed match is recorded at once. A vetoed or
				// undecided one waits for the next periodic pass, so a
				// gate that keeps vetoing (a closed region: every pair
				// the engine tries next) or failing is not asked in a
				// tight loop.
				p.wake()
			}
		})
	}
	g.pending = nil
}

// vetoedIn returns a vetoed group all of whose tickets are in ids.
func (g *gatedMatches) vetoedIn(ids []string) []string {
	if len(g.vetoed) == 0 {
		return nil
	}
	for _, id := range ids {
		for _, grp := range g.vetoed[id] {
			if !slices.ContainsFunc(grp, func(t string) bool { return !slices.Contains(ids, t) }) {
				return grp
			}
		}
	}
	return nil
}

// prune forgets the vetoed groups of tickets that left the pool.
func (g *gatedMatches) prune(waiting map[string]*waiter) {
	for id := range g.vetoed {
		if _, ok := waiting[id]; !ok && g.held[id] == nil {
			delete(g.vetoed, id)
		}
	}
}

// searching reads the tickets of ids that still wait for a match.
func (p *pool) searching(ctx context.Context, ids []string) []ticketRec {
	var out []ticketRec
	err := p.s.cfg.Store.View(ctx, func(r store.Reader) error {
		out = out[:0]
		for _, id := range ids {
			rec, _, err := store.GetJSON[ticketRec](ctx, r, KindTicket, id)
			// QUEUED: the gate answered before the pass that held the
			// match committed the ticket's move to SEARCHING.
			if err == nil && (rec.Status == gamelift.TicketSearching || rec.Status == gamelift.TicketQueued) {
				out = append(out, rec)
			}
		}
		return nil
	})
	if err != nil {
		p.s.log.Error("matchmaking: reading the tickets of an undecided match failed; they stay out of the pool until it reloads from the store", "config", p.name, "err", err)
	}
	return out
}
