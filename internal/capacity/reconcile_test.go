package capacity_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

func TestScaleOutAsksTheProvisionerAndCountsPendingHosts(t *testing.T) {
	e := newEnv(t)
	e.setCapacity(3, 0, 5)
	e.reconcile()
	calls := e.provisioned()
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "provision custom-a muster-") || calls[0] == calls[1] {
		t.Fatalf("provisioner calls %q, want two distinct provisions", calls)
	}
	if c := e.counts(); *c.DESIRED != 3 || *c.ACTIVE != 1 || *c.PENDING != 2 {
		t.Fatalf("counts %+v", c)
	}
	t.Run("a second pass asks for nothing more", func(t *testing.T) {
		e.reconcile()
		if n := len(e.provisioned()); n != 2 {
			t.Fatalf("%d calls", n)
		}
	})
	t.Run("hosts that register leave PENDING for ACTIVE, with an event", func(t *testing.T) {
		for _, c := range calls {
			e.register(strings.Fields(c)[2])
		}
		e.reconcile()
		if c := e.counts(); *c.ACTIVE != 3 || *c.PENDING != 0 || *c.IDLE != 3 {
			t.Fatalf("counts %+v", c)
		}
		if !e.hasEvent("Compute " + strings.Fields(calls[0])[2] + " registered in custom-a") {
			t.Fatalf("events %q", e.events())
		}
	})
}

// Past capacity every placement attempt says NoCapacity: the first makes a
// pass (evaluate, then reconcile), the ones within ten seconds of it do
// nothing — not even a reconcile, which reads every compute in the writer.
func TestNoCapacityPassesAreTenSecondsApart(t *testing.T) {
	e := newEnv(t)
	e.setCapacity(2, 0, 5)
	e.svc.NoCapacityPass(t.Context())
	e.svc.Settle() // the pass's provisioner calls run on their own
	if n := len(e.provisioned()); n != 1 {
		t.Fatalf("%d provisioner calls after the first pass, want 1", n)
	}
	e.setCapacity(3, 0, 5)
	e.Clock.Advance(9 * time.Second)
	e.svc.NoCapacityPass(t.Context())
	e.svc.Settle() // the pass's provisioner calls run on their own
	if n := len(e.provisioned()); n != 1 {
		t.Fatalf("%d provisioner calls after a pass within ten seconds, want still 1", n)
	}
	e.Clock.Advance(time.Second)
	e.svc.NoCapacityPass(t.Context())
	e.svc.Settle() // the pass's provisioner calls run on their own
	if n := len(e.provisioned()); n != 2 {
		t.Fatalf("%d provisioner calls after a pass ten seconds on, want 2", n)
	}
}

func TestAFailingProvisionerIsRetriedWithBackoffAndReported(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(e.failFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.setCapacity(2, 0, 2)
	e.reconcile()
	name := strings.Fields(e.provisioned()[0])[2]
	if !e.hasEvent("Provisioner of custom-a failed to add compute " + name + ": ") {
		t.Fatalf("events %q", e.events())
	}
	if got := e.failures("error"); got != 1 {
		t.Fatalf("failures metric %v", got)
	}
	t.Run("it is not asked again before the backoff", func(t *testing.T) {
		e.Clock.Advance(capacity.DefaultBaseBackoff / 2)
		e.reconcile()
		if n := len(e.provisioned()); n != 1 {
			t.Fatalf("%d calls", n)
		}
	})
	t.Run("after the backoff the same host is asked again", func(t *testing.T) {
		os.Remove(e.failFile)
		e.Clock.Advance(capacity.DefaultBaseBackoff / 2)
		e.reconcile()
		calls := e.provisioned()
		if len(calls) != 2 || calls[1] != "provision custom-a "+name {
			t.Fatalf("calls %q", calls)
		}
	})
	t.Run("a host that never registers is asked again after the deadline and backoff", func(t *testing.T) {
		e.Clock.Advance(capacity.DefaultRegisterDeadline)
		e.reconcile()
		if !e.hasEvent("Compute " + name + " asked of the provisioner of custom-a did not register within 5m0s; asking again in 20s (attempt 3)") {
			t.Fatalf("events %q", e.events())
		}
		if got := e.failures("deadline"); got != 1 {
			t.Fatalf("deadline metric %v", got)
		}
		e.Clock.Advance(2 * capacity.DefaultBaseBackoff)
		e.reconcile()
		if calls := e.provisioned(); len(calls) != 3 || calls[2] != "provision custom-a "+name {
			t.Fatalf("calls %q", calls)
		}
		if c := e.counts(); *c.PENDING != 1 {
			t.Fatalf("counts %+v", c)
		}
	})
}

func TestScaleInDrainsTheLeastUsedComputeAndNeverCutsGameSessions(t *testing.T) {
	e := newEnv(t)
	// host-1 (oldest) hosts a game session; host-2 and host-3 are idle,
	// host-3 the newest.
	busy := e.process("host-1", true)
	e.Clock.Advance(1)
	e.register("host-2")
	e.process("host-2", false)
	e.Clock.Advance(1)
	e.register("host-3")
	idle3 := e.process("host-3", false)
	e.setCapacity(3, 0, 3)
	e.reconcile()
	if n := len(e.provisioned()); n != 0 {
		t.Fatalf("%d calls at the desired capacity", n)
	}
	t.Run("lowering desired drains the idle newest compute first and releases it", func(t *testing.T) {
		e.setCapacity(2, 0, 3)
		e.reconcile()
		if s := e.compute("host-3").Status; s != gamelift.ComputeTerminating {
			t.Fatalf("host-3 is %s", s)
		}
		if s := e.compute("host-2").Status; s != gamelift.ComputeActive {
			t.Fatalf("host-2 is %s", s)
		}
		e.reconcile()
		if calls := e.provisioned(); !slices.Equal(calls, []string{"release custom-a host-3"}) {
			t.Fatalf("calls %q", calls)
		}
		if c := e.counts(); *c.DESIRED != 2 || *c.ACTIVE != 2 || *c.TERMINATING != 1 {
			t.Fatalf("counts %+v", c)
		}
		_ = idle3
	})
	t.Run("a compute with a live game session drains but is not released until the session ends", func(t *testing.T) {
		e.setCapacity(0, 0, 3)
		e.reconcile()
		e.reconcile()
		if s := e.compute("host-1").Status; s != gamelift.ComputeTerminating {
			t.Fatalf("host-1 is %s", s)
		}
		calls := e.provisioned()
		if slices.Contains(calls, "release custom-a host-1") || !slices.Contains(calls, "release custom-a host-2") {
			t.Fatalf("calls %q", calls)
		}
		if err := e.Fleets.EndProcess(context.Background(), busy, "PROCESS_ENDING"); err != nil {
			t.Fatal(err)
		}
		e.reconcile()
		if calls := e.provisioned(); !slices.Contains(calls, "release custom-a host-1") {
			t.Fatalf("calls %q", calls)
		}
	})
	t.Run("a released compute still registered after the deadline is deregistered", func(t *testing.T) {
		e.Clock.Advance(capacity.DefaultReleaseDeadline)
		e.reconcile()
		if _, err := e.Fleets.ComputeOf(context.Background(), e.FleetID, "host-3"); err == nil {
			t.Fatal("host-3 is still registered")
		}
		if !e.hasEvent("Compute host-3 deregistered: released by the provisioner") {
			t.Fatalf("events %q", e.events())
		}
	})
}

// A compute registered by other means than a provisioned host's agent —
// the studio's own tooling, a load tool's simulated servers — counts
// toward the capacity but is never drained, released or deregistered by a
// scale-in: only agent hosts are the provisioner's to give back.
func TestScaleInLeavesComputesWithoutAnAgent(t *testing.T) {
	e := newEnv(t)
	e.process("host-1", false)
	e.Clock.Advance(1)
	e.registerForeign("studio-1")
	e.process("studio-1", false)
	e.Clock.Advance(1)
	e.registerForeign("studio-2")
	e.process("studio-2", false)
	e.setCapacity(1, 0, 3)
	e.reconcile()
	e.reconcile()
	for _, name := range []string{"studio-1", "studio-2"} {
		if s := e.compute(name).Status; s != gamelift.ComputeActive {
			t.Fatalf("%s is %s", name, s)
		}
	}
	// Three computes against a desired 1: the agent host is the one the
	// scale-in may take.
	if s := e.compute("host-1").Status; s != gamelift.ComputeTerminating {
		t.Fatalf("host-1 is %s", s)
	}
	e.Clock.Advance(capacity.DefaultReleaseDeadline)
	e.reconcile()
	for _, name := range []string{"studio-1", "studio-2"} {
		if _, err := e.Fleets.ComputeOf(context.Background(), e.FleetID, name); err != nil {
			t.Fatalf("%s was deregistered: %v", name, err)
		}
	}
	if calls := e.provisioned(); slices.ContainsFunc(calls, func(c string) bool { return strings.Contains(c, "studio-") }) {
		t.Fatalf("the provisioner was asked about a compute it never made: %q", calls)
	}
}

func TestAScaleInDrainIsCancelledWhenDesiredRisesAgain(t *testing.T) {
	e := newEnv(t)
	// host-1 hosts a game session and has an idle process; host-2 is idle.
	e.process("host-1", true)
	idle := e.process("host-1", false)
	e.Clock.Advance(1)
	e.register("host-2")
	e.process("host-2", false)
	e.setCapacity(2, 0, 2)
	e.reconcile()
	e.setCapacity(0, 0, 2)
	e.reconcile() // both drain
	e.reconcile() // host-2, empty, is released; host-1 waits for its game session
	if calls := e.provisioned(); !slices.Equal(calls, []string{"release custom-a host-2"}) {
		t.Fatalf("calls %q", calls)
	}
	e.Clock.Advance(time.Minute)

	t.Run("the draining compute is ACTIVE again instead of a new host", func(t *testing.T) {
		e.setCapacity(1, 0, 2)
		e.reconcile()
		if s := e.compute("host-1").Status; s != gamelift.ComputeActive {
			t.Fatalf("host-1 is %s", s)
		}
		if calls := e.provisioned(); len(calls) != 1 {
			t.Fatalf("calls %q: a host was asked for although host-1 could be kept", calls)
		}
		if !e.hasEvent("Compute host-1 in custom-a is ACTIVE again: the desired capacity of custom-a rose again; 1 server processes told to end still end") {
			t.Fatalf("events %q", e.events())
		}
		if c := e.counts(); *c.DESIRED != 1 || *c.ACTIVE != 1 || *c.PENDING != 0 {
			t.Fatalf("counts %+v", c)
		}
	})
	t.Run("a process told to end still ends", func(t *testing.T) {
		var p fleet.Process
		err := e.Store.View(context.Background(), func(r store.Reader) error {
			var err error
			p, _, err = fleet.GetProcess(context.Background(), r, idle)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !p.Draining {
			t.Fatal("the idle process told to end by the drain can take game sessions again")
		}
	})
	t.Run("a compute already released is not kept: a new host is asked for", func(t *testing.T) {
		e.setCapacity(2, 0, 2)
		e.reconcile()
		calls := e.provisioned()
		if len(calls) != 2 || !strings.HasPrefix(calls[1], "provision custom-a muster-") {
			t.Fatalf("calls %q", calls)
		}
		if s := e.compute("host-2").Status; s != gamelift.ComputeTerminating {
			t.Fatalf("host-2 is %s", s)
		}
	})
}

func TestAHostAskedBeforeARestartIsAskedAgainAtOnce(t *testing.T) {
	e := newEnv(t)
	e.setCapacity(2, 0, 2)
	e.reconcile()
	name := strings.Fields(e.provisioned()[0])[2]
	// The control plane restarts: a new service over the same store and
	// provisioner, long before the host's registration deadline.
	prov := &capacity.Exec{Command: []string{filepath.Join(filepath.Dir(e.calls), "provision.sh")}, Timeout: 10 * time.Second,
		Env: []string{"CALLS=" + e.calls, "FAIL=" + e.failFile, "PATH=" + os.Getenv("PATH")}}
	restarted := capacity.New(capacity.Config{Base: e.base(), Fleets: e.Fleets, Provisioners: map[string]capacity.Provisioner{loc: prov}})
	e.Clock.Advance(time.Second)
	if err := restarted.Reconcile(context.Background(), e.FleetID, loc); err != nil {
		t.Fatal(err)
	}
	if calls := e.provisioned(); !slices.Equal(calls, []string{"provision custom-a " + name, "provision custom-a " + name}) {
		t.Fatalf("calls %q", calls)
	}
	t.Run("and only once", func(t *testing.T) {
		if err := restarted.Reconcile(context.Background(), e.FleetID, loc); err != nil {
			t.Fatal(err)
		}
		if n := len(e.provisioned()); n != 2 {
			t.Fatalf("%d calls", n)
		}
	})
}

func TestAStoppedLocalProvisionerIsLeftAlone(t *testing.T) {
	e := newEnv(t)
	local := &capacity.Local{}
	local.Stop()
	svc := capacity.New(capacity.Config{Base: e.base(), Fleets: e.Fleets, Provisioners: map[string]capacity.Provisioner{loc: local}})
	e.setCapacity(2, 0, 2)
	if err := svc.Reconcile(context.Background(), e.FleetID, loc); err != nil {
		t.Fatal(err)
	}
	if c := e.counts(); *c.PENDING != 0 || *c.ACTIVE != 1 {
		t.Fatalf("counts %+v: a stopping control plane asked for hosts", c)
	}
	if err := local.Provision(context.Background(), capacity.Host{FleetID: e.FleetID, Location: loc, ComputeName: "muster-00000000"}); err == nil {
		t.Fatal("a stopped local provisioner started an agent")
	}
}

// A capacity stored before the limit on instances existed (or before it was
// lowered) may want more computes than the limit: reconciling asks the
// provisioner for hosts up to the limit only, and drains none for being
// above it. (Desired is 50, not billions, so that a regression fails the
// test rather than the machine.)
func TestADesiredCountStoredAboveTheLimitAsksForNoHostBeyondIt(t *testing.T) {
	e := newEnv(t)
	e.limitInstances(3)
	e.storeCapacity(fleet.Capacity{Set: true, Desired: 50, Max: math.MaxInt32})
	e.reconcile()
	calls := e.provisioned()
	if len(calls) != 2 {
		t.Fatalf("provisioner calls %q, want two: the limit of 3 less the compute it has", calls)
	}
	if c := e.counts(); *c.ACTIVE != 1 || *c.PENDING != 2 {
		t.Fatalf("counts %+v", c)
	}
	t.Run("a location with more computes than the limit is not drained for it", func(t *testing.T) {
		for _, c := range calls {
			e.register(strings.Fields(c)[2])
		}
		e.register("host-4")
		e.register("host-5")
		e.reconcile()
		if c := e.counts(); *c.ACTIVE != 5 || *c.TERMINATING != 0 || *c.PENDING != 0 {
			t.Fatalf("counts %+v", c)
		}
		if n := len(e.provisioned()); n != 2 {
			t.Fatalf("%d provisioner calls, want still 2", n)
		}
	})
}
