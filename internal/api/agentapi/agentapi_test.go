package agentapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/server"
)

const (
	adminKey    = "AKIAMUSTERTESTADMIN1"
	adminSecret = "muster-test-admin-secret-0123456789abcdef"
)

// TestTheHeartbeatRouteRendersTheServiceAnswer posts heartbeats to a real
// server: the route decodes strictly and renders the fleet service's
// faults, its bad fields as JSON paths of the body.
func TestTheHeartbeatRouteRendersTheServiceAnswer(t *testing.T) {
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
	if _, err := c.CreateLocation(ctx, &gl.CreateLocationInput{LocationName: aws.String("custom-a")}); err != nil {
		t.Fatal(err)
	}
	f, err := c.CreateFleet(ctx, &gl.CreateFleetInput{Name: aws.String("f"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-a")}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := aws.ToString(f.FleetAttributes.FleetId)
	if _, err := c.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: aws.String(fleetID), ComputeName: aws.String("host-a"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-a")}); err != nil {
		t.Fatal(err)
	}
	post := func(t *testing.T, compute, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", hs.URL+"/v1/admin/fleets/"+fleetID+"/computes/"+compute+"/heartbeat", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey+":"+adminSecret)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, tt := range []struct {
		name, compute, body string
		status              int
		mentions            []string
	}{
		{"a heartbeat is answered with the compute's view", "host-a", `{"draining":false,"processes":[{"processId":"p-1","pid":12}]}`,
			200, []string{`"computeStatus":"ACTIVE"`, `"processId":"p-1"`, `"status":"PENDING"`}},
		{"every bad field is named by its JSON path", "host-a", `{"processes":[{"pid":12}],"beacon":{"domain":"127.0.0.1","port":70000}}`,
			400, []string{`$.processes[0].processId`, `$.beacon.port`}},
		{"an unknown member is refused", "host-a", `{"processes":[],"drainng":true}`, 400, []string{`drainng`}},
		{"an unregistered compute is not found", "nope", `{"processes":[]}`, 404, []string{"nope"}},
		{"a body over the limit is too large", "host-a", `{"processes":[` + strings.Repeat(`{"processId":"x"},`, 70000) + `{"processId":"x"}]}`, 413, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, tt.compute, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(body, m) {
					t.Errorf("answer %s does not mention %s", body, m)
				}
			}
		})
	}
}
