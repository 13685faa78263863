package flexmatch_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/flexmatch"
)

var update = flag.Bool("update", false, "rewrite nothing; kept for the house habit of golden files")

// caseFile is one rule-set scenario in testdata/cases.
type caseFile struct {
	Description string          `json:"description"`
	RuleSet     json.RawMessage `json:"ruleSet"`
	RuleSetBody *string         `json:"ruleSetBody"`
	Errors      []string        `json:"errors"`
	Warnings    []string        `json:"warnings"`
	Options     struct {
		ExactSearchTickets    int `json:"exactSearchTickets"`
		AdditionalPlayerCount int `json:"additionalPlayerCount"`
		// BatchSize 1 makes an anchor's batch its single nearest neighbour
		// in the pool's order, which shows that order.
		BatchSize int `json:"batchSize"`
	} `json:"options"`
	Tickets []caseTicket  `json:"tickets"`
	Cycles  []caseCycle   `json:"cycles"`
	Explain []caseExplain `json:"explain"`
}

// caseTraits is what a case says of one player; a ticket of one player may
// say it at the ticket's level instead of listing players.
type caseTraits struct {
	Attrs   map[string]any `json:"attrs"`
	Latency map[string]int `json:"latency"`
	Team    string         `json:"team"`
}

type casePlayer struct {
	ID string `json:"playerId"`
	caseTraits
}

type caseTicket struct {
	ID string  `json:"ticketId"`
	At float64 `json:"at"`
	caseTraits
	Players []casePlayer `json:"players"`
}

type caseCycle struct {
	At      float64     `json:"at"`
	Matches []caseMatch `json:"matches"`
}

type caseMatch struct {
	Tickets   []string            `json:"tickets"`
	TeamSizes map[string]int      `json:"teamSizes"`
	Teams     map[string][]string `json:"teams"`
	Locations []string            `json:"locations"`
}

type caseExplain struct {
	At       float64  `json:"at"`
	Ticket   string   `json:"ticket"`
	Contains []string `json:"contains"`
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return epoch.Add(time.Duration(s * float64(time.Second))) }

func attrValue(t *testing.T, v any) flexmatch.AttributeValue {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return flexmatch.Number(x)
	case string:
		return flexmatch.String(x)
	case []any:
		l := []string{}
		for _, e := range x {
			l = append(l, e.(string))
		}
		return flexmatch.StringList(l...)
	case map[string]any:
		m := map[string]float64{}
		for k, e := range x {
			m[k] = e.(float64)
		}
		return flexmatch.StringNumberMap(m)
	}
	t.Fatalf("attribute value %v: unsupported", v)
	return flexmatch.AttributeValue{}
}

func (ct caseTicket) ticket(t *testing.T) flexmatch.Ticket {
	t.Helper()
	players := ct.Players
	if len(players) == 0 {
		players = []casePlayer{{ID: ct.ID, caseTraits: ct.caseTraits}}
	}
	tk := flexmatch.Ticket{ID: ct.ID, StartTime: at(ct.At)}
	for _, p := range players {
		fp := flexmatch.Player{ID: p.ID, LatencyMs: p.Latency, Team: p.Team, Attributes: map[string]flexmatch.AttributeValue{}}
		for k, v := range p.Attrs {
			fp.Attributes[k] = attrValue(t, v)
		}
		tk.Players = append(tk.Players, fp)
	}
	return tk
}

func loadCases(t *testing.T) map[string]caseFile {
	t.Helper()
	files, err := filepath.Glob("testdata/cases/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	out := map[string]caseFile{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c caseFile
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = c
	}
	return out
}

func matchKey(tickets []string) string {
	s := slices.Clone(tickets)
	slices.Sort(s)
	return strings.Join(s, ",")
}

func TestCases(t *testing.T) {
	_ = update
	for name, c := range loadCases(t) {
		t.Run(strings.ReplaceAll(name, "_", " "), func(t *testing.T) {
			body := []byte(c.RuleSet)
			if c.RuleSetBody != nil {
				body = []byte(*c.RuleSetBody)
			}
			rs, err := flexmatch.Parse(body)
			if len(c.Errors) > 0 {
				checkErrors(t, err, c.Errors)
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for _, w := range c.Warnings {
				found := false
				for _, p := range rs.Warnings() {
					found = found || strings.Contains(p.String(), w)
				}
				if !found {
					t.Errorf("missing warning %q in %v", w, rs.Warnings())
				}
			}
			runCycles(t, rs, c)
		})
	}
}

func checkErrors(t *testing.T, err error, want []string) {
	t.Helper()
	ve, ok := err.(*flexmatch.ValidationError)
	if !ok {
		t.Fatalf("Parse error = %v, want a *ValidationError", err)
	}
	for _, w := range want {
		found := false
		for _, p := range ve.Problems {
			found = found || strings.Contains(p.String(), w)
		}
		if !found {
			t.Errorf("missing problem %q; got:\n%s", w, problemsText(ve))
		}
	}
	if len(ve.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(ve.Problems), len(want), problemsText(ve))
	}
}

func problemsText(ve *flexmatch.ValidationError) string {
	var b strings.Builder
	for _, p := range ve.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

func runCycles(t *testing.T, rs *flexmatch.RuleSet, c caseFile) {
	t.Helper()
	e := flexmatch.NewEngine(rs, flexmatch.Options{ExactSearchTickets: c.Options.ExactSearchTickets, AdditionalPlayerCount: c.Options.AdditionalPlayerCount, BatchSize: c.Options.BatchSize})
	added := make([]bool, len(c.Tickets))
	for _, cy := range c.Cycles {
		for i, tk := range c.Tickets {
			if !added[i] && tk.At <= cy.At {
				if err := e.Add(tk.ticket(t)); err != nil {
					t.Fatalf("Add(%s): %v", tk.ID, err)
				}
				added[i] = true
			}
		}
		for _, ex := range c.Explain {
			if ex.At != cy.At {
				continue
			}
			x, err := e.Explain(ex.Ticket, at(ex.At))
			if err != nil {
				t.Fatalf("Explain(%s): %v", ex.Ticket, err)
			}
			text := x.String()
			for _, want := range ex.Contains {
				if !strings.Contains(text, want) {
					t.Errorf("at %vs Explain(%s) lacks %q:\n%s", ex.At, ex.Ticket, want, text)
				}
			}
		}
		got := e.Cycle(at(cy.At))
		gotKeys := map[string]flexmatch.Match{}
		for _, m := range got {
			gotKeys[matchKey(m.TicketIDs)] = m
		}
		for _, want := range cy.Matches {
			k := matchKey(want.Tickets)
			m, ok := gotKeys[k]
			if !ok {
				t.Errorf("at %vs: missing match %s; got %s", cy.At, k, describe(got))
				continue
			}
			delete(gotKeys, k)
			for team, ids := range want.Teams {
				var have []string
				for _, mt := range m.Teams {
					if mt.Name == team {
						have = mt.PlayerIDs
					}
				}
				if matchKey(have) != matchKey(ids) {
					t.Errorf("at %vs match %s: team %s = %v, want %v", cy.At, k, team, have, ids)
				}
			}
			for team, n := range want.TeamSizes {
				have := -1
				for _, mt := range m.Teams {
					if mt.Name == team {
						have = len(mt.PlayerIDs)
					}
				}
				if have != n {
					t.Errorf("at %vs match %s: team %s has %d players, want %d", cy.At, k, team, have, n)
				}
			}
			if want.Locations != nil {
				var locs []string
				for _, l := range m.Locations {
					locs = append(locs, l.Location)
				}
				if matchKey(locs) != matchKey(want.Locations) {
					t.Errorf("at %vs match %s: locations %v, want %v", cy.At, k, locs, want.Locations)
				}
			}
		}
		for k := range gotKeys {
			t.Errorf("at %vs: unexpected match %s; got %s", cy.At, k, describe(got))
		}
	}
}

func describe(ms []flexmatch.Match) string {
	var parts []string
	for _, m := range ms {
		var teams []string
		for _, tm := range m.Teams {
			teams = append(teams, tm.Name+"="+strings.Join(tm.PlayerIDs, "+"))
		}
		parts = append(parts, "["+strings.Join(m.TicketIDs, ",")+" | "+strings.Join(teams, " ")+"]")
	}
	if len(parts) == 0 {
		return "no matches"
	}
	return strings.Join(parts, " ")
}
