package fleet_test

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// TestFleetEventsExpire: a fleet event is readable for FleetEventRetention
// and then gone, so a process that crashes in a loop does not grow the
// store for as long as its fleet lives.
func TestFleetEventsExpire(t *testing.T) {
	e := fleettest.New(t, "custom-events")
	ctx, svc := e.Ctx, e.Fleets
	codes := func() []string {
		t.Helper()
		out, err := svc.DescribeFleetEvents(ctx, &gamelift.DescribeFleetEventsInput{FleetId: e.FleetID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range out.Events {
			if ev.Message == "crash loop" || ev.Message == "later" {
				got = append(got, ev.Message)
			}
		}
		return got
	}
	add := func(message string) {
		t.Helper()
		if err := e.Store.Update(ctx, func(w store.Writer) error {
			return svc.AddEvent(ctx, w, e.FleetID, "GENERIC_EVENT", message)
		}); err != nil {
			t.Fatal(err)
		}
	}
	add("crash loop")
	e.Clock.Advance(time.Hour)
	add("later")
	e.Clock.Advance(fleet.FleetEventRetention - time.Hour - time.Second)
	if got := codes(); len(got) != 2 {
		t.Fatalf("just before the retention ends: %v, want both events", got)
	}
	e.Clock.Advance(time.Second)
	if got := codes(); len(got) != 1 || got[0] != "later" {
		t.Fatalf("once the first event's retention ended: %v, want only the later one", got)
	}
	e.Clock.Advance(time.Hour)
	if got := codes(); len(got) != 0 {
		t.Fatalf("after both retentions: %v, want none", got)
	}
}
