package client_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/client"
)

// pollEvery keeps a waiting player under the server's default limit of
// 10 requests per second per player.
const pollEvery = 100 * time.Millisecond

// latencies are a player's measured latencies, as MeasureLatencies gives.
var latencies = map[string]int{homeLocation: 20}

// waitTest bounds a test's waits: a broken server fails the test instead
// of hanging it.
func waitTest(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// outcome is what Wait returned.
type outcome struct {
	match    *client.Match
	err      error
	statuses []string
}

// waitFor runs Wait in the background, recording every status it sees;
// seen receives each one (when not nil).
func waitFor(ctx context.Context, c *client.Client, ticketID string, seen chan<- string, opts ...client.WaitOption) <-chan outcome {
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		opts = append(opts, client.OnStatus(func(t *client.Ticket) {
			o.statuses = append(o.statuses, t.Status)
			if seen != nil {
				seen <- t.Status
			}
		}))
		o.match, o.err = c.Wait(ctx, ticketID, opts...)
		done <- o
	}()
	return done
}

func start(t *testing.T, c *client.Client, configuration string, opts ...client.TicketOption) *client.Ticket {
	t.Helper()
	tk, err := c.StartMatchmaking(context.Background(), configuration, latencies, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != client.StatusQueued || tk.ConfigurationName != configuration || tk.TicketID == "" {
		t.Fatalf("a new ticket: %+v", tk)
	}
	return tk
}

// waitModes are the two ways Wait follows a ticket. Pushed, a client
// polls once an hour: only the server's events can make it see a change.
var waitModes = []struct {
	name string
	opts []client.Option
}{
	{"pushed", []client.Option{client.WithPollInterval(time.Hour)}},
	{"polled", []client.Option{client.WithPolling(), client.WithPollInterval(pollEvery)}},
}

// inMode runs f as a subtest per wait mode.
func inMode(t *testing.T, f func(t *testing.T, opts ...client.Option)) {
	for _, m := range waitModes {
		t.Run(m.name, func(t *testing.T) {
			if m.name == "pushed" {
				requirePush(t)
			}
			f(t, m.opts...)
		})
	}
}

// requirePush skips a test of the event stream when the server has none.
func requirePush(t *testing.T) {
	t.Helper()
	if res, _, err := shared.Request(context.Background(), http.MethodGet, "/v1/ws", "", ""); err != nil || res.StatusCode == http.StatusNotFound {
		t.Skip("the server offers no event stream (GET /v1/ws)", err)
	}
}

func TestTwoPlayersWaitForTheirMatch(t *testing.T) {
	inMode(t, func(t *testing.T, opts ...client.Option) {
		ctx := waitTest(t)
		ann, bob := signedIn(t, opts...), signedIn(t, opts...)
		ta := start(t, ann, "wait-duel")
		wa := waitFor(ctx, ann, ta.TicketID, nil)
		tb := start(t, bob, "wait-duel")
		wb := waitFor(ctx, bob, tb.TicketID, nil)
		a, b := <-wa, <-wb
		if a.err != nil || b.err != nil {
			t.Fatal(a.err, b.err)
		}
		for _, o := range []outcome{a, b} {
			if o.statuses[len(o.statuses)-1] != client.StatusCompleted {
				t.Fatalf("statuses seen: %v", o.statuses)
			}
			if o.match.Team == "" || len(o.match.Players) != 1 || o.match.Ticket.EndTime == "" {
				t.Fatalf("%+v", o.match)
			}
			// STANDALONE: the studio hosts the match, Muster places no game session.
			if o.match.Addr() != "" || o.match.PlayerSessionID != "" {
				t.Fatalf("a STANDALONE match with a game session: %+v", o.match)
			}
		}
		if a.match.TicketID != ta.TicketID || a.match.Players[0].PlayerID != ann.IdentityID() || a.match.Team == b.match.Team {
			t.Fatalf("%+v\n%+v", a.match, b.match)
		}
	})
}

func TestWaitEndsWithTheTicket(t *testing.T) {
	inMode(t, func(t *testing.T, opts ...client.Option) {
		ctx := waitTest(t)
		c := signedIn(t, opts...)
		t.Run("a cancelled ticket's Wait returns a TicketError with its status and reason", func(t *testing.T) {
			tk := start(t, c, "lonely")
			seen := make(chan string, 16)
			done := waitFor(ctx, c, tk.TicketID, seen)
			<-seen // Wait is following the ticket
			if err := c.CancelTicket(ctx, tk.TicketID); err != nil {
				t.Fatal(err)
			}
			o := <-done
			var te *client.TicketError
			if !errors.As(o.err, &te) || te.Status != client.StatusCancelled || te.Reason == "" || te.TicketID != tk.TicketID || o.match != nil {
				t.Fatalf("%v %+v", o.err, te)
			}
			if err := c.CancelTicket(ctx, tk.TicketID); status(err) != http.StatusBadRequest {
				t.Fatalf("cancelling a finished ticket: %v", err)
			}
		})
		t.Run("Wait stops when its context ends, leaving the ticket", func(t *testing.T) {
			tk := start(t, c, "lonely")
			wctx, cancel := context.WithCancel(ctx)
			seen := make(chan string, 16)
			done := waitFor(wctx, c, tk.TicketID, seen)
			<-seen
			cancel()
			if o := <-done; !errors.Is(o.err, context.Canceled) {
				t.Fatal(o.err)
			}
			if now, err := c.Ticket(ctx, tk.TicketID); err != nil || now.Terminal() {
				t.Fatalf("%v %+v", err, now)
			}
			if err := c.CancelTicket(ctx, tk.TicketID); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func TestAcceptance(t *testing.T) {
	ctx := waitTest(t)
	ann, bob := signedIn(t, client.WithPollInterval(pollEvery)), signedIn(t, client.WithPollInterval(pollEvery))
	// answer makes a player answer every proposed match, after the other
	// player has answered when after is not nil; answered is closed then.
	answer := func(c *client.Client, accept bool, after <-chan struct{}, answered chan<- struct{}) client.WaitOption {
		return client.OnAcceptance(func(tk *client.Ticket) {
			if after != nil {
				<-after
			}
			if err := c.AcceptMatch(ctx, tk.TicketID, accept); err != nil {
				t.Error(err)
			}
			if answered != nil {
				close(answered)
			}
		})
	}
	t.Run("both players accept: both are matched", func(t *testing.T) {
		wa := waitFor(ctx, ann, start(t, ann, "acc").TicketID, nil, answer(ann, true, nil, nil))
		wb := waitFor(ctx, bob, start(t, bob, "acc").TicketID, nil, answer(bob, true, nil, nil))
		for _, o := range []outcome{<-wa, <-wb} {
			if o.err != nil || !slices.Contains(o.statuses, client.StatusRequiresAcceptance) {
				t.Fatal(o.err, o.statuses)
			}
		}
	})
	t.Run("a player who rejects ends with REJECTED; the other searches again", func(t *testing.T) {
		ta := start(t, ann, "acc")
		// bob rejects once ann has accepted: a player who has not answered
		// when another rejects is cancelled too.
		accepted := make(chan struct{})
		wa := waitFor(ctx, ann, ta.TicketID, nil, answer(ann, true, nil, accepted))
		b := <-waitFor(ctx, bob, start(t, bob, "acc").TicketID, nil, answer(bob, false, accepted, nil))
		var te *client.TicketError
		if !errors.As(b.err, &te) || te.Status != client.StatusCancelled || te.Reason != "REJECTED" || !slices.Contains(b.statuses, client.StatusRequiresAcceptance) {
			t.Fatal(b.err, b.statuses)
		}
		// The rejection ends the proposal for both tickets at once.
		if tk, err := ann.Ticket(ctx, ta.TicketID); err != nil || tk.Status != client.StatusSearching {
			t.Fatalf("%v %+v", err, tk)
		}
		if err := ann.CancelTicket(ctx, ta.TicketID); err != nil {
			t.Fatal(err)
		}
		if a := <-wa; !errors.As(a.err, &te) || te.Status != client.StatusCancelled {
			t.Fatal(a.err)
		}
	})
}

// A proposal that fails sends the ticket back to searching, and the next
// one must be offered too, even when both happen while the game is still
// answering the first: Wait takes every state the stream pushed, in
// order, and so sees the ticket leave REQUIRES_ACCEPTANCE in between.
func TestEveryProposedMatchIsOffered(t *testing.T) {
	requirePush(t)
	ctx := waitTest(t)
	// ann polls once an hour: only the stream makes her Wait see a change.
	ann := signedIn(t, client.WithPollInterval(time.Hour))
	bob, cat := signedIn(t, client.WithPollInterval(pollEvery)), signedIn(t, client.WithPollInterval(pollEvery))
	accepted, release := make(chan struct{}), make(chan struct{})
	var offers atomic.Int32
	wa := waitFor(ctx, ann, start(t, ann, "acc").TicketID, nil, client.OnAcceptance(func(tk *client.Ticket) {
		if err := ann.AcceptMatch(ctx, tk.TicketID, true); err != nil {
			t.Error(err)
		}
		if offers.Add(1) == 1 {
			close(accepted)
			<-release // the first proposal fails and the next comes meanwhile
		}
	}))
	// bob rejects once ann has accepted: her ticket searches again.
	b := <-waitFor(ctx, bob, start(t, bob, "acc").TicketID, nil, client.OnAcceptance(func(tk *client.Ticket) {
		<-accepted
		if err := bob.AcceptMatch(ctx, tk.TicketID, false); err != nil {
			t.Error(err)
		}
	}))
	var te *client.TicketError
	if !errors.As(b.err, &te) || te.Reason != "REJECTED" {
		t.Fatal(b.err, b.statuses)
	}
	offered := make(chan struct{})
	var once sync.Once
	wc := waitFor(ctx, cat, start(t, cat, "acc").TicketID, nil, client.OnAcceptance(func(tk *client.Ticket) {
		once.Do(func() { close(offered) })
		if err := cat.AcceptMatch(ctx, tk.TicketID, true); err != nil {
			t.Error(err)
		}
	}))
	<-offered // ann is in the second proposal, still answering the first
	close(release)
	a, c := <-wa, <-wc
	if a.err != nil || c.err != nil {
		t.Fatal(a.err, c.err, a.statuses)
	}
	if n := offers.Load(); n != 2 {
		t.Fatalf("ann was offered %d proposals, want 2; statuses %v", n, a.statuses)
	}
}

func TestPartiesAreMatchedTogether(t *testing.T) {
	ctx := waitTest(t)
	ann, bob, cat := signedIn(t, client.WithPollInterval(pollEvery)), signedIn(t, client.WithPollInterval(pollEvery)), signedIn(t, client.WithPollInterval(pollEvery))
	party, err := bob.CreateParty(ctx, latencies)
	if err != nil || party.LeaderID != bob.IdentityID() || party.InviteCode == "" {
		t.Fatalf("%v %+v", err, party)
	}
	if _, err := cat.JoinParty(ctx, party.PartyID, "WRONG", latencies); status(err) != http.StatusForbidden {
		t.Fatalf("joined with a wrong invite code: %v", err)
	}
	if _, err := cat.JoinParty(ctx, party.PartyID, party.InviteCode, latencies); err != nil {
		t.Fatal(err)
	}
	if p, err := cat.Party(ctx, party.PartyID); err != nil || len(p.Members) != 2 || p.Members[1].IdentityID != cat.IdentityID() {
		t.Fatalf("%v %+v", err, p)
	}
	if _, err := cat.StartMatchmaking(ctx, "squad", latencies, client.ForParty(party.PartyID)); status(err) != http.StatusForbidden {
		t.Fatalf("a member who does not lead started the party's ticket: %v", err)
	}
	tp := start(t, bob, "squad", client.ForParty(party.PartyID))
	// Every member follows the party's ticket; a lone player makes the other team.
	wb, wc := waitFor(ctx, bob, tp.TicketID, nil), waitFor(ctx, cat, tp.TicketID, nil)
	wa := waitFor(ctx, ann, start(t, ann, "squad").TicketID, nil)
	a, b, c := <-wa, <-wb, <-wc
	if a.err != nil || b.err != nil || c.err != nil {
		t.Fatal(a.err, b.err, c.err)
	}
	if b.match.Team == "" || b.match.Team != c.match.Team || a.match.Team == b.match.Team || len(c.match.Players) != 2 {
		t.Fatalf("ann %+v\nbob %+v\ncat %+v", a.match, b.match, c.match)
	}
	if err := cat.LeaveParty(ctx, party.PartyID); err != nil {
		t.Fatal(err)
	}
	if p, err := bob.Party(ctx, party.PartyID); err != nil || len(p.Members) != 1 {
		t.Fatalf("%v %+v", err, p)
	}
}

func TestWaitRidesOutAFlakyNetwork(t *testing.T) {
	ctx := waitTest(t)
	for _, mode := range []struct {
		name    string
		opts    []client.Option
		streams int
	}{{"pushed", nil, 1}, {"polled", []client.Option{client.WithPolling()}, 0}} {
		t.Run(mode.name+": a dropped connection and a 502 in a row are read again", func(t *testing.T) {
			f := &flaky{fail: 2}
			c, tk := behindFlaky(t, f, mode.opts...)
			if err := c.CancelTicket(ctx, tk.TicketID); err != nil {
				t.Fatal(err)
			}
			_, err := c.Wait(ctx, tk.TicketID)
			var te *client.TicketError
			if reads, streams := f.count(); !errors.As(err, &te) || te.Status != client.StatusCancelled || reads != 3 || streams != mode.streams {
				t.Fatalf("%v after %d reads, %d streams", err, reads, streams)
			}
		})
		t.Run(mode.name+": an outage of many failed reads in a row is ridden out", func(t *testing.T) {
			f := &flaky{fail: 12}
			c, tk := behindFlaky(t, f, mode.opts...)
			if err := c.CancelTicket(ctx, tk.TicketID); err != nil {
				t.Fatal(err)
			}
			_, err := c.Wait(ctx, tk.TicketID)
			var te *client.TicketError
			if reads, _ := f.count(); !errors.As(err, &te) || te.Status != client.StatusCancelled || reads != 13 {
				t.Fatalf("%v after %d reads", err, reads)
			}
		})
		t.Run(mode.name+": an outage longer than WithMaxOutage is Wait's error", func(t *testing.T) {
			f := &flaky{fail: 1000}
			c, tk := behindFlaky(t, f, append(mode.opts, client.WithMaxOutage(50*time.Millisecond))...)
			defer c.CancelTicket(ctx, tk.TicketID)
			if _, err := c.Wait(ctx, tk.TicketID); status(err) != http.StatusBadGateway {
				t.Fatal(err)
			}
			if reads, _ := f.count(); reads < 2 {
				t.Fatalf("%d reads", reads)
			}
		})
	}
	t.Run("an event stream that drops is opened again, and the ticket read again", func(t *testing.T) {
		requirePush(t)
		f := &flaky{}
		// Polling once an hour: only the stream makes Wait see a change.
		c, tk := behindFlaky(t, f, client.WithPollInterval(time.Hour))
		seen := make(chan string, 16)
		done := waitFor(ctx, c, tk.TicketID, seen)
		<-seen
		f.cut()
		if err := c.CancelTicket(ctx, tk.TicketID); err != nil {
			t.Fatal(err)
		}
		o := <-done
		var te *client.TicketError
		if reads, streams := f.count(); !errors.As(o.err, &te) || te.Status != client.StatusCancelled || streams != 2 {
			t.Fatalf("%v after %d reads, %d streams", o.err, reads, streams)
		}
	})
	t.Run("where the event stream is refused, Wait polls", func(t *testing.T) {
		f := &flaky{refuse: true}
		c, tk := behindFlaky(t, f)
		seen := make(chan string, 16)
		done := waitFor(ctx, c, tk.TicketID, seen)
		<-seen
		if err := c.CancelTicket(ctx, tk.TicketID); err != nil {
			t.Fatal(err)
		}
		o := <-done
		var te *client.TicketError
		if reads, streams := f.count(); !errors.As(o.err, &te) || te.Status != client.StatusCancelled || streams != 1 || reads < 2 {
			t.Fatalf("%v after %d reads, %d streams", o.err, reads, streams)
		}
	})
}

// Wait reads the ticket once, when its event stream is open: a change
// after that arrives on the stream with the ticket in it, and is not read
// again, except a final state, whose read is the ticket's own record.
func TestAPushedChangeIsNotReadAgain(t *testing.T) {
	requirePush(t)
	ctx := waitTest(t)
	f := &flaky{}
	// Polling once an hour: only the stream makes Wait see a change.
	ann := flakyClient(t, f, client.WithPollInterval(time.Hour))
	seen := make(chan string, 16)
	reject := client.OnAcceptance(func(tk *client.Ticket) {
		if err := ann.AcceptMatch(ctx, tk.TicketID, false); err != nil {
			t.Error(err)
		}
	})
	done := waitFor(ctx, ann, start(t, ann, "acc").TicketID, seen, reject)
	<-seen // Wait has read the ticket, and its stream is open
	bob := signedIn(t, client.WithPollInterval(pollEvery))
	tb := start(t, bob, "acc")
	defer bob.CancelTicket(ctx, tb.TicketID)
	o := <-done
	var te *client.TicketError
	if !errors.As(o.err, &te) || te.Reason != "REJECTED" || !slices.Contains(o.statuses, client.StatusRequiresAcceptance) {
		t.Fatal(o.err, o.statuses)
	}
	// One read when the stream opened and one of the final state; the
	// proposal came on the stream alone.
	if reads, streams := f.count(); reads != 2 || streams != 1 {
		t.Fatalf("%d reads, %d streams; statuses %v", reads, streams, o.statuses)
	}
}

// FindMatch opens the event stream before it asks for the match, so the
// ticket is never read: its first status is the one it started in, and
// every change after that, COMPLETED included, comes on the stream.
func TestFindMatchReadsNoTicket(t *testing.T) {
	requirePush(t)
	ctx := waitTest(t)
	type found struct {
		outcome
		reads, streams int
	}
	done := make(chan found, 2)
	for range 2 {
		f := &flaky{}
		// Polling once an hour: only the stream makes FindMatch see a change.
		c := flakyClient(t, f, client.WithPollInterval(time.Hour))
		go func() {
			var o found
			o.match, o.err = c.FindMatch(ctx, "wait-duel", latencies, client.OnStatus(func(tk *client.Ticket) {
				o.statuses = append(o.statuses, tk.Status)
			}))
			o.reads, o.streams = f.count()
			done <- o
		}()
	}
	teams := map[string]bool{}
	for range 2 {
		o := <-done
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.statuses[0] != client.StatusQueued || o.statuses[len(o.statuses)-1] != client.StatusCompleted {
			t.Fatalf("statuses seen: %v", o.statuses)
		}
		if o.reads != 0 || o.streams != 1 {
			t.Fatalf("%d reads, %d streams; statuses %v", o.reads, o.streams, o.statuses)
		}
		if m := o.match; m.TicketID == "" || m.Team == "" || len(m.Players) != 1 || m.Ticket.EndTime == "" {
			t.Fatalf("%+v", m)
		}
		teams[o.match.Team] = true
	}
	if len(teams) != 2 {
		t.Fatalf("both players on team %v", teams)
	}
}
