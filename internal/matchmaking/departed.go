package matchmaking

import "time"

// departedFor is how long a pool remembers a ticket that left it. A stale
// copy of a ticket is one read before the ticket left: a hand-off after
// its start's commit, a relay message from another replica, a catch-up
// read. Each reaches the pool within moments, far inside this.
const departedFor = 5 * time.Second

// departed remembers the stored version at which each ticket left the
// pool (matched, timed out, refused or cancelled), so that a stale copy
// arriving after it left is not taken back: the pool would propose it
// again at a version the store has moved past, and the store would refuse
// the whole pass that wrote it. Two generations, each departedFor long,
// keep it small without a per-entry clock.
type departed struct {
	cur, old map[string]int64
	since    time.Time
}

// add remembers that ticket id left at version (0: unknown, remembered as
// nothing).
func (d *departed) add(id string, version int64, now time.Time) {
	if version <= 0 {
		return
	}
	if d.cur == nil || now.Sub(d.since) >= departedFor {
		d.old, d.cur, d.since = d.cur, map[string]int64{}, now
	}
	d.cur[id] = version
}

// stale tells whether a copy of ticket id at version was read before the
// ticket left the pool. A copy of unknown version (0) is never stale: the
// pool reads its record when it writes it.
func (d *departed) stale(id string, version int64) bool {
	if version <= 0 {
		return false
	}
	if v, ok := d.cur[id]; ok {
		return version <= v
	}
	v, ok := d.old[id]
	return ok && version <= v
}

// leave remembers the tickets that a recorded pass took out of the pool,
// at the versions t wrote (or read) them.
func (p *pool) leave(d decisions, t *txn) {
	for _, id := range d.ticketIDs() {
		if e := t.tickets[id]; e != nil && !e.missing && p.waiter(id) == nil {
			p.departed.add(id, e.version, d.now)
		}
	}
}
