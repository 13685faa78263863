package fleet_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// limitExceeded fails unless err is a LimitExceededException whose message
// mentions each of mentions and none of absent.
func limitExceeded(t *testing.T, err error, mentions []string, absent ...string) {
	t.Helper()
	var le *types.LimitExceededException
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want LimitExceededException", err)
	}
	msg := aws.ToString(le.Message)
	for _, m := range mentions {
		if !strings.Contains(msg, m) {
			t.Fatalf("message %q does not mention %q", msg, m)
		}
	}
	for _, m := range absent {
		if strings.Contains(msg, m) {
			t.Fatalf("message %q mentions %q", msg, m)
		}
	}
}

func eventCount(t *testing.T, c *gl.Client, fleetID string) int {
	t.Helper()
	out, err := c.DescribeFleetEvents(context.Background(), &gl.DescribeFleetEventsInput{FleetId: aws.String(fleetID), Limit: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Events)
}

func TestUpdateFleetCapacityIsHeldToTheInstanceLimit(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	id := anywhereFleet(t, c, "custom-a", "custom-b")
	update := func(desired, minSize, maxSize *int32) error {
		_, err := c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), Location: aws.String("custom-a"),
			DesiredInstances: desired, MinSize: minSize, MaxSize: maxSize})
		return err
	}
	if err := update(aws.Int32(2), aws.Int32(1), aws.Int32(5)); err != nil {
		t.Fatal(err)
	}
	unchanged := func(t *testing.T, events int) {
		t.Helper()
		if ic := counts(t, c, id, "custom-a"); *ic.DESIRED != 2 || *ic.MINIMUM != 1 || *ic.MAXIMUM != 5 || *ic.PENDING != 0 {
			t.Fatalf("a refused update changed custom-a: %+v", ic)
		}
		if ic := counts(t, c, id, "custom-b"); *ic.DESIRED != 0 || *ic.MAXIMUM != 1 {
			t.Fatalf("a refused update changed custom-b: %+v", ic)
		}
		if n := eventCount(t, c, id); n != events {
			t.Fatalf("%d events, want %d: a refused update left one", n, events)
		}
	}
	events := eventCount(t, c, id)
	tests := []struct {
		name                  string
		desired, minSz, maxSz *int32
		mentions              []string
		absent                []string
	}{
		{"desired and maximum of 2147483647 are refused naming both members and the limit of 1000",
			aws.Int32(math.MaxInt32), nil, aws.Int32(math.MaxInt32),
			[]string{"DesiredInstances: 2147483647 is above the limit of 1000 instances per fleet location",
				"MaxSize: 2147483647 is above the limit of 1000", "--capacity-max-instances"}, []string{"MinSize"}},
		{"a maximum one above the limit is refused naming MaxSize alone",
			nil, nil, aws.Int32(1001), []string{"MaxSize: 1001 is above the limit of 1000"}, []string{"DesiredInstances", "MinSize"}},
		{"a desired count above the limit is refused naming DesiredInstances, though the maximum is within it",
			aws.Int32(1001), nil, aws.Int32(1000), []string{"DesiredInstances: 1001 is above the limit of 1000"}, []string{"MaxSize"}},
		{"a minimum above the limit is refused naming MinSize",
			nil, aws.Int32(5000), nil, []string{"MinSize: 5000 is above the limit of 1000"}, []string{"DesiredInstances", "MaxSize"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+", changing nothing", func(t *testing.T) {
			limitExceeded(t, update(tt.desired, tt.minSz, tt.maxSz), tt.mentions, tt.absent...)
			unchanged(t, events)
		})
	}
	t.Run("a negative count is refused as invalid before the limit is looked at", func(t *testing.T) {
		invalid(t, update(aws.Int32(-1), nil, aws.Int32(math.MaxInt32)), "DesiredInstances: must be at least 0")
		unchanged(t, events)
	})
	t.Run("counts at the limit are accepted", func(t *testing.T) {
		if err := update(aws.Int32(1000), nil, aws.Int32(1000)); err != nil {
			t.Fatal(err)
		}
		if ic := counts(t, c, id, "custom-a"); *ic.DESIRED != 1000 || *ic.MAXIMUM != 1000 {
			t.Fatalf("%+v", ic)
		}
	})
}

func TestTheInstanceLimitIsConfigurable(t *testing.T) {
	c := newClient(t, func(cfg *server.Config) { cfg.CapacityMaxInstances = 3 })
	ctx := context.Background()
	id := anywhereFleet(t, c, "custom-a")
	_, err := c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), DesiredInstances: aws.Int32(4), MaxSize: aws.Int32(4)})
	limitExceeded(t, err, []string{"DesiredInstances: 4 is above the limit of 3", "MaxSize: 4 is above the limit of 3"})
	if _, err := c.UpdateFleetCapacity(ctx, &gl.UpdateFleetCapacityInput{FleetId: aws.String(id), DesiredInstances: aws.Int32(3), MaxSize: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	if ic := counts(t, c, id, "custom-a"); *ic.DESIRED != 3 || *ic.MAXIMUM != 3 {
		t.Fatalf("%+v", ic)
	}
}

// A location's capacity written before the limit existed, or before it
// was lowered, can be above it. Nothing raises it further, nothing lowers
// it for being above, and its other members can still be changed.
func TestACapacityStoredAboveTheLimit(t *testing.T) {
	const loc = "custom-a"
	e := fleettest.New(t, loc)
	ctx := context.Background()
	fleets := fleet.NewService(fleet.Config{Base: service.Base{Store: e.Store, Clock: e.Clock, ARNs: gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}},
		MaxInstances: 3})
	f, err := fleets.Fleet(ctx, e.FleetID)
	if err != nil {
		t.Fatal(err)
	}
	err = e.Store.Update(ctx, func(w store.Writer) error {
		return fleet.PutCapacity(ctx, w, fleet.Capacity{FleetID: e.FleetID, Location: loc, Set: true, Desired: 10, Max: math.MaxInt32}, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	stored := func(t *testing.T) fleet.Capacity {
		t.Helper()
		c, err := service.Read(ctx, e.Store, func(r store.Reader) (fleet.Capacity, error) {
			c, _, _, err := fleet.GetCapacity(ctx, r, e.FleetID, loc)
			return c, err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	setDesired := func(t *testing.T, want int) int {
		t.Helper()
		var got int
		err := e.Store.Update(ctx, func(w store.Writer) error {
			var err error
			got, err = fleets.SetDesired(ctx, w, f, loc, want, "a test policy")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	t.Run("its other members can still be changed, and a count above the limit is still refused", func(t *testing.T) {
		if _, err := fleets.UpdateFleetCapacity(e.Ctx, &gamelift.UpdateFleetCapacityInput{FleetId: e.FleetID, Location: loc, MinSize: ptr[int32](1)}); err != nil {
			t.Fatal(err)
		}
		if c := stored(t); c.Desired != 10 || c.Min != 1 || c.Max != math.MaxInt32 {
			t.Fatalf("%+v", c)
		}
		_, err := fleets.UpdateFleetCapacity(e.Ctx, &gamelift.UpdateFleetCapacityInput{FleetId: e.FleetID, Location: loc, DesiredInstances: ptr[int32](11)})
		if !fault.Is(err, fault.LimitExceeded) || !strings.Contains(err.Error(), "DesiredInstances: 11 is above the limit of 3") {
			t.Fatalf("got %v, want LimitExceeded naming DesiredInstances", err)
		}
	})
	t.Run("reconciling wants no more than the limit, or the computes the location has", func(t *testing.T) {
		c := stored(t)
		for have, want := range map[int]int{0: 3, 1: 3, 7: 7, 12: 10} {
			if got := fleets.Target(c, have); got != want {
				t.Fatalf("with %d computes: target %d, want %d", have, got, want)
			}
		}
		if got := fleets.Target(fleet.Capacity{Desired: 2}, 5); got != 2 {
			t.Fatalf("desired within the limit: target %d, want 2", got)
		}
	})
	t.Run("a scaling policy does not raise it, nor lower it for being above the limit", func(t *testing.T) {
		if got := setDesired(t, math.MaxInt32); got != 10 || stored(t).Desired != 10 {
			t.Fatalf("desired %d (stored %d), want 10", got, stored(t).Desired)
		}
	})
	t.Run("a scaling policy may lower it, and then raises it no further than the limit", func(t *testing.T) {
		if got := setDesired(t, 2); got != 2 {
			t.Fatalf("desired %d, want 2", got)
		}
		if got := setDesired(t, math.MaxInt32); got != 3 || stored(t).Desired != 3 {
			t.Fatalf("desired %d, want the limit, 3", got)
		}
	})
}

func ptr[T any](v T) *T { return &v }
