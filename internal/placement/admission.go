package placement

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// Admission: past capacity, a queue that takes every match it is given
// only grows its backlog; each placement waits longer, until every player
// gives up or times out and the completed rate collapses. So StartIn
// (matchmaking's path; the control API's StartGameSessionPlacement is
// never refused) refuses a new placement, with FleetCapacityExceeded and
// the figures, when the queue's placements already waiting for a server
// process would not all be placed within its timeout at the rate the queue
// placed game sessions over the last admitWindow — and there are more than
// Config.AdmitWaiting of them. The waiting placements are those of the
// placer on this replica; a replica that does not run the placer admits
// every placement.
//
// A tighter form of the rule refuses a new matchmaking ticket at the door
// (AdmitTicket): once the waiting placements would take more than a
// quarter of the queue's timeout (doorShare) to place. A ticket let in
// still has to be matched, placed behind that backlog and joined by its
// players, who give up on their own clock; admitting it on the full
// timeout would let the backlog grow until most placements end after
// their players left, each game session then holding a server process
// that nobody joins — past capacity the completed rate would fall instead
// of levelling off. The matches already made keep the full timeout, so a
// ticket let in is rarely failed afterwards.

// admitWindow is how far back the placement rate is measured.
const admitWindow = 10

// doorShare divides a queue's timeout into the wait the door admits new
// tickets to.
const doorShare = 4

type admission struct {
	floor int
	// ticketsRefused counts the tickets AdmitTicket refused.
	ticketsRefused atomic.Int64
	mu             sync.Mutex
	// waiting counts, by queue name, the placements waiting for a process.
	waiting map[string]int
	// placed counts game sessions placed, by queue, per second of the
	// last admitWindow seconds.
	placed map[string]*[admitWindow]second
}

type second struct {
	at int64 // Unix second
	n  int
}

func newAdmission(floor int) *admission {
	return &admission{floor: floor, waiting: map[string]int{}, placed: map[string]*[admitWindow]second{}}
}

// wait moves one placement's waiting mark from queue from to queue to
// ("" for none).
func (a *admission) wait(from, to string) {
	if from == to {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if from != "" {
		if a.waiting[from]--; a.waiting[from] <= 0 {
			delete(a.waiting, from)
		}
	}
	if to != "" {
		a.waiting[to]++
	}
}

// reset forgets every waiting mark (the placer forgot its entries).
func (a *admission) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.waiting)
}

// place counts a game session placed through queue at now.
func (a *admission) place(queue string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.placed[queue]
	if w == nil {
		w = &[admitWindow]second{}
		a.placed[queue] = w
	}
	sec := now.Unix()
	b := &w[sec%admitWindow]
	if b.at != sec {
		*b = second{at: sec}
	}
	b.n++
}

// crowded reports whether queue has at least the floor of placements
// waiting: below it check admits, so a caller may skip what check needs.
func (a *admission) crowded(queue string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.waiting[queue] >= a.floor
}

// check refuses a new placement in queue when the placements waiting in
// it would not all be placed within the given wait: the queue's timeout
// for a placement, less at the door (doorShare).
func (a *admission) check(queue string, within, timeout time.Duration, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	waiting := a.waiting[queue]
	if waiting < a.floor {
		return nil
	}
	placed := 0
	if w := a.placed[queue]; w != nil {
		for _, b := range w {
			if now.Unix()-b.at < admitWindow {
				placed += b.n
			}
		}
	}
	rate := float64(placed) / admitWindow
	if float64(waiting) < rate*within.Seconds() {
		return nil
	}
	limit := fmt.Sprintf("its %v timeout", timeout)
	if within != timeout {
		limit = fmt.Sprintf("%v, the share of its %v timeout a new ticket may wait", within, timeout)
	}
	return fault.New(fault.FleetCapacityExceeded,
		"QueueName: queue %s is past its capacity: %d placements wait for a server process, and at the %.1f game sessions a second it placed over the last %d s they would not all be placed within %s",
		queue, waiting, rate, admitWindow, limit)
}

// AdmitTicket refuses, with store.ErrOverloaded, a new matchmaking ticket
// whose matches would be placed through one of queueArns while that queue
// is past its capacity (check); nothing is read unless a queue is crowded.
// The caller has written nothing yet and may be tried again in a moment.
func (s *Service) AdmitTicket(ctx context.Context, queueArns []string) error {
	for _, arn := range queueArns {
		if !s.admit.crowded(s.queueName(arn)) {
			continue
		}
		var q Queue
		err := s.cfg.Store.View(ctx, func(r store.Reader) error {
			var err error
			q, _, err = s.getQueue(ctx, r, arn)
			return err
		})
		if fault.Is(err, fault.NotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := s.admit.check(q.Name, q.Timeout()/doorShare, q.Timeout(), s.now()); err != nil {
			s.admit.ticketsRefused.Add(1)
			return fmt.Errorf("%w: %w", store.ErrOverloaded, err)
		}
	}
	return nil
}

// TicketsRefused is how many new tickets AdmitTicket has refused.
func (s *Service) TicketsRefused() int64 { return s.admit.ticketsRefused.Load() }
