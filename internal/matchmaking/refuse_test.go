package matchmaking_test

import (
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
)

// strictRules match two teams of two on a number skill with no default and
// a latency rule, so the engine can refuse a ticket three ways.
const strictRules = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number"}],
 "teams":[{"name":"red","minPlayers":2,"maxPlayers":2},{"name":"blue","minPlayers":2,"maxPlayers":2}],
 "rules":[{"name":"FairSkill","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":50},
          {"name":"Near","type":"latency","maxLatency":150}]}`

func TestEngineRefusedTicketFailsAtOnce(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("strict", strictRules)
	w.standalone("strict", "strict", nil)
	near := map[string]int32{"custom-home": 40}
	start := func(id string, players ...gamelift.Player) {
		t.Helper()
		if _, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: id, ConfigurationName: "strict", Players: players}); err != nil {
			t.Fatal(err)
		}
	}
	text := "high"
	start("typed", gamelift.Player{PlayerId: "p1", LatencyInMs: near, PlayerAttributes: map[string]gamelift.AttributeValue{"skill": {S: &text}}})
	start("bare", gamelift.Player{PlayerId: "p2", LatencyInMs: near})
	start("crowd",
		gamelift.Player{PlayerId: "p3", LatencyInMs: near, PlayerAttributes: skill(1000)},
		gamelift.Player{PlayerId: "p4", LatencyInMs: near, PlayerAttributes: skill(1000)},
		gamelift.Player{PlayerId: "p5", LatencyInMs: near, PlayerAttributes: skill(1000)})
	start("far", gamelift.Player{PlayerId: "p6", LatencyInMs: map[string]int32{"custom-home": 900}, PlayerAttributes: skill(1000)})
	start("fine", gamelift.Player{PlayerId: "p7", LatencyInMs: near, PlayerAttributes: skill(1000)})
	w.cycle("strict") // one pass, no time passing

	cases := []struct{ id, message string }{
		{"typed", "players[0].attributes.skill: is a number attribute"},
		{"bare", `player p2 has no value for attribute "skill"`},
		{"crowd", "the ticket has 3 players but the largest team holds 2"},
		{"far", "no location has acceptable latency"},
	}
	for _, c := range cases {
		t.Run(c.id+" fails in its first pass, naming why", func(t *testing.T) {
			w := w.in(t)
			w.wantReason(gamelift.TicketFailed, matchmaking.ReasonUnmatchable, c.message, c.id)
			if tk := w.ticket(c.id); tk.EndTime == nil || tk.EstimatedWaitTime != nil {
				t.Fatalf("ticket %+v: want an end time and no wait estimate", tk)
			}
			var failed *matchmaking.Envelope
			for _, ev := range w.outbox(matchmaking.EventFailed) {
				if len(ev.Detail.Tickets) == 1 && ev.Detail.Tickets[0].TicketID == c.id {
					failed = &ev
				}
			}
			if failed == nil || failed.Detail.Reason != matchmaking.ReasonUnmatchable || !strings.Contains(failed.Detail.Message, c.message) {
				t.Fatalf("MatchmakingFailed event of %s: %+v", c.id, failed)
			}
			if got := w.ticketEvents(c.id); len(got) != 1 {
				t.Fatalf("events of %s: %v, want MatchmakingFailed alone", c.id, got)
			}
			x, err := w.svc.Explain(w.ctx, c.id)
			if err != nil || !strings.Contains(x.Text, matchmaking.ReasonUnmatchable) || !strings.Contains(x.Text, c.message) {
				t.Fatalf("explain: %v %+v", err, x)
			}
		})
	}
	t.Run("a ticket the engine takes keeps searching", func(t *testing.T) {
		w.in(t).wantStatus(gamelift.TicketSearching, "fine")
	})
	t.Run("the refused tickets' players are free to start again", func(t *testing.T) {
		w := w.in(t)
		start("again", gamelift.Player{PlayerId: "p2", LatencyInMs: near, PlayerAttributes: skill(1000)})
		w.cycle("strict")
		w.wantStatus(gamelift.TicketSearching, "again")
	})
}

func TestEngineRefusedPlayerTicketFailsAtOnce(t *testing.T) {
	w := playerWorld(t)
	w.ruleSet("strict", strictRules)
	w.standalone("strict", "strict", nil)
	w.playerAccess("strict", true)
	// alice's profile has no skill, which the rule set needs.
	tk := w.startAs("alice", matchmaking.PlayerTicketRequest{ConfigurationName: "strict", LatencyInMs: map[string]int32{"custom-home": 30}})
	w.cycle("strict")
	got, err := w.svc.TicketForPlayer(player(w.ctx, "alice"), tk.TicketId)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != gamelift.TicketFailed || got.StatusReason != matchmaking.ReasonUnmatchable || !strings.Contains(got.StatusMessage, `no value for attribute "skill"`) {
		t.Fatalf("the player sees %s (%s: %s)", got.Status, got.StatusReason, got.StatusMessage)
	}
	x, err := w.svc.ExplainForPlayer(player(w.ctx, "alice"), tk.TicketId)
	if err != nil || !strings.Contains(x.Text, "FAILED") || !strings.Contains(x.Text, `no value for attribute "skill"`) {
		t.Fatalf("the player's explanation: %v %+v", err, x)
	}
}

func TestEngineRefusedBackfillFailsAtOnce(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("strict", strictRules)
	w.standalone("strict", "strict", nil)
	near := map[string]int32{"custom-home": 40}
	red := func(id string) gamelift.Player {
		return gamelift.Player{PlayerId: id, Team: "red", LatencyInMs: near, PlayerAttributes: skill(1000)}
	}
	if _, err := w.svc.StartMatchBackfill(w.ctx, &gamelift.StartMatchBackfillInput{TicketId: "bf", ConfigurationName: "strict",
		Players: []gamelift.Player{red("r1"), red("r2"), red("r3")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: "new", ConfigurationName: "strict",
		Players: []gamelift.Player{{PlayerId: "n1", LatencyInMs: near, PlayerAttributes: skill(1000)}}}); err != nil {
		t.Fatal(err)
	}
	w.cycle("strict")
	w.wantReason(gamelift.TicketFailed, matchmaking.ReasonUnmatchable, "team red already has 3 players, more than its 2", "bf")
	w.wantStatus(gamelift.TicketSearching, "new")
}
