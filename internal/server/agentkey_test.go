package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"

	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/server/servertest"
)

// An agent key made through /v1/admin/keys runs its own computes through
// both APIs and is refused everything else: creating keys, fleets,
// changing what a fleet runs, heartbeating a compute it is not bound to.
func TestAnAgentKeyIsRefusedAllButItsOwnComputes(t *testing.T) {
	_, url := newServer(t)
	ctx := context.Background()
	admin := sdkClient(url)
	if _, err := admin.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-agent")}); err != nil {
		t.Fatal(err)
	}
	f, err := admin.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: aws.String("agents"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-agent")}}})
	if err != nil {
		t.Fatal(err)
	}
	fleetID := aws.ToString(f.FleetAttributes.FleetId)
	if status, body := adminCall(t, url, "POST", "/v1/admin/keys", `{"role":"agent"}`); status != http.StatusBadRequest || !strings.Contains(body, "fleetId") {
		t.Fatalf("an agent key without a fleet: %d %s", status, body)
	}
	status, created := adminCall(t, url, "POST", "/v1/admin/keys", `{"role":"agent","fleetId":"`+fleetID+`","computeName":"host-*"}`)
	if status != http.StatusCreated {
		t.Fatalf("create agent key: %d %s", status, created)
	}
	var key struct{ AccessKeyID, SecretAccessKey, Role, FleetID, ComputeName string }
	if err := json.Unmarshal([]byte(created), &key); err != nil {
		t.Fatal(err)
	}
	if key.Role != "agent" || key.FleetID != fleetID || key.ComputeName != "host-*" {
		t.Fatalf("created %s", created)
	}
	bearer := "Bearer " + key.AccessKeyID + ":" + key.SecretAccessKey
	agent := gamelift.NewFromConfig(aws.Config{Region: server.DefaultRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, "")},
		func(o *gamelift.Options) { o.BaseEndpoint = aws.String(url) })

	register := func(c *gamelift.Client, name string) error {
		_, err := c.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: &fleetID, ComputeName: aws.String(name),
			Location: aws.String("custom-agent"), IpAddress: aws.String("127.0.0.1")})
		return err
	}
	if err := register(admin, "other-1"); err != nil {
		t.Fatal(err)
	}
	if err := register(agent, "host-1"); err != nil {
		t.Fatalf("RegisterCompute of its own compute: %v", err)
	}
	heartbeat := func(compute string) servertest.Response {
		return servertest.Send(t, nil, url+"/v1/admin/fleets/"+fleetID+"/computes/"+compute+"/heartbeat", "POST", bearer, `{"processes":[]}`, nil)
	}
	if r := heartbeat("host-1"); r.Status != http.StatusOK {
		t.Fatalf("heartbeat of its own compute: %d %s", r.Status, r.Body)
	}
	if r := heartbeat("other-1"); r.Status != http.StatusForbidden {
		t.Fatalf("heartbeat of another compute: %d %s", r.Status, r.Body)
	}
	if r := servertest.Send(t, nil, url+"/v1/admin/keys", "POST", bearer, `{"role":"admin"}`, nil); r.Status != http.StatusForbidden {
		t.Fatalf("POST /v1/admin/keys: %d %s", r.Status, r.Body)
	}
	refused := func(what string, err error) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || (ae.ErrorCode() != "UnauthorizedException" && ae.ErrorCode() != "AccessDeniedException") {
			t.Errorf("%s with an agent key = %v, want UnauthorizedException or AccessDeniedException", what, err)
		}
	}
	_, err = agent.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: aws.String("mine"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String("custom-agent")}}})
	refused("CreateFleet", err)
	_, err = agent.UpdateRuntimeConfiguration(ctx, &gamelift.UpdateRuntimeConfigurationInput{FleetId: &fleetID,
		RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String("/bin/sh"), ConcurrentExecutions: aws.Int32(1)}}}})
	refused("UpdateRuntimeConfiguration", err)
	_, err = agent.DeregisterCompute(ctx, &gamelift.DeregisterComputeInput{FleetId: &fleetID, ComputeName: aws.String("other-1")})
	refused("DeregisterCompute of another compute", err)
	if _, err := agent.DescribeRuntimeConfiguration(ctx, &gamelift.DescribeRuntimeConfigurationInput{FleetId: &fleetID}); err != nil {
		t.Errorf("DescribeRuntimeConfiguration of its fleet: %v", err)
	}
	if _, err := agent.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: &fleetID, ComputeName: aws.String("host-1")}); err != nil {
		t.Errorf("GetComputeAuthToken of its own compute: %v", err)
	}
	if _, err := agent.DeregisterCompute(ctx, &gamelift.DeregisterComputeInput{FleetId: &fleetID, ComputeName: aws.String("host-1")}); err != nil {
		t.Errorf("DeregisterCompute of its own compute: %v", err)
	}
}
