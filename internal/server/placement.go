package server

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/locations"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/store"
)

// mountPlacement mounts game session queues and placements, and starts the
// placer with the server. It needs the hosting services, so it mounts
// after mountHosting, and before mountMatchmaking, which it serves.
func (s *Server) mountPlacement(d *deps) {
	if s.Hosting.Fleets == nil || s.Hosting.Sessions == nil {
		return // hosting failed to mount; New reports its error
	}
	d.tags.Register(gamelift.ResourceGameSessionQueue, placement.KindQueue)
	// Matchmaking starts placements and hears how they end, inside the
	// transaction that ends them: the two services need each other.
	// Placement is built first, with a listener that reaches matchmaking,
	// which mountMatchmaking builds next, before anything runs.
	ended := placement.ListenerFunc(func(ctx context.Context, w store.Writer, p placement.Placement) error {
		if d.matchmaking == nil {
			return nil // matchmaking failed to mount; New reports its error
		}
		return d.matchmaking.PlacementEnded(ctx, w, p)
	})
	pc := placement.Config{Base: d.base(), Fleets: s.Hosting.Fleets, Sessions: s.Hosting.Sessions, Listeners: []placement.Listener{ended}}
	m := s.leaseManager()
	if m != nil {
		pc.Bus = d.bus // wakes reach the replica running the placer
	}
	svc := placement.New(pc)
	d.placement = svc
	d.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "muster_queue_admission_refused_total",
		Help: "New matchmaking tickets refused at the door because the queue their match would be placed through was past its capacity."},
		func() float64 { return float64(svc.TicketsRefused()) }))
	// The fleet service exists before placement and tells it when a
	// process can take a game session: a hook, not a dependency of fleets.
	s.Hosting.Fleets.OnCapacity(svc.CapacityAvailable)
	if m != nil {
		m.Register(placement.LeaseName, svc.RunLeased)
		s.background = append(s.background, svc.RunRelay)
	} else {
		s.background = append(s.background, svc.Run)
	}
	controlapi.Register(d.table, "CreateGameSessionQueue", svc.CreateGameSessionQueue)
	controlapi.Register(d.table, "DescribeGameSessionQueues", svc.DescribeGameSessionQueues)
	controlapi.Register(d.table, "UpdateGameSessionQueue", svc.UpdateGameSessionQueue)
	controlapi.Register(d.table, "DeleteGameSessionQueue", svc.DeleteGameSessionQueue)
	controlapi.Register(d.table, "StartGameSessionPlacement", svc.StartGameSessionPlacement)
	controlapi.Register(d.table, "DescribeGameSessionPlacement", svc.DescribeGameSessionPlacement)
	controlapi.Register(d.table, "StopGameSessionPlacement", svc.StopGameSessionPlacement)
	mountLocationsAPI(d, s.Hosting.Fleets)
}

// mountLocationsAPI serves GET /v1/locations (public; rate limited per IP
// with the player API's public routes, and preflighted by its CORS origins,
// when identity is mounted).
func mountLocationsAPI(d *deps, fleets *fleet.Service) {
	var h http.Handler = locations.Handler(fleets, d.log)
	if d.player != nil {
		h = d.player.api.Public(h)
		// A page that adds a header of its own to the GET is preflighted.
		d.mux.Handle("OPTIONS /v1/locations", d.player.api.Preflight())
	}
	d.mux.Handle("GET /v1/locations", h)
}
