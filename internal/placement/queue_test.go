package placement_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

// describeQueue returns the queue as DescribeGameSessionQueues shows it.
func describeQueue(t *testing.T, e *env, name string) gamelift.GameSessionQueue {
	t.Helper()
	out, err := e.svc.DescribeGameSessionQueues(e.ctx, &gamelift.DescribeGameSessionQueuesInput{Names: []string{name}})
	if err != nil || len(out.GameSessionQueues) != 1 {
		t.Fatalf("describe queue %s: %+v, %v", name, out, err)
	}
	return out.GameSessionQueues[0]
}

// UpdateGameSessionQueue's FilterConfiguration and PriorityConfiguration:
// "To remove an existing … configuration, pass in an empty set."
func TestUpdateRemovesAQueueSettingGivenAnEmptySet(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a", "custom-b")
	dests := []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}
	filters := map[string]*gamelift.FilterConfiguration{
		"an empty FilterConfiguration":   {},
		"an empty AllowedLocations list": {AllowedLocations: []string{}},
	}
	for name, empty := range filters {
		t.Run(name+" removes the filter, and placements may use the locations it left out", func(t *testing.T) {
			q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "filtered-" + strings.ReplaceAll(name, " ", "-"), Destinations: dests,
				FilterConfiguration: &gamelift.FilterConfiguration{AllowedLocations: []string{"custom-a"}}})
			out, err := e.svc.UpdateGameSessionQueue(e.ctx, &gamelift.UpdateGameSessionQueueInput{Name: q, FilterConfiguration: empty})
			if err != nil {
				t.Fatalf("update with %s: %v", name, err)
			}
			if fc := out.GameSessionQueue.FilterConfiguration; fc != nil {
				t.Fatalf("update answered FilterConfiguration %+v; want none", fc)
			}
			if fc := describeQueue(t, e, q).FilterConfiguration; fc != nil {
				t.Fatalf("described FilterConfiguration %+v; want none", fc)
			}
			e.process(f, "custom-b") // only the location the filter left out has a process
			id := "p-" + q
			e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: id, GameSessionQueueName: q})
			if p := e.wait(id); p.Status != gamelift.PlacementFulfilled || p.Location != "custom-b" {
				t.Fatalf("placement ended %s in %q; want FULFILLED in custom-b", p.Status, p.Location)
			}
		})
	}
	priorities := map[string]*gamelift.PriorityConfiguration{
		"an empty PriorityConfiguration": {},
		"empty priority lists":           {PriorityOrder: []string{}, LocationOrder: []string{}},
	}
	for name, empty := range priorities {
		t.Run(name+" removes the priority configuration", func(t *testing.T) {
			q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "ordered-" + strings.ReplaceAll(name, " ", "-"), Destinations: dests,
				PriorityConfiguration: &gamelift.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}, LocationOrder: []string{"custom-b", "custom-a"}}})
			if _, err := e.svc.UpdateGameSessionQueue(e.ctx, &gamelift.UpdateGameSessionQueueInput{Name: q, PriorityConfiguration: empty}); err != nil {
				t.Fatalf("update with %s: %v", name, err)
			}
			if pc := describeQueue(t, e, q).PriorityConfiguration; pc != nil {
				t.Fatalf("described PriorityConfiguration %+v; want none", pc)
			}
		})
	}
	t.Run("an empty PlayerLatencyPolicies list removes the policies", func(t *testing.T) {
		q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "capped", Destinations: dests,
			PlayerLatencyPolicies: []gamelift.PlayerLatencyPolicy{{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(50))}}})
		if _, err := e.svc.UpdateGameSessionQueue(e.ctx, &gamelift.UpdateGameSessionQueueInput{Name: q, PlayerLatencyPolicies: []gamelift.PlayerLatencyPolicy{}}); err != nil {
			t.Fatal(err)
		}
		if pl := describeQueue(t, e, q).PlayerLatencyPolicies; len(pl) != 0 {
			t.Fatalf("described PlayerLatencyPolicies %+v; want none", pl)
		}
	})
	t.Run("a non-empty list keeps its bounds", func(t *testing.T) {
		q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "bounded", Destinations: dests})
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("custom-%d", i)
		}
		_, err := e.svc.UpdateGameSessionQueue(e.ctx, &gamelift.UpdateGameSessionQueueInput{Name: q,
			FilterConfiguration:   &gamelift.FilterConfiguration{AllowedLocations: many},
			PriorityConfiguration: &gamelift.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}, LocationOrder: []string{}}})
		if !fault.Is(err, fault.Invalid) || !contains(err.Error(), "FilterConfiguration.AllowedLocations") || !contains(err.Error(), "PriorityConfiguration.LocationOrder") {
			t.Fatalf("got %v; want Invalid naming FilterConfiguration.AllowedLocations and PriorityConfiguration.LocationOrder", err)
		}
	})
	t.Run("CreateGameSessionQueue still refuses an empty filter", func(t *testing.T) {
		_, err := e.svc.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{Name: "unfiltered", Destinations: dests,
			FilterConfiguration: &gamelift.FilterConfiguration{}})
		if !fault.Is(err, fault.Invalid) || !contains(err.Error(), "FilterConfiguration.AllowedLocations") {
			t.Fatalf("got %v; want Invalid naming FilterConfiguration.AllowedLocations", err)
		}
	})
}
