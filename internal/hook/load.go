package hook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// hookSet is one read of the registrations, swapped in whole: requests
// never see half of a read, and never wait on a lock to see one.
type hookSet struct {
	// byPoint are the enabled hooks by point, in their order. It is nil
	// while no read has succeeded: which hooks a request must pass is
	// unknown then, so every point refuses (see notLoaded).
	byPoint map[string][]*entry
	// at is when the set was read, or the read failed.
	at time.Time
	// err is the last read's failure; byPoint then is the last good read's.
	err error
}

// entry is an enabled hook ready to call.
type entry struct {
	Hook
	signing signing
	configs map[string]bool
	run     *runner
	// unusable says why the hook is not called at all: the destination
	// policy in force refuses its URL (it was registered under another),
	// or its secret cannot be opened. Its fail mode applies at once.
	unusable error
}

// applies says whether the hook runs for a configuration.
func (e *entry) applies(config string) bool { return len(e.configs) == 0 || e.configs[config] }

func (s *Service) invalidate() { s.stale.Store(true) }

// due says whether the registrations are to be read at now: never read,
// Reload passed since the last read (a failed read is retried as often,
// not at every request), or a change was committed here since a good read.
func (s *Service) due(set *hookSet, now time.Time) bool {
	switch {
	case set == nil || now.Sub(set.at) >= s.cfg.Reload:
		return true
	}
	return set.err == nil && s.stale.Load()
}

// hooks returns the enabled hooks of a point, reading the registrations
// again when due. A request waits for a read in progress only when the set
// in force cannot answer it (none was read yet, or a change made here is
// not in it); otherwise the set in force answers. While no read has
// succeeded it returns a NotReady fault: 503 with Retry-After, whatever the
// hooks' fail modes, since which hooks apply is unknown.
func (s *Service) hooks(ctx context.Context, point string) ([]*entry, error) {
	set := s.set.Load()
	if s.due(set, s.now()) {
		wait := set == nil || set.byPoint == nil || (set.err == nil && s.stale.Load())
		set = s.reload(ctx, wait)
	}
	if set == nil || set.byPoint == nil {
		return nil, notLoaded(set)
	}
	return set.byPoint[point], nil
}

func notLoaded(set *hookSet) error {
	cause := errors.New("a read of the hook registrations is in progress")
	if set != nil && set.err != nil {
		cause = set.err
	}
	return &fault.Error{Kind: fault.NotReady, Message: "the studio's hooks could not be read; try again later", Err: cause}
}

// Run reads the registrations at once and then every Reload until ctx
// ends, so that the matchmaking cycle (VetsMatches) finds them read and
// another replica's changes are seen without a request having to wait for
// the read. Requests still read at once a change made here.
func (s *Service) Run(ctx context.Context) error {
	s.running.Store(true)
	defer s.running.Store(false)
	s.reload(ctx, true)
	return s.cfg.Every(ctx, s.cfg.Reload, "hooks: reading registrations failed", func(ctx context.Context) error {
		s.reload(ctx, true)
		return nil // reload logs its failures itself
	})
}

// reload reads the registrations and swaps them in, unless the goroutine
// that held loadMu before has just done so. With wait false it does not
// wait for a read in progress and returns the set in force (nil before the
// first read). The store is read outside any lock a request takes: only
// readers wait for a reader.
func (s *Service) reload(ctx context.Context, wait bool) *hookSet {
	if wait {
		s.loadMu.Lock()
	} else if !s.loadMu.TryLock() {
		return s.set.Load()
	}
	defer s.loadMu.Unlock()
	cur, now := s.set.Load(), s.now()
	if !s.due(cur, now) {
		return cur
	}
	// Cleared before the read, so that a change committed during it is
	// read next time.
	wasStale := s.stale.Swap(false)
	byPoint, err := s.load(ctx)
	if err != nil && ctx.Err() != nil {
		// The caller went away: that says nothing about the store.
		s.stale.CompareAndSwap(false, wasStale)
		return cur
	}
	next := &hookSet{byPoint: byPoint, at: now, err: err}
	if err != nil {
		next.byPoint = nil
		if cur != nil {
			next.byPoint = cur.byPoint
		}
		s.logFailedRead(next)
	}
	s.set.Store(next)
	return next
}

func (s *Service) logFailedRead(set *hookSet) {
	if set.byPoint == nil {
		s.cfg.Logger.Error("hooks: reading registrations failed; until a read succeeds every hook point refuses with 503 (Retry-After)",
			"retry_in", s.cfg.Reload, "err", set.err)
		return
	}
	s.cfg.Logger.Warn("hooks: reading registrations failed; the last ones read stay in force", "retry_in", s.cfg.Reload, "err", set.err)
}

// load reads every enabled hook, by point in order. It runs under loadMu.
func (s *Service) load(ctx context.Context) (map[string][]*entry, error) {
	var recs []record
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		recs = recs[:0]
		return store.Walk(ctx, r, store.Query{Kind: KindHook, Prefix: true}, func(it store.Item) error {
			rec, err := store.Decode[record]([]store.Item{it})
			recs = append(recs, rec...)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("hooks: read registrations: %w", err)
	}
	byPoint := map[string][]*entry{}
	live := map[string]bool{}
	for _, rec := range recs {
		if rec.Enabled {
			live[rec.ID] = true
			byPoint[rec.Point] = append(byPoint[rec.Point], s.entry(rec))
		}
	}
	for _, es := range byPoint {
		slices.SortFunc(es, func(a, b *entry) int {
			return cmp.Or(cmp.Compare(a.Order, b.Order), strings.Compare(a.ID, b.ID))
		})
	}
	s.forgetRunners(live)
	s.noteUnusable(byPoint)
	return byPoint, nil
}

// entry readies an enabled hook. One that may not be called is kept, with
// the reason, rather than left out: left out, a failClosed hook (a ban
// list) would let every request through.
func (s *Service) entry(rec record) *entry {
	e := &entry{Hook: rec.Hook, configs: map[string]bool{}, run: s.runner(rec.ID)}
	for _, c := range rec.Configurations {
		e.configs[c] = true
	}
	if err := s.refusedURL(rec.URL); err != nil {
		e.unusable = fmt.Errorf("the destination policy in force refuses its URL: %w", err)
		return e
	}
	var err error
	if e.signing, err = s.newSigning(rec); err != nil {
		e.unusable = fmt.Errorf("its signing secret cannot be opened: %w", err)
	}
	return e
}

// noteUnusable logs each hook that may not be called once per reason (the
// registrations are read every Reload), and forgets the hooks that may be
// called again.
func (s *Service) noteUnusable(byPoint map[string][]*entry) {
	seen := map[string]bool{}
	for _, es := range byPoint {
		for _, e := range es {
			if e.unusable == nil {
				continue
			}
			seen[e.ID] = true
			if why := e.unusable.Error(); s.unusable[e.ID] != why {
				s.unusable[e.ID] = why
				s.cfg.Logger.Warn("hooks: a hook is not called; its fail mode applies to every request it would decide until it is fixed",
					"hook", e.ID, "point", e.Point, "fail_mode", e.FailMode, "reason", why)
			}
		}
	}
	for id := range s.unusable {
		if !seen[id] {
			delete(s.unusable, id)
		}
	}
}
