package matchmaking

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/musterhq/muster/flexmatch"
)

// waiter is a ticket waiting in a pool. A pool holds tens of thousands, so
// a waiter is small: the engine holds the ticket's compiled form, and the
// waiter the ticket's record as last stored, JSON-encoded without the
// fields the pool already knows (the id, the configuration's name and
// ARN). A pass decodes it only when the ticket leaves the pool, to write
// it with a compare-and-swap instead of reading it in the store's writer.
type waiter struct {
	id  string
	doc string // the record, encoded by keep; "" while rec holds it
	// rec is the record of a ticket that arrived QUEUED, until the pass
	// that takes it records it SEARCHING and keeps that.
	rec     *ticketRec
	version int64 // the stored version of the record; 0 when unknown (read it)
	// start is the ticket's start as the engine has it (see admit), and
	// deadline when its request times out, both in Unix nanoseconds.
	start, deadline int64
}

// backfillWaiter is a waiting backfill request with its ticket, which
// every pass hands Backfill.
type backfillWaiter struct {
	waiter
	t flexmatch.Ticket
}

// known is what a pass knows of a ticket it decided on: the record at a
// stored version (version 0: read it).
type known struct {
	rec     ticketRec
	version int64
}

// newWaiter builds the waiter of a ticket arriving in the pool, which the
// engine has as starting at start.
func (p *pool) newWaiter(a arrival, start time.Time) *waiter {
	w := &waiter{}
	p.initWaiter(w, a, start)
	return w
}

// newBackfillWaiter is newWaiter for a backfill request.
func (p *pool) newBackfillWaiter(a arrival, start time.Time) *backfillWaiter {
	b := &backfillWaiter{t: a.rec.engineTicket()}
	b.t.StartTime = start
	p.initWaiter(&b.waiter, a, start)
	return b
}

func (p *pool) initWaiter(w *waiter, a arrival, start time.Time) {
	*w = waiter{id: a.rec.ID, start: start.UnixNano(), deadline: a.rec.Start.Add(secs(p.cfg.RequestTimeout)).UnixNano()}
	if a.fresh {
		rec := a.rec
		w.rec, w.version = &rec, a.version
	} else {
		p.keep(w, &a.rec, a.version)
	}
}

// keep stores rec, at version, as w's record.
func (p *pool) keep(w *waiter, rec *ticketRec, version int64) {
	w.rec, w.doc, w.version = nil, "", version
	r := *rec
	if r.ID == w.id {
		r.ID = ""
	}
	if r.ConfigName == p.name && r.ConfigArn == p.arn {
		r.ConfigName, r.ConfigArn = "", ""
	}
	doc, err := json.Marshal(r)
	if err != nil {
		w.rec, w.version = rec, 0 // cannot happen: a stored record encodes
		return
	}
	// The blanked members decode as blank when absent: drop them.
	if rest, ok := bytes.CutPrefix(doc, blankMembers); ok {
		w.doc = "{" + string(rest)
	} else {
		w.doc = string(doc)
	}
}

// blankMembers is how the JSON of a record keep blanked begins.
var blankMembers = []byte(`{"id":"","config":"","configArn":"",`)

// recOf returns w's record as the pool has it.
func (p *pool) recOf(w *waiter) (rec ticketRec, ok bool) {
	switch {
	case w.rec != nil:
		return *w.rec, true
	case json.Unmarshal([]byte(w.doc), &rec) != nil:
		return ticketRec{}, false
	}
	if rec.ID == "" {
		rec.ID = w.id
	}
	if rec.ConfigName == "" && rec.ConfigArn == "" {
		rec.ConfigName, rec.ConfigArn = p.name, p.arn
	}
	return rec, true
}

// known returns what a pass knows of w: nothing when the pool does not
// know the stored version (the pass then reads the ticket).
func (p *pool) known(w *waiter) *known {
	if w == nil {
		return nil
	}
	if w.version == 0 {
		return &known{}
	}
	rec, ok := p.recOf(w)
	if !ok {
		return &known{}
	}
	return &known{rec, w.version}
}

// engineTicket rebuilds w's ticket as the engine takes it, from its
// record, for a ticket that goes back into the engine (a rescan, a match a
// gate vetoed).
func (p *pool) engineTicket(w *waiter) flexmatch.Ticket {
	rec, _ := p.recOf(w)
	rec.ID = w.id
	t := rec.engineTicket()
	t.StartTime = time.Unix(0, w.start)
	return t
}
