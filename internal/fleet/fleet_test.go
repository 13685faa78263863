package fleet_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/store"
)

// These tests drive fleets, aliases and computes through the control API
// with the real AWS SDK for Go v2 client (RPC v2 CBOR).

const (
	adminKey    = "AKIAMUSTERTESTADMIN1"
	adminSecret = "muster-test-admin-secret-0123456789abcdef"
)

// newClient serves a whole server, configured further by each of opts.
func newClient(t *testing.T, opts ...func(*server.Config)) *gl.Client {
	t.Helper()
	cfg := server.Config{DataDir: t.TempDir(), AdminAccessKeyID: adminKey, AdminSecretAccessKey: adminSecret, SDKURL: "wss://sdk.muster.test:7777"}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return gl.NewFromConfig(aws.Config{Region: "mu-local-1", Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, ""), RetryMaxAttempts: 1},
		func(o *gl.Options) { o.BaseEndpoint = aws.String(hs.URL) })
}

func mustLocation(t *testing.T, c *gl.Client, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := c.CreateLocation(context.Background(), &gl.CreateLocationInput{LocationName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
}

// anywhereFleet creates the locations and an Anywhere fleet in them,
// returning its id.
func anywhereFleet(t *testing.T, c *gl.Client, locs ...string) string {
	t.Helper()
	mustLocation(t, c, locs...)
	out, err := c.CreateFleet(context.Background(), anywhere(locs...))
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.FleetAttributes.FleetId)
}

func invalid(t *testing.T, err error, mention string) {
	t.Helper()
	var bad *types.InvalidRequestException
	if !errors.As(err, &bad) || !strings.Contains(aws.ToString(bad.Message), mention) {
		t.Fatalf("got %v, want InvalidRequestException mentioning %q", err, mention)
	}
}

func anywhere(locs ...string) *gl.CreateFleetInput {
	in := &gl.CreateFleetInput{Name: aws.String("fleet"), ComputeType: types.ComputeTypeAnywhere,
		AnywhereConfiguration: &types.AnywhereConfiguration{Cost: aws.String("0.25")}}
	for _, l := range locs {
		in.Locations = append(in.Locations, types.LocationConfiguration{Location: aws.String(l)})
	}
	return in
}

func TestCreateFleetValidatesAnywhereFleets(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	mustLocation(t, c, "custom-a")
	t.Run("ComputeType is required", func(t *testing.T) {
		in := anywhere("custom-a")
		in.ComputeType = ""
		_, err := c.CreateFleet(ctx, in)
		invalid(t, err, "ComputeType: must be ANYWHERE")
	})
	t.Run("EC2 members are refused by name", func(t *testing.T) {
		in := anywhere("custom-a")
		in.BuildId, in.EC2InstanceType = aws.String("build-1"), types.EC2InstanceTypeC5Large
		_, err := c.CreateFleet(ctx, in)
		invalid(t, err, "BuildId: is for managed EC2 fleets")
		invalid(t, err, "EC2InstanceType")
	})
	t.Run("runtime configuration members are checked", func(t *testing.T) {
		in := anywhere("custom-a")
		in.RuntimeConfiguration = &types.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: aws.Int32(601),
			ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String("/game"), ConcurrentExecutions: aws.Int32(0)}}}
		_, err := c.CreateFleet(ctx, in)
		invalid(t, err, "RuntimeConfiguration.GameSessionActivationTimeoutSeconds: must be 1 to 600")
		invalid(t, err, "RuntimeConfiguration.ServerProcesses[0].ConcurrentExecutions")
	})
	t.Run("an unknown location is not found", func(t *testing.T) {
		_, err := c.CreateFleet(ctx, anywhere("custom-nowhere"))
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestFleetsLifecycle(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	mustLocation(t, c, "custom-a", "custom-b")
	in := anywhere("custom-a")
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}
	in.RuntimeConfiguration = &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String("/game/server"), Parameters: aws.String("--port 7000"), ConcurrentExecutions: aws.Int32(2)}}}
	out, err := c.CreateFleet(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	f := out.FleetAttributes
	id := aws.ToString(f.FleetId)
	t.Run("a new Anywhere fleet is ACTIVE with its ids and cost", func(t *testing.T) {
		if !regexp.MustCompile(`^fleet-[0-9a-f-]{36}$`).MatchString(id) || aws.ToString(f.FleetArn) != "arn:aws:gamelift:mu-local-1:000000000000:fleet/"+id {
			t.Fatalf("ids %s %s", id, aws.ToString(f.FleetArn))
		}
		if f.Status != types.FleetStatusActive || f.ComputeType != types.ComputeTypeAnywhere || aws.ToString(f.AnywhereConfiguration.Cost) != "0.25" ||
			f.NewGameSessionProtectionPolicy != types.ProtectionPolicyNoProtection {
			t.Fatalf("attributes %+v", f)
		}
		if len(out.LocationStates) != 1 || out.LocationStates[0].Status != types.FleetStatusActive {
			t.Fatalf("location states %+v", out.LocationStates)
		}
		tags, err := c.ListTagsForResource(ctx, &gl.ListTagsForResourceInput{ResourceARN: f.FleetArn})
		if err != nil || len(tags.Tags) != 1 {
			t.Fatalf("tags %v %v", tags, err)
		}
	})
	t.Run("DescribeFleetAttributes drops unknown ids and pages", func(t *testing.T) {
		d, err := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{id, "fleet-00000000-0000-0000-0000-000000000000"}})
		if err != nil || len(d.FleetAttributes) != 1 {
			t.Fatalf("%v %v", d, err)
		}
		if _, err := c.CreateFleet(ctx, anywhere("custom-b")); err != nil {
			t.Fatal(err)
		}
		p1, err := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{Limit: aws.Int32(1)})
		if err != nil || len(p1.FleetAttributes) != 1 || p1.NextToken == nil {
			t.Fatalf("first page %v %v", p1, err)
		}
		p2, err := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{Limit: aws.Int32(1), NextToken: p1.NextToken})
		if err != nil || len(p2.FleetAttributes) != 1 || p2.NextToken != nil {
			t.Fatalf("second page %v %v", p2, err)
		}
	})
	t.Run("the runtime configuration is replaced and read back", func(t *testing.T) {
		rc := &types.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: aws.Int32(120), MaxConcurrentGameSessionActivations: aws.Int32(3),
			ServerProcesses: []types.ServerProcess{{LaunchPath: aws.String("/game/v2"), ConcurrentExecutions: aws.Int32(4)}}}
		if _, err := c.UpdateRuntimeConfiguration(ctx, &gl.UpdateRuntimeConfigurationInput{FleetId: f.FleetArn, RuntimeConfiguration: rc}); err != nil {
			t.Fatal(err)
		}
		got, err := c.DescribeRuntimeConfiguration(ctx, &gl.DescribeRuntimeConfigurationInput{FleetId: aws.String(id)})
		if err != nil || aws.ToString(got.RuntimeConfiguration.ServerProcesses[0].LaunchPath) != "/game/v2" || aws.ToInt32(got.RuntimeConfiguration.GameSessionActivationTimeoutSeconds) != 120 {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("UpdateFleetAttributes changes the protection policy with an event", func(t *testing.T) {
		if _, err := c.UpdateFleetAttributes(ctx, &gl.UpdateFleetAttributesInput{FleetId: aws.String(id), Name: aws.String("renamed"),
			NewGameSessionProtectionPolicy: types.ProtectionPolicyFullProtection}); err != nil {
			t.Fatal(err)
		}
		d, _ := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{id}})
		if aws.ToString(d.FleetAttributes[0].Name) != "renamed" || d.FleetAttributes[0].NewGameSessionProtectionPolicy != types.ProtectionPolicyFullProtection {
			t.Fatalf("%+v", d.FleetAttributes[0])
		}
		ev, err := c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, e := range ev.Events {
			codes = append(codes, string(e.EventCode))
		}
		if strings.Join(codes, ",") != "FLEET_CREATED,FLEET_STATE_ACTIVE,FLEET_NEW_GAME_SESSION_PROTECTION_POLICY_UPDATED" {
			t.Fatalf("events %v", codes)
		}
	})
	t.Run("locations are added, described, and removed; a location in use cannot be deleted", func(t *testing.T) {
		if _, err := c.CreateFleetLocations(ctx, &gl.CreateFleetLocationsInput{FleetId: aws.String(id), Locations: []types.LocationConfiguration{{Location: aws.String("custom-b")}}}); err != nil {
			t.Fatal(err)
		}
		la, err := c.DescribeFleetLocationAttributes(ctx, &gl.DescribeFleetLocationAttributesInput{FleetId: aws.String(id)})
		if err != nil || len(la.LocationAttributes) != 2 {
			t.Fatalf("%+v %v", la, err)
		}
		_, err = c.DeleteLocation(ctx, &gl.DeleteLocationInput{LocationName: aws.String("custom-a")})
		invalid(t, err, "still used by a fleet")
		if _, err := c.DeleteFleetLocations(ctx, &gl.DeleteFleetLocationsInput{FleetId: aws.String(id), Locations: []string{"custom-b"}}); err != nil {
			t.Fatal(err)
		}
		la, _ = c.DescribeFleetLocationAttributes(ctx, &gl.DescribeFleetLocationAttributesInput{FleetId: aws.String(id)})
		if len(la.LocationAttributes) != 1 {
			t.Fatalf("%+v", la)
		}
	})
	t.Run("computes register, re-register, list, issue tokens and deregister", func(t *testing.T) {
		reg := &gl.RegisterComputeInput{FleetId: aws.String(id), ComputeName: aws.String("host-1"), Location: aws.String("custom-a"), IpAddress: aws.String("10.0.0.5")}
		r, err := c.RegisterCompute(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		if r.Compute.ComputeStatus != "ACTIVE" || aws.ToString(r.Compute.GameLiftServiceSdkEndpoint) != "wss://sdk.muster.test:7777" {
			t.Fatalf("%+v", r.Compute)
		}
		reg.IpAddress = aws.String("10.0.0.6")
		if _, err := c.RegisterCompute(ctx, reg); err != nil {
			t.Fatalf("re-register: %v", err)
		}
		l, err := c.ListCompute(ctx, &gl.ListComputeInput{FleetId: aws.String(id), Location: aws.String("custom-a")})
		if err != nil || len(l.ComputeList) != 1 || aws.ToString(l.ComputeList[0].IpAddress) != "10.0.0.6" {
			t.Fatalf("%+v %v", l, err)
		}
		tok, err := c.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: aws.String(id), ComputeName: r.Compute.ComputeArn})
		if err != nil || !regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`).MatchString(aws.ToString(tok.AuthToken)) || tok.ExpirationTimestamp == nil {
			t.Fatalf("%+v %v", tok, err)
		}
		capacity, err := c.DescribeFleetLocationCapacity(ctx, &gl.DescribeFleetLocationCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-a")})
		if err != nil || aws.ToInt32(capacity.FleetCapacity.InstanceCounts.ACTIVE) != 1 || aws.ToInt32(capacity.FleetCapacity.InstanceCounts.IDLE) != 1 {
			t.Fatalf("%+v %v", capacity, err)
		}
		u, err := c.DescribeFleetUtilization(ctx, &gl.DescribeFleetUtilizationInput{FleetIds: []string{id}})
		if err != nil || len(u.FleetUtilization) != 1 || aws.ToInt32(u.FleetUtilization[0].ActiveGameSessionCount) != 0 {
			t.Fatalf("%+v %v", u, err)
		}
		if _, err := c.DeregisterCompute(ctx, &gl.DeregisterComputeInput{FleetId: aws.String(id), ComputeName: aws.String("host-1")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DescribeCompute(ctx, &gl.DescribeComputeInput{FleetId: aws.String(id), ComputeName: aws.String("host-1")})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("after deregistering: %v", err)
		}
	})
	t.Run("aliases route to fleets or refuse with their message", func(t *testing.T) {
		simple, err := c.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("live"), RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: aws.String(id)}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.ResolveAlias(ctx, &gl.ResolveAliasInput{AliasId: simple.Alias.AliasArn})
		if err != nil || aws.ToString(r.FleetId) != id {
			t.Fatalf("%+v %v", r, err)
		}
		term, err := c.CreateAlias(ctx, &gl.CreateAliasInput{Name: aws.String("closed"), RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeTerminal, Message: aws.String("the beta is over")}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ResolveAlias(ctx, &gl.ResolveAliasInput{AliasId: term.Alias.AliasId})
		var tr *types.TerminalRoutingStrategyException
		if !errors.As(err, &tr) || !strings.Contains(aws.ToString(tr.Message), "the beta is over") {
			t.Fatalf("resolve TERMINAL: %v", err)
		}
		_, err = c.CreateGameSession(ctx, &gl.CreateGameSessionInput{AliasId: term.Alias.AliasId, MaximumPlayerSessionCount: aws.Int32(2)})
		if !errors.As(err, &tr) {
			t.Fatalf("CreateGameSession through a TERMINAL alias: %v", err)
		}
		_, err = c.CreateGameSession(ctx, &gl.CreateGameSessionInput{AliasId: simple.Alias.AliasId, MaximumPlayerSessionCount: aws.Int32(2)})
		var full *types.FleetCapacityExceededException
		if !errors.As(err, &full) {
			t.Fatalf("CreateGameSession with no process: %v", err)
		}
		l, err := c.ListAliases(ctx, &gl.ListAliasesInput{RoutingStrategyType: types.RoutingStrategyTypeTerminal})
		if err != nil || len(l.Aliases) != 1 || aws.ToString(l.Aliases[0].Name) != "closed" {
			t.Fatalf("%+v %v", l, err)
		}
		u, err := c.UpdateAlias(ctx, &gl.UpdateAliasInput{AliasId: term.Alias.AliasId, RoutingStrategy: &types.RoutingStrategy{Type: types.RoutingStrategyTypeSimple, FleetId: aws.String(id)}})
		if err != nil || u.Alias.RoutingStrategy.Type != types.RoutingStrategyTypeSimple {
			t.Fatalf("%+v %v", u, err)
		}
		if _, err := c.DeleteAlias(ctx, &gl.DeleteAliasInput{AliasId: term.Alias.AliasId}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DescribeAlias(ctx, &gl.DescribeAliasInput{AliasId: term.Alias.AliasId})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("deleted alias: %v", err)
		}
	})
	t.Run("a deleted fleet releases its location", func(t *testing.T) {
		others, _ := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{})
		for _, f := range others.FleetAttributes {
			if _, err := c.DeleteFleet(ctx, &gl.DeleteFleetInput{FleetId: f.FleetId}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.DeleteLocation(ctx, &gl.DeleteLocationInput{LocationName: aws.String("custom-a")}); err != nil {
			t.Fatalf("DeleteLocation after DeleteFleet: %v", err)
		}
		ev, err := c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: aws.String(id)})
		if err != nil || ev.Events[len(ev.Events)-1].EventCode != types.EventCodeFleetDeleted {
			t.Fatalf("events after delete: %v", err)
		}
	})
}

func TestDescribeFleetEventsPagesAndFiltersByTime(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	mustLocation(t, c, "custom-a", "custom-b", "custom-c")
	out, err := c.CreateFleet(ctx, anywhere("custom-a"))
	if err != nil {
		t.Fatal(err)
	}
	id := out.FleetAttributes.FleetId
	for _, l := range []string{"custom-b", "custom-c"} {
		if _, err := c.CreateFleetLocations(ctx, &gl.CreateFleetLocationsInput{FleetId: id, Locations: []types.LocationConfiguration{{Location: aws.String(l)}}}); err != nil {
			t.Fatal(err)
		}
	}
	var codes []string
	in := &gl.DescribeFleetEventsInput{FleetId: id, Limit: aws.Int32(1)}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("too many pages")
		}
		page, err := c.DescribeFleetEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			codes = append(codes, string(e.EventCode)+":"+aws.ToString(e.Message))
		}
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(codes) != 4 || !strings.HasPrefix(codes[2], "LOCATION_STATE_ACTIVE:Location custom-b") {
		t.Fatalf("events %v", codes)
	}
	all, _ := c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: id})
	last := *all.Events[len(all.Events)-1].EventTime
	later, err := c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: id, StartTime: aws.Time(last.Add(time.Millisecond))})
	if err != nil || len(later.Events) != 0 {
		t.Fatalf("events after the last one: %v %v", later, err)
	}
	upTo, err := c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: id, EndTime: aws.Time(last)})
	if err != nil || len(upTo.Events) != 4 {
		t.Fatalf("events up to the last one: %d %v", len(upTo.Events), err)
	}
}

// The capacity record of a managed location is the only place left that
// names its provisioner's hosts once DeleteFleet drops its computes, or
// once DeleteFleetLocations removes it: they stay there, due for release,
// and the record is no longer set, so that the location added again does
// not bring its old desired count back.
func TestDeletingManagedLocationsKeepsTheirHostsToRelease(t *testing.T) {
	fe := fleettest.New(t, "custom-a", "custom-b", "custom-c")
	ctx := context.Background()
	if _, err := fe.Fleets.Heartbeat(fe.Ctx, fe.FleetID, fleettest.Compute, agentwire.Heartbeat{}); err != nil {
		t.Fatal(err)
	}
	_, err := fe.Fleets.RegisterCompute(fe.Ctx, &gamelift.RegisterComputeInput{FleetId: fe.FleetID, ComputeName: "studio-1", Location: "custom-a", IpAddress: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	now := fe.Clock.Now().UTC()
	for loc, pending := range map[string]string{"custom-a": "muster-0a0a0a0a", "custom-b": "muster-0b0b0b0b", "custom-c": ""} {
		desired := int32(2)
		if _, err := fe.Fleets.UpdateFleetCapacity(fe.Ctx, &gamelift.UpdateFleetCapacityInput{FleetId: fe.FleetID, Location: loc, DesiredInstances: &desired, MaxSize: &desired}); err != nil {
			t.Fatal(err)
		}
		if pending == "" {
			continue
		}
		err := fe.Store.Update(ctx, func(w store.Writer) error {
			c, version, _, err := fleet.GetCapacity(ctx, w, fe.FleetID, loc)
			if err != nil {
				return err
			}
			c.Pending = []fleet.PendingHost{{ComputeName: pending, RequestedAt: now, Deadline: now.Add(time.Hour), Attempts: 1}}
			return fleet.PutCapacity(ctx, w, c, version)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stored := func(loc string) (fleet.Capacity, bool) {
		t.Helper()
		var c fleet.Capacity
		var found bool
		err := fe.Store.View(ctx, func(r store.Reader) error {
			var err error
			c, _, found, err = fleet.GetCapacity(ctx, r, fe.FleetID, loc)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c, found
	}
	due := func(c fleet.Capacity) []string {
		var names []string
		for _, h := range c.Releasing {
			if !h.NextAttempt.IsZero() {
				names = append(names, h.ComputeName)
			}
		}
		slices.Sort(names)
		return names
	}
	t.Run("a deleted location's pending hosts stay to release, its capacity unset", func(t *testing.T) {
		if _, err := fe.Fleets.DeleteFleetLocations(fe.Ctx, &gamelift.DeleteFleetLocationsInput{FleetId: fe.FleetID, Locations: []string{"custom-b"}}); err != nil {
			t.Fatal(err)
		}
		c, found := stored("custom-b")
		if !found || c.Set || c.Desired != 0 || len(c.Pending) != 0 || !slices.Equal(due(c), []string{"muster-0b0b0b0b"}) {
			t.Fatalf("capacity %+v (found %v)", c, found)
		}
	})
	t.Run("a deleted fleet's agent hosts and pending hosts stay to release", func(t *testing.T) {
		if _, err := fe.Fleets.DeleteFleet(fe.Ctx, &gamelift.DeleteFleetInput{FleetId: fe.FleetID}); err != nil {
			t.Fatal(err)
		}
		c, found := stored("custom-a")
		if !found || c.Set || !slices.Equal(due(c), []string{fleettest.Compute, "muster-0a0a0a0a"}) {
			t.Fatalf("capacity %+v (found %v): want host-1 and the pending host due for release, and not studio-1, whose host runs no agent", c, found)
		}
		if c, found := stored("custom-c"); found {
			t.Fatalf("capacity %+v of a location with nothing to release is left", c)
		}
	})
}
