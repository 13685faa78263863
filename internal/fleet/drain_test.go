package fleet_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
)

// terminations records the TerminateProcess pushes the fleet service makes
// (the SDK endpoint's hub sends them to the processes' sockets).
type terminations struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (r *terminations) TerminateProcess(id string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at[id] = at
}

func (r *terminations) ProcessEnded(string) {}

func (r *terminations) get(id string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at[id]
}

// TestProcessesAreGivenTheGraceTheirAgentAllows checks that the
// TerminationTime pushed to a process is the drain grace its agent reports
// in its heartbeat, both when the agent drains and on a scale-in.
func TestProcessesAreGivenTheGraceTheirAgentAllows(t *testing.T) {
	e := fleettest.New(t, "custom-dg")
	rec := &terminations{at: map[string]time.Time{}}
	svc := fleet.NewService(fleet.Config{Base: service.Base{Store: e.Store, Clock: e.Clock, ARNs: gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}},
		Pusher: rec, HeartbeatInterval: fleettest.HeartbeatInterval})
	ctx := e.Ctx
	ready := func(compute, id string) {
		t.Helper()
		if _, err := svc.Heartbeat(ctx, e.FleetID, compute, agentwire.Heartbeat{DrainGraceSeconds: 7, Processes: []agentwire.Process{{ProcessID: id, PID: 100}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ProcessReady(context.Background(), id, 7000, "5.4.0", "Go", nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("a scale-in tells idle processes to end by the agent's grace", func(t *testing.T) {
		ready(fleettest.Compute, "p-1")
		draining, err := svc.DrainCompute(context.Background(), e.FleetID, fleettest.Compute, "test")
		if err != nil || !draining {
			t.Fatalf("DrainCompute = %v, %v", draining, err)
		}
		if got, want := rec.get("p-1"), e.Clock.Now().Add(7*time.Second); !got.Equal(want) {
			t.Fatalf("TerminationTime %v, want %v (now + 7 s)", got, want)
		}
	})
	t.Run("an agent's drain tells every process to end by its grace", func(t *testing.T) {
		if _, err := svc.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: e.FleetID, ComputeName: "host-2", Location: "custom-dg", IpAddress: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		ready("host-2", "p-2")
		e.Clock.Advance(time.Second)
		if _, err := svc.Heartbeat(ctx, e.FleetID, "host-2", agentwire.Heartbeat{Draining: true, DrainGraceSeconds: 12, Processes: []agentwire.Process{{ProcessID: "p-2", PID: 100}}}); err != nil {
			t.Fatal(err)
		}
		if got, want := rec.get("p-2"), e.Clock.Now().Add(12*time.Second); !got.Equal(want) {
			t.Fatalf("TerminationTime %v, want %v (now + 12 s)", got, want)
		}
	})
}
