package matchmaking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/service"
)

func TestALatencyToAnUnknownLocationIsRefusedNamingIt(t *testing.T) {
	t.Run("STANDALONE: any location Muster knows", func(t *testing.T) {
		w := newWorld(t)
		w.ruleSet("profile", profileRules)
		w.standalone("teams", "profile", nil)
		w.playerAccess("teams", true)
		_, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{ConfigurationName: "teams",
			Players: []gamelift.Player{{PlayerId: "a", LatencyInMs: map[string]int32{"custom-home": 20, "us-nowhere-9": 30}}}})
		wantFault(t, err, fault.Invalid, "Players[0].LatencyInMs.us-nowhere-9", `unknown location "us-nowhere-9"`, "custom-home")
		_, err = w.svc.StartForPlayer(player(w.ctx, "b"), matchmaking.PlayerTicketRequest{ConfigurationName: "teams",
			LatencyInMs: map[string]int32{"custom-hom": 20}})
		wantFault(t, err, fault.Invalid, "$.latencyInMs.custom-hom", `unknown location "custom-hom"`)
		if _, err := w.svc.StartForPlayer(player(w.ctx, "c"), matchmaking.PlayerTicketRequest{ConfigurationName: "teams",
			LatencyInMs: map[string]int32{"custom-away": 20}}); err != nil {
			t.Fatalf("a known location was refused: %v", err)
		}
	})
	t.Run("WITH_QUEUE: a location of a fleet in the configuration's queue", func(t *testing.T) {
		w := withQueueWorld(t, gamelift.BackfillManual)
		// custom-away exists but no fleet of the queue is there: a player
		// who measured only it could never be placed.
		_, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{ConfigurationName: "q",
			Players: []gamelift.Player{{PlayerId: "a", LatencyInMs: map[string]int32{"custom-away": 20}}}})
		wantFault(t, err, fault.Invalid, "Players[0].LatencyInMs", "no match of configuration q", "known: custom-home")
		_, err = w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{ConfigurationName: "q",
			Players: []gamelift.Player{{PlayerId: "a", LatencyInMs: map[string]int32{"custom-home": 20, "custom-hom": 20}}}})
		wantFault(t, err, fault.Invalid, "Players[0].LatencyInMs.custom-hom", `unknown location "custom-hom"`)
		if _, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{ConfigurationName: "q",
			Players: []gamelift.Player{{PlayerId: "a", LatencyInMs: map[string]int32{"custom-home": 20}}}}); err != nil {
			t.Fatalf("the queue's location was refused: %v", err)
		}
	})
	t.Run("WITH_QUEUE: a known location the queue cannot place in is dropped beside one it can", func(t *testing.T) {
		w := withQueueWorld(t, gamelift.BackfillManual)
		// A client that measures every beacon sends them all.
		out, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{ConfigurationName: "q",
			Players: []gamelift.Player{{PlayerId: "a", LatencyInMs: map[string]int32{"custom-home": 20, "custom-away": 5}}}})
		if err != nil {
			t.Fatalf("a ticket with a usable location was refused for another: %v", err)
		}
		got := out.MatchmakingTicket.Players[0].LatencyInMs
		if len(got) != 1 || got["custom-home"] != 20 {
			t.Fatalf("latencies kept %v, want only custom-home: the matchmaker must not pick a location the queue cannot place in", got)
		}
		w.playerAccess("q", true)
		tk, err := w.svc.StartForPlayer(player(w.ctx, "b"), matchmaking.PlayerTicketRequest{ConfigurationName: "q",
			LatencyInMs: map[string]int32{"custom-home": 30, "custom-away": 5}})
		if err != nil || len(tk.Players[0].LatencyInMs) != 1 {
			t.Fatalf("player ticket: %v %+v, want only custom-home kept", err, tk.Players)
		}
		// A party member who measured only custom-away holds the party's
		// ticket back: it is refused naming the member.
		party, err := w.svc.CreateParty(player(w.ctx, "lead"), map[string]int32{"custom-home": 20})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.JoinParty(player(w.ctx, "friend"), party.ID, party.InviteCode, map[string]int32{"custom-away": 5}); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.StartForPlayer(player(w.ctx, "lead"), matchmaking.PlayerTicketRequest{ConfigurationName: "q", PartyID: party.ID})
		wantFault(t, err, fault.Invalid, "$.partyId", "party member friend: no match of configuration q")
	})
	t.Run("parties: any location Muster knows", func(t *testing.T) {
		w := newWorld(t)
		_, err := w.svc.CreateParty(player(w.ctx, "lead"), map[string]int32{"mars-1": 10})
		wantFault(t, err, fault.Invalid, "$.latencyInMs.mars-1")
		party, err := w.svc.CreateParty(player(w.ctx, "lead"), map[string]int32{"custom-home": 10})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.JoinParty(player(w.ctx, "friend"), party.ID, party.InviteCode, map[string]int32{"mars-1": 10})
		wantFault(t, err, fault.Invalid, "$.latencyInMs.mars-1")
		// The bounds of a ticket's latencies hold for a party's too: the
		// party's ticket carries them.
		_, err = w.svc.JoinParty(player(w.ctx, "friend"), party.ID, party.InviteCode, map[string]int32{"custom-home": 0})
		wantFault(t, err, fault.Invalid, "$.latencyInMs.custom-home", "1 to 60000")
		_, err = w.svc.CreateParty(player(w.ctx, "other"), map[string]int32{"custom-home": 60001})
		wantFault(t, err, fault.Invalid, "$.latencyInMs.custom-home", "1 to 60000")
	})
}

// The locations a ticket's latencies are checked against are kept for a
// second, only to accept: a location created a moment ago is read afresh
// rather than refused, and one deleted is refused once the second is past.
func TestKnownLocationsAreKeptOnlyToAccept(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("profile", profileRules)
	w.standalone("teams", "profile", nil)
	w.playerAccess("teams", true)
	start := func(id, location string) error {
		_, err := w.svc.StartForPlayer(player(w.ctx, id), matchmaking.PlayerTicketRequest{ConfigurationName: "teams",
			LatencyInMs: map[string]int32{location: 20}})
		return err
	}
	if err := start("a", "custom-home"); err != nil {
		t.Fatal(err)
	}
	locs := fleet.NewLocations(fleet.LocationsConfig{Base: service.Base{Store: w.db, Clock: w.clock, ARNs: w.arns}})
	if _, err := locs.CreateLocation(w.ctx, &gamelift.CreateLocationInput{LocationName: "custom-new"}); err != nil {
		t.Fatal(err)
	}
	if err := start("b", "custom-new"); err != nil {
		t.Fatalf("a location created after the cache was filled was refused: %v", err)
	}
	if _, err := locs.DeleteLocation(w.ctx, &gamelift.DeleteLocationInput{LocationName: "custom-new"}); err != nil {
		t.Fatal(err)
	}
	if err := start("c", "custom-new"); err != nil {
		t.Fatalf("within the second, the cached location was refused: %v", err)
	}
	w.clock.Advance(time.Second)
	wantFault(t, start("d", "custom-new"), fault.Invalid, "$.latencyInMs.custom-new", `unknown location "custom-new"`)
}

func TestExplainSaysWhyAPlacingTicketWaits(t *testing.T) {
	w := withQueueWorld(t, gamelift.BackfillManual)
	match := w.pairPlacing(1000)
	w.clock.Advance(100 * time.Millisecond) // the second match's placement starts later
	w.startTicket("q", "c", "pc", 1000)
	w.startTicket("q", "d", "pd", 1000)
	w.cycle("q")
	w.wantStatus(gamelift.TicketPlacing, "c", "d")
	explain := func(id string) string {
		t.Helper()
		x, err := w.svc.Explain(w.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return x.Text
	}
	if got, want := explain("a"), "no idle process in fleet "+w.fleetID+" at location custom-home; 0 placements ahead"; !strings.Contains(got, want) {
		t.Fatalf("explain a: %q, want it to contain %q", got, want)
	}
	if got := explain("c"); !strings.Contains(got, "; 1 placements ahead") {
		t.Fatalf("explain c: %q, want 1 placement ahead", got)
	}
	w.process()
	if _, err := w.placement.Attempt(w.ctx, match); err != nil {
		t.Fatal(err)
	}
	if got := explain("a"); !strings.Contains(got, "waits for its game server to activate it") {
		t.Fatalf("explain a once placed: %q", got)
	}
}
