package placement_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

func TestPlacementChoosesTheLowestLatencyAllowedLocation(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a", "custom-b", "custom-c")
	for _, l := range []string{"custom-a", "custom-b", "custom-c"} {
		e.process(f, l)
	}
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}},
		FilterConfiguration: &gamelift.FilterConfiguration{AllowedLocations: []string{"custom-a", "custom-b"}}})
	// custom-c is the fastest for both players but not allowed; custom-b beats custom-a on average.
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p1", GameSessionQueueName: q,
		PlayerLatencies: []gamelift.PlayerLatency{lat("alice", "custom-a", 80), lat("alice", "custom-b", 40), lat("alice", "custom-c", 5),
			lat("bob", "custom-a", 20), lat("bob", "custom-b", 50), lat("bob", "custom-c", 5)},
		DesiredPlayerSessions: []gamelift.DesiredPlayerSession{{PlayerId: "alice"}, {PlayerId: "bob", PlayerData: "b"}}})
	p := e.wait("p1")
	if p.Status != gamelift.PlacementFulfilled || p.Location != "custom-b" {
		t.Fatalf("placement ended %s in %s; want FULFILLED in custom-b", p.Status, p.Location)
	}
	if len(p.PlacedPlayerSessions) != 2 || p.Port == 0 || p.IpAddress != "10.0.0.1" || p.DnsName != "custom-b.example" {
		t.Fatalf("fulfilled placement lacks connection info: %+v", p)
	}
	g, err := e.sessions.GameSession(context.Background(), p.GameSessionArn)
	if err != nil || g.Location != "custom-b" || g.MaxPlayers != 10 {
		t.Fatalf("game session %+v, %v", g, err)
	}
	t.Run("the player sessions are reserved in the game session", func(t *testing.T) {
		ps, _, err := e.sessions.DescribePlayerSessions(e.ctx, session.PlayerQuery{PlayerSessionID: p.PlacedPlayerSessions[1].PlayerSessionId})
		if err != nil || len(ps) != 1 || ps[0].PlayerID != "bob" || ps[0].Status != gamelift.PlayerSessionReserved || ps[0].PlayerData != "b" || ps[0].GameSessionID != p.GameSessionArn {
			t.Fatalf("player session %+v, %v", ps, err)
		}
	})
	t.Run("Describe shows the connection info", func(t *testing.T) {
		out, err := e.svc.DescribeGameSessionPlacement(e.ctx, &gamelift.DescribeGameSessionPlacementInput{PlacementId: "p1"})
		if err != nil {
			t.Fatal(err)
		}
		w := out.GameSessionPlacement
		if w.Status != "FULFILLED" || w.GameSessionArn != p.GameSessionArn || w.GameSessionId != p.GameSessionArn || w.GameSessionRegion != "custom-b" ||
			*w.Port != p.Port || w.EndTime == nil || len(w.PlacedPlayerSessions) != 2 {
			t.Fatalf("described %+v", w)
		}
	})
	t.Run("a PlacementFulfilled event with GameLift's shape is in the outbox", func(t *testing.T) {
		doc := lastEvent(t, e, placement.EventPlacementFulfilled)
		d := doc.Detail
		if doc.DetailType != "GameLift Queue Placement Event" || doc.Source != "aws.gamelift" || doc.Resources[0] != e.arns.Build("gamesessionqueue", "q") ||
			d.Type != "PlacementFulfilled" || d.PlacementID != "p1" || d.Port != fmt.Sprint(p.Port) || d.GameSessionRegion != "custom-b" ||
			len(d.PlacedPlayerSessions) != 2 || d.PlacedPlayerSessions[0].PlayerSessionID == "" {
			t.Fatalf("event %+v", doc)
		}
	})
}

func lastEvent(t *testing.T, e *env, typ string) placement.EventDocument {
	t.Helper()
	var doc placement.EventDocument
	err := e.db.View(context.Background(), func(r store.Reader) error {
		evs, err := r.Events(context.Background(), store.EventQuery{Type: typ, Limit: 1000})
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return fmt.Errorf("no %s event", typ)
		}
		return json.Unmarshal(evs[len(evs)-1].Doc, &doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestLatencyPoliciesRelaxOverTime(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-far")
	e.process(f, "custom-far")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}},
		PlayerLatencyPolicies: []gamelift.PlayerLatencyPolicy{
			{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(200))},
			{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(50)), PolicyDurationSeconds: ptr(int32(10))},
			{MaximumIndividualPlayerLatencyMilliseconds: ptr(int32(100)), PolicyDurationSeconds: ptr(int32(10))},
		}})
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p1", GameSessionQueueName: q,
		PlayerLatencies: []gamelift.PlayerLatency{lat("alice", "custom-far", 150)}})
	e.timers(1)
	e.pending("p1")
	t.Run("the 50 ms and then the 100 ms caps keep it pending", func(t *testing.T) {
		e.clk.Advance(10 * time.Second)
		e.timers(1)
		e.pending("p1")
		e.clk.Advance(9 * time.Second)
		e.timers(1)
		e.pending("p1")
	})
	t.Run("the 200 ms cap in force after 20 s lets it through", func(t *testing.T) {
		e.clk.Advance(time.Second)
		p := e.wait("p1")
		if p.Status != gamelift.PlacementFulfilled || p.EndTime.Sub(p.StartTime) != 20*time.Second {
			t.Fatalf("placement %s after %s; want FULFILLED after 20s", p.Status, p.EndTime.Sub(p.StartTime))
		}
	})
}

func TestPriorityOrder(t *testing.T) {
	e := newEnv(t)
	cheap := e.fleet("0.1", "custom-z")
	dear := e.fleet("0.9", "custom-a", "custom-m")
	for range 3 {
		e.process(cheap, "custom-z")
		e.process(dear, "custom-a")
		e.process(dear, "custom-m")
	}
	dests := []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(dear)}, {DestinationArn: e.fleetArn(cheap)}}
	cases := []struct {
		name     string
		priority *gamelift.PriorityConfiguration
		want     string
	}{
		{"without a priority configuration destination order then alphabetical locations win", nil, "custom-a"},
		{"COST picks the cheapest fleet", &gamelift.PriorityConfiguration{PriorityOrder: []string{"COST"}}, "custom-z"},
		{"DESTINATION picks the first destination before cost", &gamelift.PriorityConfiguration{PriorityOrder: []string{"DESTINATION", "COST"}}, "custom-a"},
		{"LOCATION follows LocationOrder", &gamelift.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}, LocationOrder: []string{"custom-m", "custom-z"}}, "custom-m"},
		{"LOCATION without LocationOrder is alphabetical", &gamelift.PriorityConfiguration{PriorityOrder: []string{"LOCATION", "COST"}}, "custom-a"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: fmt.Sprintf("q%d", i), Destinations: dests, PriorityConfiguration: c.priority})
			id := fmt.Sprintf("p%d", i)
			e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: id, GameSessionQueueName: q})
			if p := e.wait(id); p.Status != gamelift.PlacementFulfilled || p.Location != c.want {
				t.Fatalf("placement %s in %s; want FULFILLED in %s", p.Status, p.Location, c.want)
			}
		})
	}
	t.Run("a PriorityConfigurationOverride goes first", func(t *testing.T) {
		q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "qo", Destinations: dests,
			PriorityConfiguration: &gamelift.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}}})
		e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "po", GameSessionQueueName: q,
			PriorityConfigurationOverride: &gamelift.PriorityConfigurationOverride{LocationOrder: []string{"custom-z"}}})
		if p := e.wait("po"); p.Location != "custom-z" {
			t.Fatalf("placed in %s; want custom-z", p.Location)
		}
	})
	t.Run("LATENCY beats COST when first", func(t *testing.T) {
		q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "ql", Destinations: dests,
			PriorityConfiguration: &gamelift.PriorityConfiguration{PriorityOrder: []string{"LATENCY", "COST"}}})
		e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "pl", GameSessionQueueName: q,
			PlayerLatencies: []gamelift.PlayerLatency{lat("a", "custom-a", 30), lat("a", "custom-m", 10), lat("a", "custom-z", 20)}})
		if p := e.wait("pl"); p.Location != "custom-m" {
			t.Fatalf("placed in %s; want custom-m", p.Location)
		}
	})
}

func TestPlacementWaitsForCapacityAndTimesOut(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", TimeoutInSeconds: ptr(int32(30)),
		Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	t.Run("no capacity retries, spaced out, until a process is free", func(t *testing.T) {
		e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p1", GameSessionQueueName: q})
		e.timers(1)
		e.clk.Advance(time.Second) // the first retry, a RetryInterval later
		e.timers(1)
		e.pending("p1")
		// A process that appears without a capacity wake (written to the
		// store directly) is found at the next retry: two RetryIntervals
		// after the second miss.
		e.process(f, "custom-a")
		e.clk.Advance(time.Second)
		e.pending("p1")
		e.clk.Advance(time.Second)
		if p := e.wait("p1"); p.Status != gamelift.PlacementFulfilled || p.EndTime.Sub(p.StartTime) != 3*time.Second {
			t.Fatalf("placement %s after %s", p.Status, p.EndTime.Sub(p.StartTime))
		}
	})
	t.Run("with no capacity until the queue timeout it is TIMED_OUT with an event", func(t *testing.T) {
		e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p2", GameSessionQueueName: q})
		e.timers(1)
		for range 29 {
			e.clk.Advance(time.Second)
			e.timers(1)
		}
		e.pending("p2")
		e.clk.Advance(time.Second)
		p := e.wait("p2")
		if p.Status != gamelift.PlacementTimedOut || p.EndTime.Sub(p.StartTime) != 30*time.Second {
			t.Fatalf("placement %s after %s", p.Status, p.EndTime.Sub(p.StartTime))
		}
		if d := lastEvent(t, e, placement.EventPlacementTimedOut).Detail; d.Type != "PlacementTimedOut" || d.PlacementID != "p2" || d.StartTime == "" || d.EndTime == "" {
			t.Fatalf("event detail %+v", d)
		}
	})
	t.Run("StopGameSessionPlacement cancels a pending placement once", func(t *testing.T) {
		e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p3", GameSessionQueueName: q})
		e.timers(1)
		out, err := e.svc.StopGameSessionPlacement(e.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: "p3"})
		if err != nil || out.GameSessionPlacement.Status != "CANCELLED" {
			t.Fatalf("stop: %+v, %v", out, err)
		}
		if p := e.wait("p3"); p.Status != gamelift.PlacementCancelled {
			t.Fatalf("listener heard %s", p.Status)
		}
		if d := lastEvent(t, e, placement.EventPlacementCancelled).Detail; d.PlacementID != "p3" {
			t.Fatalf("event detail %+v", d)
		}
		_, err = e.svc.StopGameSessionPlacement(e.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: "p3"})
		if !fault.Is(err, fault.Invalid) {
			t.Fatalf("second stop: %v; want Invalid", err)
		}
		e.process(f, "custom-a")
		e.clk.Advance(time.Second)
		if p, _ := e.svc.Placement(context.Background(), "p3"); p.Status != gamelift.PlacementCancelled {
			t.Fatalf("cancelled placement became %s", p.Status)
		}
	})
}

func TestConcurrentPlacementsNeverShareAProcess(t *testing.T) {
	e := newEnv(t, envOptions{workers: 32, holdActivation: true})
	f1 := e.fleet("1", "custom-a", "custom-b")
	f2 := e.fleet("2", "custom-a")
	const procs, placements = 150, 200
	for i := range procs {
		switch i % 3 {
		case 0:
			e.process(f1, "custom-a")
		case 1:
			e.process(f1, "custom-b")
		default:
			e.process(f2, "custom-a")
		}
	}
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f1)}, {DestinationArn: e.fleetArn(f2)}}})
	var wg sync.WaitGroup
	for i := range placements {
		wg.Go(func() {
			e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: fmt.Sprintf("p%d", i), GameSessionQueueName: q,
				DesiredPlayerSessions: []gamelift.DesiredPlayerSession{{PlayerId: fmt.Sprintf("player%d", i)}}})
		})
	}
	wg.Wait()
	// Every placement waits: for capacity, or for its game session to be
	// activated by its game server (here, below).
	e.timers(placements)
	for i := range placements {
		id := fmt.Sprintf("p%d", i)
		p, err := e.svc.Placement(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.GameSessionArn == "" {
			continue
		}
		g, err := e.sessions.GameSession(context.Background(), p.GameSessionArn)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.sessions.ActivateGameSession(context.Background(), g.ProcessID, g.ID); err != nil {
			t.Fatal(err)
		}
		e.wait(id)
	}
	processes := map[string]string{}
	fulfilled := 0
	for i := range placements {
		p, err := e.svc.Placement(context.Background(), fmt.Sprintf("p%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != gamelift.PlacementFulfilled {
			continue
		}
		fulfilled++
		g, err := e.sessions.GameSession(context.Background(), p.GameSessionArn)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := processes[g.ProcessID]; dup {
			t.Fatalf("process %s hosts both %s and %s", g.ProcessID, other, p.PlacementID)
		}
		processes[g.ProcessID] = p.PlacementID
	}
	if fulfilled != procs {
		t.Fatalf("%d placements fulfilled; want %d (one per process)", fulfilled, procs)
	}
}

func TestPendingPlacementsSurviveARestart(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	for i := range 5 {
		e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: fmt.Sprintf("p%d", i), GameSessionQueueName: q})
	}
	e.timers(5)
	e.halt()
	for range 5 {
		e.process(f, "custom-a")
	}
	e.start(e.clk, 4)
	seen := map[string]bool{}
	for i := range 5 {
		p := e.wait(fmt.Sprintf("p%d", i))
		if p.Status != gamelift.PlacementFulfilled || seen[p.GameSessionArn] {
			t.Fatalf("placement %s: %s %s", p.PlacementID, p.Status, p.GameSessionArn)
		}
		seen[p.GameSessionArn] = true
	}
}

func TestStartInIsIdempotentAndValidates(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a")
	e.process(f, "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	req := placement.Request{PlacementID: "match-1", QueueName: e.arns.Build("gamesessionqueue", q), MaximumPlayerSessionCount: 4,
		MatchmakerData: `{"matchId":"match-1"}`, DesiredPlayerSessions: []gamelift.DesiredPlayerSession{{PlayerId: "a"}}}
	for range 2 {
		err := e.db.Update(context.Background(), func(w store.Writer) error { return e.svc.StartIn(context.Background(), w, req) })
		if err != nil {
			t.Fatal(err)
		}
	}
	p := e.wait("match-1")
	g, _ := e.sessions.GameSession(context.Background(), p.GameSessionArn)
	if p.Status != gamelift.PlacementFulfilled || g.MatchmakerData != req.MatchmakerData {
		t.Fatalf("placement %s, game session matchmaker data %q", p.Status, g.MatchmakerData)
	}
	t.Run("an unknown queue is NotFound and bad members are named", func(t *testing.T) {
		bad := placement.Request{PlacementID: "m2", QueueName: "nope", MaximumPlayerSessionCount: 1}
		err := e.db.Update(context.Background(), func(w store.Writer) error { return e.svc.StartIn(context.Background(), w, bad) })
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("got %v", err)
		}
		bad = placement.Request{PlacementID: "m 2", QueueName: q, MaximumPlayerSessionCount: 1, DesiredPlayerSessions: []gamelift.DesiredPlayerSession{{PlayerId: "a"}, {PlayerId: "b"}}}
		err = e.db.Update(context.Background(), func(w store.Writer) error { return e.svc.StartIn(context.Background(), w, bad) })
		fe, ok := err.(*fault.Error)
		if !ok || len(fe.Fields) != 2 {
			t.Fatalf("got %v; want PlacementId and DesiredPlayerSessions named", err)
		}
	})
}

func TestPriorityConfigurationOverrideRules(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a")
	dests := []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}
	byCost := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "cost", Destinations: dests, PriorityConfiguration: &gamelift.PriorityConfiguration{PriorityOrder: []string{"COST"}}})
	byLoc := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "loc", Destinations: dests, PriorityConfiguration: &gamelift.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}}})
	override := &gamelift.PriorityConfigurationOverride{LocationOrder: []string{"custom-a"}}
	t.Run("an override needs a queue whose PriorityOrder starts with LOCATION", func(t *testing.T) {
		_, err := e.svc.StartGameSessionPlacement(e.ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: "o1", GameSessionQueueName: byCost,
			MaximumPlayerSessionCount: ptr(int32(2)), PriorityConfigurationOverride: override})
		if !fault.Is(err, fault.Invalid) || !contains(err.Error(), "PriorityConfigurationOverride") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an override cannot be combined with PlayerLatencies", func(t *testing.T) {
		_, err := e.svc.StartGameSessionPlacement(e.ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: "o2", GameSessionQueueName: byLoc,
			MaximumPlayerSessionCount: ptr(int32(2)), PriorityConfigurationOverride: override, PlayerLatencies: []gamelift.PlayerLatency{lat("a", "custom-a", 5)}})
		if !fault.Is(err, fault.Invalid) || !contains(err.Error(), "PlayerLatencies") {
			t.Fatalf("got %v", err)
		}
	})
}

// An SDK retries a call whose answer it lost (a 5xx, a broken connection):
// the retry of a placement that started must find it, not an error, while
// a PlacementId reused for another request is still refused.
func TestARetriedStartGameSessionPlacementIsIdempotent(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}},
		PriorityConfiguration: &gamelift.PriorityConfiguration{PriorityOrder: []string{"LOCATION"}}})
	request := func() *gamelift.StartGameSessionPlacementInput {
		return &gamelift.StartGameSessionPlacementInput{PlacementId: "p1", GameSessionQueueName: q, MaximumPlayerSessionCount: ptr(int32(4)),
			GameSessionName: "duel", GameProperties: []gamelift.GameProperty{{Key: "mode", Value: "duel"}}, GameSessionData: "data",
			DesiredPlayerSessions:         []gamelift.DesiredPlayerSession{{PlayerId: "alice", PlayerData: "a"}, {PlayerId: "bob"}},
			PriorityConfigurationOverride: &gamelift.PriorityConfigurationOverride{LocationOrder: []string{"custom-a"}}}
	}
	first, err := e.svc.StartGameSessionPlacement(e.ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	e.timers(1) // no process: it waits
	t.Run("the same request again answers the placement it started", func(t *testing.T) {
		retry := request()
		retry.GameSessionQueueName = e.arns.Build(gamelift.ResourceGameSessionQueue, q) // the same queue, by its ARN
		again, err := e.svc.StartGameSessionPlacement(e.ctx, retry)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if g := again.GameSessionPlacement; g.PlacementId != "p1" || g.Status != gamelift.PlacementPending || *g.StartTime != *first.GameSessionPlacement.StartTime {
			t.Fatalf("retry answered %+v; want the placement started first", g)
		}
	})
	t.Run("a request with other parameters is refused naming PlacementId", func(t *testing.T) {
		other := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "other", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
		type input = gamelift.StartGameSessionPlacementInput
		changes := map[string]func(in *input){
			"queue":                         func(in *input) { in.GameSessionQueueName = other },
			"MaximumPlayerSessionCount":     func(in *input) { in.MaximumPlayerSessionCount = ptr(int32(5)) },
			"GameSessionName":               func(in *input) { in.GameSessionName = "" },
			"GameProperties":                func(in *input) { in.GameProperties[0].Value = "ffa" },
			"GameSessionData":               func(in *input) { in.GameSessionData = "other" },
			"DesiredPlayerSessions":         func(in *input) { in.DesiredPlayerSessions = in.DesiredPlayerSessions[:1] },
			"PlayerData":                    func(in *input) { in.DesiredPlayerSessions[1].PlayerData = "b" },
			"PriorityConfigurationOverride": func(in *input) { in.PriorityConfigurationOverride = nil },
			"PlacementFallbackStrategy":     func(in *input) { in.PriorityConfigurationOverride.PlacementFallbackStrategy = gamelift.FallbackNone },
			"PlayerLatencies": func(in *input) {
				in.PriorityConfigurationOverride, in.PlayerLatencies = nil, []gamelift.PlayerLatency{lat("alice", "custom-a", 20)}
			},
		}
		for member, change := range changes {
			in := request()
			change(in)
			_, err := e.svc.StartGameSessionPlacement(e.ctx, in)
			if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "PlacementId: ") || !strings.Contains(err.Error(), "other parameters") {
				t.Fatalf("another %s: got %v; want Invalid naming PlacementId", member, err)
			}
		}
		e.pending("p1")
	})
	t.Run("a retry after the placement ended answers it as it is now", func(t *testing.T) {
		if _, err := e.svc.StopGameSessionPlacement(e.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: "p1"}); err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.StartGameSessionPlacement(e.ctx, request())
		if err != nil || again.GameSessionPlacement.Status != gamelift.PlacementCancelled {
			t.Fatalf("retry answered %+v, %v; want the CANCELLED placement", again, err)
		}
	})
}

func TestDeletingAQueueFailsItsPendingPlacements(t *testing.T) {
	e := newEnv(t)
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", CustomEventData: ptr("hello"), Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p1", GameSessionQueueName: q})
	e.timers(1)
	if _, err := e.svc.DeleteGameSessionQueue(e.ctx, &gamelift.DeleteGameSessionQueueInput{Name: q}); err != nil {
		t.Fatal(err)
	}
	if p := e.wait("p1"); p.Status != gamelift.PlacementFailed {
		t.Fatalf("placement %s; want FAILED", p.Status)
	}
	if d := lastEvent(t, e, placement.EventPlacementFailed).Detail; d.PlacementID != "p1" || d.CustomEventData != "hello" {
		t.Fatalf("event %+v; want placement p1 with the queue's customEventData", d)
	}
}

// A placement whose game session exists has left the queue: deleting the
// queue leaves it to its game session, as its timeout does.
func TestDeletingAQueueLeavesAPlacementWhoseGameSessionExists(t *testing.T) {
	e := newEnv(t, envOptions{holdActivation: true})
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	e.process(f, "custom-a")
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p1", GameSessionQueueName: q})
	if _, err := e.svc.Attempt(context.Background(), "p1"); err != nil {
		t.Fatal(err)
	}
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p2", GameSessionQueueName: q})
	if _, err := e.svc.DeleteGameSessionQueue(e.ctx, &gamelift.DeleteGameSessionQueueInput{Name: q}); err != nil {
		t.Fatal(err)
	}
	if p := e.wait("p2"); p.Status != gamelift.PlacementFailed || p.StatusReason != "the game session queue was deleted" {
		t.Fatalf("placement without a game session ended %s (%s); want FAILED as its queue was deleted", p.Status, p.StatusReason)
	}
	e.pending("p1")
	g, err := e.sessions.GameSession(context.Background(), e.arns.GameSession(f, "custom-a", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sessions.ActivateGameSession(context.Background(), g.ProcessID, g.ID); err != nil {
		t.Fatal(err)
	}
	if p := e.wait("p1"); p.Status != gamelift.PlacementFulfilled {
		t.Fatalf("placement ended %s; want FULFILLED once its game session is active", p.Status)
	}
}

// A placement waiting for capacity does not wait for its next retry once a
// process becomes ready: it is placed at once, with the clock standing.
func TestAProcessBecomingReadyPlacesAWaitingPlacementAtOnce(t *testing.T) {
	e := newEnv(t)
	e.fleets.OnCapacity(e.svc.CapacityAvailable)
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", TimeoutInSeconds: ptr(int32(30)),
		Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "p1", GameSessionQueueName: q})
	e.timers(1) // it found no process and waits for its retry
	e.pending("p1")
	e.processBecomesReady(f, "custom-a")
	if p := e.wait("p1"); p.Status != gamelift.PlacementFulfilled || !p.EndTime.Equal(p.StartTime) {
		t.Fatalf("placement %s after %s of fake time", p.Status, p.EndTime.Sub(p.StartTime))
	}
}

func TestAPlacementIsFulfilledOnlyOnceItsGameSessionIsActive(t *testing.T) {
	e := newEnv(t, envOptions{holdActivation: true})
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", TimeoutInSeconds: ptr(int32(60)),
		Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	for range 3 {
		e.process(f, "custom-a")
	}
	gameSessionOf := func(id string) session.GameSession {
		t.Helper()
		arn := e.arns.GameSession(f, "custom-a", id)
		g, err := e.sessions.GameSession(context.Background(), arn)
		if err != nil {
			t.Fatalf("placement %s created no game session: %v", id, err)
		}
		return g
	}
	for _, id := range []string{"p1", "p2", "p3"} {
		e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: id, GameSessionQueueName: q,
			DesiredPlayerSessions: []gamelift.DesiredPlayerSession{{PlayerId: "alice-" + id}}})
		if _, err := e.svc.Attempt(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("while the game session is ACTIVATING the placement is PENDING without connection info", func(t *testing.T) {
		for _, id := range []string{"p1", "p2", "p3"} {
			if g := gameSessionOf(id); g.Status != gamelift.GameSessionActivating {
				t.Fatalf("game session %s, want ACTIVATING", g.Status)
			}
			e.pending(id)
			out, err := e.svc.DescribeGameSessionPlacement(e.ctx, &gamelift.DescribeGameSessionPlacementInput{PlacementId: id})
			if err != nil {
				t.Fatal(err)
			}
			if w := out.GameSessionPlacement; w.IpAddress != "" || w.Port != nil || len(w.PlacedPlayerSessions) != 0 || w.GameSessionArn != "" {
				t.Fatalf("a PENDING placement shows connection info: %+v", w)
			}
		}
	})
	t.Run("ActivateGameSession fulfils it with its connection info", func(t *testing.T) {
		g := gameSessionOf("p1")
		if err := e.sessions.ActivateGameSession(context.Background(), g.ProcessID, g.ID); err != nil {
			t.Fatal(err)
		}
		p := e.wait("p1")
		if p.Status != gamelift.PlacementFulfilled || p.GameSessionArn != g.ID || p.Port == 0 || len(p.PlacedPlayerSessions) != 1 {
			t.Fatalf("placement %+v, want FULFILLED with its connection info", p)
		}
	})
	t.Run("a game session that ends before it is active fails its placement", func(t *testing.T) {
		g := gameSessionOf("p2")
		if err := e.fleets.EndProcess(context.Background(), g.ProcessID, fleet.EndProcessEnding); err != nil {
			t.Fatal(err)
		}
		if p := e.wait("p2"); p.Status != gamelift.PlacementFailed {
			t.Fatalf("placement ended %s, want FAILED", p.Status)
		}
	})
	t.Run("once its game session exists it can no longer be stopped", func(t *testing.T) {
		_, err := e.svc.StopGameSessionPlacement(e.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: "p3"})
		if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "PlacementId: placement p3 has already created game session") {
			t.Fatalf("stopping a placement whose game session activates: %v, want Invalid naming PlacementId", err)
		}
		e.pending("p3")
	})
	t.Run("past its timeout it waits for its game session, which the activation timeout ends", func(t *testing.T) {
		e.clk.Advance(61 * time.Second)
		if done, err := e.svc.Attempt(context.Background(), "p3"); err != nil || done {
			t.Fatalf("an attempt past the queue's timeout: done %v, %v; want it still waiting for its game session", done, err)
		}
		e.pending("p3")
		e.clk.Advance(fleet.DefaultActivationTimeout - 61*time.Second)
		if err := e.sessions.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if p := e.wait("p3"); p.Status != gamelift.PlacementFailed || !strings.Contains(p.StatusReason, "before it was active") {
			t.Fatalf("placement ended %s (%s), want FAILED as its game session never activated", p.Status, p.StatusReason)
		}
	})
}

func TestAProcessBecomingReadyWakesAWaitingPlacementPastOlderActivatingOnes(t *testing.T) {
	pushed := make(chan string, 16)
	e := newEnv(t, envOptions{pushed: pushed})
	e.fleets.OnCapacity(e.svc.CapacityAvailable)
	f := e.fleet("1", "custom-a")
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", TimeoutInSeconds: ptr(int32(30)),
		Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	// More placements than a freed process wakes are placed and wait for
	// their game servers to activate their sessions.
	const activating = 6
	for i := range activating {
		e.process(f, "custom-a")
		e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: fmt.Sprint("old", i), GameSessionQueueName: q})
		<-pushed
	}
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "new", GameSessionQueueName: q})
	e.timers(activating + 1) // the old ones wait for their deadline, the new one for a process
	e.processBecomesReady(f, "custom-a")
	select {
	case gs := <-pushed:
		if want := e.arns.GameSession(f, "custom-a", "new"); gs != want {
			t.Fatalf("pushed %s, want %s", gs, want)
		}
	case <-time.After(60 * time.Second): // a safety net for a hung test, not a timing check
		t.Fatal("the ready process did not wake the waiting placement: the wakes went to placements that need no process")
	}
}
