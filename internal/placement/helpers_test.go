package placement_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/tagging"
)

// env is a placement service over real fleet and session services and a
// SQLite store, with processes registered directly in the store.
type env struct {
	t        testing.TB
	ctx      context.Context // operator context
	clk      *clock.Fake
	db       *sqlite.DB
	arns     gamelift.ARNBuilder
	tags     *tagging.Service
	locs     *fleet.Locations
	fleets   *fleet.Service
	sessions *session.Service
	svc      *placement.Service
	ended    *endings
	// listeners hear placement ends besides ended, in every start.
	listeners    []placement.Listener
	stop         context.CancelFunc
	done         chan struct{}
	ports        atomic.Int32
	admitWaiting int
	// activations are the game servers' ActivateGameSession calls.
	activations sync.WaitGroup
}

// endings records every placement end that committed, by id.
type endings struct {
	mu sync.Mutex
	ch map[string]chan placement.Placement
}

func (e *endings) get(id string) chan placement.Placement {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.ch[id]
	if c == nil {
		c = make(chan placement.Placement, 4)
		e.ch[id] = c
	}
	return c
}

func (e *endings) PlacementEnded(ctx context.Context, w store.Writer, p placement.Placement) error {
	w.AfterCommit(func() { e.get(p.PlacementID) <- p })
	return nil
}

type envOptions struct {
	realClock bool
	workers   int
	// admitWaiting is the service's Config.AdmitWaiting.
	admitWaiting int
	path         string
	listeners    []placement.Listener
	// holdActivation leaves created game sessions ACTIVATING: by default
	// each process activates the game session pushed to it, as a game
	// server does on OnStartGameSession.
	holdActivation bool
	// pushed, when set, receives the id of every game session pushed to a
	// process, which leaves it ACTIVATING.
	pushed chan string
}

func newEnv(t testing.TB, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	e := &env{t: t, listeners: o.listeners, clk: clock.NewFake(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)), arns: gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}}
	var clk clock.Clock = e.clk
	if o.realClock {
		clk = clock.Real{}
	}
	e.ctx = auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleAdmin, AccessKeyID: "AKTEST"})
	path := o.path
	if path == "" {
		path = filepath.Join(t.TempDir(), "muster.db")
	}
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	e.tags = tagging.New(tagging.Config{Store: db, ARNs: e.arns})
	e.tags.Register(gamelift.ResourceGameSessionQueue, placement.KindQueue)
	e.locs = fleet.NewLocations(fleet.LocationsConfig{Base: service.Base{Store: db, Clock: clk, ARNs: e.arns, Tags: e.tags}})
	e.fleets = fleet.NewService(fleet.Config{Base: service.Base{Store: db, Clock: clk, ARNs: e.arns, Tags: e.tags}})
	var pusher session.Pusher
	if !o.holdActivation {
		pusher = gameServers{e: e, pushed: o.pushed}
	}
	e.sessions = session.New(session.Config{Base: service.Base{Store: db, Clock: clk, ARNs: e.arns}, Fleets: e.fleets, Pusher: pusher})
	e.ports.Store(7000)
	e.admitWaiting = o.admitWaiting
	e.start(clk, o.workers)
	t.Cleanup(func() {
		e.halt()
		e.activations.Wait()
		db.Close()
	})
	return e
}

// gameServers stands for the game servers of the processes registered in
// the store: each activates the game session pushed to it.
type gameServers struct {
	e      *env
	pushed chan string
}

func (g gameServers) CreateGameSession(processID string, gs session.GameSession) {
	if g.pushed != nil {
		g.pushed <- gs.ID
		return
	}
	// The push comes after commit, from inside the store's commit: answer
	// from another goroutine, as a game server's call would come.
	g.e.activations.Go(func() {
		g.e.sessions.ActivateGameSession(context.Background(), processID, gs.ID)
	})
}

func (gameServers) UpdateGameSession(context.Context, store.Writer, string, session.GameSession, string, string) error {
	return nil
}
func (gameServers) TerminateProcess(string, time.Time) {}

// start runs a new placement service (as after a restart).
func (e *env) start(clk clock.Clock, workers int) {
	e.ended = &endings{ch: map[string]chan placement.Placement{}}
	e.svc = placement.New(placement.Config{Base: service.Base{Store: e.db, Clock: clk, ARNs: e.arns, Tags: e.tags}, Fleets: e.fleets, Sessions: e.sessions,
		Workers: workers, Listeners: append([]placement.Listener{e.ended}, e.listeners...), AdmitWaiting: e.admitWaiting})
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		e.svc.Run(ctx)
	}()
}

func (e *env) halt() {
	if e.stop != nil {
		e.stop()
		<-e.done
		e.stop = nil
	}
}

// fleet creates an Anywhere fleet with the given cost in the locations
// (created as needed) and returns its id.
func (e *env) fleet(cost string, locs ...string) string {
	e.t.Helper()
	in := &gamelift.CreateFleetInput{Name: "f", ComputeType: gamelift.ComputeTypeAnywhere, AnywhereConfiguration: &gamelift.AnywhereConfiguration{Cost: cost}}
	for _, l := range locs {
		e.locs.CreateLocation(e.ctx, &gamelift.CreateLocationInput{LocationName: l}) // may exist already
		in.Locations = append(in.Locations, gamelift.LocationConfiguration{Location: l})
	}
	out, err := e.fleets.CreateFleet(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return out.FleetAttributes.FleetId
}

func (e *env) fleetArn(id string) string { return e.arns.Build(gamelift.ResourceFleet, id) }

// process registers an idle (ACTIVE, healthy) server process.
func (e *env) process(fleetID, loc string) string {
	e.t.Helper()
	now := e.clk.Now()
	port := e.ports.Add(1)
	p := fleet.Process{ID: fmt.Sprintf("proc-%s-%d", loc, port), FleetID: fleetID, ComputeName: "compute-" + loc, Location: loc,
		Status: fleet.ProcessActive, Healthy: true, Port: port, IPAddress: "10.0.0.1", DNSName: loc + ".example", CreatedAt: now, ReadyAt: now}
	err := e.db.Update(context.Background(), func(w store.Writer) error {
		_, err := fleet.PutProcess(context.Background(), w, p, 0)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.ID
}

// processBecomesReady adds a process that has launched but is not ready
// yet, and has it call ProcessReady, as a game server does once it starts.
func (e *env) processBecomesReady(fleetID, loc string) {
	e.t.Helper()
	id := e.process(fleetID, loc)
	err := e.db.Update(context.Background(), func(w store.Writer) error {
		p, v, err := fleet.GetProcess(context.Background(), w, id)
		if err != nil {
			return err
		}
		p.Status = fleet.ProcessPending
		_, err = fleet.PutProcess(context.Background(), w, p, v)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.fleets.ProcessReady(context.Background(), id, 7777, "5.4.0", "Go", nil); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) queue(in *gamelift.CreateGameSessionQueueInput) string {
	e.t.Helper()
	out, err := e.svc.CreateGameSessionQueue(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return out.GameSessionQueue.Name
}

func (e *env) place(in *gamelift.StartGameSessionPlacementInput) {
	e.t.Helper()
	if in.MaximumPlayerSessionCount == nil {
		in.MaximumPlayerSessionCount = ptr(int32(10))
	}
	if _, err := e.svc.StartGameSessionPlacement(e.ctx, in); err != nil {
		e.t.Fatal(err)
	}
}

// wait returns the placement's end as the listener heard it.
func (e *env) wait(id string) placement.Placement {
	e.t.Helper()
	select {
	case p := <-e.ended.get(id):
		return p
	case <-time.After(60 * time.Second): // a safety net for a hung test, not a timing check
		p, _ := e.svc.Placement(context.Background(), id)
		e.t.Fatalf("placement %s did not end; it is %s", id, p.Status)
		return p
	}
}

// pending checks that the placement has not ended and is waiting.
func (e *env) pending(id string) {
	e.t.Helper()
	select {
	case p := <-e.ended.get(id):
		e.t.Fatalf("placement %s ended %s; want PENDING", id, p.Status)
	default:
	}
	p, err := e.svc.Placement(context.Background(), id)
	if err != nil || p.Status != gamelift.PlacementPending {
		e.t.Fatalf("placement %s: %v %s; want PENDING", id, err, p.Status)
	}
}

// timers waits until the placer has armed n retry timers (the store's
// sweep ticker is the one more).
func (e *env) timers(n int) { e.clk.WaitForTimers(n + 1) }

func ptr[T any](v T) *T { return &v }

func lat(player, loc string, ms float32) gamelift.PlayerLatency {
	return gamelift.PlayerLatency{PlayerId: player, RegionIdentifier: loc, LatencyInMilliseconds: &ms}
}
