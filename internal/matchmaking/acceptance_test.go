package matchmaking_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
)

// acceptanceWorld has a configuration "acc" that asks players to accept
// within 30 seconds.
func acceptanceWorld(t *testing.T) *world {
	w := duelWorld(t)
	w.standalone("acc", "duel", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.AcceptanceRequired, in.AcceptanceTimeoutSeconds = ptr(true), ptr(int32(30))
	})
	return w
}

// proposed starts two tickets that match each other and runs the cycle
// that proposes their match.
func (w *world) proposed(a, b string) {
	w.t.Helper()
	w.startTicket("acc", a, "p-"+a, 1000)
	w.startTicket("acc", b, "p-"+b, 1000)
	w.cycle("acc")
	w.wantStatus(gamelift.TicketRequiresAcceptance, a, b)
}

// answered records an answer that must be taken.
func (w *world) answered(ticket string, accept bool) {
	w.t.Helper()
	if err := w.answer(ticket, accept); err != nil {
		w.t.Fatal(err)
	}
}

// answer answers a proposed match for the one player of a ticket.
func (w *world) answer(ticket string, accept bool) error {
	typ := gamelift.AcceptanceReject
	if accept {
		typ = gamelift.AcceptanceAccept
	}
	_, err := w.svc.AcceptMatch(w.ctx, &gamelift.AcceptMatchInput{TicketId: ticket, PlayerIds: []string{"p-" + ticket}, AcceptanceType: typ})
	return err
}

// wantAcceptance fails unless the last AcceptMatchCompleted event ended
// its round with the acceptance ("Accepted", "Rejected" or "TimedOut").
func (w *world) wantAcceptance(acceptance string) {
	w.t.Helper()
	evs := w.outbox(matchmaking.EventAcceptMatchCompleted)
	if len(evs) == 0 || evs[len(evs)-1].Detail.Acceptance != acceptance {
		w.t.Fatalf("AcceptMatchCompleted events %+v, want the last %s", evs, acceptance)
	}
}

func TestEveryPlayerAcceptsAndTheMatchCompletes(t *testing.T) {
	w := acceptanceWorld(t)
	w.proposed("a", "b")
	t.Run("the proposal announces the acceptance timeout", func(t *testing.T) {
		w := w.in(t)
		pm := w.outbox(matchmaking.EventPotentialMatch)[0].Detail
		if !*pm.AcceptanceRequired || *pm.AcceptanceTimeout != 30 {
			t.Fatalf("PotentialMatchCreated %+v", pm)
		}
	})
	t.Run("one answer leaves the match waiting, and an AcceptMatch event records it", func(t *testing.T) {
		w := w.in(t)
		w.answered("a", true)
		w.wantStatus(gamelift.TicketRequiresAcceptance, "a", "b")
		ev := w.outbox(matchmaking.EventAcceptMatch)
		if len(ev) != 1 {
			t.Fatalf("%d AcceptMatch events", len(ev))
		}
		for _, p := range ev[0].Detail.GameSessionInfo.Players {
			if answered := p.Accepted != nil; answered != (p.PlayerID == "p-a") || (answered && !*p.Accepted) {
				t.Fatalf("AcceptMatch players %+v: only p-a has accepted", ev[0].Detail.GameSessionInfo.Players)
			}
		}
	})
	t.Run("the last answer completes the match", func(t *testing.T) {
		w := w.in(t)
		w.answered("b", true)
		w.wantStatus(gamelift.TicketCompleted, "a", "b")
		w.wantAcceptance("Accepted")
		want := []string{matchmaking.EventSearching, matchmaking.EventPotentialMatch, matchmaking.EventAcceptMatch, matchmaking.EventAcceptMatch,
			matchmaking.EventAcceptMatchCompleted, matchmaking.EventSucceeded}
		if got := w.ticketEvents("a"); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
	t.Run("the deadline passing after the match completed changes nothing", func(t *testing.T) {
		w := w.in(t)
		w.advance("acc", 31*time.Second)
		w.wantStatus(gamelift.TicketCompleted, "a", "b")
		if n := len(w.outbox(matchmaking.EventAcceptMatchCompleted)); n != 1 {
			t.Fatalf("%d AcceptMatchCompleted events", n)
		}
	})
	t.Run("an answer after the match completed is refused naming the status", func(t *testing.T) {
		w := w.in(t)
		wantFault(t, w.answer("b", true), fault.Invalid, "TicketId", gamelift.TicketCompleted)
	})
}

func TestOnePlayerRejects(t *testing.T) {
	w := acceptanceWorld(t)
	w.proposed("a", "b")
	w.answered("a", true)
	w.answered("b", false)
	t.Run("the rejecting ticket is CANCELLED as REJECTED", func(t *testing.T) {
		w := w.in(t)
		w.wantReason(gamelift.TicketCancelled, matchmaking.ReasonRejected, "rejected", "b")
		w.wantAcceptance("Rejected")
	})
	t.Run("the accepting ticket searches again without its team, and says why", func(t *testing.T) {
		w := w.in(t)
		tk := w.ticket("a")
		if tk.Status != gamelift.TicketSearching || tk.StatusReason != matchmaking.ReasonAcceptanceFailed || tk.Players[0].Team != "" {
			t.Fatalf("ticket %+v", tk)
		}
		evs := w.ticketEvents("a")
		if evs[len(evs)-1] != matchmaking.EventSearching {
			t.Fatalf("events %v end without MatchmakingSearching", evs)
		}
	})
	t.Run("each ticket's event gives the reason its ticket does", func(t *testing.T) {
		w := w.in(t)
		reasons := map[string]string{}
		for _, ev := range w.outbox(matchmaking.EventCancelled, matchmaking.EventSearching) {
			reasons[ev.Detail.Type+" "+ev.Detail.Tickets[0].TicketID] = ev.Detail.Reason
		}
		if got := reasons[matchmaking.EventCancelled+" b"]; got != matchmaking.ReasonRejected {
			t.Errorf("MatchmakingCancelled of b: reason %q, want %s as its ticket", got, matchmaking.ReasonRejected)
		}
		if got := reasons[matchmaking.EventSearching+" a"]; got != matchmaking.ReasonAcceptanceFailed {
			t.Errorf("MatchmakingSearching of a: reason %q, want %s as its ticket", got, matchmaking.ReasonAcceptanceFailed)
		}
	})
	t.Run("the rejecting player is free and the accepting one is matched again", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("acc", "c", "p-b", 1000)
		w.cycle("acc")
		w.cycle("acc")
		w.wantStatus(gamelift.TicketRequiresAcceptance, "a", "c")
	})
}

// A ticket back to searching after a failed acceptance announces the same
// wait estimate as every other MatchmakingSearching event of its pool, not
// "NOT_AVAILABLE" whatever the pool knows.
func TestATicketSearchingAgainAnnouncesThePoolsWaitEstimate(t *testing.T) {
	w := acceptanceWorld(t)
	for i := range 3 { // six matched tickets: enough samples for a mean
		a, b := fmt.Sprint("x", i), fmt.Sprint("y", i)
		w.proposed(a, b)
		w.answered(a, true)
		w.answered(b, true)
	}
	w.proposed("a", "b")
	w.answered("a", true)
	w.answered("b", false)
	want := w.ticket("a").EstimatedWaitTime
	if want == nil {
		t.Fatal("no EstimatedWaitTime after six matched tickets")
	}
	var got any
	for _, ev := range w.outbox(matchmaking.EventSearching) {
		if ev.Detail.Tickets[0].TicketID == "a" {
			got = ev.Detail.EstimatedWaitMillis
		}
	}
	if got != float64(*want) {
		t.Fatalf("estimatedWaitMillis %v after the rejection, want %d as the ticket's EstimatedWaitTime", got, *want)
	}
}

func TestAPlayerWhoDoesNotAnswerInTime(t *testing.T) {
	w := acceptanceWorld(t)
	w.proposed("a", "b")
	w.answered("a", true)
	w.clock.Advance(29 * time.Second)
	w.wantStatus(gamelift.TicketRequiresAcceptance, "a", "b")
	w.clock.Advance(time.Second)
	t.Run("at the deadline the silent ticket is CANCELLED as ACCEPTANCE_TIMEOUT", func(t *testing.T) {
		w := w.in(t)
		w.wantReason(gamelift.TicketCancelled, matchmaking.ReasonAcceptanceTimeout, "in time", "b")
		w.wantAcceptance("TimedOut")
	})
	t.Run("the ticket that accepted searches again", func(t *testing.T) {
		w := w.in(t)
		w.wantStatus(gamelift.TicketSearching, "a")
	})
	t.Run("an answer after the deadline is refused", func(t *testing.T) {
		w := w.in(t)
		wantFault(t, w.answer("b", true), fault.Invalid, gamelift.TicketCancelled)
	})
}

func TestNobodyAnswersInTime(t *testing.T) {
	w := acceptanceWorld(t)
	w.proposed("a", "b")
	w.clock.Advance(30 * time.Second)
	w.wantReason(gamelift.TicketCancelled, matchmaking.ReasonAcceptanceTimeout, "in time", "a", "b")
}

func TestTheAcceptanceDeadlineSurvivesARestart(t *testing.T) {
	w := acceptanceWorld(t)
	w.proposed("a", "b")
	w.answered("b", true)
	w.restart()
	t.Run("answers are kept across the restart", func(t *testing.T) {
		w := w.in(t)
		w.answered("a", true)
		w.wantStatus(gamelift.TicketCompleted, "a", "b")
	})
	t.Run("a pending round's deadline still ends it after a restart", func(t *testing.T) {
		w := w.in(t)
		w.proposed("c", "d")
		w.restart()
		w.clock.Advance(30 * time.Second)
		w.wantStatus(gamelift.TicketCancelled, "c", "d")
	})
}

func TestStoppingATicketThatAwaitsAcceptance(t *testing.T) {
	w := acceptanceWorld(t)
	w.proposed("a", "b")
	w.answered("a", true)
	if _, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "b"}); err != nil {
		t.Fatal(err)
	}
	t.Run("the stopped ticket is CANCELLED as Cancelled", func(t *testing.T) {
		w := w.in(t)
		w.wantReason(gamelift.TicketCancelled, matchmaking.ReasonCancelled, "by request", "b")
	})
	t.Run("the other ticket, whose players accepted, searches again", func(t *testing.T) {
		w := w.in(t)
		w.wantStatus(gamelift.TicketSearching, "a")
	})
	t.Run("the deadline passing later changes nothing", func(t *testing.T) {
		w := w.in(t)
		w.clock.Advance(31 * time.Second)
		w.wantStatus(gamelift.TicketSearching, "a")
	})
}

func TestAcceptMatchNamesEveryBadMember(t *testing.T) {
	w := acceptanceWorld(t)
	w.proposed("a", "b")
	w.startTicket("acc", "waiting", "p-w", 90000)
	wantRefusals(t, w, []refusal[gamelift.AcceptMatchInput]{
		{"an empty request names TicketId, PlayerIds and AcceptanceType at once",
			gamelift.AcceptMatchInput{}, fault.Invalid, []string{"TicketId", "PlayerIds", "AcceptanceType"}},
		{"an unknown acceptance type is refused naming AcceptanceType",
			gamelift.AcceptMatchInput{TicketId: "a", PlayerIds: []string{"p-a"}, AcceptanceType: "MAYBE"}, fault.Invalid, []string{"AcceptanceType"}},
		{"a player who is not in the ticket is refused naming its index",
			gamelift.AcceptMatchInput{TicketId: "a", PlayerIds: []string{"p-a", "p-b"}, AcceptanceType: gamelift.AcceptanceAccept}, fault.Invalid, []string{"PlayerIds[1]", "p-b"}},
		{"a ticket that does not exist is NotFound",
			gamelift.AcceptMatchInput{TicketId: "ghost", PlayerIds: []string{"p"}, AcceptanceType: gamelift.AcceptanceAccept}, fault.NotFound, []string{"ghost"}},
		{"a ticket that awaits no acceptance is refused naming its status",
			gamelift.AcceptMatchInput{TicketId: "waiting", PlayerIds: []string{"p-w"}, AcceptanceType: gamelift.AcceptanceAccept}, fault.Invalid, []string{"REQUIRES_ACCEPTANCE"}},
	}, func(w *world, in gamelift.AcceptMatchInput) error {
		_, err := w.svc.AcceptMatch(w.ctx, &in)
		return err
	})
	t.Run("a read-only key may not answer", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.AcceptMatch(readOnly(t), &gamelift.AcceptMatchInput{TicketId: "a", PlayerIds: []string{"p-a"}, AcceptanceType: gamelift.AcceptanceAccept})
		wantFault(t, err, fault.Forbidden)
	})
	t.Run("no refused answer was recorded", func(t *testing.T) {
		w := w.in(t)
		if n := len(w.outbox(matchmaking.EventAcceptMatch)); n != 0 {
			t.Fatalf("%d AcceptMatch events", n)
		}
	})
}

func TestABackfillMatchAsksOnlyTheNewPlayers(t *testing.T) {
	w := acceptanceWorld(t)
	w.ruleSet("squad", squadRules)
	w.standalone("squad", "squad", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.AcceptanceRequired, in.AcceptanceTimeoutSeconds = ptr(true), ptr(int32(30))
	})
	backfill := func(w *world, id, player string) {
		w.t.Helper()
		if _, err := w.svc.StartMatchBackfill(w.ctx, &gamelift.StartMatchBackfillInput{TicketId: id, ConfigurationName: "squad",
			Players: []gamelift.Player{{PlayerId: player, Team: "red", PlayerAttributes: skill(1000)}}}); err != nil {
			w.t.Fatal(err)
		}
		w.cycle("squad")
	}
	backfill(w, "bf", "p-bf")
	w.startTicket("squad", "new", "p-new", 1000)
	w.cycle("squad")
	w.wantStatus(gamelift.TicketRequiresAcceptance, "bf", "new")
	t.Run("an answer on the backfill ticket is refused and changes nothing", func(t *testing.T) {
		w := w.in(t)
		for _, accept := range []bool{true, false} {
			wantFault(t, w.answer("bf", accept), fault.Invalid, "TicketId", "backfill ticket")
		}
		w.wantStatus(gamelift.TicketRequiresAcceptance, "bf", "new")
	})
	t.Run("a player already in the game cannot read, cancel or answer the backfill ticket", func(t *testing.T) {
		w := w.in(t)
		inGame := player(w.ctx, "p-bf")
		_, err := w.svc.TicketForPlayer(inGame, "bf")
		wantFault(t, err, fault.NotFound, "bf")
		wantFault(t, w.svc.AcceptForPlayer(inGame, "bf", false), fault.NotFound)
		wantFault(t, w.svc.CancelForPlayer(inGame, "bf"), fault.NotFound)
		w.wantStatus(gamelift.TicketRequiresAcceptance, "bf", "new")
	})
	t.Run("the new player's acceptance completes the backfill", func(t *testing.T) {
		w := w.in(t)
		w.answered("new", true)
		w.wantStatus(gamelift.TicketCompleted, "bf", "new")
		w.wantAcceptance("Accepted")
	})
	t.Run("when the new player rejects, the backfill request searches again", func(t *testing.T) {
		w := w.in(t)
		backfill(w, "bf2", "p-bf2")
		w.startTicket("squad", "new2", "p-new2", 1000)
		w.cycle("squad")
		w.answered("new2", false)
		w.wantReason(gamelift.TicketCancelled, matchmaking.ReasonRejected, "rejected", "new2")
		w.wantReason(gamelift.TicketSearching, matchmaking.ReasonAcceptanceFailed, "did not accept", "bf2")
		if tk := w.ticket("bf2"); tk.Players[0].Team != "red" {
			t.Fatalf("the backfill request's player lost its team: %+v", tk.Players)
		}
	})
}
