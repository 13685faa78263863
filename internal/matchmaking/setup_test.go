package matchmaking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/playerdata"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/tagging"
)

// world is the matchmaking service on a SQLite store in t.TempDir() and a
// fake clock, with the real tagging and player data services, and — with
// hosting — the real fleet, session and placement services. newWorld is
// the one place that builds the service.
type world struct {
	// t is the test or subtest the helpers fail: a subtest takes its own
	// view of the world with w.in(t).
	t *testing.T
	*parts
}

// parts are what every view of one world shares.
type parts struct {
	root    *testing.T      // the test that owns the services
	ctx     context.Context // an administrator's
	clock   *clock.Fake
	db      *sqlite.DB
	arns    gamelift.ARNBuilder
	tags    *tagging.Service
	players *playerdata.Service
	cfg     matchmaking.Config
	svc     *matchmaking.Service
	stop    func()

	// Hosting (newHostingWorld): placements are attempted by place, never
	// by a running placer, so a test decides when a match is placed.
	fleets    *fleet.Service
	sessions  *session.Service
	placement *placement.Service
	pushes    *pushRecorder
	fleetID   string
	nextPort  int32
}

// in returns the world as seen by a subtest: its helpers fail t.
func (w *world) in(t *testing.T) *world { return &world{t: t, parts: w.parts} }

var arnsForTests = gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}

func newWorld(t *testing.T) *world { return buildWorld(t, false) }

// newHostingWorld adds the hosting services and an Anywhere fleet in
// custom-home.
func newHostingWorld(t *testing.T) *world { return buildWorld(t, true) }

func buildWorld(t *testing.T, hosting bool) *world {
	t.Helper()
	w := &world{t: t, parts: &parts{root: t, clock: clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), arns: arnsForTests, nextPort: 7000}}
	w.ctx = auth.With(t.Context(), operator)
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "mm.db"), Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	w.db = db
	t.Cleanup(func() { db.Close() })
	w.tags = tagging.New(tagging.Config{Store: db, ARNs: w.arns})
	w.tags.Register(gamelift.ResourceMatchmakingConfiguration, matchmaking.KindConfig)
	w.tags.Register(gamelift.ResourceMatchmakingRuleSet, matchmaking.KindRuleSet)
	if w.players, err = playerdata.New(playerdata.Config{Base: service.Base{Store: db, Clock: w.clock}, CacheTTL: -1}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.cfg = matchmaking.Config{Base: service.Base{Store: db, Clock: w.clock, Logger: log, ARNs: w.arns, Tags: w.tags}, Attributes: w.players}
	// custom-home is a location Muster knows: players' latencies name it.
	locs := fleet.NewLocations(fleet.LocationsConfig{Base: service.Base{Store: db, Clock: w.clock, ARNs: w.arns}})
	for _, l := range []string{"custom-home", "custom-away"} {
		if _, err := locs.CreateLocation(w.ctx, &gamelift.CreateLocationInput{LocationName: l}); err != nil {
			t.Fatal(err)
		}
	}
	if hosting {
		w.buildHosting(log)
		w.cfg.Sessions = w.sessions
		w.cfg.Placer = w.placement
	}
	w.start()
	return w
}

// start builds the matchmaking service from w.cfg and starts it; it runs
// until the test that owns the world ends, or restart.
func (w *world) start() {
	w.t.Helper()
	var err error
	if w.svc, err = matchmaking.New(w.cfg); err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(w.root.Context())
	if err := w.svc.Start(ctx); err != nil {
		w.t.Fatal(err)
	}
	svc := w.svc
	w.stop = func() { cancel(); svc.Stop() }
	w.root.Cleanup(w.stop)
}

// restart stops the service and starts a new one on the same store, as
// after a crash of the process.
func (w *world) restart() {
	w.t.Helper()
	w.stop()
	w.start()
}

func (w *world) buildHosting(log *slog.Logger) {
	w.t.Helper()
	base := service.Base{Store: w.db, Clock: w.clock, Logger: log, ARNs: w.arns, Tags: w.tags}
	w.fleets = fleet.NewService(fleet.Config{Base: base})
	w.pushes = &pushRecorder{ch: make(chan push, 64)}
	w.sessions = session.New(session.Config{Base: base, Fleets: w.fleets, Pusher: w.pushes})
	// Placement tells matchmaking how a match's placement ended, as the
	// server wires it; w.svc is the matchmaking service of the moment.
	ended := placement.ListenerFunc(func(ctx context.Context, tw store.Writer, p placement.Placement) error {
		return w.svc.PlacementEnded(ctx, tw, p)
	})
	w.placement = placement.New(placement.Config{Base: base,
		Fleets: w.fleets, Sessions: w.sessions, Listeners: []placement.Listener{ended}})
	out, err := w.fleets.CreateFleet(w.ctx, &gamelift.CreateFleetInput{Name: "arena", ComputeType: gamelift.ComputeTypeAnywhere,
		Locations: []gamelift.LocationConfiguration{{Location: "custom-home"}}})
	if err != nil {
		w.t.Fatal(err)
	}
	w.fleetID = out.FleetAttributes.FleetId
}

// push is one UpdateGameSession the session service sent a game server.
type push struct {
	gameSession, reason, ticket, matchmakerData string
}

// pushRecorder stands in for the server SDK connection of the game
// servers: it records what they are told.
type pushRecorder struct {
	ch chan push
}

func (p *pushRecorder) CreateGameSession(string, session.GameSession) {}
func (p *pushRecorder) TerminateProcess(string, time.Time)            {}
func (p *pushRecorder) UpdateGameSession(_ context.Context, w store.Writer, _ string, gs session.GameSession, reason, ticket string) error {
	w.AfterCommit(func() {
		p.ch <- push{gameSession: gs.ID, reason: reason, ticket: ticket, matchmakerData: gs.MatchmakerData}
	})
	return nil
}

// waitPush returns the next push with the given reason, skipping others.
func (w *world) waitPush(reason string) push {
	w.t.Helper()
	for {
		select {
		case p := <-w.pushes.ch:
			if p.reason == reason {
				return p
			}
		case <-time.After(30 * time.Second): // a safety net for a hung test, not a timing check
			w.t.Fatalf("no %s push to the game server", reason)
		}
	}
}

// process registers an idle, healthy server process on the world's fleet.
func (w *world) process() {
	w.t.Helper()
	w.nextPort++
	now := w.clock.Now()
	p := fleet.Process{ID: fmt.Sprint("proc-", w.nextPort), FleetID: w.fleetID, ComputeName: "box", Location: "custom-home",
		Status: fleet.ProcessActive, Healthy: true, Port: w.nextPort, IPAddress: "10.1.2.3", DNSName: "box.example", CreatedAt: now, ReadyAt: now}
	err := w.db.Update(w.ctx, func(wr store.Writer) error {
		_, err := fleet.PutProcess(w.ctx, wr, p, 0)
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// queue creates a game session queue on the world's fleet.
func (w *world) queue(name string) string {
	w.t.Helper()
	timeout := int32(60)
	out, err := w.placement.CreateGameSessionQueue(w.ctx, &gamelift.CreateGameSessionQueueInput{Name: name, TimeoutInSeconds: &timeout,
		Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: w.arns.Build(gamelift.ResourceFleet, w.fleetID)}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return out.GameSessionQueue.GameSessionQueueArn
}

// place attempts a match's placement now and reports whether it ended.
func (w *world) place(matchID string) bool {
	w.t.Helper()
	done, err := w.placement.Attempt(w.ctx, matchID)
	if err != nil {
		w.t.Fatal(err)
	}
	if done {
		return true
	}
	// A placement that created its game session ends once the game server
	// activates it, as it does on OnStartGameSession.
	p, err := w.placement.Placement(w.ctx, matchID)
	if err != nil {
		w.t.Fatal(err)
	}
	if p.GameSessionArn == "" {
		return false
	}
	g, err := w.sessions.GameSession(w.ctx, p.GameSessionArn)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.sessions.ActivateGameSession(w.ctx, g.ProcessID, g.ID); err != nil {
		w.t.Fatal(err)
	}
	p, err = w.placement.Placement(w.ctx, matchID)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.Status != gamelift.PlacementPending
}

// ruleSet creates a rule set.
func (w *world) ruleSet(name, body string) {
	w.t.Helper()
	if _, err := w.svc.CreateMatchmakingRuleSet(w.ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: name, RuleSetBody: body}); err != nil {
		w.t.Fatal(err)
	}
}

// standalone creates a STANDALONE configuration without acceptance on a
// rule set; change adjusts the request first.
func (w *world) standalone(name, ruleSet string, change func(*gamelift.CreateMatchmakingConfigurationInput)) gamelift.MatchmakingConfiguration {
	w.t.Helper()
	timeout, no := int32(60), false
	in := &gamelift.CreateMatchmakingConfigurationInput{Name: name, RuleSetName: ruleSet, RequestTimeoutSeconds: &timeout,
		AcceptanceRequired: &no, FlexMatchMode: gamelift.FlexMatchStandalone}
	if change != nil {
		change(in)
	}
	out, err := w.svc.CreateMatchmakingConfiguration(w.ctx, in)
	if err != nil {
		w.t.Fatal(err)
	}
	return *out.Configuration
}

// startTicket starts a one-player ticket with a skill.
func (w *world) startTicket(config, id, player string, sk float64) gamelift.MatchmakingTicket {
	w.t.Helper()
	out, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: id, ConfigurationName: config,
		Players: []gamelift.Player{{PlayerId: player, PlayerAttributes: skill(sk)}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return *out.MatchmakingTicket
}

// cycle runs the configuration's matchmaking until it has taken
// everything handed to it.
func (w *world) cycle(config string) {
	w.t.Helper()
	if err := w.svc.Process(w.ctx, config); err != nil {
		w.t.Fatal(err)
	}
}

// advance moves the fake clock and runs the configuration's cycle.
func (w *world) advance(config string, d time.Duration) {
	w.t.Helper()
	w.clock.Advance(d)
	w.cycle(config)
}

func (w *world) ticket(id string) gamelift.MatchmakingTicket {
	w.t.Helper()
	out, err := w.svc.DescribeMatchmaking(w.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{id}})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(out.TicketList) != 1 {
		w.t.Fatalf("ticket %s not found", id)
	}
	return out.TicketList[0]
}

// wantStatus fails unless each ticket has the status.
func (w *world) wantStatus(status string, ids ...string) {
	w.t.Helper()
	for _, id := range ids {
		if tk := w.ticket(id); tk.Status != status {
			w.t.Fatalf("ticket %s is %s (%s: %s), want %s", id, tk.Status, tk.StatusReason, tk.StatusMessage, status)
		}
	}
}

// wantReason fails unless each ticket has the status and reason, and a
// status message that contains message.
func (w *world) wantReason(status, reason, message string, ids ...string) {
	w.t.Helper()
	for _, id := range ids {
		if tk := w.ticket(id); tk.Status != status || tk.StatusReason != reason || !strings.Contains(tk.StatusMessage, message) {
			w.t.Fatalf("ticket %s is %s (%s: %s), want %s (%s: …%s…)", id, tk.Status, tk.StatusReason, tk.StatusMessage, status, reason, message)
		}
	}
}

// outbox returns the FlexMatch events of the given types in the order
// they were written, read back with the store's Events reader.
func (w *world) outbox(types ...string) []matchmaking.Envelope {
	w.t.Helper()
	var out []matchmaking.Envelope
	err := w.db.View(w.ctx, func(r store.Reader) error {
		evs, err := r.Events(w.ctx, store.EventQuery{Limit: 10000})
		if err != nil {
			return err
		}
		for _, ev := range evs {
			for _, ty := range types {
				if ev.Type != ty {
					continue
				}
				var env matchmaking.Envelope
				if err := json.Unmarshal(ev.Doc, &env); err != nil {
					return err
				}
				out = append(out, env)
			}
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// ticketEvents returns the types of the events that name a ticket, in
// order.
func (w *world) ticketEvents(id string) []string {
	w.t.Helper()
	var types []string
	for _, ev := range w.outbox(matchmaking.EventSearching, matchmaking.EventPotentialMatch, matchmaking.EventAcceptMatch,
		matchmaking.EventAcceptMatchCompleted, matchmaking.EventSucceeded, matchmaking.EventTimedOut, matchmaking.EventCancelled, matchmaking.EventFailed) {
		for _, tk := range ev.Detail.Tickets {
			if tk.TicketID == id {
				types = append(types, ev.Detail.Type)
				break
			}
		}
	}
	return types
}

// matchOf returns the match id the PotentialMatchCreated event gave a
// ticket (the last one when it had several).
func (w *world) matchOf(id string) string {
	w.t.Helper()
	match := ""
	for _, ev := range w.outbox(matchmaking.EventPotentialMatch) {
		for _, tk := range ev.Detail.Tickets {
			if tk.TicketID == id {
				match = ev.Detail.MatchID
			}
		}
	}
	if match == "" {
		w.t.Fatalf("no PotentialMatchCreated event names ticket %s", id)
	}
	return match
}

// player returns a context of a player identity.
func player(ctx context.Context, id string) context.Context {
	return auth.With(ctx, auth.Principal{Kind: auth.Player, IdentityID: id})
}

// wantFault fails unless err is a fault of kind whose text names every
// part (compared without case, so GameLift member names and domain paths
// both match).
func wantFault(t *testing.T, err error, kind fault.Kind, parts ...string) {
	t.Helper()
	if !fault.Is(err, kind) {
		t.Fatalf("err %v (%s), want a %s fault", err, fault.KindOf(err), kind)
	}
	for _, p := range parts {
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(p)) {
			t.Fatalf("err %q does not name %q", err, p)
		}
	}
}

// refusal is a table case of a request an operation refuses: with a fault
// of kind whose message names each of parts.
type refusal[In any] struct {
	name  string
	in    In
	kind  fault.Kind
	parts []string
}

// wantRefusals runs each case as a subtest of its own: op, given a world
// bound to the subtest and the case's request, must fail as the case says.
func wantRefusals[In any](t *testing.T, w *world, cases []refusal[In], op func(w *world, in In) error) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantFault(t, op(w.in(t), c.in), c.kind, c.parts...)
		})
	}
}

// readOnly returns a context of a read-only operator key.
func readOnly(t *testing.T) context.Context {
	return auth.With(t.Context(), auth.Principal{Kind: auth.Operator, AccessKeyID: "AKREAD", Role: auth.RoleReadOnly})
}

func ptr[T any](v T) *T { return &v }
