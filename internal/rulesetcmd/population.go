package rulesetcmd

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/musterhq/muster/flexmatch"
)

// population describes the synthetic players of a simulation. It is read
// from --population FILE and completed by --attr, --location and --party.
type population struct {
	Attributes map[string]attrDist `json:"attributes"`
	Locations  map[string]latDist  `json:"locations"`
	PartySizes map[string]float64  `json:"partySizes"`
}

// attrDist is the distribution of one attribute; set one member.
type attrDist struct {
	Normal  *normalDist        `json:"normal,omitempty"`
	Uniform *uniformDist       `json:"uniform,omitempty"`
	Choice  map[string]float64 `json:"choice,omitempty"`
	Subset  *subsetDist        `json:"subset,omitempty"`
}

type normalDist struct {
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
}

type uniformDist struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// subsetDist draws a string list: each value is present with probability P.
type subsetDist struct {
	Values []string `json:"values"`
	P      float64  `json:"p"`
}

// latDist is the latency of players to one location.
type latDist struct {
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	// Missing is the probability that a player does not report the location.
	Missing float64 `json:"missing"`
}

func readPopulation(name string) (population, error) {
	var p population
	b, err := readFile(name)
	if err != nil {
		return p, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("not a population file: %w", err)
	}
	return p, nil
}

// parseAttrFlag reads NAME=normal:MEAN:SD, NAME=uniform:MIN:MAX,
// NAME=choice:a,b,c or NAME=subset:P:a,b,c.
func parseAttrFlag(s string) (string, attrDist, error) {
	name, spec, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return "", attrDist{}, fmt.Errorf("--attr %q: want NAME=KIND:...", s)
	}
	kind, rest, _ := strings.Cut(spec, ":")
	nums := func(n int) ([]float64, error) {
		parts := strings.Split(rest, ":")
		if len(parts) != n {
			return nil, fmt.Errorf("--attr %q: %s takes %d numbers", s, kind, n)
		}
		out := make([]float64, n)
		for i, p := range parts {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return nil, fmt.Errorf("--attr %q: %v", s, err)
			}
			out[i] = f
		}
		return out, nil
	}
	switch kind {
	case "normal":
		v, err := nums(2)
		if err != nil {
			return "", attrDist{}, err
		}
		return name, attrDist{Normal: &normalDist{v[0], v[1]}}, nil
	case "uniform":
		v, err := nums(2)
		if err != nil {
			return "", attrDist{}, err
		}
		return name, attrDist{Uniform: &uniformDist{v[0], v[1]}}, nil
	case "choice":
		m := map[string]float64{}
		for _, c := range strings.Split(rest, ",") {
			if c != "" {
				m[c]++
			}
		}
		return name, attrDist{Choice: m}, nil
	case "subset":
		ps, vals, _ := strings.Cut(rest, ":")
		p, err := strconv.ParseFloat(ps, 64)
		if err != nil {
			return "", attrDist{}, fmt.Errorf("--attr %q: %v", s, err)
		}
		return name, attrDist{Subset: &subsetDist{Values: strings.Split(vals, ","), P: p}}, nil
	}
	return "", attrDist{}, fmt.Errorf("--attr %q: kind must be normal, uniform, choice or subset", s)
}

// parseLocationFlag reads NAME=MEAN:SD[:MISSING].
func parseLocationFlag(s string) (string, latDist, error) {
	name, spec, ok := strings.Cut(s, "=")
	parts := strings.Split(spec, ":")
	if !ok || name == "" || len(parts) < 2 || len(parts) > 3 {
		return "", latDist{}, fmt.Errorf("--location %q: want NAME=MEAN:SD[:MISSING]", s)
	}
	var v [3]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return "", latDist{}, fmt.Errorf("--location %q: %v", s, err)
		}
		v[i] = f
	}
	return name, latDist{Mean: v[0], Stddev: v[1], Missing: v[2]}, nil
}

// parsePartyFlag reads SIZE:WEIGHT,... such as 1:0.8,2:0.2.
func parsePartyFlag(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		size, w, ok := strings.Cut(part, ":")
		n, err1 := strconv.Atoi(size)
		f, err2 := strconv.ParseFloat(w, 64)
		if !ok || err1 != nil || err2 != nil || n < 1 || n > 10 || f < 0 {
			return nil, fmt.Errorf("--party %q: want SIZE:WEIGHT,... with sizes 1 to 10", s)
		}
		out[size] = f
	}
	return out, nil
}

// generator draws synthetic players.
type generator struct {
	rs      *flexmatch.RuleSet
	pop     population
	rng     *rand.Rand
	attrs   []string
	locs    []string
	sizes   []int
	weights []float64
	n       int
}

func newGenerator(rs *flexmatch.RuleSet, pop population, seed uint64) *generator {
	g := &generator{rs: rs, pop: pop, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for name := range rs.AttributeNames() {
		g.attrs = append(g.attrs, name)
	}
	slices.Sort(g.attrs)
	for name := range pop.Locations {
		g.locs = append(g.locs, name)
	}
	slices.Sort(g.locs)
	for s := range pop.PartySizes {
		n, _ := strconv.Atoi(s)
		g.sizes = append(g.sizes, n)
	}
	slices.Sort(g.sizes)
	for _, n := range g.sizes {
		g.weights = append(g.weights, pop.PartySizes[strconv.Itoa(n)])
	}
	if len(g.sizes) == 0 {
		g.sizes, g.weights = []int{1}, []float64{1}
	}
	return g
}

func (g *generator) pick(weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := g.rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// ticket draws one ticket.
func (g *generator) ticket(start float64) flexmatch.Ticket {
	g.n++
	id := fmt.Sprintf("t%06d", g.n)
	size := g.sizes[g.pick(g.weights)]
	t := flexmatch.Ticket{ID: id}
	types := g.rs.AttributeNames()
	for i := range size {
		p := flexmatch.Player{ID: fmt.Sprintf("%s-p%d", id, i+1), Attributes: map[string]flexmatch.AttributeValue{}}
		for _, name := range g.attrs {
			if v, ok := g.attr(name, types[name]); ok {
				p.Attributes[name] = v
			}
		}
		if len(g.locs) > 0 {
			p.LatencyMs = map[string]int{}
			for _, l := range g.locs {
				d := g.pop.Locations[l]
				if d.Missing > 0 && g.rng.Float64() < d.Missing {
					continue
				}
				ms := int(math.Round(d.Mean + g.rng.NormFloat64()*d.Stddev))
				p.LatencyMs[l] = max(ms, 1)
			}
		}
		t.Players = append(t.Players, p)
	}
	return t
}

func (g *generator) attr(name string, typ flexmatch.AttrType) (flexmatch.AttributeValue, bool) {
	d, ok := g.pop.Attributes[name]
	if !ok {
		if typ == flexmatch.AttrNumber {
			d = attrDist{Normal: &normalDist{Mean: 1000, Stddev: 200}}
		} else {
			return flexmatch.AttributeValue{}, false // the rule set's default applies
		}
	}
	switch {
	case d.Normal != nil:
		return flexmatch.Number(math.Round((d.Normal.Mean+g.rng.NormFloat64()*d.Normal.Stddev)*100) / 100), true
	case d.Uniform != nil:
		return flexmatch.Number(math.Round((d.Uniform.Min+g.rng.Float64()*(d.Uniform.Max-d.Uniform.Min))*100) / 100), true
	case len(d.Choice) > 0:
		keys := make([]string, 0, len(d.Choice))
		for k := range d.Choice {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w := make([]float64, len(keys))
		for i, k := range keys {
			w[i] = d.Choice[k]
		}
		v := keys[g.pick(w)]
		if typ == flexmatch.AttrStringList {
			return flexmatch.StringList(v), true
		}
		return flexmatch.String(v), true
	case d.Subset != nil:
		var l []string
		for _, v := range d.Subset.Values {
			if g.rng.Float64() < d.Subset.P {
				l = append(l, v)
			}
		}
		return flexmatch.StringList(l...), true
	}
	return flexmatch.AttributeValue{}, false
}
