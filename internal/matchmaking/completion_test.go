package matchmaking_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/session"
)

// squadRules matches teams of one or two: a match of two leaves two slots
// for backfill.
const squadRules = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":1000}],
 "teams":[{"name":"red","minPlayers":1,"maxPlayers":2},{"name":"blue","minPlayers":1,"maxPlayers":2}],
 "rules":[{"name":"FairSkill","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":50}]}`

// withQueueWorld has hosting, a queue "main" on its fleet and a WITH_QUEUE
// configuration "q" placing through it with the given backfill mode.
func withQueueWorld(t *testing.T, backfill string) *world {
	w := newHostingWorld(t)
	arn := w.queue("main")
	w.ruleSet("squad", squadRules)
	w.standalone("q", "squad", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.FlexMatchMode, in.GameSessionQueueArns, in.BackfillMode = gamelift.FlexMatchWithQueue, []string{arn}, backfill
		in.GameProperties = []gamelift.GameProperty{{Key: "map", Value: "docks"}}
		in.GameSessionData = ptr("ranked")
	})
	return w
}

// matchmakerData is the MatchmakerData document of a game session.
type matchmakerData struct {
	MatchID              string  `json:"matchId"`
	ConfigurationArn     string  `json:"matchmakingConfigurationArn"`
	AutoBackfillMode     string  `json:"autoBackfillMode"`
	AutoBackfillTicketID *string `json:"autoBackfillTicketId"`
	Teams                []struct {
		Name    string `json:"name"`
		Players []struct {
			PlayerID   string                     `json:"playerId"`
			Attributes map[string]json.RawMessage `json:"attributes"`
		} `json:"players"`
	} `json:"teams"`
}

func (w *world) gameSession(arn string) (session.GameSession, matchmakerData) {
	w.t.Helper()
	g, err := w.sessions.GameSession(w.ctx, arn)
	if err != nil {
		w.t.Fatal(err)
	}
	var d matchmakerData
	if err := json.Unmarshal([]byte(g.MatchmakerData), &d); err != nil {
		w.t.Fatalf("matchmaker data %q: %v", g.MatchmakerData, err)
	}
	return g, d
}

func (d matchmakerData) players() []string {
	var out []string
	for _, tm := range d.Teams {
		for _, p := range tm.Players {
			out = append(out, p.PlayerID)
		}
	}
	slices.Sort(out)
	return out
}

// pairPlacing starts tickets a and b (skills 1000 and bSkill) in "q" and
// runs the cycle that matches them; it returns their match's id.
func (w *world) pairPlacing(bSkill float64) string {
	w.t.Helper()
	w.startTicket("q", "a", "pa", 1000)
	w.startTicket("q", "b", "pb", bSkill)
	w.cycle("q")
	w.wantStatus(gamelift.TicketPlacing, "a", "b")
	return w.matchOf("a")
}

// placedMatch places the match of tickets a and b on a new process; it
// returns the match id and the game session ARN.
func (w *world) placedMatch() (string, string) {
	w.t.Helper()
	w.process()
	match := w.pairPlacing(1000)
	if !w.place(match) {
		w.t.Fatalf("the placement of match %s did not end", match)
	}
	w.wantStatus(gamelift.TicketCompleted, "a", "b")
	return match, w.ticket("a").GameSessionConnectionInfo.GameSessionArn
}

func TestAPlacedMatchCompletesItsTickets(t *testing.T) {
	w := withQueueWorld(t, gamelift.BackfillManual)
	w.process()
	match := w.pairPlacing(1000.5)
	t.Run("a PLACING ticket cannot be stopped", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "a"})
		wantFault(t, err, fault.Invalid, "PLACING")
	})
	if !w.place(match) {
		t.Fatalf("the placement of match %s did not end", match)
	}
	a := w.ticket("a")
	ci := a.GameSessionConnectionInfo
	t.Run("the fulfilled placement completes every ticket with where to connect", func(t *testing.T) {
		w := w.in(t)
		w.wantStatus(gamelift.TicketCompleted, "a", "b")
		if ci == nil || ci.GameSessionArn == "" || ci.IpAddress != "10.1.2.3" || ci.DnsName != "box.example" || ci.Port == nil || *ci.Port != 7001 ||
			len(ci.MatchedPlayerSessions) != 1 || ci.MatchedPlayerSessions[0].PlayerId != "pa" || ci.MatchedPlayerSessions[0].PlayerSessionId == "" {
			t.Fatalf("connection info %+v", ci)
		}
		if b := w.ticket("b").GameSessionConnectionInfo; b.GameSessionArn != ci.GameSessionArn || b.MatchedPlayerSessions[0].PlayerId != "pb" {
			t.Fatalf("connection info of b %+v", b)
		}
	})
	t.Run("the MatchmakingSucceeded event carries the game session and each player's session", func(t *testing.T) {
		w := w.in(t)
		evs := w.outbox(matchmaking.EventSucceeded)
		if len(evs) != 1 {
			t.Fatalf("%d MatchmakingSucceeded events", len(evs))
		}
		gi := evs[0].Detail.GameSessionInfo
		if evs[0].Detail.MatchID != match || gi.GameSessionArn != ci.GameSessionArn || gi.IPAddress != "10.1.2.3" || gi.Port != 7001 || len(gi.Players) != 2 {
			t.Fatalf("event %+v", evs[0].Detail)
		}
		for _, p := range gi.Players {
			if p.PlayerSessionID == "" || p.Team == "" {
				t.Fatalf("event player %+v", p)
			}
		}
	})
	t.Run("the game session holds the configuration's properties and the matchmaker data", func(t *testing.T) {
		w := w.in(t)
		g, d := w.gameSession(ci.GameSessionArn)
		if len(g.Properties) != 1 || g.Properties[0].Value != "docks" || g.Data != "ranked" || g.MaxPlayers != 4 {
			t.Fatalf("game session %+v", g)
		}
		if d.MatchID != match || d.ConfigurationArn != w.arns.Build(gamelift.ResourceMatchmakingConfiguration, "q") || d.AutoBackfillMode != gamelift.BackfillManual ||
			d.AutoBackfillTicketID != nil || !slices.Equal(d.players(), []string{"pa", "pb"}) {
			t.Fatalf("matchmaker data %+v", d)
		}
		skills := map[string]string{}
		for _, tm := range d.Teams {
			for _, p := range tm.Players {
				skills[p.PlayerID] = string(p.Attributes["skill"])
			}
		}
		if skills["pa"] != `{"attributeType":"DOUBLE","valueAttribute":1000.0}` || skills["pb"] != `{"attributeType":"DOUBLE","valueAttribute":1000.5}` {
			t.Fatalf("skills in the matchmaker data %v", skills)
		}
	})
	t.Run("with MANUAL backfill no backfill ticket follows the match", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.DescribeMatchmaking(w.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"auto-backfill-" + match}})
		if err != nil || len(out.TicketList) != 0 {
			t.Fatalf("tickets %+v, %v", out, err)
		}
	})
	t.Run("the players are free to start again", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("q", "a2", "pa", 1000)
	})
}

func TestAPlacementThatTimesOutTimesOutItsTickets(t *testing.T) {
	w := withQueueWorld(t, gamelift.BackfillManual)
	match := w.pairPlacing(1000)
	if w.place(match) {
		t.Fatal("a placement without a free process ended")
	}
	w.clock.Advance(61 * time.Second)
	if !w.place(match) {
		t.Fatal("a placement past its queue's timeout did not end")
	}
	w.wantReason(gamelift.TicketTimedOut, matchmaking.ReasonTimedOut, "placement timed out", "a", "b")
	evs := w.outbox(matchmaking.EventTimedOut)
	if len(evs) != 1 || evs[0].Detail.MatchID != match || len(evs[0].Detail.Tickets) != 2 {
		t.Fatalf("timed out events %+v", evs)
	}
}

func TestAPlacementThePlacementServiceRefusesFailsOnlyThatMatch(t *testing.T) {
	w := withQueueWorld(t, gamelift.BackfillManual)
	if _, err := w.placement.DeleteGameSessionQueue(w.ctx, &gamelift.DeleteGameSessionQueueInput{Name: "main"}); err != nil {
		t.Fatal(err)
	}
	w.startTicket("q", "a", "pa", 1000)
	w.startTicket("q", "b", "pb", 1000)
	w.startTicket("q", "lonely", "pl", 50000)
	w.cycle("q")
	w.wantReason(gamelift.TicketFailed, matchmaking.ReasonUnexpected, "placement refused", "a", "b")
	if evs := w.outbox(matchmaking.EventFailed); len(evs) != 1 || evs[0].Detail.MatchID != w.matchOf("a") {
		t.Fatalf("failed events %+v", evs)
	}
	w.wantStatus(gamelift.TicketSearching, "lonely")
}

func TestAStoppedPlacementFailsItsMatch(t *testing.T) {
	w := withQueueWorld(t, gamelift.BackfillManual)
	match := w.pairPlacing(1000)
	if _, err := w.placement.StopGameSessionPlacement(w.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: match}); err != nil {
		t.Fatal(err)
	}
	w.wantReason(gamelift.TicketFailed, matchmaking.ReasonUnexpected, gamelift.PlacementCancelled, "a", "b")
	if evs := w.outbox(matchmaking.EventFailed); len(evs) != 1 || evs[0].Detail.MatchID != match {
		t.Fatalf("failed events %+v", evs)
	}
	w.startTicket("q", "a2", "pa", 1000) // the players are free again
}

func TestABackfillTheGameSessionCannotTakeFailsAndTheServerIsTold(t *testing.T) {
	w := withQueueWorld(t, gamelift.BackfillAutomatic)
	match, gs := w.placedMatch()
	auto := "auto-backfill-" + match
	w.cycle("q")
	w.wantStatus(gamelift.TicketSearching, auto)
	// The game server denies new player sessions: the game session takes
	// none.
	g, err := w.sessions.GameSession(w.ctx, gs)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.sessions.SetPlayerSessionCreationPolicy(w.ctx, g.ProcessID, gs, gamelift.DenyAll); err != nil {
		t.Fatal(err)
	}
	w.startTicket("q", "c", "pc", 1010)
	w.cycle("q")
	if p := w.waitPush(matchmaking.UpdateBackfillFailed); p.ticket != auto || p.gameSession != gs {
		t.Fatalf("push %+v", p)
	}
	w.wantReason(gamelift.TicketFailed, matchmaking.ReasonUnexpected, "reserving player sessions failed", auto, "c")
	w.startTicket("q", "c2", "pc", 1010) // the new player is free again
}

func TestAutomaticBackfillFillsAPlacedMatch(t *testing.T) {
	w := withQueueWorld(t, gamelift.BackfillAutomatic)
	match, gs := w.placedMatch()
	auto := "auto-backfill-" + match
	t.Run("the matchmaker data announces the automatic backfill ticket, which searches for the match", func(t *testing.T) {
		w := w.in(t)
		_, d := w.gameSession(gs)
		if d.AutoBackfillMode != gamelift.BackfillAutomatic || d.AutoBackfillTicketID == nil || *d.AutoBackfillTicketID != auto {
			t.Fatalf("matchmaker data %+v", d)
		}
		w.cycle("q")
		tk := w.ticket(auto)
		if tk.Status != gamelift.TicketSearching || len(tk.Players) != 2 || tk.Players[0].Team == "" || tk.GameSessionConnectionInfo.GameSessionArn != gs {
			t.Fatalf("automatic backfill ticket %+v", tk)
		}
	})
	g, _ := w.gameSession(gs)
	if err := w.sessions.ActivateGameSession(w.ctx, g.ProcessID, gs); err != nil {
		t.Fatal(err)
	}
	t.Run("a new player fills a slot: it gets a player session in the game session, and the game server hears of it", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("q", "c", "pc", 1010)
		w.cycle("q")
		p := w.waitPush(matchmaking.UpdateDataUpdated)
		if p.gameSession != gs || p.ticket != auto || !strings.Contains(p.matchmakerData, `"playerId":"pc"`) {
			t.Fatalf("push %+v", p)
		}
		c := w.ticket("c")
		ci := c.GameSessionConnectionInfo
		if c.Status != gamelift.TicketCompleted || ci.GameSessionArn != gs || len(ci.MatchedPlayerSessions) != 1 || ci.MatchedPlayerSessions[0].PlayerId != "pc" {
			t.Fatalf("ticket c %+v", c)
		}
		w.wantStatus(gamelift.TicketCompleted, auto)
		ps, _, err := w.sessions.DescribePlayerSessions(w.ctx, session.PlayerQuery{PlayerSessionID: ci.MatchedPlayerSessions[0].PlayerSessionId})
		if err != nil || len(ps) != 1 || ps[0].GameSessionID != gs || ps[0].Status != gamelift.PlayerSessionReserved {
			t.Fatalf("player session %+v, %v", ps, err)
		}
	})
	t.Run("the game session is still not full, so another automatic ticket follows", func(t *testing.T) {
		w := w.in(t)
		_, d := w.gameSession(gs)
		if !slices.Equal(d.players(), []string{"pa", "pb", "pc"}) || d.AutoBackfillTicketID == nil || *d.AutoBackfillTicketID == auto {
			t.Fatalf("matchmaker data %+v", d)
		}
		w.cycle("q")
		w.wantStatus(gamelift.TicketSearching, *d.AutoBackfillTicketID)
	})
}

func TestManualBackfillOfAGameSession(t *testing.T) {
	w := withQueueWorld(t, gamelift.BackfillManual)
	_, gs := w.placedMatch()
	g, _ := w.gameSession(gs)
	if err := w.sessions.ActivateGameSession(w.ctx, g.ProcessID, gs); err != nil {
		t.Fatal(err)
	}
	backfill := func(id string, players ...gamelift.Player) (gamelift.MatchmakingTicket, error) {
		out, err := w.svc.StartMatchBackfill(w.ctx, &gamelift.StartMatchBackfillInput{TicketId: id, ConfigurationName: "q", GameSessionArn: gs, Players: players})
		if err != nil {
			return gamelift.MatchmakingTicket{}, err
		}
		return *out.MatchmakingTicket, nil
	}
	pa, pb := gamelift.Player{PlayerId: "pa", Team: "red"}, gamelift.Player{PlayerId: "pb", Team: "blue"}
	t.Run("every player of a backfill request needs a team", func(t *testing.T) {
		_, err := backfill("m0", pa, gamelift.Player{PlayerId: "pb"})
		wantFault(t, err, fault.Invalid, "Players[1].Team")
	})
	t.Run("a player who left the game session is not part of the request", func(t *testing.T) {
		w := w.in(t)
		b := w.ticket("b").GameSessionConnectionInfo.MatchedPlayerSessions[0].PlayerSessionId
		if err := w.sessions.RemovePlayerSession(w.ctx, g.ProcessID, gs, b, ""); err != nil {
			t.Fatal(err)
		}
		tk, err := backfill("m1", pa, pb)
		if err != nil {
			t.Fatal(err)
		}
		if len(tk.Players) != 1 || tk.Players[0].PlayerId != "pa" || tk.Status != gamelift.TicketQueued {
			t.Fatalf("backfill ticket %+v", tk)
		}
		// Its MatchmakingSearching shows the players in their teams, as a
		// backfill ticket's players always are.
		w.cycle("q")
		searching := 0
		for _, ev := range w.outbox(matchmaking.EventSearching) {
			if ev.Detail.Tickets[0].TicketID != "m1" {
				continue
			}
			searching++
			if ev.Detail.Tickets[0].Players[0].Team != "red" {
				t.Fatalf("the backfill ticket's MatchmakingSearching players %+v, want pa in red", ev.Detail.Tickets[0].Players)
			}
		}
		if searching == 0 {
			t.Fatal("no MatchmakingSearching for the backfill ticket")
		}
	})
	t.Run("a request whose every player has left is refused naming Players", func(t *testing.T) {
		_, err := backfill("m-empty", pb)
		wantFault(t, err, fault.Invalid, "Players", "left")
	})
	t.Run("a newer request replaces the game session's searching one", func(t *testing.T) {
		w := w.in(t)
		w.cycle("q")
		if _, err := backfill("m2", pa); err != nil {
			t.Fatal(err)
		}
		if tk := w.ticket("m1"); tk.Status != gamelift.TicketCancelled || !strings.Contains(tk.StatusMessage, "replaced") {
			t.Fatalf("replaced ticket %+v", tk)
		}
		w.cycle("q")
		w.wantStatus(gamelift.TicketSearching, "m2")
	})
	t.Run("the game server stops its request through the Backfiller; the server is told, and a second stop succeeds", func(t *testing.T) {
		w := w.in(t)
		b := w.svc.Backfiller()
		configARN := w.arns.Build(gamelift.ResourceMatchmakingConfiguration, "q")
		wantFault(t, b.StopMatchBackfill(w.ctx, gs+"-other", configARN, "m2"), fault.Forbidden, "m2")
		if err := b.StopMatchBackfill(w.ctx, gs, configARN, "m2"); err != nil {
			t.Fatal(err)
		}
		w.wantStatus(gamelift.TicketCancelled, "m2")
		if p := w.waitPush(matchmaking.UpdateBackfillCanceled); p.ticket != "m2" || p.gameSession != gs {
			t.Fatalf("push %+v", p)
		}
		if err := b.StopMatchBackfill(w.ctx, gs, configARN, "m2"); err != nil {
			t.Fatalf("a second stop: %v", err)
		}
	})
	t.Run("a request from the game server takes the SDK's attribute types; unanswered, it times out and the server is told", func(t *testing.T) {
		w := w.in(t)
		id, err := w.svc.Backfiller().StartMatchBackfill(w.ctx, session.BackfillRequest{GameSessionArn: gs, TicketID: "sdk-1",
			MatchmakingConfigurationArn: w.arns.Build(gamelift.ResourceMatchmakingConfiguration, "q"),
			Players: []session.BackfillPlayer{{PlayerId: "pa", Team: "red", LatencyInMs: map[string]int32{"custom-home": 12},
				PlayerAttributes: map[string]session.AttributeValue{"skill": {AttrType: "DOUBLE", N: 1000}, "title": {AttrType: "STRING", S: "captain"},
					"tags": {AttrType: "STRING_LIST", SL: []string{"x"}}, "gear": {AttrType: "STRING_DOUBLE_MAP", SDM: map[string]float64{"sword": 1}},
					"none": {AttrType: "NONE"}}}}})
		if err != nil || id != "sdk-1" {
			t.Fatal(id, err)
		}
		tk := w.ticket("sdk-1")
		attrs := tk.Players[0].PlayerAttributes
		if *attrs["skill"].N != 1000 || *attrs["title"].S != "captain" || attrs["tags"].SL[0] != "x" || attrs["gear"].SDM["sword"] != 1 || len(attrs) != 4 ||
			tk.Players[0].LatencyInMs["custom-home"] != 12 {
			t.Fatalf("backfill ticket players %+v", tk.Players)
		}
		w.cycle("q")
		w.advance("q", 61*time.Second)
		w.wantStatus(gamelift.TicketTimedOut, "sdk-1")
		if p := w.waitPush(matchmaking.UpdateBackfillTimedOut); p.ticket != "sdk-1" {
			t.Fatalf("push %+v", p)
		}
	})
}

func TestBackfillWithoutHosting(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("squad", squadRules)
	w.standalone("s", "squad", nil)
	t.Run("a backfill of a game session needs the hosting service", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StartMatchBackfill(w.ctx, &gamelift.StartMatchBackfillInput{ConfigurationName: "s",
			GameSessionArn: "arn:aws:gamelift:mu-local-1::gamesession/fleet-1/custom-home/gs-1", Players: []gamelift.Player{{PlayerId: "pa", Team: "red"}}})
		wantFault(t, err, fault.Unsupported, "GameSessionArn")
	})
	t.Run("a backfill without a game session joins a new player to the request's players, on their teams", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.StartMatchBackfill(w.ctx, &gamelift.StartMatchBackfillInput{TicketId: "bf", ConfigurationName: "s",
			Players: []gamelift.Player{{PlayerId: "pa", Team: "red", PlayerAttributes: skill(1000)}}})
		if err != nil || out.MatchmakingTicket.Status != gamelift.TicketQueued {
			t.Fatal(out, err)
		}
		w.cycle("s")
		w.startTicket("s", "new", "pn", 1000)
		w.cycle("s")
		w.wantStatus(gamelift.TicketCompleted, "bf", "new")
		if tk := w.ticket("new"); tk.Players[0].Team != "blue" && tk.Players[0].Team != "red" {
			t.Fatalf("new player's team %q", tk.Players[0].Team)
		}
	})
	t.Run("a read-only key may not start a backfill", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StartMatchBackfill(readOnly(t), &gamelift.StartMatchBackfillInput{ConfigurationName: "s", Players: []gamelift.Player{{PlayerId: "p", Team: "red"}}})
		wantFault(t, err, fault.Forbidden)
	})
}
