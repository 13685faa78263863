package placement

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// placer attempts PENDING placements with a pool of workers. Each pending
// placement it knows has an entry; a placement is queued at most once and
// attempted by one worker at a time.
type placer struct {
	s      *Service
	signal chan struct{}

	// mu guards the fields below.
	mu      sync.Mutex
	entries map[string]*entry
	ready   []string
	running bool // Run has started: wakes are queued for workers
	// waiting lists placements in the order they began waiting for a
	// retry; an id whose entry no longer waits is stale and skipped.
	waiting []string
	// attempting holds the placements a worker is attempting now.
	attempting map[string]struct{}
	// lease is the lease the placer runs under (RunLeased); nil otherwise.
	lease *lease.Lease
}

type entry struct {
	queued, busy, again bool
	timer               clock.Timer
	// misses counts the attempts in a row that found no process.
	misses int
	// waitQueue is the queue of a placement waiting for a process
	// (admission), "" otherwise.
	waitQueue string
}

func newPlacer(s *Service) *placer {
	return &placer{s: s, signal: make(chan struct{}, s.cfg.Workers), entries: map[string]*entry{}, attempting: map[string]struct{}{}}
}

// wake queues a placement for an attempt now. With a relay, a replica not
// running the placer sends the wake to the one that does.
func (pl *placer) wake(id string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if !pl.running && pl.s.relay != nil {
		pl.s.relay.Send(keyWake, id)
		return
	}
	e := pl.entries[id]
	if e == nil {
		e = &entry{}
		pl.entries[id] = e
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	switch {
	case e.busy:
		e.again = true
	case !e.queued:
		e.queued = true
		pl.ready = append(pl.ready, id)
		select {
		case pl.signal <- struct{}{}:
		default:
		}
	}
}

// forget drops a placement its caller saw end (GameSessionSettled,
// StopIn) without an attempt, which would only read it to learn that: its
// timer stops and its entry goes. One queued or being attempted is left to
// that attempt, which finds it ended.
func (pl *placer) forget(id string) {
	pl.mu.Lock()
	if !pl.running && pl.s.relay != nil {
		pl.mu.Unlock()
		pl.wake(id) // the replica running the placer forgets it there
		return
	}
	defer pl.mu.Unlock()
	e := pl.entries[id]
	switch {
	case e == nil || e.queued:
	case e.busy:
		e.again = true
	default:
		if e.timer != nil {
			e.timer.Stop()
		}
		pl.s.admit.wait(e.waitQueue, "")
		delete(pl.entries, id)
	}
}

// pop takes up to n queued placements for one worker.
func (pl *placer) pop(n int) []string {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if !pl.running || len(pl.ready) == 0 {
		return nil
	}
	n = min(n, len(pl.ready))
	ids := slices.Clone(pl.ready[:n])
	pl.ready = pl.ready[n:]
	for _, id := range ids {
		e := pl.entries[id]
		e.queued, e.busy = false, true
		pl.attempting[id] = struct{}{}
	}
	return ids
}

// finish records the outcome of an attempt: done forgets the placement,
// otherwise it is attempted again at the clock time at (at once if woken
// meanwhile, or if the clock has passed at: it may have moved during the
// attempt). A placement whose game session activates needs no process:
// it is not among those a freed process wakes.
func (pl *placer) finish(id string, o outcome) {
	done, at, activating := o.done, o.at, o.activating
	pl.mu.Lock()
	defer pl.mu.Unlock()
	e := pl.entries[id]
	e.busy = false
	delete(pl.attempting, id)
	if done {
		o.waitQueue = ""
	}
	pl.s.admit.wait(e.waitQueue, o.waitQueue)
	e.waitQueue = o.waitQueue
	if done {
		delete(pl.entries, id)
		return
	}
	if e.again {
		e.again, e.queued = false, true
		pl.ready = append(pl.ready, id)
		select {
		case pl.signal <- struct{}{}:
		default:
		}
		return
	}
	if o.waitQueue == "" {
		e.misses = 0
	} else {
		e.misses++
		at = spacedRetry(at, o.limit, pl.s.cfg.RetryInterval, e.misses)
	}
	e.timer = clock.AfterFuncAt(pl.s.cfg.Clock, at, func() { pl.wake(id) })
	if activating {
		return
	}
	pl.waiting = append(pl.waiting, id)
	if len(pl.waiting) > 2*len(pl.entries)+64 {
		pl.compactWaiting()
	}
}

// compactWaiting drops stale and repeated ids from waiting, keeping the
// order.
func (pl *placer) compactWaiting() {
	seen := make(map[string]bool, len(pl.entries))
	live := pl.waiting[:0]
	for _, id := range pl.waiting {
		if e := pl.entries[id]; e != nil && e.timer != nil && !seen[id] {
			seen[id] = true
			live = append(live, id)
		}
	}
	clear(pl.waiting[len(live):])
	pl.waiting = live
}

// retryDoublings is how many times spacedRetry doubles the spacing of
// the retries of a placement that keeps finding no process: to at most
// 4 RetryIntervals.
const retryDoublings = 2

// spacedRetry spaces out the retries of a placement that found no process
// misses times in a row: 1, 2, 4 RetryIntervals apart, never past limit.
// Past capacity every waiting placement retrying each second is most of
// the placer's work — reads that find nothing — and the freed processes
// wake the oldest waiting placements at once anyway (CapacityAvailable).
func spacedRetry(at, limit time.Time, interval time.Duration, misses int) time.Time {
	spacing := 1 << min(max(misses-1, 0), retryDoublings)
	return earliest(at.Add(time.Duration(spacing-1)*interval), limit)
}

// earliest is the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// capacityWakes is how many waiting placements a process that became free
// wakes: the oldest, plus a few in case the oldest cannot use it (its
// queue does not reach that fleet); the rest keep their retry timers.
const capacityWakes = 4

// wakeOldestWaiting wakes up to n placements that wait for a retry,
// oldest first. With fewer waiting, those being attempted now are marked
// to try again at once: an attempt that read the store before the process
// was free would otherwise go back to waiting for its retry timer, and
// the wake would be lost.
func (pl *placer) wakeOldestWaiting(n int) {
	pl.mu.Lock()
	var ids []string
	i := 0
	for ; i < len(pl.waiting) && len(ids) < n; i++ {
		if e := pl.entries[pl.waiting[i]]; e != nil && e.timer != nil && !slices.Contains(ids, pl.waiting[i]) {
			ids = append(ids, pl.waiting[i])
		}
	}
	pl.waiting = pl.waiting[i:]
	for id := range pl.attempting {
		if len(ids) >= n {
			break
		}
		ids = append(ids, id) // waking a busy entry marks it to go again
	}
	pl.mu.Unlock()
	for _, id := range ids {
		pl.wake(id)
	}
}

// CapacityAvailable hears that a server process of fleetID in location
// can take a game session now (fleet.Service's capacity hook): the oldest
// placements waiting for capacity try at once instead of at their next
// retry.
func (s *Service) CapacityAvailable(fleetID, location string) {
	s.placer.mu.Lock()
	elsewhere := !s.placer.running && s.relay != nil
	s.placer.mu.Unlock()
	if elsewhere {
		s.relay.Send(keyCapacity)
		return
	}
	s.placer.wakeOldestWaiting(capacityWakes)
}

// Run resumes every PENDING placement from the store and attempts
// placements until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	pl := s.placer
	// Running from here: wakes queue here rather than go to another
	// replica; workers start after the resume.
	pl.mu.Lock()
	pl.running = true
	pl.mu.Unlock()
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		return store.Walk(ctx, r, store.Query{Kind: KindPlacement, Key: 1, Value: gamelift.PlacementPending, NoDocs: true}, func(it store.Item) error {
			pl.wake(it.ID)
			return nil
		})
	})
	if err != nil {
		pl.stopped()
		return fmt.Errorf("placement: resume pending placements: %w", err)
	}
	for range s.cfg.Workers {
		select {
		case pl.signal <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for {
				if ids := pl.pop(s.cfg.Batch); len(ids) > 0 {
					for i, o := range s.attempt(ctx, ids) {
						pl.finish(ids[i], o)
					}
					continue
				}
				select {
				case <-pl.signal:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	pl.stopped()
	return ctx.Err()
}

// stopped forgets the placer's entries once its workers stopped: a
// placer that runs again (its lease came back) resumes from the store.
func (pl *placer) stopped() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.running = false
	for _, e := range pl.entries {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
	if pl.s.relay != nil {
		pl.entries, pl.ready, pl.waiting = map[string]*entry{}, nil, nil
		pl.s.admit.reset()
	}
}

// Attempt tries to place one placement now (tests call it to run a pass
// directly). It reports whether the placement has ended.
func (s *Service) Attempt(ctx context.Context, id string) (bool, error) {
	res, err := s.try(ctx, []string{id})
	if err != nil {
		return false, err
	}
	return res[0].done, nil
}

// outcome is the result of one attempt at a placement: done (it ended or
// is gone), or to be tried again at the clock time at (the zero time: at
// once).
type outcome struct {
	done bool
	// at is when to try again; limit, for a placement that found no
	// process, the latest that may be: its next latency policy or its
	// deadline (finish spaces the retries out up to it).
	at, limit  time.Time
	activating bool // waits for its game session, not for a process
	// waitQueue names the queue of a placement that waits for a process.
	waitQueue string
}

// attempt makes one attempt at each placement of a batch, all in one store
// transaction; if that transaction fails (a placement was stopped
// meanwhile, or something else went wrong), each is attempted on its own.
// Errors are logged and retried later.
func (s *Service) attempt(ctx context.Context, ids []string) []outcome {
	res, err := s.try(ctx, ids)
	if err == nil {
		return res
	}
	res = make([]outcome, len(ids))
	for i, id := range ids {
		r, err := s.try(ctx, []string{id})
		switch {
		case err == nil:
			res[i] = r[0]
		case ctx.Err() != nil:
			res[i] = outcome{done: true}
		case errors.Is(err, store.ErrConflict):
			res[i] = outcome{} // changed under us (stopped?): look again at once
		default:
			s.cfg.Logger.Error("placement attempt failed; retrying", "placement_id", id, "err", err)
			res[i] = outcome{at: s.now().Add(s.cfg.RetryInterval)}
		}
	}
	return res
}

// work is what the read phase of an attempt learns about one placement.
type work struct {
	p         Placement
	version   int64
	q         *Queue
	cands     []Candidate
	next      time.Duration
	queueGone bool
	skip      bool // not found or no longer PENDING
	wait      bool // no candidate has an idle process: no write needed
	// activating: its game session is created and not ACTIVE yet; it waits
	// for GameSessionSettled, however long past its deadline: the fleet's
	// activation timeout bounds that wait.
	activating bool
}

// activatingRecheck is how often a placement whose game session activates
// is looked at again, in case its game session settled on another replica.
const activatingRecheck = time.Minute

var (
	// errNoCapacity marks a placement that found no process.
	errNoCapacity = errors.New("no capacity")
	// errActivating marks a placement that created its game session and
	// waits for it to be ACTIVE.
	errActivating = errors.New("game session activating")
)

// try makes one attempt at each placement: it ends a placement past its
// deadline or whose queue is gone, or places it on the first candidate
// with an idle process. The reads happen first, outside the write
// transaction; the write transaction writes each placement with the
// version read, so a placement stopped meanwhile fails the whole
// transaction with ErrConflict.
func (s *Service) try(ctx context.Context, ids []string) ([]outcome, error) {
	now := s.now()
	ws, err := s.read(ctx, ids, now)
	if err != nil {
		return nil, err
	}
	s.reportNoCapacity(ws)
	placed := make([]bool, len(ids))
	writes := 0
	for i, wk := range ws {
		if wk.skip {
			placed[i] = true
		} else if !wk.wait {
			writes++
		}
	}
	if writes == 0 {
		return s.outcomes(ws, placed, now), nil
	}
	err = s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := s.checkLease(ctx, w); err != nil {
			return err
		}
		for i := range ws {
			wk := &ws[i]
			placed[i] = wk.skip
			if wk.skip || wk.wait {
				continue
			}
			err := s.placeIn(ctx, w, wk, now)
			switch {
			case errors.Is(err, errNoCapacity), errors.Is(err, errActivating):
			case err != nil:
				return err
			default:
				placed[i] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.outcomes(ws, placed, now), nil
}

// read is the read phase of an attempt: for each placement, what it is,
// its queue, and its candidates in order with an idle process now.
func (s *Service) read(ctx context.Context, ids []string, now time.Time) ([]work, error) {
	ws := make([]work, len(ids))
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		queues := map[string]*Queue{}
		cands := map[string][]Candidate{}
		idle := map[[2]string]bool{}
		for i, id := range ids {
			wk := &ws[i]
			var err error
			wk.p, wk.version, err = s.getPlacement(ctx, r, id)
			if fault.Is(err, fault.NotFound) {
				wk.skip = true
				continue
			} else if err != nil {
				return err
			}
			if wk.p.Status != gamelift.PlacementPending {
				wk.skip = true
				continue
			}
			if wk.p.GameSessionArn != "" {
				// Its game session exists: the placement has left the
				// queue, so its timeout no longer applies (nor does
				// StopGameSessionPlacement); GameSessionSettled ends it.
				wk.activating, wk.wait = true, true
				continue
			}
			if !now.Before(wk.p.Deadline) {
				continue
			}
			q, seen := queues[wk.p.QueueName]
			if !seen {
				qq, _, err := s.getQueue(ctx, r, wk.p.QueueName)
				if err == nil {
					q = &qq
					if cands[qq.Name], err = s.candidates(ctx, r, qq); err != nil {
						return err
					}
				} else if !fault.Is(err, fault.NotFound) {
					return err
				}
				queues[wk.p.QueueName] = q
			}
			if q == nil {
				wk.queueGone = true
				continue
			}
			wk.q = q
			wk.cands, wk.next = Order(cands[q.Name], *q, wk.p.PlayerLatencies, wk.p.Override, now.Sub(wk.p.StartTime))
			// Only candidates with an idle process now are worth the write
			// transaction; a placement with none waits without writing.
			kept := wk.cands[:0]
			for _, c := range wk.cands {
				k := [2]string{c.FleetID, c.Location}
				has, seen := idle[k]
				if !seen {
					if has, err = fleet.HasIdleProcess(ctx, r, c.FleetID, c.Location); err != nil {
						return err
					}
					idle[k] = has
				}
				if has {
					kept = append(kept, c)
				}
			}
			wk.cands = kept
			wk.wait = len(kept) == 0
		}
		return nil
	})
	return ws, err
}

// outcomes says, after an attempt, which placements are done and how long
// the others wait.
func (s *Service) outcomes(ws []work, placed []bool, now time.Time) []outcome {
	res := make([]outcome, len(ws))
	for i, wk := range ws {
		if placed[i] {
			res[i] = outcome{done: true}
			continue
		}
		if wk.activating {
			// Only a backstop: the settlement ends it, on whichever
			// replica it happens; this look forgets it here then.
			res[i] = outcome{at: now.Add(activatingRecheck), activating: true}
			continue
		}
		limit := wk.p.Deadline
		if wk.next > 0 && now.Add(wk.next).Before(limit) {
			limit = now.Add(wk.next)
		}
		res[i] = outcome{at: earliest(now.Add(s.cfg.RetryInterval), limit), limit: limit, waitQueue: wk.p.QueueName}
	}
	return res
}

// placeIn ends or places one PENDING placement in w (errNoCapacity: no
// candidate had an idle process, nothing was written).
func (s *Service) placeIn(ctx context.Context, w store.Writer, wk *work, now time.Time) error {
	cur := wk.p
	switch {
	case !now.Before(cur.Deadline):
		_, err := s.endIn(ctx, w, cur, wk.version, gamelift.PlacementTimedOut, "", nil)
		return err
	case wk.queueGone:
		_, err := s.endIn(ctx, w, cur, wk.version, gamelift.PlacementFailed, "the game session queue was deleted", nil)
		return err
	}
	players := make([]session.DesiredPlayer, len(cur.DesiredPlayerSessions))
	for i, d := range cur.DesiredPlayerSessions {
		players[i] = session.DesiredPlayer{PlayerID: d.PlayerId, PlayerData: d.PlayerData}
	}
	for _, c := range wk.cands {
		g, ps, err := s.cfg.Sessions.CreateGameSessionIn(ctx, w, session.PlaceRequest{FleetID: c.FleetID, Location: c.Location,
			MaxPlayers: cur.MaximumPlayerSessionCount, Name: cur.GameSessionName, Properties: cur.GameProperties, Data: cur.GameSessionData,
			MatchmakerData: cur.MatchmakerData, IdempotencyToken: cur.PlacementID, Players: players})
		if err != nil {
			var fe *fault.Error
			if errors.As(err, &fe) && fe.Kind != fault.Internal {
				continue // no idle process, fleet not active, location gone…: try the next one
			}
			return err
		}
		cur.GameSessionArn, cur.FleetID, cur.Location = g.ID, g.FleetID, g.Location
		cur.IpAddress, cur.DnsName, cur.Port = g.IPAddress, g.DNSName, g.Port
		cur.PlacedPlayerSessions = make([]gamelift.PlacedPlayerSession, len(ps))
		for i, x := range ps {
			cur.PlacedPlayerSessions[i] = gamelift.PlacedPlayerSession{PlayerId: x.PlayerID, PlayerSessionId: x.ID}
		}
		// FULFILLED means the game session is ACTIVE: the placement waits,
		// PENDING, for GameSessionSettled.
		if err := putPlacement(ctx, w, cur, wk.version); err != nil {
			return err
		}
		w.AfterCommit(func() { s.admit.place(cur.QueueName, now) })
		wk.activating = true
		return errActivating
	}
	return errNoCapacity
}

// GameSessionSettled hears, inside the session service's transaction
// (session.Service.OnSettled), that a game session became ACTIVE or ended.
// The placement that created it and still waits is fulfilled once its game
// session is ACTIVE, so players who connect at once find the server ready;
// it fails if the session ended first (its process ended, or it did not
// activate in time).
func (s *Service) GameSessionSettled(ctx context.Context, w store.Writer, g session.GameSession) error {
	id := g.ID[strings.LastIndex(g.ID, "/")+1:]
	p, version, err := s.getPlacement(ctx, w, id)
	switch {
	case fault.Is(err, fault.NotFound):
		return nil
	case err != nil:
		return err
	case p.Status != gamelift.PlacementPending || p.GameSessionArn != g.ID:
		return nil
	}
	status, reason := gamelift.PlacementFulfilled, ""
	if g.Status != gamelift.GameSessionActive {
		status, reason = gamelift.PlacementFailed, fmt.Sprintf("the game session ended (%s %s) before it was active", g.Status, g.StatusReason)
	}
	if _, err := s.endIn(ctx, w, p, version, status, reason, nil); err != nil {
		return err
	}
	w.AfterCommit(func() { s.placer.forget(id) })
	return nil
}
