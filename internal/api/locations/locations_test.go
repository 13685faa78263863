package locations_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/internal/api/locations"
	"github.com/musterhq/muster/internal/server"
)

const (
	adminKey    = "AKIAMUSTERTESTADMIN1"
	adminSecret = "muster-test-admin-secret-0123456789abcdef"
)

func TestLocationsListBeaconsFromAgentHeartbeats(t *testing.T) {
	srv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), AdminAccessKeyID: adminKey, AdminSecretAccessKey: adminSecret,
		SDKListen: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c := gl.NewFromConfig(aws.Config{Region: "mu-local-1", Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, ""), RetryMaxAttempts: 1},
		func(o *gl.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	ctx := context.Background()
	for _, l := range []string{"custom-a", "custom-b"} {
		if _, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String(l)}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("f"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-a")}, {Location: aws.String("custom-b")}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := aws.ToString(f.FleetAttributes.FleetId)
	if _, err := c.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: aws.String(fleetID), ComputeName: aws.String("host-a"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-a")}); err != nil {
		t.Fatal(err)
	}
	// A real beacon, reported in the agent heartbeat.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go beacon.NewServer(pc, nil).Serve(bctx)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	body := fmt.Sprintf(`{"draining":false,"processes":[],"beacon":{"domain":"127.0.0.1","port":%d}}`, port)
	req, _ := http.NewRequest("POST", hs.URL+"/v1/admin/fleets/"+fleetID+"/computes/host-a/heartbeat", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminKey+":"+adminSecret)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("heartbeat: %v %v %s", err, res.Status, b)
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
		out, err := c.ListLocations(ctx, &gl.ListLocationsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range out.Locations {
			has := l.PingBeacon != nil && l.PingBeacon.UDPEndpoint != nil && aws.ToInt32(l.PingBeacon.UDPEndpoint.Port) == int32(port)
			if has != (aws.ToString(l.LocationName) == "custom-a") {
				t.Fatalf("location %s: PingBeacon %+v", aws.ToString(l.LocationName), l.PingBeacon)
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
