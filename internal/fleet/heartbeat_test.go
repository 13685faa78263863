package fleet_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/tagging"
)

// newHeartbeatFleet returns a fleet service on a real store with one fleet
// in custom-hb and compute host-1 registered, and the fleet's id.
func newHeartbeatFleet(t *testing.T) (context.Context, *clock.Fake, *fleet.Service, string) {
	t.Helper()
	ctx := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, AccessKeyID: "t", Role: auth.RoleAdmin})
	clk := clock.NewFake(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "m.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	arns := gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}
	tags := tagging.New(tagging.Config{Store: db, ARNs: arns})
	locs := fleet.NewLocations(fleet.LocationsConfig{Base: service.Base{Store: db, Clock: clk, ARNs: arns, Tags: tags}})
	svc := fleet.NewService(fleet.Config{Base: service.Base{Store: db, Clock: clk, ARNs: arns, Tags: tags},
		SDKEndpoint: func() string { return "ws://127.0.0.1:7777" }, HeartbeatInterval: 10 * time.Second})
	if _, err := locs.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: "custom-hb"}); err != nil {
		t.Fatal(err)
	}
	f, err := svc.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: "hb", ComputeType: "ANYWHERE",
		Locations: []gamelift.LocationConfiguration{{Location: "custom-hb"}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := f.FleetAttributes.FleetId
	if _, err := svc.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: fleetID, ComputeName: "host-1", Location: "custom-hb", IpAddress: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	return ctx, clk, svc, fleetID
}

// TestHeartbeatEndsAProcessTheAgentStopsReporting checks the agent
// contract: a process the agent reported (with its pid) and then leaves out
// of a heartbeat has exited, and ends at that heartbeat rather than an
// interval later.
func TestHeartbeatEndsAProcessTheAgentStopsReporting(t *testing.T) {
	ctx, clk, svc, fleetID := newHeartbeatFleet(t)
	status := func(r agentwire.Reply, id string) string {
		for _, p := range r.Processes {
			if p.ProcessID == id {
				return p.Status
			}
		}
		return "absent"
	}
	reply, err := svc.Heartbeat(ctx, fleetID, "host-1", agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-1", PID: 100}, {ProcessID: "p-2", PID: 101}}})
	if err != nil {
		t.Fatal(err)
	}
	if status(reply, "p-1") != fleet.ProcessPending || status(reply, "p-2") != fleet.ProcessPending {
		t.Fatalf("first heartbeat: %+v", reply.Processes)
	}
	clk.Advance(time.Second) // well within one heartbeat interval
	reply, err = svc.Heartbeat(ctx, fleetID, "host-1", agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-2", PID: 101}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := status(reply, "p-1"); got != "absent" {
		t.Fatalf("p-1 left the agent's report but is still %s", got)
	}
	if got := status(reply, "p-2"); got != fleet.ProcessPending {
		t.Fatalf("p-2 is %s, want PENDING", got)
	}
}

func TestHeartbeatNamesEveryBadField(t *testing.T) {
	ctx, _, svc, fleetID := newHeartbeatFleet(t)
	_, err := svc.Heartbeat(ctx, fleetID, "host-1", agentwire.Heartbeat{Processes: []agentwire.Process{{ProcessID: "p-1"}, {PID: 7}},
		Beacon: &agentwire.Beacon{Domain: "127.0.0.1", Port: 70000}})
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Invalid || len(fe.Fields) != 2 ||
		fe.Fields[0].Field != "Processes[1].ProcessId" || fe.Fields[1].Field != "Beacon.Port" {
		t.Fatalf("Heartbeat = %v, want Invalid naming Processes[1].ProcessId and Beacon.Port", err)
	}
	if _, err := svc.Heartbeat(ctx, fleetID, "nope", agentwire.Heartbeat{}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("heartbeat of an unregistered compute: %v, want NotFound", err)
	}
}
