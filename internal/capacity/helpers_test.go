package capacity_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

const loc = "custom-a"

// env is a capacity service over a real fleet service and SQLite store,
// whose location custom-a is provisioned by a real exec provisioner: a
// shell script that logs its calls and fails while a file exists.
type env struct {
	t *testing.T
	*fleettest.Env
	svc      *capacity.Service
	prov     capacity.Provisioner
	reg      *prometheus.Registry
	calls    string
	failFile string
	procs    int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "provision.sh")
	e := &env{t: t, Env: fleettest.New(t, loc), reg: prometheus.NewRegistry(), calls: filepath.Join(dir, "calls"), failFile: filepath.Join(dir, "fail")}
	err := os.WriteFile(script, []byte(`#!/bin/sh
echo "$MUSTER_FLEET_ID $*" >> "$CALLS"
if [ -f "$FAIL" ]; then echo "the cloud is out of machines" >&2; exit 1; fi
`), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	e.prov = &capacity.Exec{Command: []string{script}, Timeout: 10 * time.Second, Env: []string{"CALLS=" + e.calls, "FAIL=" + e.failFile, "PATH=" + os.Getenv("PATH")}}
	e.svc = capacity.New(capacity.Config{Base: e.base(), Fleets: e.Fleets, Provisioners: map[string]capacity.Provisioner{loc: e.prov}, Registerer: e.reg})
	// fleettest's compute stands for a provisioned host: its agent heartbeats.
	if _, err := e.Fleets.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, agentwire.Heartbeat{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// limitInstances rebuilds the fleet and capacity services over the same
// store and provisioner with a limit of n instances per location.
func (e *env) limitInstances(n int) {
	e.t.Helper()
	e.Fleets = fleet.NewService(fleet.Config{Base: e.base(), MaxInstances: n})
	e.svc = capacity.New(capacity.Config{Base: e.base(), Fleets: e.Fleets, Provisioners: map[string]capacity.Provisioner{loc: e.prov}})
}

// storeCapacity writes custom-a's capacity record as it is given, past
// UpdateFleetCapacity's checks: a record written by an earlier version.
func (e *env) storeCapacity(c fleet.Capacity) {
	e.t.Helper()
	ctx := context.Background()
	c.FleetID, c.Location = e.FleetID, loc
	err := e.Store.Update(ctx, func(w store.Writer) error {
		_, version, _, err := fleet.GetCapacity(ctx, w, e.FleetID, loc)
		if err != nil {
			return err
		}
		return fleet.PutCapacity(ctx, w, c, version)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) base() (b service.Base) {
	b.Store, b.Clock = e.Store, e.Clock
	b.ARNs = gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}
	return b
}

// provisioned returns the script's calls, one per line, without the fleet.
func (e *env) provisioned() []string {
	e.t.Helper()
	b, err := os.ReadFile(e.calls)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		_, rest, _ := strings.Cut(l, " ")
		out = append(out, rest)
	}
	return out
}

func (e *env) setCapacity(desired, minSize, maxSize int32) {
	e.t.Helper()
	_, err := e.Fleets.UpdateFleetCapacity(e.Ctx, &gamelift.UpdateFleetCapacityInput{FleetId: e.FleetID, Location: loc, DesiredInstances: &desired, MinSize: &minSize, MaxSize: &maxSize})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) reconcile() {
	e.t.Helper()
	if err := e.svc.Reconcile(context.Background(), e.FleetID, loc); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) counts() gamelift.EC2InstanceCounts {
	e.t.Helper()
	out, err := e.Fleets.DescribeFleetLocationCapacity(e.Ctx, &gamelift.DescribeFleetLocationCapacityInput{FleetId: e.FleetID, Location: loc})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.FleetCapacity.InstanceCounts
}

// register registers a compute whose host runs the agent, as a
// provisioner's hosts do: it registers, then heartbeats.
func (e *env) register(name string) {
	e.t.Helper()
	e.registerForeign(name)
	if _, err := e.Fleets.Heartbeat(e.Ctx, e.FleetID, name, agentwire.Heartbeat{}); err != nil {
		e.t.Fatal(err)
	}
}

// registerForeign registers a compute through RegisterCompute alone, as a
// studio's own tooling does, with no agent on its host.
func (e *env) registerForeign(name string) {
	e.t.Helper()
	_, err := e.Fleets.RegisterCompute(e.Ctx, &gamelift.RegisterComputeInput{FleetId: e.FleetID, ComputeName: name, Location: loc, IpAddress: "127.0.0.1"})
	if err != nil {
		e.t.Fatal(err)
	}
}

// process records a ready process on a compute; with a game session when
// session is set.
func (e *env) process(compute string, session bool) string {
	e.t.Helper()
	e.procs++
	now := e.Clock.Now()
	p := fleet.Process{ID: fmt.Sprintf("proc-%d", e.procs), FleetID: e.FleetID, ComputeName: compute, Location: loc, Status: fleet.ProcessActive,
		Healthy: true, Port: int32(7000 + e.procs), IPAddress: "127.0.0.1", CreatedAt: now, ReadyAt: now, Heartbeat: now}
	if session {
		p.GameSessionID, p.SessionLive, p.SessionActive = "arn:aws:gamelift:mu-local-1::gamesession/"+e.FleetID+"/gs-"+p.ID, true, true
	}
	err := e.Store.Update(context.Background(), func(w store.Writer) error {
		_, err := fleet.PutProcess(context.Background(), w, p, 0)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.ID
}

func (e *env) compute(name string) fleet.Compute {
	e.t.Helper()
	c, err := e.Fleets.ComputeOf(context.Background(), e.FleetID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// events returns the fleet's event messages, oldest first.
func (e *env) events() []string {
	e.t.Helper()
	out, err := e.Fleets.DescribeFleetEvents(e.Ctx, &gamelift.DescribeFleetEventsInput{FleetId: e.FleetID, Limit: ptr[int32](100)})
	if err != nil {
		e.t.Fatal(err)
	}
	var msgs []string
	for _, ev := range out.Events {
		msgs = append(msgs, ev.Message)
	}
	return msgs
}

func (e *env) hasEvent(prefix string) bool {
	for _, m := range e.events() {
		if strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

func (e *env) failures(reason string) float64 {
	e.t.Helper()
	var m dto.Metric
	if err := e.svc.FailuresMetric(loc, reason).Write(&m); err != nil {
		e.t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
