package client

import (
	"context"
	"errors"
	"time"
)

// safetyReads is how many poll intervals a followed ticket may go without
// an event before Wait reads it anyway.
const safetyReads = 20

// pushWatcher follows a ticket over the player's event stream (GET /v1/ws,
// a WebSocket). Wait reads the ticket once the stream is open, so no
// change can fall between the read and the stream; FindMatch opens the
// stream before the ticket exists and needs no read. After that, each
// message about the ticket carries it in the shape a read returns, and
// only a final state other than COMPLETED, a reset (the server lost
// events) or a long silence reads it again.
//
// A stream that ends is opened again: at once after one that lived long,
// else after a backoff that grows with each failure in a row, with the
// ticket polled meanwhile, so that a restarting server neither ends the
// wait nor leaves it polling for good. One closed for its access token is
// opened with a fresh one. Only a server that refuses the stream outright
// (a server without it, a proxy that refuses WebSockets) is polled for
// good.
type pushWatcher struct {
	c *Client
	// id is the ticket followed: set before next is first called (FindMatch
	// opens the stream before the ticket has an id).
	id string
	s  *stream // the open stream; nil between streams
	// opened is when s opened; failures counts failed opens and
	// short-lived streams in a row; retryAt is the earliest next open.
	opened   time.Time
	failures int
	retryAt  time.Time
	// stale is an access token the server refused on the stream; after is
	// the id of the last message pushed, which the next stream resumes
	// from.
	stale, after string
	// pending is what was pushed and not yet returned; read says a reset
	// asked for a read.
	pending *sighting
	read    bool
	poll    *poller // once the server refused the stream
}

func (w *pushWatcher) next(ctx context.Context) (sighting, error) {
	if w.poll != nil {
		return w.poll.next(ctx)
	}
	// A read now and then even without events bounds what an event the
	// server never sent could cost.
	safety := time.NewTimer(safetyReads * w.c.poll)
	defer safety.Stop()
	for {
		if p, read := w.take(); p != nil {
			return *p, nil
		} else if read {
			return w.fetch(ctx)
		}
		if w.s == nil {
			return w.reopen(ctx)
		}
		select {
		case <-ctx.Done():
			return sighting{}, ctx.Err()
		case <-w.s.inbox.wake:
		case <-w.s.dead:
			w.ended()
		case <-safety.C:
			return w.fetch(ctx)
		}
	}
}

// take returns what was pushed, to report, or whether to read the ticket
// instead.
func (w *pushWatcher) take() (*sighting, bool) {
	w.collect()
	p := w.pending
	w.pending = nil
	if p != nil && (!p.t.Terminal() || p.t.Status == StatusCompleted) {
		// A COMPLETED push carries the connection info and the player's
		// seat, all a Match is made of. A reset's read comes next.
		return p, false
	}
	// Another final state is read once more: the read is the ticket's own
	// record (a rejected ticket's reason is REJECTED, where the event's is
	// Cancelled).
	read := w.read || p != nil
	w.read = false
	return nil, read
}

// collect adds what the stream pushed to pending.
func (w *pushWatcher) collect() {
	if w.s == nil {
		return
	}
	p, reset, last := w.s.inbox.take(w.id)
	w.read = w.read || reset
	if last != "" {
		w.after = last
	}
	switch {
	case p == nil:
	case w.pending == nil:
		w.pending = p
	default:
		w.pending.t, w.pending.marks = p.t, append(w.pending.marks, p.marks...)
	}
}

// fetch reads the ticket. A state the stream pushed before the read was
// sent is older than the read, and is dropped; the marks it carried on
// proposals are history the read does not show, and go with the read.
func (w *pushWatcher) fetch(ctx context.Context) (sighting, error) {
	w.collect()
	var marks []mark
	if w.pending != nil {
		marks = w.pending.marks
	}
	w.pending, w.read = nil, false
	t, err := w.c.fetch(ctx, w.id, 0)
	return sighting{t: t, read: true, marks: marks}, err
}

// ended closes the stream that stopped, keeping what it pushed, and
// decides when to open the next.
func (w *pushWatcher) ended() {
	w.s.close()
	w.collect()
	if w.s.code == closeUnauthenticated {
		w.stale = w.s.current() // expired, or refused when renewed
	}
	w.s = nil
	// A stream that lived long was dropped (a restart, an expired token):
	// it is opened again at once. One that lived briefly may be the
	// server closing every stream at once: the backoff spaces them.
	if time.Since(w.opened) >= w.c.retryMax {
		w.failures, w.retryAt = 0, time.Time{}
		return
	}
	w.failed()
}

// failed puts the next open off by the backoff.
func (w *pushWatcher) failed() {
	w.retryAt = time.Now().Add(w.c.backoff(w.failures))
	w.failures++
}

// reopen opens the stream once it is due and reads the ticket; until it
// is due, it polls the ticket. A stream the server refuses outright hands
// over to polling; any other failure puts the next try off and reads the
// ticket, which rides out an outage of the server. The new stream resumes
// after the last message the old one delivered, so that no proposal made
// in between goes unmarked.
func (w *pushWatcher) reopen(ctx context.Context) (sighting, error) {
	if wait := time.Until(w.retryAt); wait > w.c.poll {
		if err := sleep(ctx, w.c.poll); err != nil {
			return sighting{}, err
		}
		return w.fetch(ctx)
	} else if wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			return sighting{}, err
		}
	}
	err := w.open(ctx)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return sighting{}, ctx.Err()
	case errors.Is(err, errNoStream):
		w.poll = w.c.poller(w.id)
		return w.poll.next(ctx)
	default:
		w.failed()
	}
	return w.fetch(ctx)
}

// open opens the stream, with a fresh access token when the server
// refused the last one.
func (w *pushWatcher) open(ctx context.Context) error {
	s, err := w.c.openStream(ctx, w.stale, w.after)
	var st *staleTokenError
	if errors.As(err, &st) {
		w.stale = st.token
	}
	if err != nil {
		return err
	}
	w.s, w.stale, w.opened = s, "", time.Now()
	return nil
}

func (w *pushWatcher) close() {
	if w.s != nil {
		w.s.close()
		w.s = nil
	}
	if w.poll != nil {
		w.poll.close()
	}
}
