package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// fetch reads a ticket, trying again while a failure is one of the
// server's absence (retryable) and the outage has lasted less than
// WithMaxOutage: a restart, or a rolling restart of replicas, must not
// end a wait the ticket outlives. It pauses between tries for the
// backoff, the server's Retry-After, or floor, whichever is longest.
func (c *Client) fetch(ctx context.Context, id string, floor time.Duration) (*Ticket, error) {
	var since time.Time
	for failures := 0; ; failures++ {
		t, err := c.Ticket(ctx, id)
		wait, again := retryable(err)
		if !again || ctx.Err() != nil {
			return t, err
		}
		if failures == 0 {
			since = time.Now()
		}
		left := c.maxOutage - time.Since(since)
		if left <= 0 {
			return nil, fmt.Errorf("muster: ticket %s: the server was out of reach for %v: %w", id, c.maxOutage, err)
		}
		if err := sleep(ctx, min(max(wait, floor, c.backoff(failures)), left)); err != nil {
			return nil, err
		}
	}
}

// retryable reports whether a failed read of a ticket says the server is
// out of reach for now, and the least time the server asked to wait.
func retryable(err error) (time.Duration, bool) {
	var e *Error
	switch {
	case err == nil || errors.Is(err, ErrNotSignedIn):
		return 0, false
	case !errors.As(err, &e): // the network, or the server gone
		return 0, true
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		return e.RetryAfter, true // the server says when to come back
	case e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout:
		return 0, true // a proxy lost the server: a restart
	}
	return 0, false
}

// backoff is the pause after the failures+1st failure in a row: retryMin
// doubled for each earlier failure, up to retryMax, then drawn at random
// between half and the whole of that ("equal jitter"), so that the players
// of a restarted server spread their returns and none retries at once.
func (c *Client) backoff(failures int) time.Duration {
	d := c.retryMin
	for i := 0; i < failures && d < c.retryMax; i++ {
		d *= 2
	}
	d = min(d, c.retryMax)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
