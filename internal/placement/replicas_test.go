package placement_test

import (
	"context"
	"testing"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/service"
)

// TestPlacementStartedWhereThePlacerDoesNotRun: with the placer under a
// lease on replica a, a placement started on replica b reaches a's placer
// over the bus and is placed.
func TestPlacementStartedWhereThePlacerDoesNotRun(t *testing.T) {
	e := newEnv(t)
	e.halt() // the env's own placer runs without a lease: replicas a and b take over
	b := &bus.Local{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var replicas []*placement.Service
	for range 2 {
		svc := placement.New(placement.Config{Base: service.Base{Store: e.db, Clock: e.clk, ARNs: e.arns, Tags: e.tags}, Fleets: e.fleets, Sessions: e.sessions,
			Listeners: []placement.Listener{e.ended}, Bus: b})
		done := make(chan struct{})
		go func() { defer close(done); svc.RunRelay(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		replicas = append(replicas, svc)
	}
	m := lease.NewManager(lease.Config{Store: e.db, Clock: e.clk, Replica: "a"})
	m.Register(placement.LeaseName, replicas[0].RunLeased)
	t.Cleanup(func() { m.Unregister(context.Background(), placement.LeaseName) })
	m.Tick(e.ctx)
	if held := m.Held(); len(held) != 1 {
		t.Fatalf("a holds %v, want the placer's lease", held)
	}

	f := e.fleet("1", "custom-a")
	e.process(f, "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	if _, err := replicas[1].StartGameSessionPlacement(e.ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: "p1", GameSessionQueueName: q,
		MaximumPlayerSessionCount: ptr(int32(4))}); err != nil {
		t.Fatal(err)
	}
	if p := e.wait("p1"); p.Status != gamelift.PlacementFulfilled {
		t.Fatalf("placement started on b ended %s, want FULFILLED by a's placer", p.Status)
	}
}
