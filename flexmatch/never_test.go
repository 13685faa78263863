package flexmatch_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/musterhq/muster/flexmatch"
)

func TestNeverSaysWhyATicketCannotMatch(t *testing.T) {
	e := flexmatch.NewEngine(mustParse(t, `{"ruleLanguageVersion":"1.0",
	 "playerAttributes":[{"name":"skill","type":"number"}],
	 "teams":[{"name":"red","minPlayers":1,"maxPlayers":2},{"name":"blue","minPlayers":1,"maxPlayers":2}]}`), flexmatch.Options{})
	bare := flexmatch.Ticket{ID: "bare", StartTime: at(0), Players: []flexmatch.Player{{ID: "b"}}}
	crowd := flexmatch.Ticket{ID: "crowd", StartTime: at(0)}
	for _, id := range []string{"c1", "c2", "c3"} {
		crowd.Players = append(crowd.Players, flexmatch.Player{ID: id, Attributes: map[string]flexmatch.AttributeValue{"skill": flexmatch.Number(1)}})
	}
	for _, tk := range []flexmatch.Ticket{bare, crowd, solo("fine", 0, 1, nil)} {
		if err := e.Add(tk); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]string{"bare": `no value for attribute "skill"`, "crowd": "3 players but the largest team holds 2", "fine": "", "gone": ""} {
		if got := e.Never(id); (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("Never(%s) = %q, want …%s…", id, got, want)
		}
	}
}

func TestBackfillOverATeamAtEveryStepIsRefused(t *testing.T) {
	// red holds 1 player, 2 after 10 s: a request with two reds waits for
	// that step; one with three is refused.
	e := flexmatch.NewEngine(mustParse(t, `{"ruleLanguageVersion":"1.0",
	 "teams":[{"name":"red","minPlayers":1,"maxPlayers":1},{"name":"blue","minPlayers":1,"maxPlayers":2}],
	 "expansions":[{"target":"teams[red].maxPlayers","steps":[{"waitTimeSeconds":10,"value":2}]}]}`), flexmatch.Options{})
	if err := e.Add(flexmatch.Ticket{ID: "new", StartTime: at(0), Players: []flexmatch.Player{{ID: "n"}}}); err != nil {
		t.Fatal(err)
	}
	reds := func(n int) flexmatch.Ticket {
		tk := flexmatch.Ticket{ID: "bf", StartTime: at(0)}
		for _, id := range []string{"r1", "r2", "r3"}[:n] {
			tk.Players = append(tk.Players, flexmatch.Player{ID: id, Team: "red"})
		}
		return tk
	}
	if _, ok, err := e.Backfill(reds(2), at(1)); ok || err != nil {
		t.Fatalf("two reds before the step: ok %v, err %v; want no match and no error", ok, err)
	}
	var te *flexmatch.TicketError
	if _, _, err := e.Backfill(reds(3), at(1)); !errors.As(err, &te) || !strings.Contains(te.Reason, "team red already has 3 players, more than its 2") {
		t.Fatalf("three reds: %v", err)
	}
	if _, ok, err := e.Backfill(reds(2), at(11)); !ok || err != nil {
		t.Fatalf("two reds after the step: ok %v, err %v; want a match", ok, err)
	}
}

func TestRevisitAnchorsAWaitingTicketAgain(t *testing.T) {
	e := flexmatch.NewEngine(mustParse(t, `{"ruleLanguageVersion":"1.0",
	 "playerAttributes":[{"name":"skill","type":"number"}],
	 "teams":[{"name":"red","minPlayers":1,"maxPlayers":1},{"name":"blue","minPlayers":1,"maxPlayers":1}],
	 "rules":[{"name":"Close","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
	           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":10}]}`), flexmatch.Options{ExactSearchTickets: -1})
	for _, tk := range []flexmatch.Ticket{solo("a", 0, 100, nil), solo("b", 0, 500, nil), {ID: "never", StartTime: at(0), Players: []flexmatch.Player{{ID: "n"}}}} {
		if err := e.Add(tk); err != nil {
			t.Fatal(err)
		}
	}
	if m := e.Cycle(at(1)); len(m) != 0 {
		t.Fatalf("matches %v", m)
	}
	anchors := e.Stats().Anchors
	if e.Cycle(at(2)); e.Stats().Anchors != anchors {
		t.Fatalf("a cycle with nothing new anchored %d tickets", e.Stats().Anchors-anchors)
	}
	first, second := e.Revisit("a"), e.Revisit("a")
	if !first || !second || e.Revisit("never") || e.Revisit("gone") {
		t.Fatal("Revisit: want true for a waiting ticket (each time), false for one that can never match or is not in the pool")
	}
	if e.Cycle(at(3)); e.Stats().Anchors != anchors+1 {
		t.Fatalf("after Revisit(a) twice the cycle anchored %d tickets, want 1", e.Stats().Anchors-anchors)
	}
}
