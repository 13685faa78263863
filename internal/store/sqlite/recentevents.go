package sqlite

import (
	"sync"

	"github.com/musterhq/muster/internal/store"
)

// recentEvents keeps the events of the writer's latest commits, so that
// the outbox's followers (the push hub, webhook delivery), which are woken
// by each commit and read what it appended, are answered from memory
// instead of by a query. Under load that query ran after nearly every
// commit, and reading the rows back cost more than writing them.
//
// It holds a run of consecutive sequence numbers, so that an answer from
// it misses no event:
//   - only the writer adds to it, and only events whose transaction
//     committed, in commit order;
//   - an event that does not follow the newest one kept (another process
//     appended in between, or SQLite did not reuse a rolled-back savepoint's
//     number) starts the run afresh;
//   - the writer empties it when another connection has committed since its
//     last transaction (see checkDataVersion), and the run then starts
//     again from the writer's next event;
//   - a follower asking for what lies after the newest event kept is sent to
//     SQLite, where another process's newer events would be.
//
// The oldest events leave it once it holds more than maxBytes.
type recentEvents struct {
	mu sync.RWMutex
	// evs[head:] are the events kept, oldest first. Evicting advances head
	// and the kept events move to the front only once head passes half of
	// evs, so a full cache costs O(1) a commit, not a copy of itself.
	evs      []store.Event
	head     int
	bytes    int
	maxBytes int
}

// defaultRecentEventBytes keeps about a thousand events of a kilobyte:
// several commits of the busiest outbox, more than a follower that keeps
// up lags behind, for 40 B of heap per ticket with 50,000 waiting
// (TestFiguresMemoryPerWaitingTicket: 975 B against 934 B without it; 4
// MiB took it past 1 KiB).
const defaultRecentEventBytes = 1 << 20

// eventOverhead approximates what a kept event costs beyond its strings.
const eventOverhead = 128

func eventBytes(e store.Event) int {
	n := eventOverhead + len(e.ID) + len(e.Type) + len(e.Resource) + len(e.Doc)
	if e.Target != nil {
		n += len(*e.Target)
	}
	return n
}

func newRecentEvents(maxBytes int) *recentEvents {
	return &recentEvents{maxBytes: max(maxBytes, 1)}
}

// committed adds the events of a commit, in sequence order. The events
// must not be changed afterwards.
func (c *recentEvents) committed(evs []store.Event) {
	if len(evs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range evs {
		if n := len(c.evs); n > c.head && e.Seq != c.evs[n-1].Seq+1 {
			c.emptyLocked()
		}
		c.evs = append(c.evs, e)
		c.bytes += eventBytes(e)
	}
	for c.bytes > c.maxBytes && c.head < len(c.evs)-1 {
		c.bytes -= eventBytes(c.evs[c.head])
		c.evs[c.head] = store.Event{} // let go of the document
		c.head++
	}
	if c.head > len(c.evs)/2 {
		n := copy(c.evs, c.evs[c.head:])
		clear(c.evs[n:])
		c.evs, c.head = c.evs[:n], 0
	}
}

// after returns up to limit events after the sequence number after, in
// order, with documents of their own. ok is false when memory cannot
// answer for certain: the run does not reach back to after+1, or nothing
// after it is kept.
func (c *recentEvents) after(after int64, limit int) (out []store.Event, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	live := c.evs[c.head:]
	n := len(live)
	if n == 0 || limit <= 0 || after < live[0].Seq-1 || after >= live[n-1].Seq {
		return nil, false
	}
	from := int(after + 1 - live[0].Seq)
	kept := live[from:min(n, from+limit)]
	size := 0
	for _, e := range kept {
		size += len(e.Doc)
	}
	docs := make([]byte, 0, size)
	out = make([]store.Event, len(kept))
	for i, e := range kept {
		docs = append(docs, e.Doc...)
		e.Doc = docs[len(docs)-len(e.Doc) : len(docs) : len(docs)]
		if e.Target != nil {
			target := *e.Target
			e.Target = &target
		}
		out[i] = e
	}
	return out, true
}

func (c *recentEvents) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emptyLocked()
}

func (c *recentEvents) emptyLocked() {
	clear(c.evs) // let go of the documents
	c.evs, c.head, c.bytes = c.evs[:0], 0, 0
}
