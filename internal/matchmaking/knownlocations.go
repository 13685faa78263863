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
	"github.com/musterhq/muster/internal/store"
)

// Every ticket with latencies is checked against the locations its match
// could be placed in, and reading them walks the configuration's queues,
// their fleets and the fleets' locations: a few store reads per ticket on
// the hottest write path. So the locations read are kept for
// knownLocationsTTL, and never to refuse: a latency to a location the
// cached locations lack is checked against a fresh read before it is
// refused, so a location added a moment ago is never refused. A location
// removed within the TTL may still be accepted for that long, as it would
// have been by a ticket started a moment earlier, and one that became
// usable within it may still be dropped from a ticket for that long.
const knownLocationsTTL = time.Second

// knownLocations holds the locations read, by the queues they were read for.
type knownLocations struct {
	mu      sync.Mutex
	byQueue map[string]cachedLocations
}

// cachedLocations are the locations read at read: those a match can be
// placed in (usable) and every one Muster knows (known). Never written once
// cached.
type cachedLocations struct {
	usable, known map[string]bool
	read          time.Time
}

// latencyField is one player's latencies and where they are in a request.
type latencyField struct {
	path string
	ms   map[string]int32
	// member names the party member whose latencies these are, when they
	// were not sent in this request ("" when they were).
	member string
}

// usableLatencies checks the players' latencies against the locations a
// match of c can be placed in: those of the fleets in c's queues
// (WITH_QUEUE), or every location Muster knows (STANDALONE, or c nil: a
// party, whose configuration is chosen later). A location Muster does not
// know is refused, naming it (a typo, most likely); one it knows but c
// cannot place in is dropped, as a client that measures every beacon in
// GET /v1/locations sends them all, and the matchmaker must not choose a
// location the queue cannot place the match in; a player whose latencies
// name no usable location is refused, as the ticket could never match on
// them. It returns the latencies kept, one map per field (the field's own
// map when nothing was dropped).
func (s *Service) usableLatencies(ctx context.Context, c *configRec, fields ...latencyField) ([]map[string]int32, error) {
	kept := make([]map[string]int32, len(fields))
	for i, f := range fields {
		kept[i] = f.ms
	}
	if !slices.ContainsFunc(fields, func(f latencyField) bool { return len(f.ms) > 0 }) {
		return kept, nil
	}
	byQueues := c != nil && !c.standalone() && s.cfg.Placer != nil
	key := "" // every location Muster knows
	if byQueues {
		key = "queues:" + strings.Join(c.QueueArns, "\x00")
	}
	cached, ok := s.knownLocations.lookup(key, s.now(), fields)
	if !ok {
		err := s.cfg.Store.View(ctx, func(r store.Reader) error {
			var err error
			if cached.known, err = fleet.KnownLocations(ctx, r); err != nil || !byQueues {
				cached.usable = cached.known
				return err
			}
			cached.usable, err = s.cfg.Placer.Locations(ctx, r, c.QueueArns)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("known locations: %w", err)
		}
		s.knownLocations.keep(key, s.now(), cached)
	}
	usable, known := cached.usable, cached.known
	if within(fields, usable) {
		return kept, nil // the usual ticket: nothing to drop or name
	}
	usableHint := hint(usable)
	var v fault.Validator
	for i, f := range fields {
		dropped := false
		whose, locPath := "", func(loc string) string { return f.path + "." + loc }
		if f.member != "" {
			whose, locPath = "party member "+f.member+": ", func(string) string { return f.path }
		}
		for _, loc := range slices.Sorted(maps.Keys(f.ms)) {
			v.Check(known[loc], locPath(loc), "%sunknown location %q (%s)", whose, loc, hint(known))
			dropped = dropped || known[loc] && !usable[loc]
		}
		if !dropped {
			continue
		}
		kept[i] = maps.Clone(f.ms)
		maps.DeleteFunc(kept[i], func(loc string, _ int32) bool { return !usable[loc] })
		v.Check(len(kept[i]) > 0, f.path, "%sno match of configuration %s can be placed in any of these locations (%s)", whose, c.Name, usableHint)
	}
	return kept, v.Err()
}

// hintedLocations is the most locations a message lists: an installation
// may know thousands, and a refusal repeats the list for each bad field.
const hintedLocations = 20

// hint lists locations for a message, the first hintedLocations by name.
func hint(locs map[string]bool) string {
	if len(locs) == 0 {
		return "no location is known"
	}
	names := slices.Sorted(maps.Keys(locs))
	if len(names) <= hintedLocations {
		return "known: " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("known: %s and %d more (GET /v1/locations)", strings.Join(names[:hintedLocations], ", "), len(names)-hintedLocations)
}

// within reports whether locs holds every location in fields.
func within(fields []latencyField, locs map[string]bool) bool {
	for _, f := range fields {
		for loc := range f.ms {
			if !locs[loc] {
				return false
			}
		}
	}
	return true
}

// lookup returns the locations read for key within the TTL when they know
// every location in fields; ok is false when they are not there, too old,
// or lack one of them.
func (k *knownLocations) lookup(key string, now time.Time, fields []latencyField) (cachedLocations, bool) {
	k.mu.Lock()
	cached, ok := k.byQueue[key]
	k.mu.Unlock()
	if !ok || now.Sub(cached.read) >= knownLocationsTTL || now.Before(cached.read) || !within(fields, cached.known) {
		return cachedLocations{}, false
	}
	return cached, true
}

// keep caches the locations read for key at now. Entries past the TTL go
// then, so the queues of deleted configurations do not stay.
func (k *knownLocations) keep(key string, now time.Time, locs cachedLocations) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byQueue == nil {
		k.byQueue = map[string]cachedLocations{}
	}
	maps.DeleteFunc(k.byQueue, func(_ string, c cachedLocations) bool { return now.Sub(c.read) >= knownLocationsTTL })
	locs.read = now
	k.byQueue[key] = locs
}
