package placement_test

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
)

func TestOrder(t *testing.T) {
	cands := []placement.Candidate{
		{FleetID: "f1", Location: "custom-b", Destination: 0, Cost: 0.5},
		{FleetID: "f1", Location: "custom-a", Destination: 0, Cost: 0.5},
		{FleetID: "f2", Location: "custom-c", Destination: 1, Cost: 0.1},
	}
	policies := []gamelift.PlayerLatencyPolicy{
		{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(50)), PolicyDurationSeconds: ptr(int32(30))},
		{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(100))},
	}
	lats := []gamelift.PlayerLatency{lat("p", "custom-a", 40), lat("p", "custom-b", 80), lat("q", "custom-a", 45), lat("q", "custom-b", 20), lat("q", "custom-c", 1)}
	cases := []struct {
		name      string
		q         placement.Queue
		latencies []gamelift.PlayerLatency
		override  *gamelift.PriorityConfigurationOverride
		age       time.Duration
		want      []string
		wantNext  time.Duration
	}{
		{name: "without latencies destinations come first, then locations alphabetically",
			want: []string{"custom-a", "custom-b", "custom-c"}},
		{name: "the first latency policy drops locations above its cap or missing a player's latency",
			q: placement.Queue{Policies: policies}, latencies: lats, age: 10 * time.Second,
			want: []string{"custom-a"}, wantNext: 20 * time.Second},
		{name: "the loosest policy lets more through, ordered by average latency",
			q: placement.Queue{Policies: policies}, latencies: lats, age: 30 * time.Second,
			want: []string{"custom-a", "custom-b"}},
		{name: "with no policy a location missing a latency ranks last",
			latencies: lats, want: []string{"custom-a", "custom-b", "custom-c"}},
		{name: "COST first prefers the cheap fleet",
			q: placement.Queue{PriorityOrder: []string{"COST", "LOCATION"}}, want: []string{"custom-c", "custom-a", "custom-b"}},
		{name: "LocationOrder ranks listed locations first, others alphabetically after",
			q: placement.Queue{PriorityOrder: []string{"LOCATION"}, LocationOrder: []string{"custom-c"}}, want: []string{"custom-c", "custom-a", "custom-b"}},
		{name: "an override with NONE tries only its locations",
			q:        placement.Queue{PriorityOrder: []string{"LOCATION"}},
			override: &gamelift.PriorityConfigurationOverride{LocationOrder: []string{"custom-b"}, PlacementFallbackStrategy: "NONE"},
			want:     []string{"custom-b"}},
		{name: "an override falls back to the queue's order after its own locations",
			q:        placement.Queue{PriorityOrder: []string{"LOCATION"}},
			override: &gamelift.PriorityConfigurationOverride{LocationOrder: []string{"custom-b"}},
			want:     []string{"custom-b", "custom-a", "custom-c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, next := placement.Order(cands, c.q, c.latencies, c.override, c.age)
			var names []string
			for _, g := range got {
				names = append(names, g.Location)
			}
			if len(names) != len(c.want) || next != c.wantNext {
				t.Fatalf("got %v (next %v), want %v (next %v)", names, next, c.want, c.wantNext)
			}
			for i := range names {
				if names[i] != c.want[i] {
					t.Fatalf("got %v, want %v", names, c.want)
				}
			}
		})
	}
}

func TestQueueOperations(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a")
	for _, n := range []string{"q1", "q2", "q3"} {
		e.queue(&gamelift.CreateGameSessionQueueInput{Name: n, Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	}
	t.Run("Describe without names pages through every queue", func(t *testing.T) {
		out, err := e.svc.DescribeGameSessionQueues(e.ctx, &gamelift.DescribeGameSessionQueuesInput{Limit: ptr(int32(2))})
		if err != nil || len(out.GameSessionQueues) != 2 || out.NextToken == "" {
			t.Fatalf("%+v %v", out, err)
		}
		out, err = e.svc.DescribeGameSessionQueues(e.ctx, &gamelift.DescribeGameSessionQueuesInput{Limit: ptr(int32(2)), NextToken: out.NextToken})
		if err != nil || len(out.GameSessionQueues) != 1 || out.GameSessionQueues[0].Name != "q3" || out.NextToken != "" {
			t.Fatalf("%+v %v", out, err)
		}
	})
	t.Run("bad members are all named", func(t *testing.T) {
		_, err := e.svc.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{Name: "bad name",
			PlayerLatencyPolicies: []gamelift.PlayerLatencyPolicy{{PolicyDurationSeconds: ptr(int32(5))}},
			PriorityConfiguration: &gamelift.PriorityConfiguration{PriorityOrder: []string{"COST", "COST", "SPEED"}},
			Destinations:          []gamelift.GameSessionQueueDestination{{DestinationArn: "arn:aws:gamelift:mu-local-1:000000000000:build/build-1"}}})
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		for _, want := range []string{"Name", "PlayerLatencyPolicies[0].MaximumIndividualPlayerLatencyMilliseconds", "PriorityOrder[1]", "PriorityOrder[2]", "Destinations[0].DestinationArn"} {
			if !contains(msg, want) {
				t.Fatalf("error %q does not name %s", msg, want)
			}
		}
	})
	t.Run("a destination that does not exist is NotFound", func(t *testing.T) {
		_, err := e.svc.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{Name: "q9",
			Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn("fleet-00000000-0000-4000-8000-000000000000")}}})
		if err == nil || !contains(err.Error(), "not found") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("Update replaces the lists it is given and keeps the rest", func(t *testing.T) {
		out, err := e.svc.UpdateGameSessionQueue(e.ctx, &gamelift.UpdateGameSessionQueueInput{Name: e.arns.Build("gamesessionqueue", "q1"), TimeoutInSeconds: ptr(int32(42)),
			FilterConfiguration: &gamelift.FilterConfiguration{AllowedLocations: []string{"custom-a"}}})
		if err != nil || *out.GameSessionQueue.TimeoutInSeconds != 42 || len(out.GameSessionQueue.Destinations) != 1 || out.GameSessionQueue.FilterConfiguration.AllowedLocations[0] != "custom-a" {
			t.Fatalf("%+v %v", out, err)
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
