package flexmatch

import (
	"math"
	"slices"
)

// exactBudget caps the team assignments tried by one exact search.
const exactBudget = 50000

type exactSol struct {
	players, matches int
	prio             uint32
	sets             []uint32
}

func (a exactSol) better(b exactSol) bool {
	if a.players != b.players {
		return a.players > b.players
	}
	if a.matches != b.matches {
		return a.matches < b.matches
	}
	return a.prio > b.prio
}

type exactState struct {
	e       *Engine
	now     int64
	ts      []*wticket
	players []int // per ticket
	// fewest and most players a match can hold at any step: sets outside
	// are infeasible without building them.
	fewest, most int
	// checked marks the sets whose feasibility is known (indexed by mask;
	// most are infeasible, so a map entry for each cost more than the
	// search); feas holds the team assignment of each feasible set.
	checked []bool
	feas    map[uint32][]int
	memo    map[uint32]exactSol
	budget  int
	slots   []int
}

// exact solves a small partition exactly: among all sets of valid matches it
// picks the one placing the most players (then fewest matches, then oldest
// tickets). It returns false when the search exceeded its budget.
func (e *Engine) exact(p *partition, now int64, out []Match) ([]Match, bool) {
	st, best, ok := e.solveExact(p, now)
	if !ok {
		return out, false
	}
	for _, set := range best.sets {
		assign := st.feas[set]
		st.load(set, assign)
		e.setLevel(now)
		e.chk.check(&e.c, true) // computes the common locations
		out = append(out, e.emit(now))
	}
	return out, true
}

// solveExact finds the partition's best set of matches without forming any.
// ok is false when the search exceeded its budget.
func (e *Engine) solveExact(p *partition, now int64) (st *exactState, best exactSol, ok bool) {
	st = &exactState{e: e, now: now, feas: map[uint32][]int{}, memo: map[uint32]exactSol{}, budget: exactBudget}
	defer func() { e.exactChecked = st.checked[:0] }() // reused by the next search
	p.idx.each(func(t *wticket) {
		if !t.used {
			st.ts = append(st.ts, t)
		}
	})
	if len(st.ts) == 0 {
		return st, best, true
	}
	slices.SortFunc(st.ts, func(a, b *wticket) int {
		if a.start != b.start {
			if a.start < b.start {
				return -1
			}
			return 1
		}
		return int(a.seq) - int(b.seq)
	})
	st.fewest, st.most = e.sizeRange()
	st.checked = slices.Grow(e.exactChecked[:0], 1<<len(st.ts))[:1<<len(st.ts)]
	clear(st.checked)
	for _, t := range st.ts {
		st.players = append(st.players, len(t.players))
	}
	full := uint32(1)<<len(st.ts) - 1
	best = st.best(full)
	return st, best, st.budget > 0
}

// ids lists the tickets of set, oldest first.
func (st *exactState) ids(set uint32) []string {
	var ids []string
	for j, t := range st.ts {
		if set&(1<<j) != 0 {
			ids = append(ids, t.id)
		}
	}
	return ids
}

func (st *exactState) weight(i int) uint32 { return 1 << (len(st.ts) - 1 - i) }

func (st *exactState) best(rem uint32) exactSol {
	if rem == 0 || st.budget <= 0 {
		return exactSol{}
	}
	if s, ok := st.memo[rem]; ok {
		return s
	}
	i := 0
	for rem&(1<<i) == 0 {
		i++
	}
	bit := uint32(1) << i
	res := st.best(rem &^ bit) // ticket i stays unmatched
	for sub := rem; sub > 0; sub = (sub - 1) & rem {
		if sub&bit == 0 || st.feasible(sub) == nil {
			continue
		}
		rest := st.best(rem &^ sub)
		cand := exactSol{players: rest.players, matches: rest.matches + 1, prio: rest.prio}
		for j := range st.ts {
			if sub&(1<<j) != 0 {
				cand.players += len(st.ts[j].players)
				cand.prio |= st.weight(j)
			}
		}
		if cand.better(res) {
			cand.sets = append([]uint32{sub}, rest.sets...)
			res = cand
		}
	}
	st.memo[rem] = res
	return res
}

// load puts the tickets of set into the engine's potential match.
func (st *exactState) load(set uint32, assign []int) {
	c := &st.e.c
	c.reset(len(st.e.rs.slots))
	k := 0
	for j, t := range st.ts {
		if set&(1<<j) != 0 {
			c.push(t, assign[k])
			k++
		}
	}
}

// feasible returns a team assignment for the tickets of set, or nil.
func (st *exactState) feasible(set uint32) []int {
	if st.checked[set] {
		return st.feas[set]
	}
	st.checked[set] = true
	e := st.e
	n := 0
	for j, p := range st.players {
		if set&(1<<j) != 0 {
			n += p
		}
	}
	if n < st.fewest || n > st.most {
		return nil
	}
	c := &e.c
	c.reset(len(e.rs.slots))
	var members []*wticket
	players := 0
	for j, t := range st.ts {
		if set&(1<<j) != 0 {
			members = append(members, t)
			players += len(t.players)
		}
	}
	c.members = append(c.members, members...)
	e.setLevel(st.now)
	c.members = c.members[:0]
	lo, hi := 0, 0
	for i := range e.slotMin {
		lo += e.slotMin[i]
		hi += e.slotMax[i]
	}
	var res []int
	if players >= lo && players <= hi && len(members) > 0 {
		st.slots = st.slots[:0]
		if e.assignRec(members, 0, &st.budget) {
			res = append([]int(nil), c.slots...)
		}
	}
	if res != nil {
		st.feas[set] = res
	}
	return res
}

// sizeRange returns the fewest and the most players a match can hold at
// any expansion step.
func (e *Engine) sizeRange() (fewest, most int) {
	fewest = math.MaxInt
	for _, lv := range e.rs.levels {
		e.sizes(lv)
		lo, hi := 0, 0
		for i := range e.slotMin {
			lo += e.slotMin[i]
			hi += e.slotMax[i]
		}
		fewest, most = min(fewest, lo), max(most, hi)
	}
	return fewest, most
}
