package flexmatch

// Compiling a ticket: the engine keeps each waiting ticket in a compact
// form (wticket) with its attributes converted to the rule set's types,
// its locations numbered and its latencies per expansion step worked out
// once, as it joins, so a cycle never parses or converts.

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// compile converts a ticket to the engine's compact form.
func (e *Engine) compile(t Ticket, backfill bool) (*wticket, error) {
	rs := e.rs
	if len(t.Players) == 0 {
		return nil, &TicketError{Path: "players", Reason: "must hold at least one player"}
	}
	pp := func(i int) string { return "players[" + strconv.Itoa(i) + "]" }
	for i, p := range t.Players {
		if p.ID == "" {
			return nil, &TicketError{Path: pp(i) + ".playerId", Reason: "is required"}
		}
		for _, q := range t.Players[:i] {
			if q.ID == p.ID {
				return nil, &TicketError{Path: pp(i) + ".playerId", Reason: fmt.Sprintf("player %q appears twice", p.ID)}
			}
		}
		for loc, ms := range p.LatencyMs {
			if ms < 1 {
				return nil, &TicketError{Path: pp(i) + ".latencyInMs." + loc, Reason: "must be at least 1"}
			}
		}
	}
	e.seq++
	wt := e.slab.ticket()
	*wt = wticket{id: t.ID, seq: e.seq, start: t.StartTime.UnixNano(), team: -1, backfill: backfill}
	wt.players = e.slab.players(len(t.Players))
	attrs := e.slab.attrs(len(t.Players) * len(rs.attrs))
	for i, p := range t.Players {
		wp := wplayer{id: p.ID, attrs: attrs[i*len(rs.attrs) : (i+1)*len(rs.attrs) : (i+1)*len(rs.attrs)]}
		for ai, a := range rs.attrs {
			v, ok := p.Attributes[a.Name]
			if !ok {
				if a.hasDef {
					wp.attrs[ai] = a.def
				} else if wt.never == "" {
					wt.never = fmt.Sprintf("player %s has no value for attribute %q, which has no default", p.ID, a.Name)
				}
				continue
			}
			av, err := convertValue(v, a.Type)
			if err != "" {
				return nil, &TicketError{Path: pp(i) + ".attributes." + a.Name, Reason: err}
			}
			wp.attrs[ai] = av
		}
		if p.Team != "" {
			slots, ok := rs.teamSlots(p.Team)
			switch {
			case !ok || len(slots) != 1:
				return nil, &TicketError{Path: pp(i) + ".team", Reason: fmt.Sprintf("no team named %q%s", p.Team, suggest(p.Team, rs.TeamNames()))}
			case wt.team >= 0 && wt.team != slots[0] && !backfill:
				wt.never = "the ticket's players ask for different teams"
			default:
				wt.team = slots[0]
			}
		}
		wt.players[i] = wp
	}
	e.compileLatency(wt, t)
	if len(t.Players) > e.teamMax && !backfill {
		wt.never = fmt.Sprintf("the ticket has %d players but the largest team holds %d", len(t.Players), e.teamMax)
	}
	var pk strings.Builder
	for _, r := range rs.rules {
		if r.kind != rkBatchDistance || !r.strAttr {
			continue
		}
		v := wt.players[0].attrs[r.attr].s
		for _, p := range wt.players[1:] {
			if p.attrs[r.attr].s != v && wt.never == "" {
				wt.never = fmt.Sprintf("the party's players disagree on %q, a batchDistance string attribute", rs.attrs[r.attr].Name)
			}
		}
		pk.WriteString(v)
		pk.WriteByte(0)
	}
	if e.keyAttr >= 0 {
		wt.key = partyNum(wt, e.keyAttr, aggAvg)
	} else {
		wt.key = float64(wt.start) / 1e9
	}
	if wt.never == "" && backfill {
		e.sortCodes(wt) // a pool ticket gets its codes as it joins (insert)
	}
	name := pk.String()
	part := e.parts[name]
	if part == nil {
		part = &partition{name: name, idx: index{tab: &e.tab}}
		e.parts[name] = part
		e.partList = append(e.partList, part)
	}
	wt.part = part
	return wt, nil
}

func convertValue(v AttributeValue, t AttrType) (attrVal, string) {
	set := 0
	if v.S != nil {
		set++
	}
	if v.N != nil {
		set++
	}
	if v.SL != nil {
		set++
	}
	if v.SDM != nil {
		set++
	}
	if set != 1 {
		return attrVal{}, "must set exactly one of S, N, SL and SDM"
	}
	switch t {
	case AttrNumber:
		if v.N == nil || isNaN(*v.N) || math.IsInf(*v.N, 0) {
			return attrVal{}, "is a number attribute; send a finite N"
		}
		return attrVal{n: *v.N}, ""
	case AttrString:
		if v.S == nil {
			return attrVal{}, "is a string attribute; send S"
		}
		return attrVal{s: *v.S}, ""
	case AttrStringList:
		if v.SL == nil {
			return attrVal{}, "is a string_list attribute; send SL"
		}
		var l []string
		for _, s := range v.SL {
			l = appendDistinct(l, s)
		}
		return attrVal{sl: l}, ""
	}
	if v.SDM == nil {
		return attrVal{}, "is a string_number_map attribute; send SDM"
	}
	return attrVal{m: v.SDM}, ""
}

func (e *Engine) loc(name string) int {
	if i, ok := e.locs[name]; ok {
		return i
	}
	if len(e.locNames) >= 128 {
		return -1
	}
	e.locs[name] = len(e.locNames)
	e.locNames = append(e.locNames, name)
	return len(e.locNames) - 1
}

// compileLatency aggregates the party's latencies per location.
func (e *Engine) compileLatency(wt *wticket, t Ticket) {
	p0 := t.Players[0].LatencyMs
	var fresh []string
	for name := range p0 {
		if _, ok := e.locs[name]; !ok {
			fresh = append(fresh, name)
		}
	}
	sort.Strings(fresh) // intern new locations in a stable order
	for _, name := range fresh {
		e.loc(name)
	}
	if len(p0) == 0 && len(e.latRules) == 0 {
		wt.reach = allBits()
		return
	}
	wt.net = e.slab.net()
	n := wt.net
	if len(p0) > 0 {
		n.rep = e.slab.locs(len(p0))[:0]
		n.repMax = e.slab.floats(len(p0))[:0]
	}
	for name, ms0 := range p0 {
		li, ok := e.locs[name]
		if !ok {
			continue // beyond the 128th location
		}
		sum, worst, all := float64(ms0), ms0, true
		for _, p := range t.Players[1:] {
			ms, has := p.LatencyMs[name]
			if !has {
				all = false
				break
			}
			sum += float64(ms)
			worst = max(worst, ms)
		}
		if !all {
			continue
		}
		// Keep rep ordered by location index (insertion; lists are short).
		l := locMs{uint8(li), float32(sum / float64(len(t.Players)))}
		j := len(n.rep)
		n.rep = append(n.rep, l)
		n.repMax = append(n.repMax, float32(worst))
		for ; j > 0 && n.rep[j-1].loc > l.loc; j-- {
			n.rep[j], n.repMax[j] = n.rep[j-1], n.repMax[j-1]
		}
		n.rep[j], n.repMax[j] = l, float32(worst)
	}
	wt.reach = allBits()
	if len(e.latRules) == 0 {
		return
	}
	n.lat = e.slab.lats(len(e.latRules))
	for li, ri := range e.latRules {
		r := e.rs.rules[ri]
		var m bits
		if len(t.Players) == 1 || r.agg == aggAvg {
			n.lat[li] = n.rep // the average is what rep holds
		} else {
			n.lat[li] = make([]locMs, 0, len(n.rep))
		}
		for _, l := range n.rep {
			v := float64(l.ms)
			if len(t.Players) > 1 && r.agg != aggAvg {
				loc := e.locNames[l.loc]
				v = float64(t.Players[0].LatencyMs[loc])
				for _, p := range t.Players[1:] {
					if r.agg == aggMin {
						v = min(v, float64(p.LatencyMs[loc]))
					} else {
						v = max(v, float64(p.LatencyMs[loc]))
					}
				}
				n.lat[li] = append(n.lat[li], locMs{l.loc, float32(v)})
			}
			if lim := e.loosest[r.pMaxLat]; isNaN(lim) || v <= lim {
				m.set(int(l.loc))
			}
		}
		wt.reach = wt.reach.and(m)
	}
	if wt.reach.empty() && wt.never == "" {
		if len(n.rep) == 0 {
			wt.never = "the ticket reports no latency, but the rule set has a latency rule"
		} else {
			wt.never = "no location has acceptable latency for the ticket, even after every expansion"
		}
	}
}
