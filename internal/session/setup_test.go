package session_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/tagging"
)

// These tests drive the session service directly, over a real SQLite store
// and a real fleet service, with a fake clock. Server processes become
// ready the way the SDK adapter makes them ready (AttachProcess with a
// compute auth token, then ProcessReady), and what the service would push
// to game servers is recorded by pushes.

// activationTimeout is the test fleet's GameSessionActivationTimeoutSeconds.
const activationTimeout = 30 * time.Second

// env is a session service over a fleet with one compute ("host-1") in each
// of its custom locations.
type env struct {
	t        *testing.T
	ctx      context.Context // an admin operator
	clk      *clock.Fake
	db       *sqlite.DB
	arns     gamelift.ARNBuilder
	locs     *fleet.Locations
	fleets   *fleet.Service
	sessions *session.Service
	pushes   *pushes
	fleetID  string
	location string // the fleet's first location
	token    string // a compute auth token of host-1 in location
	procs    int
}

// newServices builds the fleet and session services on base as the server
// wires them: the one place these tests know the services' Config.
func newServices(base service.Base, p session.Pusher) (*fleet.Service, *session.Service) {
	fleets := fleet.NewService(fleet.Config{Base: base, SDKEndpoint: func() string { return "ws://127.0.0.1:7777" }})
	sessions := session.New(session.Config{Base: base, Fleets: fleets, Pusher: p})
	return fleets, sessions
}

// newEnv starts the services and creates a fleet in the given custom
// locations (custom-a when none), changed by edit before it is created.
func newEnv(t *testing.T, edit func(*gamelift.CreateFleetInput), locations ...string) *env {
	t.Helper()
	if len(locations) == 0 {
		locations = []string{"custom-a"}
	}
	e := &env{t: t, clk: clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)), arns: gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"},
		pushes: &pushes{}, location: locations[0]}
	e.ctx = auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleAdmin, AccessKeyID: "AKTEST"})
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	tags := tagging.New(tagging.Config{Store: db, ARNs: e.arns})
	base := service.Base{Store: db, Clock: e.clk, ARNs: e.arns, Tags: tags}
	e.locs = fleet.NewLocations(fleet.LocationsConfig{Base: base})
	e.fleets, e.sessions = newServices(base, e.pushes)
	timeout := int32(activationTimeout / time.Second)
	in := &gamelift.CreateFleetInput{Name: "sessions", ComputeType: gamelift.ComputeTypeAnywhere,
		RuntimeConfiguration: &gamelift.RuntimeConfiguration{GameSessionActivationTimeoutSeconds: &timeout}}
	for _, l := range locations {
		if _, err := e.locs.CreateLocation(e.ctx, &gamelift.CreateLocationInput{LocationName: l}); err != nil {
			t.Fatal(err)
		}
		in.Locations = append(in.Locations, gamelift.LocationConfiguration{Location: l})
	}
	if edit != nil {
		edit(in)
	}
	f, err := e.fleets.CreateFleet(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	e.fleetID = f.FleetAttributes.FleetId
	e.token = e.compute(e.location)
	return e
}

// compute registers host-1 in a location of the fleet (its name is the
// location's in other locations) and returns an auth token for it.
func (e *env) compute(location string) string {
	e.t.Helper()
	name := e.computeName(location)
	if _, err := e.fleets.RegisterCompute(e.ctx, &gamelift.RegisterComputeInput{FleetId: e.fleetID, ComputeName: name,
		Location: location, IpAddress: "10.0.0.7"}); err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.fleets.GetComputeAuthToken(e.ctx, &gamelift.GetComputeAuthTokenInput{FleetId: e.fleetID, ComputeName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AuthToken
}

func (e *env) computeName(location string) string {
	if location == e.location {
		return "host-1"
	}
	return "host-" + location
}

// process connects a new server process to host-1 and makes it ready
// (idle), as the SDK adapter does on InitSDK and ProcessReady.
func (e *env) process() string {
	e.t.Helper()
	return e.processIn(e.location, e.token)
}

func (e *env) processIn(location, token string) string {
	e.t.Helper()
	e.procs++
	id := fmt.Sprintf("proc-%d", e.procs)
	if _, _, err := e.fleets.AttachProcess(e.ctx, token, e.fleetID, e.computeName(location), id); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.fleets.ProcessReady(e.ctx, id, int32(7000+e.procs), "5.0.0", "Go", nil); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// agent heartbeats for host-1 as the Muster agent running the processes.
func (e *env) agent(processIDs ...string) {
	e.t.Helper()
	hb := agentwire.Heartbeat{}
	for i, id := range processIDs {
		hb.Processes = append(hb.Processes, agentwire.Process{ProcessID: id, PID: 4000 + i})
	}
	if _, err := e.fleets.Heartbeat(e.ctx, e.fleetID, "host-1", hb); err != nil {
		e.t.Fatal(err)
	}
}

// create creates a game session on the fleet with room for max players.
func (e *env) create(max int32) gamelift.GameSession {
	e.t.Helper()
	out, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, Location: e.location, MaximumPlayerSessionCount: &max})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.GameSession
}

// activate has the hosting process activate the game session.
func (e *env) activate(g gamelift.GameSession) {
	e.t.Helper()
	gs, err := e.sessions.GameSession(e.ctx, g.GameSessionId)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.sessions.ActivateGameSession(e.ctx, gs.ProcessID, g.GameSessionId); err != nil {
		e.t.Fatal(err)
	}
}

// active is a new ACTIVE game session on a new process.
func (e *env) active(max int32) gamelift.GameSession {
	e.t.Helper()
	e.process()
	g := e.create(max)
	e.activate(g)
	return g
}

// wantFleetReadRefusals checks what every read of a fleet's game sessions
// refuses: a caller without operator credentials, and a fleet that does
// not exist.
func (e *env) wantFleetReadRefusals(t *testing.T, read func(ctx context.Context, fleetID string) error) {
	t.Helper()
	t.Run("a caller without operator credentials is refused", func(t *testing.T) {
		wantFault(t, read(context.Background(), e.fleetID), fault.Unauthenticated)
	})
	t.Run("an unknown fleet is not found", func(t *testing.T) {
		wantFault(t, read(e.ctx, "fleet-00000000-0000-0000-0000-000000000000"), fault.NotFound)
	})
}

// describe returns a game session as DescribeGameSessions answers.
func (e *env) describe(id string) gamelift.GameSession {
	e.t.Helper()
	out, err := e.sessions.DescribeGameSessions(e.ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: id})
	if err != nil || len(out.GameSessions) != 1 {
		e.t.Fatalf("DescribeGameSessions %s: %+v, %v", id, out, err)
	}
	return out.GameSessions[0]
}

// player returns a player session as DescribePlayerSessions answers.
func (e *env) player(id string) gamelift.PlayerSession {
	e.t.Helper()
	out, err := e.sessions.DescribePlayerSessionsOp(e.ctx, &gamelift.DescribePlayerSessionsInput{PlayerSessionId: id})
	if err != nil || len(out.PlayerSessions) != 1 {
		e.t.Fatalf("DescribePlayerSessions %s: %+v, %v", id, out, err)
	}
	return out.PlayerSessions[0]
}

// reserve reserves player sessions in a game session.
func (e *env) reserve(gameSessionID string, players ...string) []gamelift.PlayerSession {
	e.t.Helper()
	out, err := e.sessions.CreatePlayerSessions(e.ctx, &gamelift.CreatePlayerSessionsInput{GameSessionId: gameSessionID, PlayerIds: players})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.PlayerSessions
}

// idle counts the fleet location's idle processes.
func (e *env) idle() int {
	e.t.Helper()
	n, err := e.fleets.IdleProcessCount(e.ctx, e.fleetID, e.location)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// events returns the codes of the fleet's events, oldest first.
func (e *env) events() []string {
	e.t.Helper()
	out, err := e.fleets.DescribeFleetEvents(e.ctx, &gamelift.DescribeFleetEventsInput{FleetId: e.fleetID})
	if err != nil {
		e.t.Fatal(err)
	}
	var codes []string
	for _, ev := range out.Events {
		codes = append(codes, ev.EventCode)
	}
	return codes
}

// stored reads a record as the store holds it (not as of now).
func stored[T any](e *env, kind, id string) T {
	e.t.Helper()
	var v T
	err := e.db.View(context.Background(), func(r store.Reader) error {
		var err error
		v, _, err = store.GetJSON[T](context.Background(), r, kind, id)
		return err
	})
	if err != nil {
		e.t.Fatalf("read %s %s: %v", kind, id, err)
	}
	return v
}

// push is one push the session service asked for.
type push struct {
	Op, ProcessID, GameSessionID, Reason, TicketID, MatchmakerData string
	At                                                             time.Time
}

// pushes records pushes; a push arrives on the committing goroutine.
type pushes struct {
	mu   sync.Mutex
	list []push
	// terminated, when set, hears every TerminateProcess.
	terminated chan string
}

func (p *pushes) add(x push) {
	p.mu.Lock()
	p.list = append(p.list, x)
	ch := p.terminated
	p.mu.Unlock()
	if ch != nil && x.Op == "TerminateProcess" {
		ch <- x.ProcessID
	}
}

func (p *pushes) CreateGameSession(processID string, gs session.GameSession) {
	p.add(push{Op: "CreateGameSession", ProcessID: processID, GameSessionID: gs.ID, MatchmakerData: gs.MatchmakerData})
}

func (p *pushes) UpdateGameSession(_ context.Context, w store.Writer, processID string, gs session.GameSession, reason, ticketID string) error {
	w.AfterCommit(func() {
		p.add(push{Op: "UpdateGameSession", ProcessID: processID, GameSessionID: gs.ID, Reason: reason, TicketID: ticketID, MatchmakerData: gs.MatchmakerData})
	})
	return nil
}

func (p *pushes) TerminateProcess(processID string, at time.Time) {
	p.add(push{Op: "TerminateProcess", ProcessID: processID, At: at})
}

// notify returns a channel that hears the process id of every
// TerminateProcess from now on.
func (p *pushes) notify() <-chan string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.terminated = make(chan string, 16)
	return p.terminated
}

// of returns the recorded pushes of one operation.
func (p *pushes) of(op string) []push {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []push
	for _, x := range p.list {
		if x.Op == op {
			out = append(out, x)
		}
	}
	return out
}

// wantFault fails unless err is a *fault.Error of kind whose text mentions
// every one of mention.
func wantFault(t *testing.T, err error, kind fault.Kind, mention ...string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != kind {
		t.Fatalf("got %v, want a %s fault", err, kind)
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Fatalf("%v does not mention %q", err, m)
		}
	}
}

// wantFields fails unless err is an Invalid fault naming exactly fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Invalid {
		t.Fatalf("got %v, want an Invalid fault naming %v", err, fields)
	}
	var got []string
	for _, f := range fe.Fields {
		got = append(got, f.Field)
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Fatalf("%v names %v, want %v", err, got, fields)
	}
}

// allPages asks for page after page, passing each answer's NextToken to
// the next call, and returns the ids of every page in order. A page larger
// than limit (when set) fails the test.
func allPages(t *testing.T, limit *int32, page func(token string) (ids []string, next string, err error)) []string {
	t.Helper()
	var all []string
	token := ""
	for {
		ids, next, err := page(token)
		if err != nil {
			t.Fatal(err)
		}
		if limit != nil && len(ids) > int(*limit) {
			t.Fatalf("a page of %d, over the limit %d", len(ids), *limit)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		token = next
	}
}

// gameSessionIDs returns the ids of game sessions.
func gameSessionIDs(gs []gamelift.GameSession) []string {
	ids := make([]string, 0, len(gs))
	for _, g := range gs {
		ids = append(ids, g.GameSessionId)
	}
	return ids
}

func ptr[T any](v T) *T { return &v }

// place creates a game session with player sessions reserved in the same
// transaction, as placement does.
func (e *env) place(max int32, players ...string) (session.GameSession, []session.PlayerSession) {
	e.t.Helper()
	req := session.PlaceRequest{FleetID: e.fleetID, Location: e.location, MaxPlayers: max}
	for _, p := range players {
		req.Players = append(req.Players, session.DesiredPlayer{PlayerID: p, PlayerData: "data-" + p})
	}
	g, ps, err := e.sessions.CreateGameSessionOn(e.ctx, req)
	if err != nil {
		e.t.Fatal(err)
	}
	return g, ps
}

// outbox counts the outbox events of a type about a resource.
func (e *env) outbox(typ, resource string) int {
	e.t.Helper()
	n := 0
	err := e.db.View(context.Background(), func(r store.Reader) error {
		evs, err := r.Events(context.Background(), store.EventQuery{Type: typ, Limit: 1000})
		for _, ev := range evs {
			if ev.Resource == resource {
				n++
			}
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}
