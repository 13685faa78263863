package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// targetCases are events as written and the Target each must read back
// with: an ARN, "" (recorded: the resource had none) and nil (none
// recorded), which delivery tells apart.
var targetCases = []struct {
	resource string
	target   *string
}{
	{"with-target", new("arn:aws:sns:mu-local-1:000000000000:studio")},
	{"without-target", new("")},
	{"unrecorded", nil},
}

// testEventTargets: an event's Target reads back as written, outside and
// inside a transaction and with a type filter, for an event appended and
// for a pending one; pruning the oldest leaves the others' as they were.
func testEventTargets(t *testing.T, s store.Store, clk *clock.Fake) {
	ctx := context.Background()
	p := &store.Pending{Event: store.Event{Type: "Audit", Resource: "pending", Target: new("arn:aws:sns:mu-local-1:000000000000:audit")}}
	pctx := store.WithPending(ctx, p)
	for _, c := range targetCases {
		err := s.Update(pctx, func(w store.Writer) error {
			return w.Append(ctx, store.Event{Type: "Changed", Resource: c.resource, Doc: []byte(`{}`), Target: c.target})
		})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	want := map[string]string{"pending": show(p.Event.Target)}
	for _, c := range targetCases {
		want[c.resource] = show(c.target)
	}
	check := func(when string, evs []store.Event, want map[string]string) {
		t.Helper()
		got := map[string]string{}
		for _, e := range evs {
			got[e.Resource] = show(e.Target)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: targets %v, want %v", when, got, want)
		}
	}
	check("read back", events(t, s, store.EventQuery{}), want)
	delete(want, "pending")
	check("filtered by type", events(t, s, store.EventQuery{Type: "Changed"}), want)
	err := s.Update(ctx, func(w store.Writer) error {
		evs, err := w.Events(ctx, store.EventQuery{Type: "Changed"})
		check("read by a writer", evs, want)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pruner, ok := s.(store.EventPruner)
	if !ok {
		return
	}
	first := events(t, s, store.EventQuery{Limit: 1})[0]
	if _, err := pruner.PruneEvents(ctx, clk.Now(), first.Seq, 1); err != nil {
		t.Fatal(err)
	}
	delete(want, first.Resource)
	check("after pruning the oldest", events(t, s, store.EventQuery{Type: "Changed"}), want)
}

// show renders a Target: <nil> for none recorded, else quoted.
func show(target *string) string {
	if target == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%q", *target)
}

// EventWrittenBeforeTargets checks a store opened on a database that held
// one event, id "old" with doc {"a":1}, written before the store kept
// targets: it reads back whole and without a target, beside a new event
// with its own. Each backend's migration test writes the old event its
// own way, then calls this.
func EventWrittenBeforeTargets(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	target := "arn:aws:sns:mu-local-1:000000000000:studio"
	if err := s.Update(ctx, func(w store.Writer) error {
		return w.Append(ctx, store.Event{ID: "new", Type: "PlacementFailed", Resource: "queue-arn", Doc: []byte(`{"a":2}`), Target: &target})
	}); err != nil {
		t.Fatal(err)
	}
	var evs []store.Event
	if err := s.View(ctx, func(r store.Reader) error {
		var err error
		evs, err = r.Events(ctx, store.EventQuery{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ID != "old" || string(evs[0].Doc) != `{"a":1}` || evs[0].Target != nil || evs[1].ID != "new" || evs[1].Target == nil || *evs[1].Target != target {
		t.Fatalf("events after the migration: %+v; want the old one whole without a target, the new one with its own", evs)
	}
}
