package fleet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

func TestListFleetsPagesAndFilters(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	mustLocation(t, c, "custom-a")
	want := map[string]bool{}
	for range 3 {
		out, err := c.CreateFleet(ctx, anywhere("custom-a"))
		if err != nil {
			t.Fatal(err)
		}
		want[aws.ToString(out.FleetAttributes.FleetId)] = true
	}
	t.Run("pages of Limit fleet ids cover every fleet once", func(t *testing.T) {
		got := map[string]bool{}
		var token *string
		pages := 0
		for {
			out, err := c.ListFleets(ctx, &gl.ListFleetsInput{Limit: aws.Int32(2), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, id := range out.FleetIds {
				if got[id] {
					t.Fatalf("fleet %s listed twice", id)
				}
				got[id] = true
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		if pages != 2 || len(got) != len(want) {
			t.Fatalf("%d pages, %d fleets; want 2 pages, %d fleets", pages, len(got), len(want))
		}
		for id := range want {
			if !got[id] {
				t.Fatalf("fleet %s not listed", id)
			}
		}
	})
	t.Run("a build filter matches no Muster fleet", func(t *testing.T) {
		out, err := c.ListFleets(ctx, &gl.ListFleetsInput{BuildId: aws.String("build-1111")})
		if err != nil || len(out.FleetIds) != 0 {
			t.Fatalf("%v %v", out, err)
		}
	})
	t.Run("bad filters and limits are refused by member", func(t *testing.T) {
		_, err := c.ListFleets(ctx, &gl.ListFleetsInput{BuildId: aws.String("build-1"), ScriptId: aws.String("script-1")})
		invalid(t, err, "ScriptId: cannot be given with BuildId")
		_, err = c.ListFleets(ctx, &gl.ListFleetsInput{ScriptId: aws.String("nonsense")})
		invalid(t, err, "ScriptId")
		_, err = c.ListFleets(ctx, &gl.ListFleetsInput{Limit: aws.Int32(0)})
		invalid(t, err, "Limit")
		_, err = c.ListFleets(ctx, &gl.ListFleetsInput{NextToken: aws.String("%%%")})
		invalid(t, err, "NextToken")
	})
}

func counts(t *testing.T, c *gl.Client, fleetID, loc string) types.EC2InstanceCounts {
	t.Helper()
	out, err := c.DescribeFleetLocationCapacity(context.Background(), &gl.DescribeFleetLocationCapacityInput{FleetId: aws.String(fleetID), Location: aws.String(loc)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.FleetCapacity.InstanceCounts
}

func TestUpdateFleetCapacity(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	id := anywhereFleet(t, c, "custom-a", "custom-b")
	t.Run("a location never set reports its computes, minimum 0 and maximum 1", func(t *testing.T) {
		ic := counts(t, c, id, "custom-a")
		if *ic.DESIRED != 0 || *ic.MINIMUM != 0 || *ic.MAXIMUM != 1 || *ic.ACTIVE != 0 || *ic.PENDING != 0 {
			t.Fatalf("%+v", ic)
		}
	})
	t.Run("desired outside minimum and maximum is refused naming DesiredInstances", func(t *testing.T) {
		_, err := c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-a"), DesiredInstances: aws.Int32(3), MaxSize: aws.Int32(2)})
		invalid(t, err, "DesiredInstances: must be between MinSize (0) and MaxSize (2)")
		_, err = c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-a"), MinSize: aws.Int32(3), MaxSize: aws.Int32(2)})
		invalid(t, err, "MinSize: MinSize (3) must not exceed MaxSize (2)")
		if ic := counts(t, c, id, "custom-a"); *ic.MAXIMUM != 1 {
			t.Fatalf("a refused update changed the capacity: %+v", ic)
		}
	})
	t.Run("bad members are refused by name", func(t *testing.T) {
		_, err := c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), DesiredInstances: aws.Int32(1)})
		invalid(t, err, "Location: is required")
		_, err = c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-a"), DesiredInstances: aws.Int32(-1)})
		invalid(t, err, "DesiredInstances: must be at least 0")
		_, err = c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-a"), MinSize: aws.Int32(1),
			ManagedCapacityConfiguration: &types.ManagedCapacityConfiguration{ZeroCapacityStrategy: types.ZeroCapacityStrategyScaleToAndFromZero, ScaleInAfterInactivityMinutes: aws.Int32(2)}})
		invalid(t, err, "MinSize: cannot be set with ZeroCapacityStrategy")
		invalid(t, err, "ManagedCapacityConfiguration.ScaleInAfterInactivityMinutes: must be 5 to 1440")
		_, err = c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-zzz"), DesiredInstances: aws.Int32(0)})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("unknown location: %v", err)
		}
	})
	t.Run("a capacity set is reported per location and added up per fleet, with an event", func(t *testing.T) {
		up, err := c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-a"), DesiredInstances: aws.Int32(2), MinSize: aws.Int32(1), MaxSize: aws.Int32(5),
			ManagedCapacityConfiguration: &types.ManagedCapacityConfiguration{}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(up.Location) != "custom-a" || aws.ToString(up.FleetId) != id || up.ManagedCapacityConfiguration.ZeroCapacityStrategy != types.ZeroCapacityStrategyManual ||
			aws.ToInt32(up.ManagedCapacityConfiguration.ScaleInAfterInactivityMinutes) != 30 {
			t.Fatalf("%+v %+v", up, up.ManagedCapacityConfiguration)
		}
		ic := counts(t, c, id, "custom-a")
		if *ic.DESIRED != 2 || *ic.MINIMUM != 1 || *ic.MAXIMUM != 5 {
			t.Fatalf("%+v", ic)
		}
		all, err := c.DescribeFleetCapacity(ctx, &gl.DescribeFleetCapacityInput{FleetIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if ic := all.FleetCapacity[0].InstanceCounts; *ic.DESIRED != 2 || *ic.MINIMUM != 1 || *ic.MAXIMUM != 6 {
			t.Fatalf("fleet totals %+v", ic)
		}
		ev, err := c.DescribeFleetEvents(ctx, &gl.DescribeFleetEventsInput{FleetId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		last := ev.Events[len(ev.Events)-1]
		if last.EventCode != types.EventCodeFleetScalingEvent || aws.ToString(last.Message) != "Capacity of custom-a set to desired 2 (minimum 1, maximum 5); was desired 0 (minimum 0, maximum 1)" {
			t.Fatalf("%s %s", last.EventCode, aws.ToString(last.Message))
		}
	})
	t.Run("members left out keep their values", func(t *testing.T) {
		if _, err := c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-a"), DesiredInstances: aws.Int32(4)}); err != nil {
			t.Fatal(err)
		}
		if ic := counts(t, c, id, "custom-a"); *ic.DESIRED != 4 || *ic.MINIMUM != 1 || *ic.MAXIMUM != 5 {
			t.Fatalf("%+v", ic)
		}
	})
	t.Run("fleet actions stop and start auto-scaling", func(t *testing.T) {
		if _, err := c.StopFleetActions(ctx, &gl.StopFleetActionsInput{FleetId: aws.String(id), Actions: []types.FleetAction{types.FleetActionAutoScaling}}); err != nil {
			t.Fatal(err)
		}
		attrs, err := c.DescribeFleetAttributes(ctx, &gl.DescribeFleetAttributesInput{FleetIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if got := attrs.FleetAttributes[0].StoppedActions; len(got) != 1 || got[0] != types.FleetActionAutoScaling {
			t.Fatalf("StoppedActions %v", got)
		}
		if _, err := c.StartFleetActions(ctx, &gl.StartFleetActionsInput{FleetId: aws.String(id), Location: aws.String("custom-a"), Actions: []types.FleetAction{types.FleetActionAutoScaling}}); err != nil {
			t.Fatal(err)
		}
		_, err = c.StartFleetActions(ctx, &gl.StartFleetActionsInput{FleetId: aws.String(id), Actions: []types.FleetAction{"NOPE"}})
		invalid(t, err, "Actions[0]: must be AUTO_SCALING")
	})
}

func TestDescribeFleetLocationUtilization(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	id := anywhereFleet(t, c, "custom-a")
	u, err := c.DescribeFleetLocationUtilization(ctx, &gl.DescribeFleetLocationUtilizationInput{FleetId: aws.String(id), Location: aws.String("custom-a")})
	if err != nil {
		t.Fatal(err)
	}
	fu := u.FleetUtilization
	if aws.ToString(fu.Location) != "custom-a" || aws.ToString(fu.FleetId) != id || aws.ToInt32(fu.ActiveServerProcessCount) != 0 || fu.ActiveGameSessionCount == nil {
		t.Fatalf("%+v", fu)
	}
	_, err = c.DescribeFleetLocationUtilization(ctx, &gl.DescribeFleetLocationUtilizationInput{FleetId: aws.String(id), Location: aws.String("custom-b")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("a location the fleet lacks: %v", err)
	}
}
