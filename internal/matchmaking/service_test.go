package matchmaking_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// duelRules match two players one against one when their skills are
// within 20, and within 500 after ten seconds.
const duelRules = duelTeams + `,
  "expansions": [{"target": "rules[FairSkill].maxDistance", "steps": [{"waitTimeSeconds": 10, "value": 500}]}]
}`

// duelTeams is the rule set of duelRules up to its expansions, left open.
const duelTeams = `{
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
  "rules": [{"name": "FairSkill", "type": "distance",
             "measurements": "max(flatten(teams[*].players.attributes[skill]))",
             "referenceValue": "min(flatten(teams[*].players.attributes[skill]))",
             "maxDistance": 20}]`

var operator = auth.Principal{Kind: auth.Operator, AccessKeyID: "AKTEST", Role: auth.RoleAdmin}

func skill(n float64) map[string]gamelift.AttributeValue {
	return map[string]gamelift.AttributeValue{"skill": {N: &n}}
}

// env is a world (setup_test.go) with a duel configuration helper.
type env struct{ *world }

func newEnv(t *testing.T) *env { return &env{newWorld(t)} }

// config creates a STANDALONE configuration on a duel rule set of its own;
// mutate adjusts the request first.
func (e *env) config(name string, mutate func(*gamelift.CreateMatchmakingConfigurationInput)) {
	e.t.Helper()
	e.ruleSet("duel-"+name, duelRules)
	e.standalone(name, "duel-"+name, mutate)
}

// newSearchingPair is a duel configuration with tickets a (skill 1000) and
// b (1400) SEARCHING after one cycle: too far apart to match until the
// rule set's expansion at 10 s.
func newSearchingPair(t *testing.T) *env {
	e := newEnv(t)
	e.config("duel", nil)
	e.startTicket("duel", "a", "pa", 1000)
	e.startTicket("duel", "b", "pb", 1400)
	e.cycle("duel")
	return e
}

func TestStandaloneMatch(t *testing.T) {
	e := newEnv(t)
	e.config("duel", nil)
	t.Run("a new ticket is QUEUED, then SEARCHING", func(t *testing.T) {
		tk := e.startTicket("duel", "a", "pa", 1000)
		if tk.Status != gamelift.TicketQueued {
			t.Fatalf("status %s", tk.Status)
		}
		e.cycle("duel")
		e.in(t).wantStatus(gamelift.TicketSearching, "a")
	})
	t.Run("a close opponent completes the match with teams", func(t *testing.T) {
		e.startTicket("duel", "b", "pb", 1010)
		e.cycle("duel")
		a, b := e.ticket("a"), e.ticket("b")
		if a.Status != gamelift.TicketCompleted || b.Status != gamelift.TicketCompleted {
			t.Fatalf("statuses %s %s", a.Status, b.Status)
		}
		if a.Players[0].Team == "" || a.Players[0].Team == b.Players[0].Team || a.EndTime == nil {
			t.Fatalf("teams %q %q", a.Players[0].Team, b.Players[0].Team)
		}
		evs := e.outbox(matchmaking.EventPotentialMatch, matchmaking.EventSucceeded)
		if len(evs) != 2 || evs[0].Detail.MatchID == "" || evs[0].Detail.MatchID != evs[1].Detail.MatchID || len(evs[1].Detail.Tickets) != 2 {
			t.Fatalf("events %+v", evs)
		}
		if evs[1].DetailType != "GameLift Matchmaking Event" || evs[1].Resources[0] != "arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/duel" {
			t.Fatalf("envelope %+v", evs[1])
		}
	})
	t.Run("a player in an active ticket cannot start a second one", func(t *testing.T) {
		e.startTicket("duel", "c", "pc", 1000)
		_, err := e.svc.StartMatchmaking(e.ctx, &gamelift.StartMatchmakingInput{TicketId: "c2", ConfigurationName: "duel", Players: []gamelift.Player{{PlayerId: "pc"}}})
		if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "already in active ticket c") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("the same TicketId again is idempotent", func(t *testing.T) {
		tk := e.startTicket("duel", "c", "pc", 1000)
		if tk.TicketId != "c" {
			t.Fatal(tk)
		}
		_, err := e.svc.StartMatchmaking(e.ctx, &gamelift.StartMatchmakingInput{TicketId: "c", ConfigurationName: "duel", Players: []gamelift.Player{{PlayerId: "other"}}})
		if !fault.Is(err, fault.Invalid) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("expansions open the match as the ticket ages", func(t *testing.T) {
		e.startTicket("duel", "d", "pd", 1400)
		e.cycle("duel")
		e.in(t).wantStatus(gamelift.TicketSearching, "c")
		e.clock.Advance(10 * time.Second)
		e.cycle("duel")
		e.in(t).wantStatus(gamelift.TicketCompleted, "c")
	})
	t.Run("StopMatchmaking cancels; a second stop is refused", func(t *testing.T) {
		e.startTicket("duel", "e", "pe", 5000)
		e.cycle("duel")
		if _, err := e.svc.StopMatchmaking(e.ctx, &gamelift.StopMatchmakingInput{TicketId: "e"}); err != nil {
			t.Fatal(err)
		}
		tk := e.ticket("e")
		if tk.Status != gamelift.TicketCancelled || tk.StatusReason != matchmaking.ReasonCancelled {
			t.Fatal(tk.Status, tk.StatusReason)
		}
		if _, err := e.svc.StopMatchmaking(e.ctx, &gamelift.StopMatchmakingInput{TicketId: "e"}); !fault.Is(err, fault.Invalid) {
			t.Fatal(err)
		}
		if _, err := e.svc.StopMatchmaking(e.ctx, &gamelift.StopMatchmakingInput{TicketId: "nope"}); !fault.Is(err, fault.NotFound) {
			t.Fatal(err)
		}
		// the player may start again
		e.startTicket("duel", "e2", "pe", 9000)
	})
	t.Run("a ticket times out after RequestTimeoutSeconds", func(t *testing.T) {
		e.clock.Advance(61 * time.Second)
		e.cycle("duel")
		tk := e.ticket("e2")
		if tk.Status != gamelift.TicketTimedOut || tk.StatusReason != matchmaking.ReasonTimedOut {
			t.Fatal(tk.Status)
		}
		if len(e.outbox(matchmaking.EventTimedOut)) != 1 {
			t.Fatal("no MatchmakingTimedOut event")
		}
	})
	t.Run("finished tickets disappear after the retention period", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		out, err := e.svc.DescribeMatchmaking(e.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"a", "e2"}})
		if err != nil || len(out.TicketList) != 0 {
			t.Fatal(err, out)
		}
	})
}

func TestAcceptance(t *testing.T) {
	e := newEnv(t)
	e.config("acc", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		yes, to := true, int32(30)
		in.AcceptanceRequired, in.AcceptanceTimeoutSeconds = &yes, &to
	})
	accept := func(id, player, typ string) error {
		_, err := e.svc.AcceptMatch(e.ctx, &gamelift.AcceptMatchInput{TicketId: id, PlayerIds: []string{player}, AcceptanceType: typ})
		return err
	}
	t.Run("every player accepts: the match completes", func(t *testing.T) {
		e.startTicket("acc", "a1", "p1", 1000)
		e.startTicket("acc", "a2", "p2", 1000)
		e.cycle("acc")
		e.in(t).wantStatus(gamelift.TicketRequiresAcceptance, "a1")
		if err := accept("a1", "p1", "ACCEPT"); err != nil {
			t.Fatal(err)
		}
		e.in(t).wantStatus(gamelift.TicketRequiresAcceptance, "a1")
		if err := accept("a2", "p2", "ACCEPT"); err != nil {
			t.Fatal(err)
		}
		e.in(t).wantStatus(gamelift.TicketCompleted, "a2")
		if err := accept("a2", "p2", "ACCEPT"); !fault.Is(err, fault.Invalid) {
			t.Fatal(err)
		}
	})
	t.Run("one rejects: its ticket is cancelled, the other searches again", func(t *testing.T) {
		e.startTicket("acc", "b1", "q1", 1000)
		e.startTicket("acc", "b2", "q2", 1000)
		e.cycle("acc")
		if err := accept("b1", "q1", "ACCEPT"); err != nil {
			t.Fatal(err)
		}
		if err := accept("b2", "q2", "REJECT"); err != nil {
			t.Fatal(err)
		}
		b1, b2 := e.ticket("b1"), e.ticket("b2")
		if b1.Status != gamelift.TicketSearching || b1.StatusReason != matchmaking.ReasonAcceptanceFailed {
			t.Fatal(b1.Status, b1.StatusReason)
		}
		if b2.Status != gamelift.TicketCancelled || b2.StatusReason != matchmaking.ReasonRejected {
			t.Fatal(b2.Status, b2.StatusReason)
		}
		// b1 is back in the pool and matches a newcomer.
		e.startTicket("acc", "b3", "q3", 1000)
		e.cycle("acc")
		e.in(t).wantStatus(gamelift.TicketRequiresAcceptance, "b1")
	})
	t.Run("one does not answer in time: its ticket is cancelled", func(t *testing.T) {
		if err := accept("b3", "q3", "ACCEPT"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(31 * time.Second) // returns once the acceptance timer's callback has run
		e.wantStatus(gamelift.TicketCancelled, "b1")
		if tk := e.ticket("b1"); tk.StatusReason != matchmaking.ReasonAcceptanceTimeout {
			t.Fatal(tk.StatusReason)
		}
		e.wantStatus(gamelift.TicketSearching, "b3")
		ev := e.outbox(matchmaking.EventAcceptMatchCompleted)
		if ev[len(ev)-1].Detail.Acceptance != "TimedOut" {
			t.Fatal(ev[len(ev)-1].Detail.Acceptance)
		}
	})
}

func TestRestartKeepsTickets(t *testing.T) {
	e := newSearchingPair(t)
	start := e.ticket("a").StartTime
	e.restart()
	tk := e.ticket("a")
	if tk.Status != gamelift.TicketSearching || tk.StartTime.UnixMilli() != start.UnixMilli() {
		t.Fatal(tk.Status, tk.StartTime)
	}
	// Expansion ages are measured from the original start.
	e.clock.Advance(10 * time.Second)
	e.cycle("duel")
	if got := e.ticket("a").Status; got != gamelift.TicketCompleted {
		x, _ := e.svc.Explain(e.ctx, "a")
		t.Fatal(got, x.Text)
	}
}

func TestRuleSetsAndConfigurations(t *testing.T) {
	e := newEnv(t)
	e.config("duel", nil)
	t.Run("an invalid rule set lists every problem", func(t *testing.T) {
		_, err := e.svc.ValidateMatchmakingRuleSet(e.ctx, &gamelift.ValidateMatchmakingRuleSetInput{RuleSetBody: `{"ruleLanguageVersion":"1.0","teams":[]}`})
		if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "RuleSetBody") {
			t.Fatal(err)
		}
		out, err := e.svc.ValidateMatchmakingRuleSet(e.ctx, &gamelift.ValidateMatchmakingRuleSetInput{RuleSetBody: duelRules})
		if err != nil || !*out.Valid {
			t.Fatal(err)
		}
	})
	t.Run("a rule set in use cannot be deleted", func(t *testing.T) {
		_, err := e.svc.DeleteMatchmakingRuleSet(e.ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: "duel-duel"})
		if !fault.Is(err, fault.Invalid) {
			t.Fatal(err)
		}
	})
	t.Run("WITH_QUEUE needs a queue; STANDALONE refuses AUTOMATIC backfill", func(t *testing.T) {
		to, no := int32(10), false
		_, err := e.svc.CreateMatchmakingConfiguration(e.ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: "x", RuleSetName: "duel-duel", RequestTimeoutSeconds: &to, AcceptanceRequired: &no})
		if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "GameSessionQueueArns") {
			t.Fatal(err)
		}
		_, err = e.svc.CreateMatchmakingConfiguration(e.ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: "x", RuleSetName: "duel-duel", RequestTimeoutSeconds: &to,
			AcceptanceRequired: &no, FlexMatchMode: "STANDALONE", BackfillMode: "AUTOMATIC"})
		if !fault.Is(err, fault.Invalid) {
			t.Fatal(err)
		}
	})
	t.Run("configurations are found by name or ARN and updated", func(t *testing.T) {
		d := "new description"
		out, err := e.svc.UpdateMatchmakingConfiguration(e.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: "arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/duel", Description: &d})
		if err != nil || out.Configuration.Description != d {
			t.Fatal(err)
		}
		list, err := e.svc.DescribeMatchmakingConfigurations(e.ctx, &gamelift.DescribeMatchmakingConfigurationsInput{RuleSetName: "duel-duel"})
		if err != nil || len(list.Configurations) != 1 {
			t.Fatal(err, list)
		}
	})
	t.Run("a configuration with active tickets cannot be deleted", func(t *testing.T) {
		e.startTicket("duel", "a", "pa", 1)
		if _, err := e.svc.DeleteMatchmakingConfiguration(e.ctx, &gamelift.DeleteMatchmakingConfigurationInput{Name: "duel"}); !fault.Is(err, fault.Invalid) {
			t.Fatal(err)
		}
		e.svc.StopMatchmaking(e.ctx, &gamelift.StopMatchmakingInput{TicketId: "a"})
		if _, err := e.svc.DeleteMatchmakingConfiguration(e.ctx, &gamelift.DeleteMatchmakingConfigurationInput{Name: "duel"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DeleteMatchmakingRuleSet(e.ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: "duel-duel"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("players and read-only keys may not change anything", func(t *testing.T) {
		ctx := auth.With(t.Context(), auth.Principal{Kind: auth.Player, IdentityID: "x"})
		if _, err := e.svc.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"a"}}); err == nil {
			t.Fatal("a player described tickets")
		}
		ro := auth.With(t.Context(), auth.Principal{Kind: auth.Operator, Role: auth.RoleReadOnly})
		if _, err := e.svc.StopMatchmaking(ro, &gamelift.StopMatchmakingInput{TicketId: "a"}); !fault.Is(err, fault.Forbidden) {
			t.Fatal(err)
		}
	})
}

type tlog struct{ t *testing.T }

func (l tlog) Write(b []byte) (int, error) { l.t.Log(strings.TrimSpace(string(b))); return len(b), nil }

func TestRescanOfYoungTicketsEnds(t *testing.T) {
	e := newSearchingPair(t)
	// A tick with only young tickets waiting must not spin.
	e.clock.Advance(250 * time.Millisecond)
	e.cycle("duel")
	e.clock.Advance(10 * time.Second)
	e.cycle("duel")
	e.wantStatus(gamelift.TicketCompleted, "a")
}

func TestManyTicketsArrivingTogetherAllMatch(t *testing.T) {
	e := newEnv(t)
	e.config("duel", nil)
	for i := range 30 {
		e.startTicket("duel", fmt.Sprint("t", i), fmt.Sprint("p", i), float64(i/2)*1000)
	}
	e.cycle("duel")
	for i := range 30 {
		e.wantStatus(gamelift.TicketCompleted, fmt.Sprint("t", i))
	}
}

// EstimatedWaitTime (and a MatchmakingSearching event's
// estimatedWaitMillis) is the mean wait of the tickets matched in the last
// 10 minutes, once there are 5 of them.
func TestEstimatedWaitTimeIsTheMeanOfRecentWaits(t *testing.T) {
	e := newEnv(t)
	e.config("duel", nil)
	far := 50000.0
	lonely := func(id string) gamelift.MatchmakingTicket { // far from every other ticket: waits
		far += 10000
		e.startTicket("duel", id, "p-"+id, far)
		e.cycle("duel")
		return e.ticket(id)
	}
	// Pairs whose first ticket waits 2 s and 4 s: 4 samples (2, 0, 4, 0).
	pair := func(i int, wait time.Duration) {
		e.startTicket("duel", fmt.Sprint("a", i), fmt.Sprint("pa", i), float64(1000*i))
		e.cycle("duel")
		e.clock.Advance(wait)
		e.startTicket("duel", fmt.Sprint("b", i), fmt.Sprint("pb", i), float64(1000*i))
		e.cycle("duel")
		e.wantStatus(gamelift.TicketCompleted, fmt.Sprint("a", i))
	}
	pair(1, 2*time.Second)
	pair(2, 4*time.Second)
	if w := lonely("early").EstimatedWaitTime; w != nil {
		t.Fatalf("EstimatedWaitTime %d with 4 samples, want none", *w)
	}
	pair(3, 6*time.Second) // 6 samples: 2, 0, 4, 0, 6, 0 → mean 2 s
	if w := lonely("late").EstimatedWaitTime; w == nil || *w != 2 {
		t.Fatalf("EstimatedWaitTime %v, want 2 s", w)
	}
	var millis any
	for _, ev := range e.outbox(matchmaking.EventSearching) {
		if ev.Detail.Tickets[0].TicketID == "late" {
			millis = ev.Detail.EstimatedWaitMillis
		}
	}
	if millis != float64(2) { // seconds, as GameLift gives it despite the name
		t.Fatalf("MatchmakingSearching estimatedWaitMillis %v, want 2 (seconds, as EstimatedWaitTime)", millis)
	}
	e.clock.Advance(11 * time.Minute) // every sample leaves the window
	if w := lonely("after").EstimatedWaitTime; w != nil {
		t.Fatalf("EstimatedWaitTime %d after the window, want none", *w)
	}
}

// Process runs a pass on the caller's goroutine and returns once it is
// recorded: the fake clock stands still, so no tick runs it.
func TestProcessRunsAPassNow(t *testing.T) {
	e := newEnv(t)
	e.config("duel", nil)
	e.startTicket("duel", "a", "pa", 1000)
	e.startTicket("duel", "b", "pb", 1005)
	e.cycle("duel")
	e.wantStatus(gamelift.TicketCompleted, "a", "b")
	if err := e.svc.Process(e.ctx, "no-such-configuration"); err == nil {
		t.Fatal("Process of a configuration without a pool succeeded")
	}
}

func TestNewRefusesAConfigItCannotRunWith(t *testing.T) {
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "m.db"), Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = matchmaking.New(matchmaking.Config{Base: service.Base{Store: db}, CycleInterval: -time.Second, TicketRetention: -time.Hour})
	if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "CycleInterval") || !strings.Contains(err.Error(), "TicketRetention") {
		t.Fatalf("negative durations: %v", err)
	}
	if _, err := matchmaking.New(matchmaking.Config{}); !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "Store") {
		t.Fatalf("no store: %v", err)
	}
	if _, err := matchmaking.New(matchmaking.Config{Base: service.Base{Store: db}}); err != nil {
		t.Fatalf("zero durations take the defaults: %v", err)
	}
}
