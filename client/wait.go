package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Match is the outcome of a COMPLETED ticket for the signed-in player.
type Match struct {
	TicketID string
	// Team is the player's team in the match.
	Team string
	// Players are every player of the ticket, with their teams.
	Players []TicketPlayer
	// GameSessionArn, IPAddress, DNSName and Port say where the game runs;
	// they are empty in a STANDALONE configuration, where the studio's own
	// backend hosts the match.
	GameSessionArn string
	IPAddress      string
	DNSName        string
	Port           int
	// PlayerSessionID is the player's seat in the game session: the game
	// client gives it to the game server when it connects.
	PlayerSessionID string
	// Ticket is the finished ticket as last read or pushed.
	Ticket *Ticket
}

// Addr is the game server's address to connect to (host:port): its DNS
// name when it has one, else its IP address; "" when the match has no
// game session.
func (m *Match) Addr() string {
	host := m.DNSName
	if host == "" {
		host = m.IPAddress
	}
	if host == "" || m.Port == 0 {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(m.Port))
}

// WaitOption changes how Wait follows a ticket.
type WaitOption func(*waitConfig)

type waitConfig struct {
	onStatus, onAcceptance func(*Ticket)
}

// OnAcceptance calls f each time the ticket enters REQUIRES_ACCEPTANCE, so
// that the game can ask the player and answer with AcceptMatch. Without
// it, a configuration that requires acceptance lets the proposal time out.
func OnAcceptance(f func(*Ticket)) WaitOption { return func(w *waitConfig) { w.onAcceptance = f } }

// OnStatus calls f each time Wait sees the ticket in a new status, the
// first status read included (to show progress).
func OnStatus(f func(*Ticket)) WaitOption { return func(w *waitConfig) { w.onStatus = f } }

// Wait follows a ticket until it is finished. A COMPLETED ticket gives
// the Match; a FAILED, TIMED_OUT or CANCELLED one a *TicketError carrying
// its status and reason. Other errors are the server's (*Error) or the
// network's, and ctx ending stops the wait. Wait does not cancel the
// ticket when it returns early: call CancelTicket for that. Wait follows
// the server's event stream where there is one and polls otherwise (see
// the package documentation); it rides out a few failed reads in a row
// (the network, a proxy's 502 or 504) and waits as long as the server asks
// when it answers 429 or 503.
func (c *Client) Wait(ctx context.Context, ticketID string, opts ...WaitOption) (*Match, error) {
	w := c.watch(ticketID)
	defer w.close()
	return c.follow(ctx, w, nil, opts)
}

// FindMatch asks for a match in configuration with the player's latencies,
// as StartMatchmaking does, and follows the ticket until it is finished,
// as Wait does. Where the server pushes events, it opens the player's
// event stream before it asks, so every change of the new ticket arrives
// on the stream and the ticket is not read on the way to a match: it costs
// the server two requests fewer than StartMatchmaking and then Wait. The
// first status OnStatus sees is the one the ticket started in; an error
// before it is StartMatchmaking's. A party's leader uses StartMatchmaking
// with ForParty and then Wait.
func (c *Client) FindMatch(ctx context.Context, configuration string, latencies map[string]int, opts ...WaitOption) (*Match, error) {
	var w *pushWatcher
	if !c.polling {
		w = &pushWatcher{c: c}
		if err := w.open(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			w = nil // Wait tries the stream again, or polls
		}
	}
	t, err := c.StartMatchmaking(ctx, configuration, latencies)
	if w == nil {
		if err != nil {
			return nil, err
		}
		return c.Wait(ctx, t.TicketID, opts...)
	}
	defer w.close()
	if err != nil {
		return nil, err
	}
	w.id = t.TicketID
	return c.follow(ctx, w, t, opts)
}

// follow reports each new status of the ticket w watches, starting from
// first when the caller already has it, until the ticket is finished.
func (c *Client) follow(ctx context.Context, w watcher, first *Ticket, opts []WaitOption) (*Match, error) {
	var cfg waitConfig
	for _, o := range opts {
		o(&cfg)
	}
	last := ""
	for t := first; ; t = nil {
		if t == nil {
			var err error
			if t, err = w.next(ctx); err != nil {
				return nil, err
			}
		}
		if t.Status != last {
			last = t.Status
			cfg.changed(t)
		}
		if t.Terminal() {
			return c.outcome(t)
		}
	}
}

func (w waitConfig) changed(t *Ticket) {
	if w.onStatus != nil {
		w.onStatus(t)
	}
	if t.Status == StatusRequiresAcceptance && w.onAcceptance != nil {
		w.onAcceptance(t)
	}
}

// outcome renders a finished ticket for the signed-in player.
func (c *Client) outcome(t *Ticket) (*Match, error) {
	if t.Status != StatusCompleted {
		return nil, &TicketError{TicketID: t.TicketID, Status: t.Status, Reason: t.StatusReason, Message: t.StatusMessage, Ticket: t}
	}
	me := c.IdentityID()
	m := &Match{TicketID: t.TicketID, Players: t.Players, Ticket: t}
	for _, p := range t.Players {
		if p.PlayerID == me {
			m.Team = p.Team
		}
	}
	if ci := t.GameSessionConnectionInfo; ci != nil {
		m.GameSessionArn, m.IPAddress, m.DNSName, m.Port = ci.GameSessionArn, ci.IPAddress, ci.DNSName, ci.Port
		for _, s := range ci.MatchedPlayerSessions {
			if s.PlayerID == me {
				m.PlayerSessionID = s.PlayerSessionID
			}
		}
	}
	return m, nil
}

// A watcher yields a ticket's states as the server sees them: pushWatcher
// where the server pushes events, a poller otherwise.
type watcher interface {
	// next returns the ticket as soon as it may have changed.
	next(ctx context.Context) (*Ticket, error)
	close()
}

func (c *Client) watch(ticketID string) watcher {
	if c.polling {
		return c.poller(ticketID)
	}
	return &pushWatcher{c: c, id: ticketID}
}

func (c *Client) poller(ticketID string) *poller {
	return &poller{c: c, id: ticketID, every: c.poll}
}

// poller reads the ticket at once, then every interval.
type poller struct {
	c      *Client
	id     string
	every  time.Duration
	ticker *time.Ticker
}

func (p *poller) next(ctx context.Context) (*Ticket, error) {
	if p.ticker == nil {
		p.ticker = time.NewTicker(p.every)
	} else if err := p.sleep(ctx, 0); err != nil {
		return nil, err
	}
	return p.c.fetch(ctx, p.id, p.sleep)
}

// fetch reads a ticket, trying again after pause(ctx, d) — which waits at
// least d — while retryable says a failure is worth it.
func (c *Client) fetch(ctx context.Context, id string, pause func(context.Context, time.Duration) error) (*Ticket, error) {
	for failures := 0; ; failures++ {
		t, err := c.Ticket(ctx, id)
		wait, again := retryable(err, failures)
		if !again || ctx.Err() != nil {
			return t, err
		}
		if err := pause(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// maxTransient is how many failed reads in a row Wait rides out: a game
// client's network drops for a moment, and a ticket keeps matching
// meanwhile.
const maxTransient = 3

// retryable reports whether a failed read of a ticket is worth another
// try, and the least time to wait first.
func retryable(err error, failures int) (time.Duration, bool) {
	var e *Error
	switch {
	case err == nil || errors.Is(err, ErrNotSignedIn):
		return 0, false
	case !errors.As(err, &e): // the network
		return 0, failures < maxTransient
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		return e.RetryAfter, true // the server says when to come back
	case e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout:
		return 0, failures < maxTransient // a proxy lost the server for a moment
	}
	return 0, false
}

// sleep waits for the next tick, and at least d.
func (p *poller) sleep(ctx context.Context, d time.Duration) error {
	if d > p.every {
		if err := sleep(ctx, d-p.every); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ticker.C:
		return nil
	}
}

func (p *poller) close() {
	if p.ticker != nil {
		p.ticker.Stop()
	}
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
