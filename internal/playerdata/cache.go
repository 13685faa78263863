package playerdata

import (
	"sync"
	"sync/atomic"
	"time"
)

// cache keeps recently read or written records in memory so that a
// player's repeated GET /v1/players/me and matchmaking's Attributes do not
// each read the store. Writes through this Service update it at once;
// writes by another process (another replica, `muster players import`
// while the server runs) are seen within the cache TTL. It is bounded:
// when full it forgets an arbitrary quarter.
type cache struct {
	ttl time.Duration
	max int
	// gen orders writes: a read that started before a write of the same
	// record must not put back what it read.
	gen atomic.Uint64

	mu      sync.RWMutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	rec     Record // Version 0: the player has no record
	fetched time.Time
	gen     uint64
}

func newCache(ttl time.Duration, max int) *cache {
	return &cache{ttl: ttl, max: max, entries: map[string]cacheEntry{}}
}

// get returns a copy-safe record (callers must not modify its maps) if a
// fresh entry is there.
func (c *cache) get(id string, now time.Time) (Record, bool) {
	if c.ttl <= 0 {
		return Record{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if !ok || now.Sub(e.fetched) >= c.ttl {
		return Record{}, false
	}
	if !e.rec.ExpiresAt.IsZero() && !now.Before(e.rec.ExpiresAt) {
		return empty(id), true
	}
	return e.rec, true
}

// begin returns the generation a read must present to fill.
func (c *cache) begin() uint64 { return c.gen.Load() }

// fill stores what a read found, unless a write of the record happened
// since the read began.
func (c *cache) fill(rec Record, readGen uint64, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[rec.IdentityID]; ok && e.gen > readGen {
		return
	}
	c.putLocked(rec.IdentityID, cacheEntry{rec: rec, fetched: now, gen: readGen})
}

// wrote stores a record this process just committed (or, with version 0,
// deleted).
func (c *cache) wrote(rec Record, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	g := c.gen.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[rec.IdentityID]; ok && e.rec.Version > rec.Version && rec.Version > 0 {
		return // a later write already landed
	}
	c.putLocked(rec.IdentityID, cacheEntry{rec: rec, fetched: now, gen: g})
}

// putLocked expects mu held for writing.
func (c *cache) putLocked(id string, e cacheEntry) {
	if _, ok := c.entries[id]; !ok && len(c.entries) >= c.max {
		for k := range c.entries {
			if len(c.entries) < c.max*3/4 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[id] = e
}

// forget drops a record (written without knowing its version).
func (c *cache) forget(id string) {
	c.gen.Add(1)
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
