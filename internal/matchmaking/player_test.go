package matchmaking_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/playerdata"
)

// teamRules matches two teams of two; players carry a skill and a mode.
const teamRules = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":1000},{"name":"mode","type":"string","default":"any"}],
 "teams":[{"name":"red","minPlayers":2,"maxPlayers":2},{"name":"blue","minPlayers":2,"maxPlayers":2}],
 "rules":[{"name":"FairSkill","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":50}]}`

// playerWorld has a configuration "teams" on teamRules that players may
// use, and one "closed" that they may not.
func playerWorld(t *testing.T) *world {
	w := newWorld(t)
	w.ruleSet("teams", teamRules)
	w.standalone("teams", "teams", nil)
	w.standalone("closed", "teams", nil)
	w.playerAccess("teams", true)
	return w
}

// playerAccess opens a configuration to players' tickets, or closes it.
func (w *world) playerAccess(name string, allowed bool) {
	w.t.Helper()
	if err := w.svc.SetPlayerAccess(w.ctx, name, allowed); err != nil {
		w.t.Fatal(err)
	}
}

// attributes stores a player's attributes in the player data table.
func (w *world) attributes(id string, attrs map[string]gamelift.AttributeValue) {
	w.t.Helper()
	p := playerdata.Patch{Attributes: map[string]*gamelift.AttributeValue{}}
	for k, v := range attrs {
		p.Attributes[k] = &v
	}
	if _, err := w.players.Update(w.ctx, id, p, playerdata.Condition{}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) startAs(id string, req matchmaking.PlayerTicketRequest) gamelift.MatchmakingTicket {
	w.t.Helper()
	tk, err := w.svc.StartForPlayer(player(w.ctx, id), req)
	if err != nil {
		w.t.Fatal(err)
	}
	return tk
}

func TestPlayerAccessToConfigurations(t *testing.T) {
	w := playerWorld(t)
	wantRefusals(t, w, []refusal[matchmaking.PlayerTicketRequest]{
		{"a ticket for a configuration players may not use is Forbidden naming the configuration",
			matchmaking.PlayerTicketRequest{ConfigurationName: "closed"}, fault.Forbidden, []string{"configurationName", "closed"}},
		{"a configuration that does not exist is NotFound naming it",
			matchmaking.PlayerTicketRequest{ConfigurationName: "ghost"}, fault.NotFound, []string{"configurationName", "ghost"}},
		{"a bad configuration name and a bad latency are named at once",
			matchmaking.PlayerTicketRequest{ConfigurationName: strings.Repeat("c", 257), LatencyInMs: map[string]int32{"custom-home": 0}},
			fault.Invalid, []string{"configurationName", "latencyInMs.custom-home"}},
		{"a party that does not exist is NotFound",
			matchmaking.PlayerTicketRequest{ConfigurationName: "teams", PartyID: "ghost"}, fault.NotFound, []string{"ghost"}},
	}, func(w *world, in matchmaking.PlayerTicketRequest) error {
		_, err := w.svc.StartForPlayer(player(w.ctx, "alice"), in)
		return err
	})
	t.Run("an operator's key is not a player's token", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StartForPlayer(w.ctx, matchmaking.PlayerTicketRequest{ConfigurationName: "teams"})
		wantFault(t, err, fault.Unauthenticated)
	})
	t.Run("only an operator may open a configuration to players, and only one that exists", func(t *testing.T) {
		w := w.in(t)
		wantFault(t, w.svc.SetPlayerAccess(readOnly(t), "closed", true), fault.Forbidden)
		wantFault(t, w.svc.SetPlayerAccess(w.ctx, "ghost", true), fault.NotFound, "ghost")
	})
	t.Run("opened, the configuration takes players' tickets; closed again, it refuses them", func(t *testing.T) {
		w := w.in(t)
		w.playerAccess("closed", true)
		w.startAs("alice", matchmaking.PlayerTicketRequest{ConfigurationName: "closed"})
		w.playerAccess("closed", false)
		_, err := w.svc.StartForPlayer(player(w.ctx, "bob"), matchmaking.PlayerTicketRequest{ConfigurationName: "closed"})
		wantFault(t, err, fault.Forbidden, "closed")
	})
}

// profileRules declares an attribute of each type.
const profileRules = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":1000},{"name":"mode","type":"string","default":"any"},
                     {"name":"roles","type":"string_list"},{"name":"pings","type":"string_number_map"}],
 "teams":[{"name":"crowd","minPlayers":10,"maxPlayers":10}]}`

func TestPlayerTicketsTakeAttributesFromThePlayerDataTable(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("profile", profileRules)
	w.standalone("teams", "profile", nil)
	w.playerAccess("teams", true)
	w.attributes("alice", map[string]gamelift.AttributeValue{"skill": {N: ptr(1500.0)}, "mode": {S: ptr("ranked")}, "secret": {S: ptr("x")},
		"roles": {SL: []string{"tank"}}, "pings": {SDM: map[string]float64{"custom-home": 20}}})
	w.attributes("bob", map[string]gamelift.AttributeValue{"skill": {S: ptr("high")}, "mode": {N: ptr(3.0)}, "roles": {S: ptr("tank")}, "pings": {N: ptr(20.0)}})
	t.Run("the rule set's attributes are read from the player's record; others are left out", func(t *testing.T) {
		w := w.in(t)
		tk := w.startAs("alice", matchmaking.PlayerTicketRequest{ConfigurationName: "teams", LatencyInMs: map[string]int32{"custom-home": 25}})
		attrs := tk.Players[0].PlayerAttributes
		if len(attrs) != 4 || *attrs["skill"].N != 1500 || *attrs["mode"].S != "ranked" || attrs["roles"].SL[0] != "tank" || attrs["pings"].SDM["custom-home"] != 20 ||
			tk.Players[0].LatencyInMs["custom-home"] != 25 {
			t.Fatalf("ticket players %+v", tk.Players)
		}
	})
	t.Run("an attribute of the wrong type is left out, so the rule set's default applies", func(t *testing.T) {
		w := w.in(t)
		tk := w.startAs("bob", matchmaking.PlayerTicketRequest{ConfigurationName: "teams"})
		if len(tk.Players[0].PlayerAttributes) != 0 {
			t.Fatalf("attributes %+v", tk.Players[0].PlayerAttributes)
		}
	})
	t.Run("a player without a record gets no attributes", func(t *testing.T) {
		w := w.in(t)
		tk := w.startAs("carol", matchmaking.PlayerTicketRequest{ConfigurationName: "teams"})
		if tk.Players[0].PlayerId != "carol" || len(tk.Players[0].PlayerAttributes) != 0 {
			t.Fatalf("players %+v", tk.Players)
		}
	})
	t.Run("a player already waiting in the configuration is refused", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StartForPlayer(player(w.ctx, "alice"), matchmaking.PlayerTicketRequest{ConfigurationName: "teams"})
		wantFault(t, err, fault.Invalid, "alice")
	})
}

func TestPlayersSeeAndChangeOnlyTheirOwnTickets(t *testing.T) {
	w := playerWorld(t)
	w.ruleSet("duel", duelRules)
	w.standalone("acc", "duel", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.AcceptanceRequired, in.AcceptanceTimeoutSeconds = ptr(true), ptr(int32(30))
	})
	w.playerAccess("acc", true)
	alice := w.startAs("alice", matchmaking.PlayerTicketRequest{ConfigurationName: "teams"}).TicketId
	w.cycle("teams")
	t.Run("a player reads its own ticket", func(t *testing.T) {
		w := w.in(t)
		tk, err := w.svc.TicketForPlayer(player(w.ctx, "alice"), alice)
		if err != nil || tk.TicketId != alice || tk.Status != gamelift.TicketSearching {
			t.Fatalf("ticket %+v, %v", tk, err)
		}
	})
	t.Run("another player's ticket does not exist for a player", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.TicketForPlayer(player(w.ctx, "mallory"), alice)
		wantFault(t, err, fault.NotFound, alice)
		wantFault(t, w.svc.CancelForPlayer(player(w.ctx, "mallory"), alice), fault.NotFound)
		wantFault(t, w.svc.AcceptForPlayer(player(w.ctx, "mallory"), alice, true), fault.NotFound)
		_, err = w.svc.ExplainForPlayer(player(w.ctx, "mallory"), alice)
		wantFault(t, err, fault.NotFound)
		w.wantStatus(gamelift.TicketSearching, alice)
	})
	t.Run("an operator's key is not a player's token", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.TicketForPlayer(w.ctx, alice)
		wantFault(t, err, fault.Unauthenticated)
	})
	t.Run("a player's explanation covers its own ticket only", func(t *testing.T) {
		w := w.in(t)
		w.startAs("bob", matchmaking.PlayerTicketRequest{ConfigurationName: "teams"})
		w.cycle("teams")
		x, err := w.svc.ExplainForPlayer(player(w.ctx, "alice"), alice)
		if err != nil || x.Status != gamelift.TicketSearching || !strings.Contains(x.Text, "ticket "+alice+": waiting") || !strings.Contains(x.Text, "expansion step") {
			t.Fatalf("explanation %+v, %v", x, err)
		}
		view, ok := x.Engine.(map[string]any)
		if !ok || view["ticketId"] != alice {
			t.Fatalf("engine view %#v", x.Engine)
		}
		for k := range view {
			if !strings.Contains(" ticketId ageSeconds step steps nextStepSeconds never matchable ruleCounts ", " "+k+" ") {
				t.Fatalf("the player's view has %q: %v", k, view)
			}
		}
	})
	t.Run("a waiting player's explanation says what its closest match lacks", func(t *testing.T) {
		w := w.in(t)
		carol := w.startAs("carol", matchmaking.PlayerTicketRequest{ConfigurationName: "teams"}).TicketId
		w.cycle("teams")
		x, err := w.svc.ExplainForPlayer(player(w.ctx, "carol"), carol)
		if err != nil || !strings.Contains(x.Text, "short of a match: team ") || !strings.Contains(x.Text, " of 2 players") {
			t.Fatalf("explanation %q, %v; want what the closest match lacks", x.Text, err)
		}
	})
	t.Run("an id no ticket can have is refused naming TicketId, not reported missing", func(t *testing.T) {
		w := w.in(t)
		for _, id := range []string{strings.Repeat("t", 129), "t/1"} {
			_, err := w.svc.TicketForPlayer(player(w.ctx, "alice"), id)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != "TicketId" {
				t.Fatalf("ticket %q: %v, want Invalid naming TicketId", id, err)
			}
		}
		if _, err := w.svc.Explain(w.ctx, strings.Repeat("t", 129)); !fault.Is(err, fault.Invalid) {
			t.Fatalf("operator's explanation of a 129-character id: %v, want Invalid", err)
		}
	})
	t.Run("a player cancels its own ticket", func(t *testing.T) {
		w := w.in(t)
		if err := w.svc.CancelForPlayer(player(w.ctx, "alice"), alice); err != nil {
			t.Fatal(err)
		}
		w.wantStatus(gamelift.TicketCancelled, alice)
		x, err := w.svc.ExplainForPlayer(player(w.ctx, "alice"), alice)
		if err != nil || x.Engine != nil || !strings.Contains(x.Text, "CANCELLED") {
			t.Fatalf("explanation %+v, %v", x, err)
		}
	})
	t.Run("a player answers a proposed match for itself", func(t *testing.T) {
		w := w.in(t)
		a := w.startAs("dave", matchmaking.PlayerTicketRequest{ConfigurationName: "acc"}).TicketId
		b := w.startAs("erin", matchmaking.PlayerTicketRequest{ConfigurationName: "acc"}).TicketId
		w.cycle("acc")
		w.wantStatus(gamelift.TicketRequiresAcceptance, a, b)
		matchOf := func(id, who string) string {
			t.Helper()
			tk, err := w.svc.TicketForPlayer(player(w.ctx, who), id)
			if err != nil {
				t.Fatal(err)
			}
			return tk.MatchID
		}
		proposed := matchOf(a, "dave")
		if proposed == "" || matchOf(b, "erin") != proposed {
			t.Fatalf("the proposed match's tickets read match ids %q and %q, want one id", proposed, matchOf(b, "erin"))
		}
		if err := w.svc.AcceptForPlayer(player(w.ctx, "dave"), a, true); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.AcceptForPlayer(player(w.ctx, "erin"), b, false); err != nil {
			t.Fatal(err)
		}
		w.wantStatus(gamelift.TicketSearching, a)
		w.wantStatus(gamelift.TicketCancelled, b)
		if m := matchOf(a, "dave"); m != "" {
			t.Fatalf("a ticket searching again after a failed round reads match id %q, want none", m)
		}
	})
}
