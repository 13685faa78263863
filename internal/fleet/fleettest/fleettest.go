package fleettest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/tagging"
)

// Compute is the name of the compute New registers, in the first location.
const Compute = "host-1"

// HeartbeatInterval is the agents' heartbeat interval of the fleet service.
const HeartbeatInterval = 10 * time.Second

// Env is a fleet service with one fleet.
type Env struct {
	// Ctx carries an admin operator's credentials.
	Ctx       context.Context
	Clock     *clock.Fake
	Store     store.Store
	Fleets    *fleet.Service
	Locations *fleet.Locations
	// FleetID is the fleet's id; it has every location New was given, and
	// Compute (at 127.0.0.1) is registered in the first.
	FleetID string
}

// New returns an Env whose fleet has the custom locations given (at least
// one).
func New(t testing.TB, locations ...string) *Env {
	t.Helper()
	ctx := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, AccessKeyID: "fleettest", Role: auth.RoleAdmin})
	clk := clock.NewFake(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	arns := gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}
	base := service.Base{Store: db, Clock: clk, ARNs: arns, Tags: tagging.New(tagging.Config{Store: db, ARNs: arns})}
	e := &Env{Ctx: ctx, Clock: clk, Store: db, Locations: fleet.NewLocations(fleet.LocationsConfig{Base: base}),
		Fleets: fleet.NewService(fleet.Config{Base: base, SDKEndpoint: func() string { return "ws://127.0.0.1:7777" }, HeartbeatInterval: HeartbeatInterval})}
	in := &gamelift.CreateFleetInput{Name: "fleettest", ComputeType: gamelift.ComputeTypeAnywhere}
	for _, l := range locations {
		if _, err := e.Locations.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: l}); err != nil {
			t.Fatal(err)
		}
		in.Locations = append(in.Locations, gamelift.LocationConfiguration{Location: l})
	}
	f, err := e.Fleets.CreateFleet(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	e.FleetID = f.FleetAttributes.FleetId
	if _, err := e.Fleets.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: e.FleetID, ComputeName: Compute, Location: locations[0], IpAddress: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// AttachProcess connects a server process id on Compute with the
// compute's own auth token, as the SDK endpoint does when its socket
// opens.
func (e *Env) AttachProcess(t testing.TB, id string) {
	t.Helper()
	tok, err := e.Fleets.GetComputeAuthToken(e.Ctx, &gamelift.GetComputeAuthTokenInput{FleetId: e.FleetID, ComputeName: Compute})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Fleets.AttachProcess(e.Ctx, tok.AuthToken, e.FleetID, Compute, id); err != nil {
		t.Fatal(err)
	}
}
