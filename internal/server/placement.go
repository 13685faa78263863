package server

import (
	"context"
	"net/http"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/locations"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
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
	svc := placement.New(placement.Config{Store: d.store, Clock: d.clock, Logger: d.log, ARNs: d.arns, Formats: d.formats, Tags: d.tags,
		Fleets: s.Hosting.Fleets, Sessions: s.Hosting.Sessions})
	d.placement = svc
	s.Hosting.Fleets.OnCapacity(svc.CapacityAvailable)
	s.background = append(s.background, svc.Run)
	controlapi.Register(d.table, "CreateGameSessionQueue", svc.CreateGameSessionQueue)
	controlapi.Register(d.table, "DescribeGameSessionQueues", svc.DescribeGameSessionQueues)
	controlapi.Register(d.table, "UpdateGameSessionQueue", svc.UpdateGameSessionQueue)
	controlapi.Register(d.table, "DeleteGameSessionQueue", svc.DeleteGameSessionQueue)
	controlapi.Register(d.table, "StartGameSessionPlacement", svc.StartGameSessionPlacement)
	controlapi.Register(d.table, "DescribeGameSessionPlacement", svc.DescribeGameSessionPlacement)
	controlapi.Register(d.table, "StopGameSessionPlacement", svc.StopGameSessionPlacement)
	mountLocationsAPI(d, s.Hosting.Fleets)
}

// connectMatchmaking gives matchmaking the placement service for WITH_QUEUE
// matches and lets it hear how their placements end
// (docs/matchmaking-placement.md).
func (s *Server) connectMatchmaking(d *deps, mm *matchmaking.Service) {
	if d.placement == nil {
		return
	}
	mm.SetPlacer(mmPlacer{d.placement})
	d.placement.AddListener(mmListener{mm})
}

// mmPlacer adapts placement.Service to matchmaking.Placer.
type mmPlacer struct{ svc *placement.Service }

func (a mmPlacer) StartIn(ctx context.Context, w store.Writer, req matchmaking.PlacementRequest) error {
	r := placement.Request{PlacementID: req.PlacementID, QueueName: req.QueueName, MaximumPlayerSessionCount: req.MaximumPlayerSessionCount,
		GameSessionName: req.GameSessionName, GameProperties: req.GameProperties, GameSessionData: req.GameSessionData, MatchmakerData: req.MatchmakerData}
	for _, l := range req.PlayerLatencies {
		ms := l.Ms
		r.PlayerLatencies = append(r.PlayerLatencies, gamelift.PlayerLatency{PlayerId: l.PlayerID, RegionIdentifier: l.Location, LatencyInMilliseconds: &ms})
	}
	for _, id := range req.DesiredPlayerSessions {
		r.DesiredPlayerSessions = append(r.DesiredPlayerSessions, gamelift.DesiredPlayerSession{PlayerId: id})
	}
	return a.svc.StartIn(ctx, w, r)
}

// mmListener tells matchmaking how a placement ended.
type mmListener struct{ mm *matchmaking.Service }

func (l mmListener) PlacementEnded(ctx context.Context, w store.Writer, p placement.Placement) error {
	res := matchmaking.PlacementResult{PlacementID: p.PlacementID, Status: p.Status, GameSessionArn: p.GameSessionArn,
		IpAddress: p.IpAddress, DnsName: p.DnsName, Port: p.Port}
	for _, ps := range p.PlacedPlayerSessions {
		res.PlayerSessions = append(res.PlayerSessions, gamelift.MatchedPlayerSession{PlayerId: ps.PlayerId, PlayerSessionId: ps.PlayerSessionId})
	}
	return l.mm.PlacementEnded(ctx, w, res)
}

// mountLocationsAPI serves GET /v1/locations (public; rate limited per IP
// with the player API's public routes when identity is mounted).
func mountLocationsAPI(d *deps, fleets *fleet.Service) {
	var h http.Handler = locations.Handler(fleets, d.log)
	if d.player != nil {
		h = d.player.api.Public(h)
	}
	d.mux.Handle("GET /v1/locations", h)
}
