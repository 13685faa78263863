package locations_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/api/locations"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
)

func TestLocationsListBeaconsFromAgentHeartbeats(t *testing.T) {
	e := fleettest.New(t, "custom-a", "custom-b")
	mux := http.NewServeMux()
	mux.Handle("GET /v1/locations", locations.Handler(e.Fleets, slog.New(slog.NewTextHandler(io.Discard, nil))))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	ctx := context.Background()
	// A real beacon, reported in the heartbeat of the agent of the compute
	// in custom-a.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go beacon.NewServer(pc, nil).Serve(bctx)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	if _, err := e.Fleets.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, agentwire.Heartbeat{Processes: []agentwire.Process{},
		Beacon: &agentwire.Beacon{Domain: "127.0.0.1", Port: port}}); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	t.Run("every location is listed, with the beacons its agents report", func(t *testing.T) {
		l, err := locations.Fetch(ctx, nil, hs.URL)
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Locations) != 2 || l.Locations[0].LocationName != "custom-a" || len(l.Locations[0].PingBeacons) != 1 ||
			l.Locations[0].PingBeacons[0].Port != port || len(l.Locations[1].PingBeacons) != 0 {
			t.Fatalf("list %+v", l)
		}
	})
	t.Run("ListLocations shows a location's beacon as its PingBeacon", func(t *testing.T) {
		out, err := e.Locations.ListLocations(e.Ctx, &gamelift.ListLocationsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range out.Locations {
			has := l.PingBeacon != nil && l.PingBeacon.UDPEndpoint != nil && l.PingBeacon.UDPEndpoint.Port != nil && *l.PingBeacon.UDPEndpoint.Port == int32(port)
			if has != (l.LocationName == "custom-a") {
				t.Fatalf("location %s: PingBeacon %+v", l.LocationName, l.PingBeacon)
			}
		}
	})
	t.Run("MeasureAll measures every location that has a beacon", func(t *testing.T) {
		ms, err := locations.MeasureAll(ctx, nil, hs.URL, 3)
		if err != nil || len(ms) != 1 || ms["custom-a"] < 1 {
			t.Fatalf("MeasureAll = %v, %v", ms, err)
		}
	})
}
