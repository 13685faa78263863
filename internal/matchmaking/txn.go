package matchmaking

import (
	"context"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// txn is one store transaction of the service: it caches the tickets it
// reads and writes each changed one once, with its keys, expiry and the
// active-player index.
type txn struct {
	s       *Service
	ctx     context.Context
	w       store.Writer
	now     time.Time
	tickets map[string]*txTicket
	order   []*txTicket
	matches map[string]*txMatch
	// readd lists tickets to return to their pools after commit.
	readd []*ticketRec
	// samples are wait times of matched tickets, per configuration.
	samples map[string][]time.Duration
	timers  []*matchRec
}

type txTicket struct {
	rec     ticketRec
	version int64
	active  bool // non-terminal as read
	dirty   bool
	missing bool
}

type txMatch struct {
	rec     matchRec
	version int64
	dirty   bool
}

func (s *Service) newTxn(ctx context.Context, w store.Writer) *txn {
	t := &txn{s: s, ctx: ctx, w: w, now: s.now(), tickets: map[string]*txTicket{}, matches: map[string]*txMatch{}, samples: map[string][]time.Duration{}}
	w.AfterCommit(t.committed)
	return t
}

// ticket reads a ticket (nil, nil when it does not exist).
func (t *txn) ticket(id string) (*ticketRec, error) {
	if e, ok := t.tickets[id]; ok {
		if e.missing {
			return nil, nil
		}
		return &e.rec, nil
	}
	rec, version, err := store.GetJSON[ticketRec](t.ctx, t.w, KindTicket, id)
	if isNotFound(err) {
		t.tickets[id] = &txTicket{missing: true}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e := &txTicket{rec: rec, version: version, active: !terminal(rec.Status)}
	t.tickets[id] = e
	return &e.rec, nil
}

// existingTicket reads a ticket that a request names (member TicketId):
// fault.NotFound when there is none.
func (t *txn) existingTicket(id string) (*ticketRec, error) {
	r, err := t.ticket(id)
	if err == nil && r == nil {
		err = fault.New(fault.NotFound, "TicketId: no matchmaking ticket %s", id)
	}
	return r, err
}

// seed puts a ticket the caller knows at a stored version in the cache,
// so it is written with a compare-and-swap without being read: if it
// changed meanwhile, the write fails with store.ErrConflict and the
// transaction with it.
func (t *txn) seed(rec ticketRec, version int64) {
	if _, ok := t.tickets[rec.ID]; ok {
		return
	}
	rec.Players = append([]playerRec(nil), rec.Players...) // the caller's copy stays unchanged
	t.tickets[rec.ID] = &txTicket{rec: rec, version: version, active: !terminal(rec.Status)}
}

// created registers a new ticket.
func (t *txn) created(rec ticketRec) *ticketRec {
	e := &txTicket{rec: rec, dirty: true}
	t.tickets[rec.ID] = e
	t.order = append(t.order, e)
	return &e.rec
}

// changed marks a ticket for writing.
func (t *txn) changed(rec *ticketRec) {
	e := t.tickets[rec.ID]
	if !e.dirty {
		e.dirty = true
		t.order = append(t.order, e)
	}
}

// end makes a ticket terminal.
func (t *txn) end(rec *ticketRec, status, reason, message string) {
	rec.Status, rec.Reason, rec.Message, rec.End = status, reason, message, t.now
	t.changed(rec)
}

func (t *txn) match(id string) (*matchRec, error) {
	if m, ok := t.matches[id]; ok {
		return &m.rec, nil
	}
	rec, version, err := store.GetJSON[matchRec](t.ctx, t.w, KindMatch, id)
	if err != nil {
		return nil, err
	}
	m := &txMatch{rec: rec, version: version}
	t.matches[id] = m
	return &m.rec, nil
}

// matchIn reads a match in state and its configuration; ok is false (with
// a nil error) when the match does not exist or is in another state.
func (t *txn) matchIn(id, state string) (m *matchRec, c configRec, ok bool, err error) {
	m, err = t.match(id)
	if isNotFound(err) {
		return nil, c, false, nil
	}
	if err != nil || m.State != state {
		return m, c, false, err
	}
	c, _, err = t.s.config(t.ctx, t.w, m.ConfigName, "ConfigurationName")
	return m, c, err == nil, err
}

func (t *txn) putMatch(m matchRec) *matchRec {
	e, ok := t.matches[m.ID]
	if !ok {
		e = &txMatch{}
		t.matches[m.ID] = e
	}
	e.rec, e.dirty = m, true
	return &e.rec
}

func (t *txn) matchChanged(m *matchRec) { t.matches[m.ID].dirty = true }

// flush writes every changed ticket and match. A stale version fails the
// transaction function, here or when it returns (store.PutHeld).
func (t *txn) flush() error {
	for _, e := range t.order {
		r := &e.rec
		keys := ticketKeys(r)
		var exp time.Time
		if terminal(r.Status) {
			exp = r.End.Add(t.s.cfg.TicketRetention)
		}
		v, err := store.PutHeld(t.ctx, t.w, store.Record{Kind: KindTicket, ID: r.ID, Doc: store.MustJSON(r), Keys: keys, Version: e.version, ExpiresAt: exp})
		if err != nil {
			return err
		}
		e.version = v
		if e.active && terminal(r.Status) && !r.Backfill {
			for _, p := range r.Players {
				if err := store.Forget(t.ctx, t.w, KindActive, activeID(r.ConfigName, p.ID)); err != nil {
					return err
				}
			}
		}
		e.active = !terminal(r.Status)
		e.dirty = false
	}
	t.order = t.order[:0]
	for _, m := range t.matches {
		if !m.dirty {
			continue
		}
		if m.version == 0 && m.rec.State == matchDone {
			continue // a match that ended as it formed needs no record
		}
		var exp time.Time
		if m.rec.State == matchDone || m.rec.State == matchFailed {
			exp = t.now.Add(t.s.cfg.TicketRetention)
		}
		v, err := store.PutHeld(t.ctx, t.w, store.Record{Kind: KindMatch, ID: m.rec.ID, Doc: store.MustJSON(m.rec), Keys: m.rec.keys(), Version: m.version, ExpiresAt: exp})
		if err != nil {
			return err
		}
		m.version, m.dirty = v, false
	}
	return nil
}

// committed runs the after-commit work: pools take returned tickets,
// acceptance timers start, wait samples are recorded.
func (t *txn) committed() {
	for _, r := range t.readd {
		t.s.handOff(*r, 0, false)
	}
	for cfg, ws := range t.samples {
		if p := t.s.pool(cfg); p != nil {
			p.waits.add(t.now, ws)
		}
	}
	for _, m := range t.timers {
		t.s.armAcceptance(m.ID, m.Deadline)
	}
}
