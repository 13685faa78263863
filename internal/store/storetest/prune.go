package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// testPruneEvents: pruning deletes the oldest events older than the
// cut-off, never past the seq it is given nor past an event it keeps,
// and raises the pruned mark in the same transaction.
func testPruneEvents(t *testing.T, s store.Store, clk *clock.Fake) {
	p, ok := s.(store.EventPruner)
	if !ok {
		t.Fatalf("%T does not prune events", s)
	}
	ctx := context.Background()
	appendAt := func(name string, at time.Time) {
		t.Helper()
		if err := s.Update(ctx, func(w store.Writer) error {
			return w.Append(ctx, store.Event{Type: "E", Resource: name, Time: at})
		}); err != nil {
			t.Fatal(err)
		}
	}
	old := clk.Now().Add(-48 * time.Hour)
	for _, n := range []string{"a", "b", "c", "d"} {
		appendAt(n, old)
	}
	appendAt("recent", clk.Now())
	appendAt("old-but-after-a-recent-one", old)
	left := func() (names string) {
		for _, e := range events(t, s, store.EventQuery{}) {
			names += e.Resource + " "
		}
		return names
	}
	mark := func() int64 {
		var n int64
		if err := s.View(ctx, func(r store.Reader) (err error) { n, err = store.PrunedThrough(ctx, r); return err }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if mark() != 0 {
		t.Fatal("a store never pruned has a pruned mark")
	}
	evs := events(t, s, store.EventQuery{})
	cutoff := clk.Now().Add(-24 * time.Hour)
	steps := []struct {
		through int64
		limit   int
		deleted int64
		left    string
		mark    int64
	}{
		{evs[1].Seq, 100, 2, "c d recent old-but-after-a-recent-one ", evs[1].Seq}, // not past the given seq
		{evs[5].Seq, 1, 1, "d recent old-but-after-a-recent-one ", evs[2].Seq},     // at most limit
		{evs[5].Seq, 100, 1, "recent old-but-after-a-recent-one ", evs[3].Seq},     // not past a recent event
		{evs[5].Seq, 100, 0, "recent old-but-after-a-recent-one ", evs[3].Seq},
	}
	for i, st := range steps {
		n, err := p.PruneEvents(ctx, cutoff, st.through, st.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := left(); n != st.deleted || got != st.left || mark() != st.mark {
			t.Fatalf("step %d: deleted %d, left %q, mark %d; want %d, %q, %d", i, n, got, mark(), st.deleted, st.left, st.mark)
		}
	}
}
