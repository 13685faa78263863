package client

import (
	"context"
	"net"
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

// OnAcceptance calls f once for each match proposed to the ticket in a
// configuration that requires acceptance (the ticket in
// REQUIRES_ACCEPTANCE), so that the game can ask the player and answer
// with AcceptMatch; a proposal that fails sends the ticket back to
// searching, and the next one is offered too. Without it, a configuration
// that requires acceptance lets the proposal time out. Proposals are told
// apart by the ticket's MatchID; from a server that does not give it,
// Wait polling (no event stream) sees a new proposal only when a read
// found the ticket out of REQUIRES_ACCEPTANCE in between.
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
// the package documentation). It rides out an outage of the server (the
// network's errors, a proxy's 502 or 504, the server's 429 or 503) for up
// to WithMaxOutage, trying again after a growing pause (WithRetryBackoff)
// and no sooner than the server asks.
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
	var offers offers
	for s := (sighting{t: first, read: true}); ; s = (sighting{}) {
		if s.t == nil {
			var err error
			if s, err = w.next(ctx); err != nil {
				return nil, err
			}
		}
		if s.t.Status != last {
			last = s.t.Status
			if cfg.onStatus != nil {
				cfg.onStatus(s.t)
			}
		}
		if offers.due(s) && cfg.onAcceptance != nil {
			cfg.onAcceptance(s.t)
		}
		if s.t.Terminal() {
			return c.outcome(s.t)
		}
	}
}

// sighting is the ticket as Wait saw it: read (its own record, as it was
// when read), or pushed, with the marks the messages it sums up left on
// proposals, oldest first.
type sighting struct {
	t     *Ticket
	read  bool
	marks []mark
}

// A mark is what a pushed message says of the ticket's proposed matches.
type mark uint8

const (
	// proposed: a match needing acceptance was proposed
	// (PotentialMatchCreated).
	proposed mark = iota + 1
	// settled: a proposal's acceptance ended, accepted by all or not
	// (AcceptMatchCompleted); a ticket back to searching may be offered
	// another.
	settled
)

// offers tells which sightings of a ticket bring a proposed match to
// offer (OnAcceptance), so that each proposal is offered once. A read in
// REQUIRES_ACCEPTANCE brings one unless one is offered; a read in another
// status ends the one offered. The stream's marks tell proposals apart
// where states do not: the stream may push, after the read that showed a
// proposal, the very messages that made it (the server delivers some of
// what it committed before the read after it), and a proposal may fail
// and the next arrive between two looks at the ticket. Reads alone do not
// tell two proposals in a row apart (polling, with the ticket found in
// REQUIRES_ACCEPTANCE twice) unless the server names the match: a ticket
// in REQUIRES_ACCEPTANCE with a MatchID is offered when the id is new.
type offers struct {
	offered bool   // the live proposal was offered
	waiting bool   // a proposal was made since, not yet offered
	match   string // the MatchID offered last, when the server gives it
}

// due reports whether s brings a proposal to offer.
func (o *offers) due(s sighting) bool {
	if s.t.Status == StatusRequiresAcceptance && s.t.MatchID != "" {
		if s.t.MatchID == o.match {
			return false
		}
		o.match, o.offered, o.waiting = s.t.MatchID, true, false
		return true
	}
	for _, m := range s.marks {
		switch m {
		case proposed:
			o.waiting = o.waiting || !o.offered
		case settled:
			o.offered, o.waiting = false, false
		}
	}
	switch {
	case s.t.Status != StatusRequiresAcceptance:
		if s.read {
			o.offered = false
		}
		o.waiting = false
		return false
	case o.waiting || s.read && !o.offered:
		o.offered, o.waiting = true, false
		return true
	}
	return false
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
	next(ctx context.Context) (sighting, error)
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

func (p *poller) next(ctx context.Context) (sighting, error) {
	if p.ticker == nil {
		p.ticker = time.NewTicker(p.every)
	} else {
		select {
		case <-ctx.Done():
			return sighting{}, ctx.Err()
		case <-p.ticker.C:
		}
	}
	t, err := p.c.fetch(ctx, p.id, p.every)
	return sighting{t: t, read: true}, err
}

func (p *poller) close() {
	if p.ticker != nil {
		p.ticker.Stop()
	}
}
