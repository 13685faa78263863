package sqlite

import (
	"sync"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// recentRecords keeps the committed state of the records the writer wrote
// or read last, so that a point read (Get) of one is answered from memory
// instead of by SQLite. Under load most point reads are of records written
// moments before: a ticket described right after its creation, a game
// session read as its process activates it, a placement as its game
// session settles. Each such read costs SQLite a B-tree walk from a page
// cache that, for readers, every commit empties.
//
// Only the writer changes the cache, and only with committed state:
//   - a transaction's writes are kept aside (writeSet) and enter the cache
//     after the commit succeeds; the keys it wrote leave the cache before
//     the commit, so a reader meanwhile reads SQLite and never sees an
//     older version than SQLite would give it;
//   - a record the writer reads from SQLite that its transaction has not
//     written is committed state, and is kept too;
//   - so is one a reader outside the writer reads from SQLite, when no
//     commit began or ended and nothing emptied the cache while it read
//     (epoch): its read then saw the latest commit. Records that are read
//     often and written rarely (a matchmaking configuration every player
//     ticket reads) are then answered from memory too.
//
// Another process may write the file (`muster keys` beside a running
// server). The writer compares PRAGMA data_version as each transaction
// begins and empties the cache when another connection has committed.
// Readers outside the writer trust the cache only within recentFreshFor of
// that comparison, so an idle writer leaves them to SQLite.
//
// The cache holds two generations of at most half its size in bytes each;
// when the newer fills, the older is dropped.
type recentRecords struct {
	mu       sync.RWMutex
	cur      map[recordKey]store.Item
	prev     map[recordKey]store.Item
	curBytes int
	genBytes int
	// checked is when the writer last found no other connection's commit.
	checked time.Time
	// epoch counts the writer's commits begun and ended and the times the
	// cache was emptied: it is odd while a commit is in flight.
	epoch uint64
}

// recentFreshFor is how long after the writer's last data_version check
// readers outside the writer still answer from the cache.
const recentFreshFor = 50 * time.Millisecond

// defaultRecentBytes sizes the cache: at 500 players a second through the
// whole flow, about two seconds of the records written, while adding under
// 200 bytes of heap per ticket with 50,000 tickets waiting.
const defaultRecentBytes = 8 << 20

type recordKey struct{ kind, id string }

// itemOverhead approximates what an entry costs beyond its strings.
const itemOverhead = 160

func itemBytes(it store.Item) int {
	return itemOverhead + len(it.Kind) + len(it.ID) + len(it.Doc) + len(it.Keys[0]) + len(it.Keys[1]) + len(it.Keys[2])
}

func newRecentRecords(maxBytes int) *recentRecords {
	return &recentRecords{cur: map[recordKey]store.Item{}, genBytes: max(maxBytes/2, 1)}
}

// get returns a copy of the cached item: callers own the documents they
// are given.
func (c *recentRecords) get(k recordKey) (store.Item, bool) {
	c.mu.RLock()
	it, ok := c.lookup(k)
	c.mu.RUnlock()
	return it, ok
}

// freshGet is get for a reader outside the writer: it misses unless the
// writer checked for other processes' commits within recentFreshFor.
func (c *recentRecords) freshGet(k recordKey, now time.Time) (store.Item, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if now.Sub(c.checked) > recentFreshFor {
		return store.Item{}, false
	}
	return c.lookup(k)
}

// lookup finds k in either generation and copies its document; the caller
// holds mu.
func (c *recentRecords) lookup(k recordKey) (store.Item, bool) {
	it, ok := c.cur[k]
	if !ok {
		it, ok = c.prev[k]
	}
	if ok {
		it.Doc = append([]byte(nil), it.Doc...)
	}
	return it, ok
}

// checkedAt records a data_version comparison at now; changed empties the
// cache first.
func (c *recentRecords) checkedAt(now time.Time, changed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if changed {
		c.emptyLocked()
	}
	c.checked = now
}

// add keeps a record read from committed state. The item must not be
// changed afterwards.
func (c *recentRecords) add(it store.Item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(recordKey{it.Kind, it.ID}, it)
}

func (c *recentRecords) put(k recordKey, it store.Item) {
	if c.curBytes >= c.genBytes {
		c.prev, c.cur, c.curBytes = c.cur, make(map[recordKey]store.Item, len(c.cur)), 0
	}
	delete(c.prev, k)
	c.cur[k] = it
	c.curBytes += itemBytes(it)
}

// readEpoch is what a reader outside the writer notes before it reads a
// record from SQLite, for addRead.
func (c *recentRecords) readEpoch() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

// addRead keeps a record a reader outside the writer read from SQLite
// after noting epoch, unless a commit was in flight then, or one began or
// ended since, or the cache was emptied: the read may then be older than
// the latest commit. The item must not be changed afterwards.
func (c *recentRecords) addRead(it store.Item, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch%2 == 0 && epoch == c.epoch {
		c.put(recordKey{it.Kind, it.ID}, it)
	}
}

// forget drops the records a transaction is about to commit, and marks a
// commit in flight until committed.
func (c *recentRecords) forget(ws writeSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for k := range ws {
		delete(c.cur, k)
		delete(c.prev, k)
	}
}

// committed ends the commit forget began, keeping what it wrote when it
// succeeded.
func (c *recentRecords) committed(ws writeSet, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if !ok {
		return
	}
	for k, w := range ws {
		if !w.deleted {
			c.put(k, w.item)
		}
	}
}

// clear empties the cache, when the writer could not tell whether another
// connection committed.
func (c *recentRecords) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emptyLocked()
}

func (c *recentRecords) emptyLocked() {
	c.cur, c.prev, c.curBytes = map[recordKey]store.Item{}, nil, 0
	c.epoch += 2 // a read begun before this may not be kept
}

// pendingWrite is a record as a transaction left it.
type pendingWrite struct {
	item    store.Item
	deleted bool
}

// writeSet is the records a transaction, or one savepoint of it, wrote.
type writeSet map[recordKey]pendingWrite
