package matchmaking

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// Every ticket with latencies is checked against the locations its match
// could be placed in, and reading them walks the configuration's queues,
// their fleets and the fleets' locations: a few store reads per ticket on
// the hottest write path. So the locations read are kept for
// knownLocationsTTL, and only to accept: a latency to a location the
// cached set lacks is checked against a fresh read before it is refused,
// so a location added a moment ago is never refused. A location removed
// within the TTL may still be accepted for that long, as it would have been
// by a ticket started a moment earlier.
const knownLocationsTTL = time.Second

// knownLocations holds the locations read, by the queues they were read for.
type knownLocations struct {
	mu      sync.Mutex
	byQueue map[string]cachedLocations
}

type cachedLocations struct {
	known map[string]bool // never written once cached
	read  time.Time
}

// latencyField is one player's latencies and where they are in a request.
type latencyField struct {
	path string
	ms   map[string]int32
}

// checkLatencies refuses a latency to a location no match of c can be
// placed in, naming it: such a ticket could never match on it. The known
// locations are those of the fleets in c's queues (WITH_QUEUE), or every
// location Muster knows (STANDALONE, or c nil: a party, whose
// configuration is chosen later).
func (s *Service) checkLatencies(ctx context.Context, c *configRec, fields ...latencyField) error {
	if !slices.ContainsFunc(fields, func(f latencyField) bool { return len(f.ms) > 0 }) {
		return nil
	}
	byQueues := c != nil && !c.standalone() && s.cfg.Placer != nil
	key := "" // every location Muster knows
	if byQueues {
		key = "queues:" + strings.Join(c.QueueArns, "\x00")
	}
	if s.knownLocations.accepts(key, s.now(), fields) {
		return nil
	}
	known, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (map[string]bool, error) {
		if byQueues {
			return s.cfg.Placer.Locations(ctx, r, c.QueueArns)
		}
		return fleet.KnownLocations(ctx, r)
	})
	if err != nil {
		return fmt.Errorf("known locations: %w", err)
	}
	s.knownLocations.keep(key, s.now(), known)
	hint := "no location is known"
	if len(known) > 0 {
		hint = "known: " + strings.Join(slices.Sorted(maps.Keys(known)), ", ")
	}
	var v fault.Validator
	for _, f := range fields {
		for _, loc := range slices.Sorted(maps.Keys(f.ms)) {
			v.Check(known[loc], f.path+"."+loc, "unknown location %q (%s)", loc, hint)
		}
	}
	return v.Err()
}

// accepts reports whether the locations read for key within the TTL hold
// every location in fields.
func (k *knownLocations) accepts(key string, now time.Time, fields []latencyField) bool {
	k.mu.Lock()
	cached, ok := k.byQueue[key]
	k.mu.Unlock()
	if !ok || now.Sub(cached.read) >= knownLocationsTTL || now.Before(cached.read) {
		return false
	}
	for _, f := range fields {
		for loc := range f.ms {
			if !cached.known[loc] {
				return false
			}
		}
	}
	return true
}

// keep caches the locations read for key at now. Entries past the TTL go
// then, so the queues of deleted configurations do not stay.
func (k *knownLocations) keep(key string, now time.Time, known map[string]bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byQueue == nil {
		k.byQueue = map[string]cachedLocations{}
	}
	maps.DeleteFunc(k.byQueue, func(_ string, c cachedLocations) bool { return now.Sub(c.read) >= knownLocationsTTL })
	k.byQueue[key] = cachedLocations{known: known, read: now}
}
