package flexmatch_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"pgregory.net/rapid"
)

// TestPropertyLargeMatchesAreValid draws large-match rule sets (balanced,
// batchDistance on skill, latency, a minPlayers expansion) and pools of solos
// and parties, and checks every match the engine forms.
func TestPropertyLargeMatchesAreValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		type team struct{ min, max int }
		nt := rapid.IntRange(1, 3).Draw(t, "teams")
		var teams []team
		total := 0
		for range nt {
			mx := rapid.IntRange(15, 40).Draw(t, "max")
			teams = append(teams, team{rapid.IntRange(1, mx).Draw(t, "min"), mx})
			total += mx
		}
		if total <= 40 {
			teams[0].max += 41 - total
		}
		band := float64(rapid.IntRange(0, 60).Draw(t, "band"))
		maxLat := float64(rapid.IntRange(50, 200).Draw(t, "maxLat"))
		minWait := float64(rapid.IntRange(5, 20).Draw(t, "minWait"))
		pref := rapid.SampledFrom([]string{"largestPopulation", "fastestRegion"}).Draw(t, "batching")
		var tj []any
		for i, tm := range teams {
			tj = append(tj, map[string]any{"name": fmt.Sprintf("t%d", i), "minPlayers": tm.min, "maxPlayers": tm.max})
		}
		body, _ := json.Marshal(map[string]any{"ruleLanguageVersion": "1.0",
			"playerAttributes": []any{map[string]any{"name": "skill", "type": "number", "default": 0}},
			"algorithm":        map[string]any{"strategy": "balanced", "balancedAttribute": "skill", "batchingPreference": pref},
			"teams":            tj,
			"rules": []any{
				map[string]any{"name": "Band", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": band},
				map[string]any{"name": "Ping", "type": "latency", "maxLatency": maxLat},
			},
			"expansions": []any{map[string]any{"target": "teams[t0].minPlayers", "steps": []any{map[string]any{"waitTimeSeconds": minWait, "value": 1}}}},
		})
		rs, err := flexmatch.Parse(body)
		if err != nil {
			t.Fatalf("invalid: %v\n%s", err, body)
		}
		e := flexmatch.NewEngine(rs, flexmatch.Options{})
		type tk struct {
			skill float64
			lat   []map[string]int
			start float64
			n     int
		}
		pool := map[string]tk{}
		n := rapid.IntRange(1, 150).Draw(t, "tickets")
		for i := range n {
			id := fmt.Sprintf("T%03d", i)
			x := tk{skill: float64(rapid.IntRange(0, 200).Draw(t, "skill")), start: float64(rapid.IntRange(0, 20).Draw(t, "start")), n: rapid.IntRange(1, 3).Draw(t, "party")}
			ticket := flexmatch.Ticket{ID: id, StartTime: epoch.Add(time.Duration(x.start) * time.Second)}
			for p := range x.n {
				lat := map[string]int{"a": rapid.IntRange(20, 250).Draw(t, "latA"), "b": rapid.IntRange(20, 250).Draw(t, "latB")}
				x.lat = append(x.lat, lat)
				ticket.Players = append(ticket.Players, flexmatch.Player{ID: fmt.Sprintf("%s-%d", id, p), LatencyMs: lat,
					Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(x.skill)}})
			}
			pool[id] = x
			if err := e.Add(ticket); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[string]bool{}
		for _, now := range []float64{20, 30, 45} {
			for _, m := range e.Cycle(epoch.Add(time.Duration(now) * time.Second)) {
				teamOf := map[string]int{}
				for ti, mt := range m.Teams {
					mn := teams[ti].min
					newest := 0.0
					for _, id := range m.TicketIDs {
						newest = max(newest, pool[id].start)
					}
					if ti == 0 && now-newest >= minWait {
						mn = min(mn, 1)
					}
					if len(mt.PlayerIDs) < mn || len(mt.PlayerIDs) > teams[ti].max {
						t.Fatalf("team %s has %d players, want %d..%d", mt.Name, len(mt.PlayerIDs), mn, teams[ti].max)
					}
					for _, p := range mt.PlayerIDs {
						teamOf[p] = ti
					}
				}
				lo, hi := 1e9, -1e9
				for _, id := range m.TicketIDs {
					if seen[id] {
						t.Fatalf("ticket %s matched twice", id)
					}
					seen[id] = true
					x := pool[id]
					lo, hi = min(lo, x.skill), max(hi, x.skill)
					for p := 1; p < x.n; p++ {
						if teamOf[fmt.Sprintf("%s-%d", id, p)] != teamOf[id+"-0"] {
							t.Fatalf("party %s split", id)
						}
					}
				}
				if hi-lo > band {
					t.Fatalf("skill spread %v > %v", hi-lo, band)
				}
				if len(m.Locations) == 0 {
					t.Fatal("no common location")
				}
				for _, l := range m.Locations {
					for _, id := range m.TicketIDs {
						x := pool[id]
						sum := 0
						for _, lat := range x.lat {
							sum += lat[l.Location]
						}
						if float64(sum)/float64(x.n) > maxLat {
							t.Fatalf("ticket %s averages %v ms in %s, over %v", id, float64(sum)/float64(x.n), l.Location, maxLat)
						}
					}
				}
			}
		}
	})
}
