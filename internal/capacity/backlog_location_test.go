package capacity_test

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
)

func latencies(ms map[string]float32) []gamelift.PlayerLatency {
	var out []gamelift.PlayerLatency
	for region, l := range ms {
		out = append(out, gamelift.PlayerLatency{PlayerId: "player-1", RegionIdentifier: region, LatencyInMilliseconds: &l})
	}
	return out
}

// Each waiting placement counts once, in the fleet location the placer
// would try first for it: the queue's order, the players' latencies, the
// latency policy in force and the placement's own override all decide it.
func TestBacklogCountsEachPlacementWhereThePlacerTriesFirst(t *testing.T) {
	tests := []struct {
		name  string
		queue placement.Queue
		p     placement.Placement
		want  string // location; "" counted nowhere
	}{
		{"without latencies, the first location in alphabetical order", placement.Queue{}, placement.Placement{}, "custom-a"},
		{"the queue's location order", placement.Queue{LocationOrder: []string{"custom-c"}}, placement.Placement{}, "custom-c"},
		{"the lowest latency", placement.Queue{}, placement.Placement{PlayerLatencies: latencies(map[string]float32{"custom-a": 90, "custom-b": 20, "custom-c": 50})}, "custom-b"},
		{"the placement's override", placement.Queue{}, placement.Placement{Override: &gamelift.PriorityConfigurationOverride{LocationOrder: []string{"custom-c"}}}, "custom-c"},
		{"a location outside the allowed ones, never", placement.Queue{AllowedLocations: []string{"custom-b", "custom-c"}}, placement.Placement{}, "custom-b"},
		{"a placement no latency policy lets go anywhere yet, where it goes once one does",
			placement.Queue{Policies: []gamelift.PlayerLatencyPolicy{
				{MaximumIndividualPlayerLatencyMilliseconds: ptr[int32](50), PolicyDurationSeconds: ptr[int32](30)},
				{MaximumIndividualPlayerLatencyMilliseconds: ptr[int32](100)}}},
			placement.Placement{PlayerLatencies: latencies(map[string]float32{"custom-a": 90, "custom-b": 80, "custom-c": 200})}, "custom-b"},
		{"a placement that can never go anywhere, nowhere", placement.Queue{Policies: []gamelift.PlayerLatencyPolicy{{MaximumIndividualPlayerLatencyMilliseconds: ptr[int32](10)}}},
			placement.Placement{PlayerLatencies: latencies(map[string]float32{"custom-a": 90, "custom-b": 80, "custom-c": 200})}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFleetEnv(t, "custom-a", "custom-b", "custom-c")
			tt.queue.Name = "q"
			e.queue(tt.queue)
			e.wait("q", 2, tt.p)
			got := e.waiting()
			want := map[capacity.FleetLocation]int{}
			if tt.want != "" {
				want[capacity.FleetLocation{FleetID: e.FleetID, Location: tt.want}] = 2
			}
			if len(got) != len(want) {
				t.Fatalf("got %v, want 2 placements in %q", got, tt.want)
			}
			for k, n := range want {
				if got[k].Count != n {
					t.Fatalf("got %v, want 2 placements in %q", got, tt.want)
				}
			}
		})
	}
}

// WaitTime is that of the oldest placement counted in the location.
func TestBacklogWaitTimeIsPerLocation(t *testing.T) {
	e := newFleetEnv(t, "custom-a", "custom-b")
	e.queue(placement.Queue{Name: "q"})
	e.wait("q", 1, placement.Placement{PlayerLatencies: latencies(map[string]float32{"custom-a": 20, "custom-b": 90})})
	start := e.Clock.Now()
	e.Clock.Advance(time.Minute)
	e.wait("q", 1, placement.Placement{PlayerLatencies: latencies(map[string]float32{"custom-a": 90, "custom-b": 20})})
	got := e.waiting()
	a, b := got[capacity.FleetLocation{FleetID: e.FleetID, Location: "custom-a"}], got[capacity.FleetLocation{FleetID: e.FleetID, Location: "custom-b"}]
	if a.Count != 1 || !a.Oldest.Equal(start) || b.Count != 1 || !b.Oldest.Equal(start.Add(time.Minute)) {
		t.Fatalf("custom-a %+v, custom-b %+v; want one each, oldest at %v and a minute later", a, b, start)
	}
}
