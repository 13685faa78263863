package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Admission at the door. Past the writer's capacity, a store that queues
// every write only grows its queue: each transaction waits longer, the
// work already admitted (a match being placed, a session being activated)
// waits behind new sign-ins and tickets, players give up, and the
// completed rate collapses instead of levelling off. So the services
// that start new work — a sign-in, a matchmaking ticket — ask Admit
// before they write, and are refused at once while the writer is behind;
// everything else, the work already admitted, is always queued.
//
// The writer is behind when writes are waiting and every batch it took for
// at least the bound had waited longer than the bound in the queue (the
// time from Update to the writer starting on it, on the store's clock).
// One slow commit — an fsync the disk stalled, a descheduled process —
// delays the batch after it but not the one after that, so it never sheds
// work on a server that keeps up; a writer past its capacity delays every
// batch and sheds once that has lasted the bound. Once the queue drains,
// or a batch is taken fresh, new work is admitted again.

// ErrOverloaded is the error of Admit while the store's writer is past its
// bound: nothing was written, and the caller may try again in a moment.
var ErrOverloaded = errors.New("store: the writer is past its bound, new work is refused for now")

// Admitter is implemented by a store that sheds new work at the door.
type Admitter interface {
	// Admit returns ErrOverloaded (wrapped, with the figures) while the
	// writer is past its bound, counting the refusal under door ("ticket",
	// "sign-in"); nil otherwise.
	Admit(door string) error
	// SetAdmissionBound sets how long writes may wait in the queue before
	// Admit refuses new work; 0 admits everything.
	SetAdmissionBound(d time.Duration)
	// Refused returns, by door, how many times Admit refused.
	Refused() map[string]int64
	// Waiting is how many writes are queued or being committed.
	Waiting() int
	// QueueDelay is how long the oldest write of the writer's last batch
	// waited for it.
	QueueDelay() time.Duration
}

// Admit asks s, when it is an Admitter, whether new work may start; a
// store that does not shed admits everything.
func Admit(s Store, door string) error {
	if a, ok := s.(Admitter); ok {
		return a.Admit(door)
	}
	return nil
}

// admission is GroupCommit's half of Admitter.
type admission struct {
	bound atomic.Int64 // nanoseconds; 0 admits everything
	// delay is how long the oldest request of the writer's last batch
	// waited in the queue, in nanoseconds.
	delay atomic.Int64
	// behindSince is when, on the store's clock in Unix nanoseconds, the
	// batches began to wait longer than the bound; 0 while they do not.
	behindSince atomic.Int64
	// outstanding counts requests queued or being committed.
	outstanding atomic.Int64
	refused     sync.Map // door → *atomic.Int64
}

// taken records the queue delay of the batch the writer took at now.
func (a *admission) taken(now time.Time, delay time.Duration) {
	a.delay.Store(int64(delay))
	switch {
	case int64(delay) <= a.bound.Load():
		a.behindSince.Store(0)
	case a.behindSince.Load() == 0:
		a.behindSince.Store(now.UnixNano())
	}
}

func (a *admission) admit(door string, now time.Time) error {
	bound := a.bound.Load()
	if bound <= 0 || a.outstanding.Load() == 0 {
		return nil
	}
	delay, since := a.delay.Load(), a.behindSince.Load()
	if delay <= bound || since == 0 || now.UnixNano()-since < bound {
		return nil
	}
	n, _ := a.refused.LoadOrStore(door, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	return fmt.Errorf("%w: writes wait %v in the store's queue, past the %v bound",
		ErrOverloaded, time.Duration(delay).Round(time.Millisecond), time.Duration(bound))
}

func (a *admission) refusals() map[string]int64 {
	out := map[string]int64{}
	a.refused.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Admit implements Admitter.Admit.
func (g *GroupCommit) Admit(door string) error { return g.adm.admit(door, g.clock.Now()) }

// SetAdmissionBound implements Admitter.SetAdmissionBound.
func (g *GroupCommit) SetAdmissionBound(d time.Duration) { g.adm.bound.Store(int64(max(d, 0))) }

// Refused implements Admitter.Refused.
func (g *GroupCommit) Refused() map[string]int64 { return g.adm.refusals() }

// Waiting implements Admitter.Waiting.
func (g *GroupCommit) Waiting() int { return int(g.adm.outstanding.Load()) }

// QueueDelay implements Admitter.QueueDelay.
func (g *GroupCommit) QueueDelay() time.Duration { return time.Duration(g.adm.delay.Load()) }
