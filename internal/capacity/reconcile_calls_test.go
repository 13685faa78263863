package capacity_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
)

// recorder is a provisioner that records its calls; while its gate is
// open (not closed yet) a call waits for it, as a slow cloud API does.
type recorder struct {
	gate   chan struct{}
	asked  chan capacity.Host
	closer sync.Once

	mu            sync.Mutex
	calls         []string
	running, most int
	failing       bool
}

func newRecorder(t *testing.T, slow bool) *recorder {
	r := &recorder{gate: make(chan struct{}), asked: make(chan capacity.Host, 100)}
	if !slow {
		r.open()
	}
	t.Cleanup(r.open)
	return r
}

// open lets every call waiting on the gate, and every later one, return.
func (r *recorder) open() { r.closer.Do(func() { close(r.gate) }) }

func (r *recorder) Provision(ctx context.Context, h capacity.Host) error {
	return r.call(ctx, "provision "+h.Location+" "+h.ComputeName, h)
}

func (r *recorder) Release(ctx context.Context, h capacity.Host) error {
	return r.call(ctx, "release "+h.Location+" "+h.ComputeName, h)
}

func (r *recorder) call(ctx context.Context, what string, h capacity.Host) error {
	r.mu.Lock()
	r.calls = append(r.calls, what)
	r.running++
	r.most = max(r.most, r.running)
	r.mu.Unlock()
	r.asked <- h
	defer func() {
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
	}()
	select {
	case <-r.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return errCloud
	}
	return nil
}

func (r *recorder) fail(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing = on
}

func (r *recorder) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) concurrency() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.most
}

type cloudError struct{}

func (cloudError) Error() string { return "the cloud is out of machines" }

var errCloud = cloudError{}

// waitAsked returns the next host the provisioner was asked about. The
// calls run on the capacity service's own goroutines, so they are awaited;
// the deadline is a safety net for a hung test, not a timing check.
func (r *recorder) waitAsked(t *testing.T, what string) capacity.Host {
	t.Helper()
	select {
	case h := <-r.asked:
		return h
	case <-time.After(30 * time.Second):
		t.Fatalf("the provisioner was never asked: %s", what)
		return capacity.Host{}
	}
}

func baseOf(fe *fleettest.Env) (b service.Base) {
	b.Store, b.Clock = fe.Store, fe.Clock
	b.ARNs = gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}
	return b
}

func setCapacity(t *testing.T, fe *fleettest.Env, location string, desired, maxSize int32) {
	t.Helper()
	zero := int32(0)
	_, err := fe.Fleets.UpdateFleetCapacity(fe.Ctx, &gamelift.UpdateFleetCapacityInput{FleetId: fe.FleetID, Location: location, DesiredInstances: &desired, MinSize: &zero, MaxSize: &maxSize})
	if err != nil {
		t.Fatal(err)
	}
}

// One reconcile pass served every location in turn, each provisioner call
// inline: a location whose provisioner hung (a webhook or a script up to
// its timeout, for each host it needed) held up every other location, and
// scale-in and policy evaluation with them. Now a location's calls run on
// its own workers, a few at a time.
func TestASlowLocationDoesNotHoldUpTheOthers(t *testing.T) {
	fe := fleettest.New(t, "custom-a", "custom-b")
	slow, fast := newRecorder(t, true), newRecorder(t, false)
	svc := capacity.New(capacity.Config{Base: baseOf(fe), Fleets: fe.Fleets, Registerer: prometheus.NewRegistry(),
		Provisioners: map[string]capacity.Provisioner{"custom-a": slow, "custom-b": fast}})
	setCapacity(t, fe, "custom-a", 7, 10) // host-1 and six more
	setCapacity(t, fe, "custom-b", 1, 1)
	done := make(chan error, 1)
	go func() { done <- svc.ReconcileAll(context.Background()) }()
	fast.waitAsked(t, "custom-b's host, while custom-a's provisioner hangs")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a safety net, as in waitAsked
		t.Fatal("ReconcileAll waited for custom-a's hung provisioner")
	}
	for range capacity.CallsPerLocation {
		slow.waitAsked(t, "custom-a's hosts")
	}
	t.Run("a second pass does not ask again for hosts in flight", func(t *testing.T) {
		if err := svc.ReconcileAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		slow.open()
		svc.Settle()
		calls := slow.recorded()
		if len(calls) != 6 || len(slices.Compact(slices.Sorted(slices.Values(calls)))) != 6 {
			t.Fatalf("custom-a's provisioner calls %q, want six distinct hosts asked once each", calls)
		}
		if got := fast.recorded(); len(got) != 1 {
			t.Fatalf("custom-b's provisioner calls %q, want one", got)
		}
	})
	t.Run("a location's calls run a few at a time", func(t *testing.T) {
		if n := slow.concurrency(); n > capacity.CallsPerLocation {
			t.Fatalf("%d calls of custom-a ran at once, want at most %d", n, capacity.CallsPerLocation)
		}
	})
}
