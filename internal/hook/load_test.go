package hook_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/testenv"
)

func ticketDraft() *matchmaking.TicketDraft {
	return &matchmaking.TicketDraft{PlayerID: "p-1", ConfigurationName: "duel", Types: map[string]string{},
		Players: []matchmaking.DraftPlayer{{PlayerID: "p-1"}}}
}

// Until the registrations have been read once, no one knows which hooks a
// request must pass: every point refuses with 503 (NotReady, which the
// player API answers with Retry-After), a configuration's matches are held
// for MatchProposed to refuse rather than let through unvetted, and the
// read is retried once Reload has passed, not at every request.
func TestHooksThatCannotBeReadFailClosedUntilARetrySucceeds(t *testing.T) {
	studio := &answering{answer: func(*http.Request) string { return `{"allow":true}` }}
	l := newLone(t, hook.Config{Client: studio.client()})
	l.configuration("duel")
	l.create(hook.CreateInput{URL: "http://hooks.example.test/ticket", Point: hook.BeforeTicket, FailMode: hook.FailOpen})
	l.reads.failWith(errors.New("the disk is on fire"))
	svc := l.another(hook.Config{Destinations: private, Client: studio.client()}) // a restart

	if err := svc.BeforeTicket(l.ctx, ticketDraft()); fault.KindOf(err) != fault.NotReady {
		t.Fatalf("a ticket gets %v (%v), want NotReady (503)", fault.KindOf(err), err)
	}
	if !svc.GatesTickets(l.ctx, "duel") {
		t.Fatal("a ticket skips the gate while the hooks are unknown")
	}
	if !svc.VetsMatches("duel") {
		t.Fatal("a configuration's matches go through unvetted while the hooks are unknown")
	}
	if _, err := svc.MatchProposed(l.ctx, &matchmaking.MatchDraft{ConfigurationName: "duel"}); fault.KindOf(err) != fault.NotReady {
		t.Fatalf("a proposed match gets %v, want NotReady", err)
	}
	if got := l.logs.lines("hooks: reading registrations failed"); len(got) != 1 {
		t.Fatalf("want one line about the failed read, got %q", got)
	}

	l.reads.failWith(nil)
	before := l.reads.count()
	if err := svc.BeforeTicket(l.ctx, ticketDraft()); fault.KindOf(err) != fault.NotReady || l.reads.count() != before {
		t.Fatalf("a request right after a failed read read again (%d reads) or got %v", l.reads.count()-before, err)
	}
	l.clk.Advance(time.Second)
	if err := svc.BeforeTicket(l.ctx, ticketDraft()); err != nil || studio.count() != 1 {
		t.Fatalf("after the retry a ticket gets %v and the hook was called %d times", err, studio.count())
	}
}

// The matchmaking cycle asks VetsMatches in every pass: it must not wait
// while another goroutine reads the registrations. The set in force
// answers until the read is done.
func TestAReadOfTheRegistrationsDoesNotHoldUpTheMatchmakingCycle(t *testing.T) {
	l := newLone(t, hook.Config{})
	l.configuration("duel")
	l.create(hook.CreateInput{URL: "http://hooks.example.test/match", Point: hook.MatchProposed, FailMode: hook.FailOpen,
		Configurations: []string{"duel"}})
	if !l.svc.VetsMatches("duel") {
		t.Fatal("the matchProposed hook does not vet its configuration")
	}
	l.clk.Advance(time.Second) // the registrations are due to be read again
	entered, release := l.reads.holdNext(t)
	done := make(chan error, 1)
	go func() { done <- l.svc.BeforeTicket(l.ctx, ticketDraft()) }()
	<-entered // a gate's read is in progress, and stays so

	vets := make(chan bool, 1)
	go func() { vets <- l.svc.VetsMatches("duel") }()
	select {
	case v := <-vets:
		if !v {
			t.Fatal("during a read, the configuration's matches are no longer vetted")
		}
	case <-time.After(10 * time.Second): // only a failing run waits for this
		t.Fatal("VetsMatches waited for another goroutine's read of the registrations")
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Run reads the registrations in the background: another replica's new
// matchProposed hook is in force here within Reload, without a request
// here having to read it.
func TestRunSeesAnotherReplicasChangeWithinReload(t *testing.T) {
	l := newLone(t, hook.Config{})
	l.configuration("duel")
	here := l.another(hook.Config{Destinations: private})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- here.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, "Run's first read", 10*time.Second, func() bool { return l.reads.count() > 0 && !here.VetsMatches("duel") })

	l.create(hook.CreateInput{URL: "http://hooks.example.test/match", Point: hook.MatchProposed, FailMode: hook.FailOpen,
		Configurations: []string{"duel"}}) // on the other replica
	l.clk.Advance(time.Second)
	testenv.Eventually(t, "the hook another replica registered to vet duel here, a Reload later", 10*time.Second, func() bool { return here.VetsMatches("duel") })
}
