package capacity_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/fleet/fleettest"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/store"
)

// fleetEnv is a capacity service over a real fleet service and SQLite
// store, as the server wires it: its fleet has several locations, each
// provisioned by a real exec provisioner (a shell script that fails while
// that location's fail file exists), and QueueDepth and WaitTime are read
// from the placement records in the store.
type fleetEnv struct {
	t *testing.T
	*fleettest.Env
	svc        *capacity.Service
	arns       gamelift.ARNBuilder
	failFiles  map[string]string
	procs      int
	placements int
}

func newFleetEnv(t *testing.T, locations ...string) *fleetEnv {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "provision.sh")
	err := os.WriteFile(script, []byte(`#!/bin/sh
if [ -f "$FAIL" ]; then echo "the cloud is out of machines" >&2; exit 1; fi
`), 0o755)
	if err != nil {
		t.Fatal(err)
	}
	e := &fleetEnv{t: t, Env: fleettest.New(t, locations...), arns: gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"},
		failFiles: map[string]string{}}
	provs := map[string]capacity.Provisioner{}
	for _, l := range locations {
		e.failFiles[l] = filepath.Join(dir, "fail-"+l)
		provs[l] = &capacity.Exec{Command: []string{script}, Timeout: 10 * time.Second,
			Env: []string{"FAIL=" + e.failFiles[l], "PATH=" + os.Getenv("PATH")}}
	}
	var b capacity.Config
	b.Store, b.Clock, b.ARNs = e.Store, e.Clock, e.arns
	b.Fleets, b.Provisioners = e.Fleets, provs
	b.Placements = capacity.Placements{Fleets: e.Fleets, ARNs: e.arns}
	e.svc = capacity.New(b)
	// fleettest's compute stands for a provisioned host: its agent heartbeats.
	if _, err := e.Fleets.Heartbeat(e.Ctx, e.FleetID, fleettest.Compute, agentwire.Heartbeat{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// failProvisioner makes the provisioner of location fail from now on.
func (e *fleetEnv) failProvisioner(location string) {
	e.t.Helper()
	if err := os.WriteFile(e.failFiles[location], nil, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *fleetEnv) setCapacity(location string, desired, minSize, maxSize int32) {
	e.t.Helper()
	_, err := e.Fleets.UpdateFleetCapacity(e.Ctx, &gamelift.UpdateFleetCapacityInput{FleetId: e.FleetID, Location: location,
		DesiredInstances: &desired, MinSize: &minSize, MaxSize: &maxSize})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *fleetEnv) desired(location string) int32 {
	e.t.Helper()
	out, err := e.Fleets.DescribeFleetLocationCapacity(e.Ctx, &gamelift.DescribeFleetLocationCapacityInput{FleetId: e.FleetID, Location: location})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.FleetCapacity.InstanceCounts.DESIRED
}

func (e *fleetEnv) put(in gamelift.PutScalingPolicyInput) {
	e.t.Helper()
	in.FleetId = e.FleetID
	if _, err := e.svc.PutScalingPolicy(e.Ctx, &in); err != nil {
		e.t.Fatal(err)
	}
}

func (e *fleetEnv) evaluate(triggered bool) {
	e.t.Helper()
	if err := e.svc.Evaluate(context.Background(), triggered); err != nil {
		e.t.Fatal(err)
	}
}

func (e *fleetEnv) reconcile(location string) {
	e.t.Helper()
	if err := e.svc.Reconcile(context.Background(), e.FleetID, location); err != nil {
		e.t.Fatal(err)
	}
}

// register registers a compute whose host runs the agent in location.
func (e *fleetEnv) register(location, name string) {
	e.t.Helper()
	_, err := e.Fleets.RegisterCompute(e.Ctx, &gamelift.RegisterComputeInput{FleetId: e.FleetID, ComputeName: name, Location: location, IpAddress: "127.0.0.1"})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.Fleets.Heartbeat(e.Ctx, e.FleetID, name, agentwire.Heartbeat{}); err != nil {
		e.t.Fatal(err)
	}
}

// process records a ready process on a compute of location; with a game
// session when session is set.
func (e *fleetEnv) process(location, compute string, session bool) {
	e.t.Helper()
	e.procs++
	now := e.Clock.Now()
	p := fleet.Process{ID: fmt.Sprintf("proc-%d", e.procs), FleetID: e.FleetID, ComputeName: compute, Location: location, Status: fleet.ProcessActive,
		Healthy: true, Port: int32(7000 + e.procs), IPAddress: "127.0.0.1", CreatedAt: now, ReadyAt: now, Heartbeat: now}
	if session {
		p.GameSessionID, p.SessionLive, p.SessionActive = "arn:aws:gamelift:mu-local-1::gamesession/"+e.FleetID+"/gs-"+p.ID, true, true
	}
	e.update(func(w store.Writer) error {
		_, err := fleet.PutProcess(context.Background(), w, p, 0)
		return err
	})
}

func (e *fleetEnv) update(f func(w store.Writer) error) {
	e.t.Helper()
	if err := e.Store.Update(context.Background(), f); err != nil {
		e.t.Fatal(err)
	}
}

// queue stores a game session queue whose only destination is the fleet.
func (e *fleetEnv) queue(q placement.Queue) {
	e.t.Helper()
	if len(q.Destinations) == 0 {
		q.Destinations = []string{e.arns.Build(gamelift.ResourceFleet, e.FleetID)}
	}
	e.update(func(w store.Writer) error {
		_, err := w.Put(context.Background(), store.Record{Kind: placement.KindQueue, ID: q.Name, Doc: store.MustJSON(q), Upsert: true})
		return err
	})
}

// wait stores n PENDING placements of queue that look for a server
// process, started now, each as p (whose id and queue it sets).
func (e *fleetEnv) wait(queue string, n int, p placement.Placement) {
	e.t.Helper()
	for range n {
		e.placements++
		p.PlacementID, p.QueueName, p.Status, p.StartTime = fmt.Sprintf("p%d", e.placements), queue, gamelift.PlacementPending, e.Clock.Now()
		e.update(func(w store.Writer) error {
			_, err := w.Put(context.Background(), store.Record{Kind: placement.KindPlacement, ID: p.PlacementID, Doc: store.MustJSON(p),
				Keys: store.Keys{p.Status, p.QueueName}})
			return err
		})
	}
}

// waiting reads the backlog as an evaluation does.
func (e *fleetEnv) waiting() map[capacity.FleetLocation]capacity.Waiting {
	e.t.Helper()
	var out map[capacity.FleetLocation]capacity.Waiting
	err := e.Store.View(context.Background(), func(r store.Reader) (err error) {
		out, err = capacity.Placements{Fleets: e.Fleets, ARNs: e.arns}.Waiting(context.Background(), r, e.Clock.Now())
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func targetPolicy(name string, target float64) gamelift.PutScalingPolicyInput {
	return gamelift.PutScalingPolicyInput{Name: name, MetricName: "PercentAvailableGameSessions", PolicyType: gamelift.PolicyTargetBased,
		TargetConfiguration: &gamelift.TargetConfiguration{TargetValue: &target}}
}
