package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/testenv"
)

// The server closes a stream whose access token expires (4001) unless the
// client hands it a fresh one. These tests move the server's clock, on
// which tokens expire, past a token's end while this machine's clock says
// it has most of its life left.
func TestAStreamOutlivesItsAccessToken(t *testing.T) {
	ctx := waitTest(t)
	s := ownServer(t, testenv.WithArgs("--fake-clock", "--access-token-lifetime", "1m"))
	// follow has a client behind f follow a new ticket over its event
	// stream alone (polling once an hour), until it has seen the ticket.
	follow := func(t *testing.T, f *flaky) (*client.Client, string, <-chan outcome) {
		c := flakyClient(t, f, client.WithPollInterval(time.Hour))
		tk, err := c.StartMatchmaking(ctx, "lonely", nil)
		if err != nil {
			t.Fatal(err)
		}
		seen := make(chan string, 16)
		done := waitFor(ctx, c, tk.TicketID, seen)
		<-seen
		return c, tk.TicketID, done
	}
	t.Run("a refreshed access token is handed to the open stream, which outlives the old one", func(t *testing.T) {
		f := &flaky{upstream: s.Addr}
		c, ticket, done := follow(t, f)
		advance(t, s, 30)
		if _, err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the server to greet the stream's new token", 10*time.Second, func() bool {
			hellos, _ := f.traffic()
			return hellos == 2
		})
		advance(t, s, 45) // the first token expired 15 s ago; the new one has 15 s left
		wantCancelled(t, c, ticket, done)
		if _, streams := f.count(); streams != 1 {
			t.Fatalf("%d streams: the renewed stream was closed", streams)
		}
	})
	t.Run("a stream closed for its expired token is opened again with a fresh one", func(t *testing.T) {
		f := &flaky{upstream: s.Addr}
		c, ticket, done := follow(t, f)
		advance(t, s, 75)
		testenv.Eventually(t, "the stream to be opened again", 10*time.Second, func() bool {
			hellos, _ := f.traffic()
			return hellos == 2
		})
		wantCancelled(t, c, ticket, done)
		// Not once more with the expired token first.
		if _, streams := f.count(); streams != 2 {
			t.Fatalf("%d streams", streams)
		}
	})
}

// A server that goes away without closing the connection (its host
// crashed, a NAT mapping was dropped) leaves a half-open stream that
// never ends by itself: the server's pings, or the answers to the
// client's, stop, and the client opens another stream.
func TestASilentStreamIsOpenedAgain(t *testing.T) {
	requirePush(t)
	ctx := waitTest(t)
	f := &flaky{}
	// A second of silence: the client pings after two thirds of it and
	// drops the stream if the answer takes longer than the last third,
	// which a loaded machine running the race detector can take.
	c, tk := behindFlaky(t, f, client.WithPollInterval(time.Hour), client.WithStreamSilence(time.Second))
	seen := make(chan string, 16)
	done := waitFor(ctx, c, tk.TicketID, seen)
	<-seen
	// The server pings every 15 s: before that, the client pings the
	// quiet stream (7 bytes a ping), and keeps it while it answers.
	testenv.Eventually(t, "the client to ping its quiet stream a few times", 10*time.Second, func() bool {
		_, sent := f.traffic()
		return sent >= 3*7
	})
	if _, streams := f.count(); streams != 1 {
		t.Fatalf("%d streams: a quiet stream that answers pings was dropped", streams)
	}
	f.freeze()
	wantCancelled(t, c, tk.TicketID, done)
	if _, streams := f.count(); streams != 2 {
		t.Fatalf("%d streams", streams)
	}
}

// A stream that cannot be opened again at once (the server restarting
// behind a proxy that answers 502 meanwhile) is tried again after a
// backoff, with the ticket polled meanwhile, not given up for polling.
func TestAStreamThatFailsToOpenAgainIsTriedAgain(t *testing.T) {
	requirePush(t)
	ctx := waitTest(t)
	f := &flaky{}
	// Polling once an hour: only the stream makes Wait see a change.
	c, tk := behindFlaky(t, f, client.WithPollInterval(time.Hour))
	seen := make(chan string, 16)
	done := waitFor(ctx, c, tk.TicketID, seen)
	<-seen
	// The first sighting may come from the first read, before the stream
	// is open: cut it only once the server has greeted it.
	testenv.Eventually(t, "the event stream to be open", 10*time.Second, func() bool {
		hellos, _ := f.traffic()
		return hellos == 1
	})
	f.mu.Lock()
	f.failStreams = 3
	f.mu.Unlock()
	f.cut()
	testenv.Eventually(t, "the event stream to be opened again", 10*time.Second, func() bool {
		hellos, _ := f.traffic()
		return hellos == 2
	})
	wantCancelled(t, c, tk.TicketID, done)
	if _, streams := f.count(); streams != 5 {
		t.Fatalf("%d streams", streams)
	}
}

// wantCancelled cancels ticket and wants its Wait, done, to end with it.
func wantCancelled(t *testing.T, c *client.Client, ticket string, done <-chan outcome) {
	t.Helper()
	if err := c.CancelTicket(context.Background(), ticket); err != nil {
		t.Fatal(err)
	}
	o := <-done
	var te *client.TicketError
	if !errors.As(o.err, &te) || te.Status != client.StatusCancelled {
		t.Fatalf("%v; statuses %v", o.err, o.statuses)
	}
}
