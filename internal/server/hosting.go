package server

import (
	"github.com/musterhq/muster/internal/api/agentapi"
	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/sdk"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
)

// DefaultSDKListen is where the server SDK endpoint listens unless told
// otherwise: GameLift's conventional game port range starts at 7777, and
// loopback keeps a development control plane private.
const DefaultSDKListen = "127.0.0.1:7777"

// mountHosting mounts fleets, aliases, computes, game and player sessions
// and the agent heartbeat endpoint. The server SDK endpoint they push to
// mounts later (mountSDKEndpoint).
func (s *Server) mountHosting(d *deps) {
	d.tags.Register(gamelift.ResourceFleet, fleet.KindFleet)
	d.tags.Register(gamelift.ResourceAlias, fleet.KindAlias)
	// RegisterCompute advertises the SDK endpoint's URL, known once the
	// endpoint (built last) listens: fleets ask for it when they need it.
	// The services push to processes through the SDK endpoint's hub, built
	// first; the endpoint that fills it with sockets is built on them.
	pushes := sdk.NewReplicaHub(d.bus, d.store, d.clock, d.log)
	fleets := fleet.NewService(fleet.Config{Base: d.base(), SDKEndpoint: func() string { return s.Hosting.SDK.URL() }, Pusher: pushes,
		HeartbeatInterval: s.cfg.AgentHeartbeatInterval, MaxInstances: s.cfg.CapacityMaxInstances})
	sessions := session.New(session.Config{Base: d.base(), Fleets: fleets, Pusher: pushes})
	s.Hosting = Hosting{Fleets: fleets, Sessions: sessions, pushes: pushes}
	s.leased("fleet/sweep", fleets.Run)
	s.leased("session/sweep", sessions.Run)
	s.background = append(s.background, sessions.RunTimeouts) // every replica: its reservations' deadlines
	controlapi.Register(d.table, "CreateFleet", fleets.CreateFleet)
	controlapi.Register(d.table, "DescribeFleetAttributes", fleets.DescribeFleetAttributes)
	controlapi.Register(d.table, "UpdateFleetAttributes", fleets.UpdateFleetAttributes)
	controlapi.Register(d.table, "DeleteFleet", fleets.DeleteFleet)
	controlapi.Register(d.table, "CreateFleetLocations", fleets.CreateFleetLocations)
	controlapi.Register(d.table, "DeleteFleetLocations", fleets.DeleteFleetLocations)
	controlapi.Register(d.table, "DescribeFleetLocationAttributes", fleets.DescribeFleetLocationAttributes)
	controlapi.Register(d.table, "DescribeFleetCapacity", fleets.DescribeFleetCapacity)
	controlapi.Register(d.table, "DescribeFleetLocationCapacity", fleets.DescribeFleetLocationCapacity)
	controlapi.Register(d.table, "DescribeFleetUtilization", fleets.DescribeFleetUtilization)
	controlapi.Register(d.table, "DescribeFleetEvents", fleets.DescribeFleetEvents)
	controlapi.Register(d.table, "DescribeRuntimeConfiguration", fleets.DescribeRuntimeConfiguration)
	controlapi.Register(d.table, "UpdateRuntimeConfiguration", fleets.UpdateRuntimeConfiguration)
	controlapi.Register(d.table, "CreateAlias", fleets.CreateAlias)
	controlapi.Register(d.table, "DescribeAlias", fleets.DescribeAlias)
	controlapi.Register(d.table, "ListAliases", fleets.ListAliases)
	controlapi.Register(d.table, "UpdateAlias", fleets.UpdateAlias)
	controlapi.Register(d.table, "DeleteAlias", fleets.DeleteAlias)
	controlapi.Register(d.table, "ResolveAlias", fleets.ResolveAlias)
	controlapi.Register(d.table, "RegisterCompute", fleets.RegisterCompute)
	controlapi.Register(d.table, "DeregisterCompute", fleets.DeregisterCompute)
	controlapi.Register(d.table, "ListCompute", fleets.ListCompute)
	controlapi.Register(d.table, "DescribeCompute", fleets.DescribeCompute)
	controlapi.Register(d.table, "GetComputeAuthToken", fleets.GetComputeAuthToken)
	controlapi.Register(d.table, "CreateGameSession", sessions.CreateGameSession)
	controlapi.Register(d.table, "DescribeGameSessions", sessions.DescribeGameSessions)
	controlapi.Register(d.table, "DescribeGameSessionDetails", sessions.DescribeGameSessionDetails)
	controlapi.Register(d.table, "SearchGameSessions", sessions.SearchGameSessions)
	controlapi.Register(d.table, "UpdateGameSession", sessions.UpdateGameSession)
	controlapi.Register(d.table, "TerminateGameSession", sessions.TerminateGameSession)
	controlapi.Register(d.table, "GetGameSessionLogUrl", sessions.GetGameSessionLogUrl)
	controlapi.Register(d.table, "CreatePlayerSession", sessions.CreatePlayerSession)
	controlapi.Register(d.table, "CreatePlayerSessions", sessions.CreatePlayerSessions)
	controlapi.Register(d.table, "DescribePlayerSessions", sessions.DescribePlayerSessionsOp)

	d.mux.Handle(agentapi.Route, d.requireOperator(agentapi.Handler(fleets, d.log)))
}

// mountSDKEndpoint builds the server SDK endpoint (a background listener
// of its own) on the hosting services, serving game servers'
// StartMatchBackfill and StopMatchBackfill with matchmaking. It mounts
// last: it needs both.
func (s *Server) mountSDKEndpoint(d *deps) {
	if s.Hosting.Fleets == nil || s.Hosting.Sessions == nil {
		return // hosting failed to mount; New reports its error
	}
	listen := s.cfg.SDKListen
	if listen == "" {
		listen = DefaultSDKListen
	}
	cfg := sdk.Config{Listen: listen, URL: s.cfg.SDKURL, TLSCert: s.cfg.SDKTLSCert, TLSKey: s.cfg.SDKTLSKey, DataDir: s.cfg.DataDir, AddrFile: s.cfg.SDKAddrFile, OnListening: s.bound.add,
		Fleets: s.Hosting.Fleets, Sessions: s.Hosting.Sessions, Hub: s.Hosting.pushes, Clock: d.clock, PingTimeout: s.cfg.SDKPingTimeout, Logger: d.log, Limiter: s.sdkLimiter}
	if d.matchmaking != nil {
		cfg.Backfill = d.matchmaking.Backfiller()
	}
	cfg.Replicas = sdk.Replicas{Store: d.store}
	endpoint, err := sdk.New(cfg)
	if err != nil {
		s.mountErr = err
		return
	}
	s.Hosting.SDK = endpoint
	d.bus.OnResync(endpoint.Resync) // wakes were lost: catch up from the store
	s.background = append(s.background, endpoint.Run)
}

// Hosting exposes the hosting services to other capabilities (placement
// calls Sessions.CreateGameSessionOn and Fleets.IdleProcessCount) and to
// tests.
type Hosting struct {
	Fleets   *fleet.Service
	Sessions *session.Service
	SDK      *sdk.Server
	// pushes is the SDK endpoint's hub, which the services push through.
	pushes *sdk.Hub
}
