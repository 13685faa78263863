package client_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/testenv"
)

// A restart of the server (one replica of a rolling restart, seen from a
// player behind the load balancer) leaves nothing answering for the
// seconds it takes to stop and start again: every player waiting
// meanwhile, following the stream or polling, must still see the
// ticket's end, and the one on the stream must be on it again.
func TestWaitRidesOutARestart(t *testing.T) {
	ctx := waitTest(t)
	dir := t.TempDir()
	first := ownServer(t, testenv.WithDataDir(dir))
	var backend atomic.Value // the address the balancer sends to; "" for none
	backend.Store(first.Addr)
	var refused atomic.Int32 // connections the balancer had nowhere to send
	relay := testenv.NewRelay(t, func() string {
		addr := backend.Load().(string)
		if addr == "" {
			refused.Add(1)
		}
		return addr
	})
	url := "http://" + relay.Addr()
	waiters := []waiter{
		waitThere(ctx, t, url, "lonely", client.WithPollInterval(time.Hour)), // only the stream makes Wait see a change
		waitThere(ctx, t, url, "alone", client.WithPolling(), client.WithPollInterval(pollEvery)),
	}
	backend.Store("")
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	relay.Cut(first.Addr)
	// Down for longer than a few failed tries in a row, which Wait once
	// took for the end.
	testenv.Eventually(t, "the waiting players to find the server gone a few times", 20*time.Second, func() bool {
		return refused.Load() >= 12
	})
	second := testenv.Start(t, testenv.WithDataDir(dir), testenv.WithArgs("--player-ip-rate", "0"))
	backend.Store(second.Addr)
	for i, w := range waiters {
		if err := w.c.CancelTicket(ctx, w.ticket); err != nil {
			t.Fatal(err)
		}
		o := <-w.done
		var te *client.TicketError
		if !errors.As(o.err, &te) || te.Status != client.StatusCancelled {
			t.Fatalf("waiter %d: %v; statuses %v", i, o.err, o.statuses)
		}
	}
}

// waiter is a player waiting for a ticket.
type waiter struct {
	c      *client.Client
	ticket string
	done   <-chan outcome
}

// waitThere signs a player in at the server at url, starts a ticket in
// configuration and waits for it, backing off from 10 to 100 ms, until
// Wait has seen the ticket.
func waitThere(ctx context.Context, t *testing.T, url, configuration string, opts ...client.Option) waiter {
	t.Helper()
	c := client.New(url, append(opts, client.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond))...)
	if _, err := c.SignInAnonymous(ctx); err != nil {
		t.Fatal(err)
	}
	tk, err := c.StartMatchmaking(ctx, configuration, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 16)
	done := waitFor(ctx, c, tk.TicketID, seen)
	<-seen
	return waiter{c, tk.TicketID, done}
}
