package flexmatch_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/enginebench"
	"pgregory.net/rapid"
)

// TestPassPlacesWhatSortAndCutPlaces holds one pass over fresh tickets of
// equal age to the sort-and-cut reference (internal/enginebench), on seeded
// pools of 10,000 tickets, and checks every match it forms.
func TestPassPlacesWhatSortAndCutPlaces(t *testing.T) {
	for _, w := range enginebench.Workloads {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s seed %d", w.Name, seed), func(t *testing.T) {
				tickets := w.Tickets(10_000, seed, epoch)
				ms := firstPass(t, w, tickets)
				placed := checkPass(t, w, tickets, ms)
				if ref := w.Reference(tickets); placed < ref {
					t.Fatalf("the pass placed %d tickets, sort-and-cut places %d", placed, ref)
				}
			})
		}
	}
}

// TestOldestTicketKeepsPriority gives the tickets distinct ages in an order
// unrelated to skill: the oldest ticket anchors first, so whenever a match
// for it exists it is placed. What that priority costs against the
// reference is logged.
func TestOldestTicketKeepsPriority(t *testing.T) {
	w, err := enginebench.Lookup("5v5")
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 3; seed++ {
		tickets := w.Tickets(10_000, seed, epoch)
		rng := rand.New(rand.NewPCG(seed, 99))
		for i, j := range rng.Perm(len(tickets)) {
			tickets[i].StartTime = epoch.Add(time.Duration(j) * time.Millisecond)
		}
		oldest := 0
		for i := range tickets {
			if tickets[i].StartTime.Before(tickets[oldest].StartTime) {
				oldest = i
			}
		}
		ms := firstPass(t, w, tickets)
		placed := checkPass(t, w, tickets, ms)
		if hasWindow(tickets, oldest, w) && !inMatches(ms, tickets[oldest].ID) {
			t.Errorf("seed %d: the oldest ticket %s waits although a match for it exists", seed, tickets[oldest].ID)
		}
		t.Logf("seed %d, distinct ages: placed %d, sort-and-cut %d", seed, placed, w.Reference(tickets))
	}
}

func firstPass(t *testing.T, w enginebench.Workload, tickets []flexmatch.Ticket) []flexmatch.Match {
	t.Helper()
	e := flexmatch.NewEngine(mustParse(t, w.RuleSet), flexmatch.Options{})
	last := epoch
	for _, tk := range tickets {
		if err := e.Add(tk); err != nil {
			t.Fatal(err)
		}
		if tk.StartTime.After(last) {
			last = tk.StartTime
		}
	}
	return e.Cycle(last)
}

// checkPass checks that each match is full, within the skill bound and
// places each ticket once, and returns the tickets placed.
func checkPass(t *testing.T, w enginebench.Workload, tickets []flexmatch.Ticket, ms []flexmatch.Match) int {
	t.Helper()
	skill := map[string]float64{}
	for _, tk := range tickets {
		skill[tk.ID] = *tk.Players[0].Attributes["skill"].N
	}
	seen := map[string]bool{}
	placed := 0
	for _, m := range ms {
		if len(m.TicketIDs) != w.MatchSize {
			t.Fatalf("a match of %d tickets, want %d", len(m.TicketIDs), w.MatchSize)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, id := range m.TicketIDs {
			if seen[id] {
				t.Fatalf("ticket %s placed twice", id)
			}
			seen[id] = true
			lo, hi = min(lo, skill[id]), max(hi, skill[id])
		}
		if hi-lo > w.MaxDistance {
			t.Fatalf("a match spans %v of skill, the rule allows %v", hi-lo, w.MaxDistance)
		}
		placed += len(m.TicketIDs)
	}
	return placed
}

// hasWindow reports whether MatchSize tickets, ticket i among them, lie
// within MaxDistance of skill of each other.
func hasWindow(tickets []flexmatch.Ticket, i int, w enginebench.Workload) bool {
	k := *tickets[i].Players[0].Attributes["skill"].N
	for lo := k - w.MaxDistance; lo <= k; lo++ {
		n := 0
		for _, tk := range tickets {
			if v := *tk.Players[0].Attributes["skill"].N; v >= lo && v <= lo+w.MaxDistance {
				n++
			}
		}
		if n >= w.MatchSize {
			return true
		}
	}
	return false
}

func inMatches(ms []flexmatch.Match, id string) bool {
	for _, m := range ms {
		for _, x := range m.TicketIDs {
			if x == id {
				return true
			}
		}
	}
	return false
}

// TestPropertyEqualAgesPlaceWhatSortAndCutPlaces draws batchDistance rule
// sets (one to three teams of one to five) and pools of single-player
// tickets of equal age, and holds one pass, with and without the exact
// search, to the sort-and-cut reference.
func TestPropertyEqualAgesPlaceWhatSortAndCutPlaces(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		teams := rapid.IntRange(1, 3).Draw(t, "teams")
		size := rapid.IntRange(1, 5).Draw(t, "size")
		maxDistance := rapid.IntRange(0, 20).Draw(t, "maxDistance")
		span := rapid.IntRange(1, 400).Draw(t, "span")
		n := rapid.IntRange(0, 400).Draw(t, "tickets")
		var ts strings.Builder
		for i := range teams {
			if i > 0 {
				ts.WriteString(",")
			}
			fmt.Fprintf(&ts, `{"name":"t%d","minPlayers":%d,"maxPlayers":%d}`, i, size, size)
		}
		rs, err := flexmatch.Parse(fmt.Appendf(nil, `{"ruleLanguageVersion":"1.0",
		 "playerAttributes":[{"name":"skill","type":"number"}], "teams":[%s],
		 "rules":[{"name":"Band","type":"batchDistance","batchAttribute":"skill","maxDistance":%d}]}`, ts.String(), maxDistance))
		if err != nil {
			t.Fatal(err)
		}
		var opt flexmatch.Options
		if rapid.Bool().Draw(t, "greedy only") {
			opt.ExactSearchTickets = -1
		}
		e := flexmatch.NewEngine(rs, opt)
		skills := make([]float64, n)
		for i := range skills {
			skills[i] = float64(rapid.IntRange(0, span).Draw(t, "skill"))
			id := fmt.Sprint("t", i)
			if err := e.Add(flexmatch.Ticket{ID: id, StartTime: epoch, Players: []flexmatch.Player{{ID: id,
				Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(skills[i])}}}}); err != nil {
				t.Fatal(err)
			}
		}
		placed := 0
		for _, m := range e.Cycle(epoch) {
			placed += len(m.TicketIDs)
		}
		if ref := enginebench.SortAndCut(skills, teams*size, float64(maxDistance)); placed < ref {
			t.Fatalf("the pass placed %d tickets, sort-and-cut places %d", placed, ref)
		}
	})
}
