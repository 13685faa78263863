package capacity_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// storedCapacity reads a location's capacity record as stored.
func storedCapacity(t *testing.T, fe *fleettest.Env, location string) (fleet.Capacity, bool) {
	t.Helper()
	var c fleet.Capacity
	var found bool
	err := fe.Store.View(context.Background(), func(r store.Reader) error {
		var err error
		c, _, found, err = fleet.GetCapacity(context.Background(), r, fe.FleetID, location)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, found
}

func (e *env) reconcileAll() {
	e.t.Helper()
	if err := e.svc.ReconcileAll(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.svc.Settle()
}

// DeleteFleet dropped the computes of a managed location, and reconciling
// then dropped its capacity record: the provisioner was never asked to
// release its hosts, cloud machines billed for ever.
func TestDeletingAFleetReleasesEveryHostItHad(t *testing.T) {
	e := newEnv(t)
	e.setCapacity(3, 0, 5)
	e.reconcile()
	asked := e.provisioned()
	registered, pending := strings.Fields(asked[0])[2], strings.Fields(asked[1])[2]
	e.register(registered)
	e.reconcile()
	e.registerForeign("studio-1") // the studio's, not the provisioner's
	if err := os.WriteFile(e.failFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Fleets.DeleteFleet(e.Ctx, &gamelift.DeleteFleetInput{FleetId: e.FleetID}); err != nil {
		t.Fatal(err)
	}
	e.reconcile()
	want := []string{"release custom-a " + fleettest.Compute, "release custom-a " + pending, "release custom-a " + registered}
	slices.Sort(want)
	if got := slices.Sorted(slices.Values(e.provisioned()[2:])); !slices.Equal(got, want) {
		t.Fatalf("calls after DeleteFleet %q, want %q", got, want)
	}
	t.Run("a release that failed is asked again until it succeeds", func(t *testing.T) {
		if c, found := storedCapacity(t, e.Env, loc); !found || len(c.Releasing) != 3 {
			t.Fatalf("capacity record %+v (found %v): the hosts whose release failed were forgotten", c, found)
		}
		os.Remove(e.failFile)
		e.Clock.Advance(capacity.DefaultBaseBackoff)
		e.reconcileAll()
		if got := slices.Sorted(slices.Values(e.provisioned()[5:])); !slices.Equal(got, want) {
			t.Fatalf("calls after the backoff %q, want %q", got, want)
		}
	})
	t.Run("then the capacity record goes", func(t *testing.T) {
		e.reconcileAll()
		if c, found := storedCapacity(t, e.Env, loc); found {
			t.Fatalf("capacity record %+v is left", c)
		}
		if n := len(e.provisioned()); n != 8 {
			t.Fatalf("%d calls, want 8", n)
		}
	})
}

// Reconciling never looked at the fleet's locations: a deleted location
// had hosts asked for for ever, its pending hosts were never released, and
// the location added again came back with its old desired count.
func TestADeletedLocationIsReleasedAndNoLongerProvisioned(t *testing.T) {
	fe := fleettest.New(t, "custom-a", "custom-b")
	prov := newRecorder(t, false)
	svc := capacity.New(capacity.Config{Base: baseOf(fe), Fleets: fe.Fleets, Registerer: prometheus.NewRegistry(),
		Provisioners: map[string]capacity.Provisioner{"custom-b": prov, "custom-c": prov}})
	reconcile := func(location string) {
		t.Helper()
		if err := svc.Reconcile(context.Background(), fe.FleetID, location); err != nil {
			t.Fatal(err)
		}
	}
	setCapacity(t, fe, "custom-b", 2, 5)
	reconcile("custom-b")
	var want []string
	for _, c := range prov.recorded() {
		want = append(want, strings.Replace(c, "provision", "release", 1))
	}
	prov.fail(true)
	if _, err := fe.Fleets.DeleteFleetLocations(fe.Ctx, &gamelift.DeleteFleetLocationsInput{FleetId: fe.FleetID, Locations: []string{"custom-b"}}); err != nil {
		t.Fatal(err)
	}
	reconcile("custom-b")
	if got := prov.recorded()[2:]; !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("calls after the location was deleted %q, want %q", got, want)
	}
	t.Run("its releases are retried, then its record goes", func(t *testing.T) {
		prov.fail(false)
		fe.Clock.Advance(capacity.DefaultBaseBackoff)
		reconcile("custom-b")
		reconcile("custom-b")
		if got := prov.recorded()[4:]; !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Fatalf("calls after the backoff %q, want the releases again", got)
		}
		if c, found := storedCapacity(t, fe, "custom-b"); found {
			t.Fatalf("capacity record %+v is left", c)
		}
		if n := len(prov.recorded()); n != 6 {
			t.Fatalf("calls %q, want 6", prov.recorded())
		}
	})
	t.Run("added again, the location starts afresh", func(t *testing.T) {
		if _, err := fe.Fleets.CreateFleetLocations(fe.Ctx, &gamelift.CreateFleetLocationsInput{FleetId: fe.FleetID,
			Locations: []gamelift.LocationConfiguration{{Location: "custom-b"}}}); err != nil {
			t.Fatal(err)
		}
		out, err := fe.Fleets.DescribeFleetLocationCapacity(fe.Ctx, &gamelift.DescribeFleetLocationCapacityInput{FleetId: fe.FleetID, Location: "custom-b"})
		if err != nil {
			t.Fatal(err)
		}
		if d := *out.FleetCapacity.InstanceCounts.DESIRED; d != 0 {
			t.Fatalf("DESIRED %d, want 0: the deleted location's desired count came back", d)
		}
		reconcile("custom-b")
		if n := len(prov.recorded()); n != 6 {
			t.Fatalf("calls %q, want no more", prov.recorded())
		}
	})
	t.Run("a capacity left set for a location the fleet does not have is released", func(t *testing.T) {
		// As an earlier version left it.
		now := fe.Clock.Now().UTC()
		c := fleet.Capacity{FleetID: fe.FleetID, Location: "custom-c", Set: true, Desired: 1, Max: 1,
			Pending: []fleet.PendingHost{{ComputeName: "muster-0c0c0c0c", RequestedAt: now, Deadline: now.Add(time.Hour), Attempts: 1}}}
		err := fe.Store.Update(context.Background(), func(w store.Writer) error { return fleet.PutCapacity(context.Background(), w, c, 0) })
		if err != nil {
			t.Fatal(err)
		}
		reconcile("custom-c")
		reconcile("custom-c") // sees the release made
		if got := prov.recorded()[6:]; !slices.Equal(got, []string{"release custom-c muster-0c0c0c0c"}) {
			t.Fatalf("calls %q", got)
		}
		if c, found := storedCapacity(t, fe, "custom-c"); found {
			t.Fatalf("capacity record %+v is left", c)
		}
	})
}

// A pending host given back on a scale-in was taken out of the record
// before its provisioner was called, once: a failed release (or a crash
// before it) lost the host for ever.
func TestAReleaseThatFailsIsRetriedUntilItSucceeds(t *testing.T) {
	e := newEnv(t)
	e.setCapacity(2, 0, 2)
	e.reconcile()
	name := strings.Fields(e.provisioned()[0])[2]
	if err := os.WriteFile(e.failFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.setCapacity(1, 0, 2)
	e.reconcile()
	if calls := e.provisioned(); !slices.Equal(calls[1:], []string{"release custom-a " + name}) {
		t.Fatalf("calls %q", calls)
	}
	if !e.hasEvent("Provisioner of custom-a failed to release compute " + name + ": ") {
		t.Fatalf("events %q", e.events())
	}
	if c := e.counts(); *c.PENDING != 0 {
		t.Fatalf("counts %+v: a host given back is still pending", c)
	}
	t.Run("not before the backoff", func(t *testing.T) {
		e.Clock.Advance(capacity.DefaultBaseBackoff / 2)
		e.reconcile()
		if n := len(e.provisioned()); n != 2 {
			t.Fatalf("%d calls", n)
		}
	})
	t.Run("after it, until it succeeds", func(t *testing.T) {
		os.Remove(e.failFile)
		e.Clock.Advance(capacity.DefaultBaseBackoff / 2)
		e.reconcile()
		if calls := e.provisioned(); !slices.Equal(calls[2:], []string{"release custom-a " + name}) {
			t.Fatalf("calls %q", calls)
		}
		e.Clock.Advance(capacity.DefaultMaxBackoff)
		e.reconcile()
		if n := len(e.provisioned()); n != 3 {
			t.Fatalf("calls %q: a released host was released again", e.provisioned())
		}
		if c, _ := storedCapacity(t, e.Env, loc); len(c.Releasing) != 0 {
			t.Fatalf("releasing %+v", c.Releasing)
		}
	})
}

// A release decided and committed, and never made (the control plane
// stopped in between), is made by the next one.
func TestAReleaseDecidedBeforeARestartIsMade(t *testing.T) {
	e := newEnv(t)
	now := e.Clock.Now().UTC()
	e.storeCapacity(fleet.Capacity{Set: true, Desired: 1, Max: 1,
		Releasing: []fleet.PendingHost{{ComputeName: "muster-0d0d0d0d", RequestedAt: now, NextAttempt: now}}})
	e.reconcile()
	if calls := e.provisioned(); !slices.Equal(calls, []string{"release custom-a muster-0d0d0d0d"}) {
		t.Fatalf("calls %q", calls)
	}
}

// A lost host (IMPAIRED: its agent stopped heartbeating) was replaced, but
// never given back to its provisioner, and its compute stayed for ever.
func TestALostComputeIsReleasedAndDeregistered(t *testing.T) {
	e := newEnv(t)
	e.register("host-2")
	e.setCapacity(2, 0, 2)
	e.reconcile()
	e.Clock.Advance(fleet.LostAfterHeartbeats*fleettest.HeartbeatInterval + time.Second)
	if _, err := e.Fleets.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, agentwire.Heartbeat{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Fleets.SweepLostComputes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := e.compute("host-2").Status; s != gamelift.ComputeImpaired {
		t.Fatalf("host-2 is %s", s)
	}
	released := func() bool { return slices.Contains(e.provisioned(), "release custom-a host-2") }
	t.Run("it is replaced at once, and kept for ReleaseDeadline", func(t *testing.T) {
		e.reconcile()
		if calls := e.provisioned(); len(calls) != 1 || !strings.HasPrefix(calls[0], "provision custom-a muster-") {
			t.Fatalf("calls %q, want a replacement", calls)
		}
		e.Clock.Advance(capacity.DefaultReleaseDeadline / 2)
		e.reconcile()
		if released() {
			t.Fatalf("calls %q: released before ReleaseDeadline", e.provisioned())
		}
	})
	t.Run("then it is released and its compute deregistered", func(t *testing.T) {
		e.Clock.Advance(capacity.DefaultReleaseDeadline / 2)
		e.reconcile()
		if !released() {
			t.Fatalf("calls %q", e.provisioned())
		}
		e.reconcile()
		if _, err := e.Fleets.ComputeOf(context.Background(), e.FleetID, "host-2"); err == nil {
			t.Fatal("host-2 is still registered")
		}
		if !e.hasEvent("Compute host-2 deregistered: lost, and released by the provisioner of custom-a") {
			t.Fatalf("events %q", e.events())
		}
	})
}
