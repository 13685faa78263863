package sqlite

import (
	"testing"

	"github.com/musterhq/muster/internal/store"
)

// A reader outside the writer keeps what it read only when no commit was in
// flight as it began, none began or ended while it read, and the cache was
// not emptied meanwhile: otherwise its read may be older than what the
// writer committed.
func TestARecordReadAcrossACommitIsNotKept(t *testing.T) {
	k := recordKey{"k", "x"}
	old := store.Item{Kind: "k", ID: "x", Doc: []byte(`{"v":1}`), Version: 1}
	kept := func(c *recentRecords) bool { _, ok := c.lookup(k); return ok }

	for _, c := range []struct {
		name string
		// between runs after the reader noted the epoch, before it adds.
		between func(c *recentRecords)
		// before runs before the reader notes the epoch.
		before func(c *recentRecords)
		want   bool
	}{
		{"nothing happened", func(*recentRecords) {}, nil, true},
		{"a commit began", func(c *recentRecords) { c.forget(writeSet{}) }, nil, false},
		{"a commit began and ended", func(c *recentRecords) { c.forget(writeSet{}); c.committed(writeSet{}, true) }, nil, false},
		{"a commit failed", func(c *recentRecords) { c.forget(writeSet{}); c.committed(writeSet{}, false) }, nil, false},
		{"the cache was emptied", func(c *recentRecords) { c.clear() }, nil, false},
		{"a commit was in flight", func(c *recentRecords) { c.committed(writeSet{}, true) }, func(c *recentRecords) { c.forget(writeSet{}) }, false},
		{"a commit had ended", func(*recentRecords) {}, func(c *recentRecords) { c.forget(writeSet{}); c.committed(writeSet{}, true) }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := newRecentRecords(1 << 20)
			if c.before != nil {
				c.before(rc)
			}
			epoch := rc.readEpoch()
			c.between(rc)
			rc.addRead(old, epoch)
			if got := kept(rc); got != c.want {
				t.Fatalf("kept %v, want %v", got, c.want)
			}
		})
	}
}
