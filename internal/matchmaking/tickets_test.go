package matchmaking_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
)

// duelWorld has a STANDALONE configuration "duel" on duelRules.
func duelWorld(t *testing.T) *world {
	w := newWorld(t)
	w.ruleSet("duel", duelRules)
	w.standalone("duel", "duel", nil)
	return w
}

func TestStartMatchmakingNamesEveryBadMember(t *testing.T) {
	w := duelWorld(t)
	players := func(n int) []gamelift.Player {
		out := make([]gamelift.Player, n)
		for i := range out {
			out[i].PlayerId = fmt.Sprint("p", i)
		}
		return out
	}
	manyAttributes := map[string]gamelift.AttributeValue{}
	for i := range 11 {
		manyAttributes[fmt.Sprint("a", i)] = gamelift.AttributeValue{S: ptr("x")}
	}
	nan := math.NaN()
	wantRefusals(t, w, []refusal[gamelift.StartMatchmakingInput]{
		{"a ticket without players is refused naming Players",
			gamelift.StartMatchmakingInput{ConfigurationName: "duel"}, fault.Invalid, []string{"Players"}},
		{"a ticket of 11 players is refused naming Players",
			gamelift.StartMatchmakingInput{ConfigurationName: "duel", Players: players(11)}, fault.Invalid, []string{"Players", "10"}},
		{"a player without an id is refused naming its PlayerId",
			gamelift.StartMatchmakingInput{ConfigurationName: "duel", Players: []gamelift.Player{{PlayerId: "a"}, {}}}, fault.Invalid, []string{"Players[1].PlayerId"}},
		{"a player listed twice is refused naming the second",
			gamelift.StartMatchmakingInput{ConfigurationName: "duel", Players: []gamelift.Player{{PlayerId: "a"}, {PlayerId: "a"}}}, fault.Invalid, []string{"Players[1].PlayerId", "twice"}},
		{"a player with 11 attributes is refused naming its PlayerAttributes",
			gamelift.StartMatchmakingInput{ConfigurationName: "duel", Players: []gamelift.Player{{PlayerId: "a", PlayerAttributes: manyAttributes}}}, fault.Invalid, []string{"Players[0].PlayerAttributes"}},
		{"an attribute that is not a finite number is refused naming it",
			gamelift.StartMatchmakingInput{ConfigurationName: "duel", Players: []gamelift.Player{{PlayerId: "a", PlayerAttributes: map[string]gamelift.AttributeValue{"skill": {N: &nan}}}}},
			fault.Invalid, []string{"Players[0].PlayerAttributes.skill.N"}},
		{"a latency under 1 ms is refused naming its location",
			gamelift.StartMatchmakingInput{ConfigurationName: "duel", Players: []gamelift.Player{{PlayerId: "a", LatencyInMs: map[string]int32{"custom-home": 0}}}},
			fault.Invalid, []string{"Players[0].LatencyInMs.custom-home"}},
		{"a TicketId with a space is refused naming TicketId",
			gamelift.StartMatchmakingInput{TicketId: "two words", ConfigurationName: "duel", Players: players(1)}, fault.Invalid, []string{"TicketId"}},
		{"a configuration name over 256 characters is refused naming ConfigurationName",
			gamelift.StartMatchmakingInput{ConfigurationName: strings.Repeat("c", 257), Players: players(1)}, fault.Invalid, []string{"ConfigurationName"}},
		{"a configuration that does not exist is NotFound naming ConfigurationName",
			gamelift.StartMatchmakingInput{ConfigurationName: "ghost", Players: players(1)}, fault.NotFound, []string{"ConfigurationName", "ghost"}},
	}, func(w *world, in gamelift.StartMatchmakingInput) error {
		_, err := w.svc.StartMatchmaking(w.ctx, &in)
		return err
	})
	t.Run("a read-only key may not start a ticket", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StartMatchmaking(readOnly(t), &gamelift.StartMatchmakingInput{ConfigurationName: "duel", Players: players(1)})
		wantFault(t, err, fault.Forbidden)
	})
	t.Run("nothing refused holds a player", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("duel", "", "a", 1000)
		w.startTicket("duel", "", "p0", 1000)
	})
}

func TestTicketIdentityAndActivePlayers(t *testing.T) {
	w := duelWorld(t)
	w.standalone("casual", "duel", nil)
	t.Run("a ticket without a TicketId gets one, and starts QUEUED with its players", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{ConfigurationName: "duel",
			Players: []gamelift.Player{{PlayerId: "anon", PlayerAttributes: skill(100), LatencyInMs: map[string]int32{"custom-home": 20}}}})
		if err != nil {
			t.Fatal(err)
		}
		tk := out.MatchmakingTicket
		if len(tk.TicketId) != 36 || tk.Status != gamelift.TicketQueued || tk.StartTime == nil || tk.ConfigurationArn != w.arns.Build(gamelift.ResourceMatchmakingConfiguration, "duel") ||
			len(tk.Players) != 1 || tk.Players[0].LatencyInMs["custom-home"] != 20 || *tk.Players[0].PlayerAttributes["skill"].N != 100 {
			t.Fatalf("ticket %+v", tk)
		}
		if _, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: tk.TicketId}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the same TicketId and request again returns the ticket as it is now", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("duel", "t1", "alice", 1000)
		w.cycle("duel")
		again := w.startTicket("duel", "t1", "alice", 1000)
		if again.TicketId != "t1" || again.Status != gamelift.TicketSearching {
			t.Fatalf("repeated request answered %+v", again)
		}
		if got := w.ticketEvents("t1"); !slices.Equal(got, []string{matchmaking.EventSearching}) {
			t.Fatalf("events of t1 %v, want one MatchmakingSearching: the repeat is no new ticket", got)
		}
	})
	t.Run("the same TicketId with other players, or in another configuration, is refused naming TicketId", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: "t1", ConfigurationName: "duel",
			Players: []gamelift.Player{{PlayerId: "alice", PlayerAttributes: skill(1001)}}})
		wantFault(t, err, fault.Invalid, "TicketId", "t1")
		_, err = w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: "t1", ConfigurationName: "casual",
			Players: []gamelift.Player{{PlayerId: "alice", PlayerAttributes: skill(1000)}}})
		wantFault(t, err, fault.Invalid, "TicketId", "t1")
	})
	t.Run("a ticket whose player already waits in the configuration is refused naming the player and its ticket", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: "t2", ConfigurationName: "duel",
			Players: []gamelift.Player{{PlayerId: "bob"}, {PlayerId: "alice"}}})
		wantFault(t, err, fault.Invalid, "Players[1]", "alice", "t1")
	})
	t.Run("the refused ticket left nothing behind: its other player is free and its id unused", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.DescribeMatchmaking(w.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"t2"}})
		if err != nil || len(out.TicketList) != 0 {
			t.Fatalf("refused ticket %+v, %v", out, err)
		}
		w.startTicket("duel", "t2", "bob", 5000)
	})
	t.Run("the same player may wait in another configuration at the same time", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("casual", "c1", "alice", 1000)
	})
	t.Run("a cancelled ticket frees its player", func(t *testing.T) {
		w := w.in(t)
		if _, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "t2"}); err != nil {
			t.Fatal(err)
		}
		w.startTicket("duel", "t3", "bob", 1000)
	})
	t.Run("a completed match frees its players, and a completed ticket cannot be stopped", func(t *testing.T) {
		w := w.in(t)
		w.cycle("duel")
		w.wantStatus(gamelift.TicketCompleted, "t1", "t3")
		_, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "t1"})
		wantFault(t, err, fault.Invalid, "t1", gamelift.TicketCompleted)
		w.startTicket("duel", "t4", "alice", 1000)
		w.startTicket("duel", "t5", "bob", 1000)
	})
}

func TestDescribeMatchmaking(t *testing.T) {
	w := duelWorld(t)
	w.startTicket("duel", "a", "pa", 1000)
	w.startTicket("duel", "b", "pb", 9000)
	t.Run("tickets come back in the order asked; unknown ids are left out", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.DescribeMatchmaking(w.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"b", "ghost", "a"}})
		if err != nil || len(out.TicketList) != 2 || out.TicketList[0].TicketId != "b" || out.TicketList[1].TicketId != "a" {
			t.Fatalf("tickets %+v, %v", out, err)
		}
	})
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("t", i)
		}
		return out
	}
	wantRefusals(t, w, []refusal[[]string]{
		{"no ids are refused naming TicketIds", nil, fault.Invalid, []string{"TicketIds"}},
		{"11 ids are refused naming TicketIds", ids(11), fault.Invalid, []string{"TicketIds"}},
		{"an id with a space is refused naming its index", []string{"a", "b c"}, fault.Invalid, []string{"TicketIds[1]"}},
	}, func(w *world, ticketIDs []string) error {
		_, err := w.svc.DescribeMatchmaking(w.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: ticketIDs})
		return err
	})
	t.Run("a read-only key may describe", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.DescribeMatchmaking(readOnly(t), &gamelift.DescribeMatchmakingInput{TicketIds: []string{"a"}})
		if err != nil || len(out.TicketList) != 1 {
			t.Fatal(out, err)
		}
	})
}

func TestTicketEventsAndStop(t *testing.T) {
	w := duelWorld(t)
	t.Run("a ticket stopped before it matched is CANCELLED with one MatchmakingCancelled event", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("duel", "q", "pq", 1000)
		if _, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "q"}); err != nil {
			t.Fatal(err)
		}
		w.cycle("duel")
		w.wantReason(gamelift.TicketCancelled, matchmaking.ReasonCancelled, "by request", "q")
		if tk := w.ticket("q"); tk.EndTime == nil {
			t.Fatalf("stopped ticket without an end time %+v", tk)
		}
		// A pass may have taken the ticket to SEARCHING first.
		got := w.ticketEvents("q")
		if got[len(got)-1] != matchmaking.EventCancelled || slices.Index(got, matchmaking.EventCancelled) != len(got)-1 {
			t.Fatalf("events %v", got)
		}
		// GameLift's MatchmakingCancelled always carries the rules' metrics.
		for _, ev := range w.outbox(matchmaking.EventCancelled) {
			if ev.Detail.Tickets[0].TicketID == "q" && len(ev.Detail.RuleEvaluationMetrics) == 0 {
				t.Fatalf("MatchmakingCancelled without ruleEvaluationMetrics: %+v", ev.Detail)
			}
		}
	})
	t.Run("stopping needs a TicketId", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{})
		wantFault(t, err, fault.Invalid, "TicketId")
	})
	t.Run("a matched ticket's events are Searching, PotentialMatchCreated and Succeeded, with its team", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("duel", "a", "pa", 1000)
		w.startTicket("duel", "b", "pb", 1000)
		w.cycle("duel")
		want := []string{matchmaking.EventSearching, matchmaking.EventPotentialMatch, matchmaking.EventSucceeded}
		for _, id := range []string{"a", "b"} {
			if got := w.ticketEvents(id); !slices.Equal(got, want) {
				t.Fatalf("events of %s %v, want %v", id, got, want)
			}
		}
		pm := w.outbox(matchmaking.EventPotentialMatch)[0].Detail
		if *pm.AcceptanceRequired || len(pm.RuleEvaluationMetrics) != 1 || pm.RuleEvaluationMetrics[0].RuleName != "FairSkill" ||
			len(pm.GameSessionInfo.Players) != 2 || pm.GameSessionInfo.Players[0].Team == "" {
			t.Fatalf("PotentialMatchCreated %+v", pm)
		}
	})
	t.Run("a ticket that times out says so in a MatchmakingTimedOut event, and its player is free", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("duel", "lonely", "pl", 50000)
		w.cycle("duel")
		w.advance("duel", 61*time.Second)
		w.wantReason(gamelift.TicketTimedOut, matchmaking.ReasonTimedOut, "request timeout", "lonely")
		evs := w.outbox(matchmaking.EventTimedOut)
		if len(evs) != 1 || evs[0].Detail.Reason != matchmaking.ReasonTimedOut || evs[0].Detail.Tickets[0].TicketID != "lonely" || len(evs[0].Detail.RuleEvaluationMetrics) != 1 {
			t.Fatalf("timed out events %+v", evs)
		}
		w.startTicket("duel", "lonely-2", "pl", 50000)
	})
	t.Run("a timed-out ticket cannot be stopped", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "lonely"})
		wantFault(t, err, fault.Invalid, gamelift.TicketTimedOut)
	})
}

func TestExplainForOperators(t *testing.T) {
	w := duelWorld(t)
	w.startTicket("duel", "a", "pa", 1000)
	w.startTicket("duel", "far", "pf", 5000)
	w.cycle("duel")
	t.Run("a searching ticket is explained by the engine, naming the rule that blocks it", func(t *testing.T) {
		w := w.in(t)
		x, err := w.svc.Explain(w.ctx, "a")
		if err != nil || x.Status != gamelift.TicketSearching || x.Engine == nil || !strings.Contains(x.Text, "FairSkill") {
			t.Fatalf("explanation %+v, %v", x, err)
		}
	})
	t.Run("a finished ticket is explained by its status, reason and match", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("duel", "b", "pb", 1000)
		w.cycle("duel")
		x, err := w.svc.Explain(w.ctx, "b")
		if err != nil || x.Engine != nil || !strings.Contains(x.Text, "COMPLETED") || !strings.Contains(x.Text, w.matchOf("b")) {
			t.Fatalf("explanation %+v, %v", x, err)
		}
		w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "far"})
		x, err = w.svc.Explain(w.ctx, "far")
		if err != nil || !strings.Contains(x.Text, "CANCELLED") || !strings.Contains(x.Text, matchmaking.ReasonCancelled) {
			t.Fatalf("explanation %+v, %v", x, err)
		}
	})
	t.Run("an unknown ticket is NotFound, and players may not ask", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.Explain(w.ctx, "ghost")
		wantFault(t, err, fault.NotFound, "ghost")
		_, err = w.svc.Explain(player(w.ctx, "pa"), "a")
		if err == nil {
			t.Fatal("a player used the operators' explanation")
		}
	})
}
