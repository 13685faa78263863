package lease

import (
	"strings"
	"sync"
	"time"
)

// Replicas' clocks differ, so a replica never compares its clock with a
// time another replica wrote. Whether another replica's lease has lapsed,
// or another replica is alive, it judges from what it saw: a holder
// rewrites its lease every Tick (TTL/3) and a live replica its record, so
// a record this replica has seen unchanged for TTL on its own clock has
// been abandoned, whatever the expiry written in it says. Only the rates
// of the clocks must agree, not their readings: a holder's own work stops
// TTL after its last renewal by its own clock (Check), before another
// replica that saw that renewal can have waited TTL.

// sightings remember, per record, the version this replica last saw and
// when it first saw that version.
type sightings struct {
	mu   sync.Mutex
	seen map[string]sighting
}

type sighting struct {
	version int64
	since   time.Time
}

// unchangedFor reports how long, by now on this replica's clock, the
// record key has been seen at version: 0 on a first sighting or a change.
func (s *sightings) unchangedFor(key string, version int64, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]sighting{}
	}
	cur, ok := s.seen[key]
	if !ok || cur.version != version {
		s.seen[key] = sighting{version: version, since: now}
		return 0
	}
	return now.Sub(cur.since)
}

// forget drops keys not in keep (records gone from the store).
func (s *sightings) forget(prefix string, keep map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.seen {
		if strings.HasPrefix(k, prefix) && !keep[k] {
			delete(s.seen, k)
		}
	}
}
