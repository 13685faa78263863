package session_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
)

func TestCreateGameSessionNamesEveryBadMember(t *testing.T) {
	e := newEnv(t, nil)
	long := strings.Repeat("x", 1025)
	tests := []struct {
		name   string
		in     gamelift.CreateGameSessionInput
		fields []string
	}{
		{"neither FleetId nor AliasId", gamelift.CreateGameSessionInput{MaximumPlayerSessionCount: ptr(int32(2))}, []string{"FleetId"}},
		{"both FleetId and AliasId", gamelift.CreateGameSessionInput{FleetId: e.fleetID, AliasId: "alias-00000000-0000-0000-0000-000000000000",
			MaximumPlayerSessionCount: ptr(int32(2))}, []string{"FleetId"}},
		{"a malformed FleetId", gamelift.CreateGameSessionInput{FleetId: "not a fleet", MaximumPlayerSessionCount: ptr(int32(2))}, []string{"FleetId"}},
		{"a malformed AliasId", gamelift.CreateGameSessionInput{AliasId: "not an alias", MaximumPlayerSessionCount: ptr(int32(2))}, []string{"AliasId"}},
		{"no MaximumPlayerSessionCount", gamelift.CreateGameSessionInput{FleetId: e.fleetID}, []string{"MaximumPlayerSessionCount"}},
		{"MaximumPlayerSessionCount above 200", gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(201))},
			[]string{"MaximumPlayerSessionCount"}},
		{"a negative MaximumPlayerSessionCount", gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(-1))},
			[]string{"MaximumPlayerSessionCount"}},
		{"long Name and CreatorId", gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2)), Name: long, CreatorId: long},
			[]string{"Name", "CreatorId"}},
		{"too many game properties", gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2)),
			GameProperties: make([]gamelift.GameProperty, 17)}, []string{"GameProperties"}},
		{"a long property key and value", gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2)),
			GameProperties: []gamelift.GameProperty{{Key: "ok", Value: "ok"}, {Key: strings.Repeat("k", 33), Value: strings.Repeat("v", 97)}}},
			[]string{"GameProperties[1].Key", "GameProperties[1].Value"}},
		{"malformed Location, IdempotencyToken and GameSessionId", gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2)),
			Location: "no such/place", IdempotencyToken: "bad token!", GameSessionId: "bad id!"}, []string{"Location", "IdempotencyToken", "GameSessionId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.sessions.CreateGameSession(e.ctx, &tt.in)
			wantFields(t, err, tt.fields...)
		})
	}
	t.Run("a caller without operator credentials is refused", func(t *testing.T) {
		_, err := e.sessions.CreateGameSession(context.Background(), &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2))})
		wantFault(t, err, fault.Unauthenticated)
	})
	t.Run("a read-only operator is refused, and may still describe", func(t *testing.T) {
		ro := auth.With(context.Background(), auth.Principal{Kind: auth.Operator, Role: auth.RoleReadOnly, AccessKeyID: "AKRO"})
		_, err := e.sessions.CreateGameSession(ro, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2))})
		wantFault(t, err, fault.Forbidden)
		if _, err := e.sessions.DescribeGameSessions(ro, &gamelift.DescribeGameSessionsInput{FleetId: e.fleetID}); err != nil {
			t.Fatalf("a read-only DescribeGameSessions: %v", err)
		}
	})
}

func TestCreateGameSessionPlacesOnAnIdleReadyProcess(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("a fleet without a ready process has no capacity", func(t *testing.T) {
		if _, _, err := e.fleets.AttachProcess(e.ctx, e.token, e.fleetID, "host-1", "proc-pending"); err != nil {
			t.Fatal(err)
		}
		_, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(4))})
		wantFault(t, err, fault.FleetCapacityExceeded, "no idle server process")
	})
	pid := e.process()
	var g gamelift.GameSession
	t.Run("the session is ACTIVATING on the idle process, in the fleet's only location", func(t *testing.T) {
		out, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(4)),
			Name: "duel", CreatorId: "player-1", GameSessionData: "map=dust", GameProperties: []gamelift.GameProperty{{Key: "mode", Value: "ctf"}}})
		if err != nil {
			t.Fatal(err)
		}
		g = *out.GameSession
		prefix := e.arns.GameSession(e.fleetID, e.location, "gsess-")
		if !strings.HasPrefix(g.GameSessionId, prefix) || g.Status != gamelift.GameSessionActivating || g.Location != e.location {
			t.Fatalf("game session %s %s in %s, want %s… ACTIVATING in %s", g.GameSessionId, g.Status, g.Location, prefix, e.location)
		}
		if g.IpAddress != "10.0.0.7" || g.Port == nil || *g.Port != 7001 || g.ComputeName != "host-1" || *g.MaximumPlayerSessionCount != 4 ||
			*g.CurrentPlayerSessionCount != 0 || g.PlayerSessionCreationPolicy != gamelift.AcceptAll || g.Name != "duel" || g.CreatorId != "player-1" ||
			g.GameSessionData != "map=dust" || len(g.GameProperties) != 1 {
			t.Fatalf("game session %+v", g)
		}
	})
	t.Run("the process is told to start the session once it is committed", func(t *testing.T) {
		got := e.pushes.of("CreateGameSession")
		if len(got) != 1 || got[0].ProcessID != pid || got[0].GameSessionID != g.GameSessionId {
			t.Fatalf("pushes %+v, want CreateGameSession of %s to %s", got, g.GameSessionId, pid)
		}
	})
	t.Run("the process is no longer idle, and a second session finds no capacity", func(t *testing.T) {
		if n := e.idle(); n != 0 {
			t.Fatalf("%d idle processes, want 0", n)
		}
		_, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(4))})
		wantFault(t, err, fault.FleetCapacityExceeded)
		if n := len(e.pushes.of("CreateGameSession")); n != 1 {
			t.Fatalf("%d CreateGameSession pushes, want still 1", n)
		}
	})
	t.Run("an unknown fleet is not found", func(t *testing.T) {
		_, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: "fleet-00000000-0000-0000-0000-000000000000",
			MaximumPlayerSessionCount: ptr(int32(4))})
		wantFault(t, err, fault.NotFound)
	})
}

func TestCreateGameSessionFindsItsLocationFleetAndId(t *testing.T) {
	e := newEnv(t, nil, "custom-a", "custom-b")
	e.process()
	t.Run("a fleet with two locations needs Location", func(t *testing.T) {
		_, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2))})
		wantFault(t, err, fault.Invalid, "Location: is required", "has 2 locations")
	})
	t.Run("a location the fleet does not have is refused", func(t *testing.T) {
		_, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2)), Location: "custom-z"})
		wantFault(t, err, fault.Invalid, "has no location custom-z")
	})
	t.Run("a location without idle processes has no capacity", func(t *testing.T) {
		_, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2)), Location: "custom-b"})
		wantFault(t, err, fault.FleetCapacityExceeded, "custom-b")
	})
	var first gamelift.GameSession
	t.Run("an alias routes to its fleet and GameSessionId names the session", func(t *testing.T) {
		a, err := e.fleets.CreateAlias(e.ctx, &gamelift.CreateAliasInput{Name: "live", RoutingStrategy: &gamelift.RoutingStrategy{Type: "SIMPLE", FleetId: e.fleetID}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{AliasId: a.Alias.AliasId, MaximumPlayerSessionCount: ptr(int32(2)),
			Location: "custom-a", GameSessionId: "match-42"})
		if err != nil {
			t.Fatal(err)
		}
		first = *out.GameSession
		if want := e.arns.GameSession(e.fleetID, "custom-a", "match-42"); first.GameSessionId != want || first.FleetId != e.fleetID {
			t.Fatalf("game session %s of %s, want %s of %s", first.GameSessionId, first.FleetId, want, e.fleetID)
		}
	})
	t.Run("the same id again returns that session without claiming a process", func(t *testing.T) {
		pid := e.process()
		out, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2)),
			Location: "custom-a", IdempotencyToken: "match-42"})
		if err != nil {
			t.Fatal(err)
		}
		if out.GameSession.GameSessionId != first.GameSessionId {
			t.Fatalf("got %s, want the first session %s", out.GameSession.GameSessionId, first.GameSessionId)
		}
		if n := e.idle(); n != 1 {
			t.Fatalf("%d idle processes, want %s still idle", n, pid)
		}
		if n := len(e.pushes.of("CreateGameSession")); n != 1 {
			t.Fatalf("%d CreateGameSession pushes, want 1", n)
		}
	})
}

func TestCreateGameSessionKeepsTheFleetsCreationLimitPerCreator(t *testing.T) {
	e := newEnv(t, func(in *gamelift.CreateFleetInput) {
		in.ResourceCreationLimitPolicy = &gamelift.ResourceCreationLimitPolicy{NewGameSessionsPerCreator: ptr(int32(1)), PolicyPeriodInMinutes: ptr(int32(10))}
	})
	e.process()
	e.process()
	create := func(creator string) error {
		_, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, MaximumPlayerSessionCount: ptr(int32(2)), CreatorId: creator})
		return err
	}
	if err := create("player-1"); err != nil {
		t.Fatal(err)
	}
	t.Run("a second session of the creator within the period is refused", func(t *testing.T) {
		wantFault(t, create("player-1"), fault.LimitExceeded, "CreatorId", "player-1")
	})
	t.Run("another creator is not limited", func(t *testing.T) {
		if err := create("player-2"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the creator may create again once the period has passed", func(t *testing.T) {
		e.clk.Advance(10*time.Minute + time.Second)
		e.process()
		if err := create("player-1"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestActivationMakesTheSessionActive(t *testing.T) {
	e := newEnv(t, nil)
	pid := e.process()
	g := e.create(4)
	t.Run("another process may not activate it", func(t *testing.T) {
		other := e.process()
		wantFault(t, e.sessions.ActivateGameSession(e.ctx, other, g.GameSessionId), fault.Forbidden)
		if got := e.describe(g.GameSessionId).Status; got != gamelift.GameSessionActivating {
			t.Fatalf("status %s, want ACTIVATING", got)
		}
	})
	t.Run("the hosting process activates it, with an event", func(t *testing.T) {
		if err := e.sessions.ActivateGameSession(e.ctx, pid, g.GameSessionId); err != nil {
			t.Fatal(err)
		}
		if got := e.describe(g.GameSessionId).Status; got != gamelift.GameSessionActive {
			t.Fatalf("status %s, want ACTIVE", got)
		}
		if p := stored[fleet.Process](e, fleet.KindProcess, pid); !p.SessionActive || !p.SessionLive {
			t.Fatalf("process %+v does not record an active session", p)
		}
		if n := e.outbox(session.EventGameSessionActivated, g.GameSessionId); n != 1 {
			t.Fatalf("%d GameSessionActivated events, want 1", n)
		}
	})
	t.Run("activating it again is harmless", func(t *testing.T) {
		if err := e.sessions.ActivateGameSession(e.ctx, pid, g.GameSessionId); err != nil {
			t.Fatal(err)
		}
		if n := e.outbox(session.EventGameSessionActivated, g.GameSessionId); n != 1 {
			t.Fatalf("%d GameSessionActivated events, want still 1", n)
		}
	})
	t.Run("an unknown game session is not found", func(t *testing.T) {
		wantFault(t, e.sessions.ActivateGameSession(e.ctx, pid, e.arns.GameSession(e.fleetID, e.location, "nope")), fault.NotFound)
	})
}

func TestActivationTimesOutIntoError(t *testing.T) {
	e := newEnv(t, nil)
	pid := e.process()
	g, ps := e.place(4, "player-1")
	e.clk.Advance(activationTimeout - time.Second)
	t.Run("just before the deadline it is still ACTIVATING", func(t *testing.T) {
		if got := e.describe(g.ID).Status; got != gamelift.GameSessionActivating {
			t.Fatalf("status %s, want ACTIVATING", got)
		}
	})
	e.clk.Advance(time.Second)
	t.Run("at the deadline it reads as ERROR before any sweep", func(t *testing.T) {
		if got := e.describe(g.ID).Status; got != gamelift.GameSessionError {
			t.Fatalf("status %s, want ERROR", got)
		}
		if got := stored[session.GameSession](e, session.KindGameSession, g.ID).Status; got != gamelift.GameSessionActivating {
			t.Fatalf("stored status %s, want ACTIVATING until the sweep", got)
		}
	})
	t.Run("the process can no longer activate it", func(t *testing.T) {
		wantFault(t, e.sessions.ActivateGameSession(e.ctx, pid, g.ID), fault.InvalidGameSessionStatus, "ERROR")
	})
	t.Run("the sweep records ERROR, a fleet event, completes its players and tells the process to end", func(t *testing.T) {
		if err := e.sessions.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		gs := stored[session.GameSession](e, session.KindGameSession, g.ID)
		if gs.Status != gamelift.GameSessionError || gs.TerminatedAt.IsZero() {
			t.Fatalf("stored %s ended %v, want ERROR with an end time", gs.Status, gs.TerminatedAt)
		}
		if got := e.player(ps[0].ID).Status; got != gamelift.PlayerSessionCompleted {
			t.Fatalf("player session %s, want COMPLETED", got)
		}
		if ev := e.events(); ev[len(ev)-1] != "GAME_SESSION_ACTIVATION_TIMEOUT" {
			t.Fatalf("fleet events %v, want GAME_SESSION_ACTIVATION_TIMEOUT last", ev)
		}
		term := e.pushes.of("TerminateProcess")
		if len(term) != 1 || term[0].ProcessID != pid || !term[0].At.Equal(e.clk.Now().Add(5*time.Minute)) {
			t.Fatalf("pushes %+v, want TerminateProcess of %s in 5 minutes", term, pid)
		}
		if p := stored[fleet.Process](e, fleet.KindProcess, pid); p.SessionLive {
			t.Fatalf("process %+v still hosts a live session", p)
		}
	})
	t.Run("sweeping again changes nothing", func(t *testing.T) {
		n := len(e.events())
		if err := e.sessions.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		if len(e.events()) != n || len(e.pushes.of("TerminateProcess")) != 1 {
			t.Fatalf("a second sweep added events %v or pushes %+v", e.events(), e.pushes.of("TerminateProcess"))
		}
	})
}

func TestUpdateGameSessionChangesALiveSessionAndMergesProperties(t *testing.T) {
	e := newEnv(t, nil)
	e.process()
	g := e.create(4)
	t.Run("bad members are named", func(t *testing.T) {
		_, err := e.sessions.UpdateGameSession(e.ctx, &gamelift.UpdateGameSessionInput{GameSessionId: "", MaximumPlayerSessionCount: ptr(int32(300)),
			Name: strings.Repeat("n", 1025), PlayerSessionCreationPolicy: "SOME", ProtectionPolicy: "Half",
			GameProperties: []gamelift.GameProperty{{Key: strings.Repeat("k", 33)}}})
		wantFields(t, err, "GameSessionId", "MaximumPlayerSessionCount", "Name", "PlayerSessionCreationPolicy", "ProtectionPolicy", "GameProperties[0].Key")
	})
	t.Run("members change and properties merge", func(t *testing.T) {
		if _, err := e.sessions.UpdateGameSession(e.ctx, &gamelift.UpdateGameSessionInput{GameSessionId: g.GameSessionId,
			GameProperties: []gamelift.GameProperty{{Key: "mode", Value: "ctf"}, {Key: "map", Value: "dust"}}}); err != nil {
			t.Fatal(err)
		}
		out, err := e.sessions.UpdateGameSession(e.ctx, &gamelift.UpdateGameSessionInput{GameSessionId: g.GameSessionId, MaximumPlayerSessionCount: ptr(int32(8)),
			Name: "renamed", PlayerSessionCreationPolicy: gamelift.DenyAll, ProtectionPolicy: gamelift.ProtectionFull,
			GameProperties: []gamelift.GameProperty{{Key: "mode", Value: "dm"}}})
		if err != nil {
			t.Fatal(err)
		}
		u := out.GameSession
		if *u.MaximumPlayerSessionCount != 8 || u.Name != "renamed" || u.PlayerSessionCreationPolicy != gamelift.DenyAll {
			t.Fatalf("updated %+v", u)
		}
		want := []gamelift.GameProperty{{Key: "mode", Value: "dm"}, {Key: "map", Value: "dust"}}
		if len(u.GameProperties) != 2 || u.GameProperties[0] != want[0] || u.GameProperties[1] != want[1] {
			t.Fatalf("properties %v, want %v", u.GameProperties, want)
		}
		d, err := e.sessions.DescribeGameSessionDetails(e.ctx, &gamelift.DescribeGameSessionDetailsInput{GameSessionId: g.GameSessionId})
		if err != nil || len(d.GameSessionDetails) != 1 || d.GameSessionDetails[0].ProtectionPolicy != gamelift.ProtectionFull {
			t.Fatalf("details %+v, %v; want FullProtection", d, err)
		}
	})
	t.Run("more than 16 properties in all are refused", func(t *testing.T) {
		var props []gamelift.GameProperty
		for _, k := range "abcdefghijklmno" {
			props = append(props, gamelift.GameProperty{Key: string(k), Value: "1"})
		}
		_, err := e.sessions.UpdateGameSession(e.ctx, &gamelift.UpdateGameSessionInput{GameSessionId: g.GameSessionId, GameProperties: props})
		wantFault(t, err, fault.Invalid, "would have 17 properties")
	})
	t.Run("an ended session cannot change", func(t *testing.T) {
		e.clk.Advance(activationTimeout)
		_, err := e.sessions.UpdateGameSession(e.ctx, &gamelift.UpdateGameSessionInput{GameSessionId: g.GameSessionId, Name: "late"})
		wantFault(t, err, fault.InvalidGameSessionStatus, "ERROR")
	})
}

func TestANewSessionTakesTheFleetsProtectionPolicy(t *testing.T) {
	e := newEnv(t, func(in *gamelift.CreateFleetInput) { in.NewGameSessionProtectionPolicy = gamelift.ProtectionFull })
	e.process()
	g := e.create(2)
	d, err := e.sessions.DescribeGameSessionDetails(e.ctx, &gamelift.DescribeGameSessionDetailsInput{FleetId: e.fleetID})
	if err != nil || len(d.GameSessionDetails) != 1 {
		t.Fatalf("details %+v, %v", d, err)
	}
	if got := d.GameSessionDetails[0]; got.GameSession.GameSessionId != g.GameSessionId || got.ProtectionPolicy != gamelift.ProtectionFull {
		t.Fatalf("detail %s %s, want %s FullProtection", got.GameSession.GameSessionId, got.ProtectionPolicy, g.GameSessionId)
	}
}

func TestTerminateGameSessionEndsTheSessionThroughItsProcess(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("bad members are named", func(t *testing.T) {
		_, err := e.sessions.TerminateGameSession(e.ctx, &gamelift.TerminateGameSessionInput{GameSessionId: "", TerminationMode: "NOW"})
		wantFields(t, err, "GameSessionId", "TerminationMode")
	})
	g := e.active(4)
	pid := e.processOf(g)
	ps := e.reserve(g.GameSessionId, "player-1")
	t.Run("TRIGGER_ON_PROCESS_TERMINATE tells the process and leaves the session TERMINATING", func(t *testing.T) {
		out, err := e.sessions.TerminateGameSession(e.ctx, &gamelift.TerminateGameSessionInput{GameSessionId: g.GameSessionId,
			TerminationMode: gamelift.TerminationTriggerOnProcessTerminate})
		if err != nil {
			t.Fatal(err)
		}
		if out.GameSession.Status != gamelift.GameSessionTerminating || out.GameSession.StatusReason != gamelift.ReasonTriggeredOnProcessTerminate {
			t.Fatalf("%s %s, want TERMINATING TRIGGERED_ON_PROCESS_TERMINATE", out.GameSession.Status, out.GameSession.StatusReason)
		}
		term := e.pushes.of("TerminateProcess")
		if len(term) != 1 || term[0].ProcessID != pid || !term[0].At.Equal(e.clk.Now().Add(5*time.Minute)) {
			t.Fatalf("pushes %+v, want TerminateProcess of %s in 5 minutes", term, pid)
		}
	})
	t.Run("a TERMINATING session can no longer change", func(t *testing.T) {
		_, err := e.sessions.UpdateGameSession(e.ctx, &gamelift.UpdateGameSessionInput{GameSessionId: g.GameSessionId, Name: "x"})
		wantFault(t, err, fault.InvalidGameSessionStatus, "TERMINATING")
	})
	t.Run("ProcessEnding ends the session and completes its players", func(t *testing.T) {
		if err := e.fleets.EndProcess(e.ctx, pid, fleet.EndProcessEnding); err != nil {
			t.Fatal(err)
		}
		d := e.describe(g.GameSessionId)
		if d.Status != gamelift.GameSessionTerminated || d.StatusReason != gamelift.ReasonTriggeredOnProcessTerminate || d.TerminationTime == nil {
			t.Fatalf("%s %s ended %v, want TERMINATED TRIGGERED_ON_PROCESS_TERMINATE with a time", d.Status, d.StatusReason, d.TerminationTime)
		}
		if p := e.player(ps[0].PlayerSessionId); p.Status != gamelift.PlayerSessionCompleted || p.TerminationTime == nil {
			t.Fatalf("player session %s ended %v, want COMPLETED", p.Status, p.TerminationTime)
		}
		if n := e.outbox(session.EventGameSessionTerminated, g.GameSessionId); n != 1 {
			t.Fatalf("%d GameSessionTerminated events, want 1", n)
		}
	})
	t.Run("an ended session cannot be terminated", func(t *testing.T) {
		_, err := e.sessions.TerminateGameSession(e.ctx, &gamelift.TerminateGameSessionInput{GameSessionId: g.GameSessionId, TerminationMode: gamelift.TerminationForce})
		wantFault(t, err, fault.InvalidGameSessionStatus, "TERMINATED")
	})
	t.Run("an unknown session is not found", func(t *testing.T) {
		_, err := e.sessions.TerminateGameSession(e.ctx, &gamelift.TerminateGameSessionInput{GameSessionId: e.arns.GameSession(e.fleetID, e.location, "nope"),
			TerminationMode: gamelift.TerminationForce})
		wantFault(t, err, fault.NotFound)
	})
}

func TestForceTerminateNeedsTheAgent(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	pid := e.processOf(g)
	force := &gamelift.TerminateGameSessionInput{GameSessionId: g.GameSessionId, TerminationMode: gamelift.TerminationForce}
	t.Run("without the agent on the compute it is refused and changes nothing", func(t *testing.T) {
		_, err := e.sessions.TerminateGameSession(e.ctx, force)
		wantFault(t, err, fault.Invalid, "TerminationMode", "host-1")
		if got := e.describe(g.GameSessionId).Status; got != gamelift.GameSessionActive {
			t.Fatalf("status %s, want ACTIVE", got)
		}
	})
	t.Run("with the agent the session and its process end at once", func(t *testing.T) {
		e.agent(pid)
		out, err := e.sessions.TerminateGameSession(e.ctx, force)
		if err != nil {
			t.Fatal(err)
		}
		if out.GameSession.Status != gamelift.GameSessionTerminated || out.GameSession.StatusReason != gamelift.ReasonForceTerminated {
			t.Fatalf("%s %s, want TERMINATED FORCE_TERMINATED", out.GameSession.Status, out.GameSession.StatusReason)
		}
		if p := stored[fleet.Process](e, fleet.KindProcess, pid); p.Status != fleet.ProcessTerminated || p.EndReason != fleet.EndForced {
			t.Fatalf("process %s %s, want TERMINATED FORCE_TERMINATED", p.Status, p.EndReason)
		}
	})
}

func TestALostProcessInterruptsItsSession(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	if err := e.fleets.EndProcess(e.ctx, e.processOf(g), fleet.EndComputeLost); err != nil {
		t.Fatal(err)
	}
	if d := e.describe(g.GameSessionId); d.Status != gamelift.GameSessionTerminated || d.StatusReason != gamelift.ReasonInterrupted {
		t.Fatalf("%s %s, want TERMINATED INTERRUPTED", d.Status, d.StatusReason)
	}
}

func TestGetGameSessionLogUrlSaysWhereTheLogIs(t *testing.T) {
	e := newEnv(t, nil)
	e.process()
	g := e.create(2)
	_, err := e.sessions.GetGameSessionLogUrl(e.ctx, &gamelift.GetGameSessionLogUrlInput{GameSessionId: g.GameSessionId})
	wantFault(t, err, fault.NotFound, "compute host-1", "proc-1.log")
	_, err = e.sessions.GetGameSessionLogUrl(e.ctx, &gamelift.GetGameSessionLogUrlInput{})
	wantFields(t, err, "GameSessionId")
}

func TestUpdateMatchmakerDataPushesToTheProcess(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(4)
	pid := e.processOf(g)
	t.Run("new data is stored and pushed with the reason and ticket", func(t *testing.T) {
		if err := e.sessions.UpdateMatchmakerData(e.ctx, g.GameSessionId, `{"matchId":"m-1"}`, "MATCHMAKING_DATA_UPDATED", "ticket-1"); err != nil {
			t.Fatal(err)
		}
		got := e.pushes.of("UpdateGameSession")
		want := push{Op: "UpdateGameSession", ProcessID: pid, GameSessionID: g.GameSessionId, Reason: "MATCHMAKING_DATA_UPDATED",
			TicketID: "ticket-1", MatchmakerData: `{"matchId":"m-1"}`}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("pushes %+v, want %+v", got, want)
		}
		if d := e.describe(g.GameSessionId); d.MatchmakerData != `{"matchId":"m-1"}` {
			t.Fatalf("MatchmakerData %q", d.MatchmakerData)
		}
	})
	t.Run("a failure keeps the data and still tells the process", func(t *testing.T) {
		if err := e.sessions.UpdateMatchmakerData(e.ctx, g.GameSessionId, "", "BACKFILL_FAILED", "ticket-2"); err != nil {
			t.Fatal(err)
		}
		got := e.pushes.of("UpdateGameSession")
		if len(got) != 2 || got[1].Reason != "BACKFILL_FAILED" || got[1].MatchmakerData != `{"matchId":"m-1"}` {
			t.Fatalf("pushes %+v", got)
		}
	})
	t.Run("an ended session is refused and nothing is pushed", func(t *testing.T) {
		if err := e.fleets.EndProcess(e.ctx, pid, fleet.EndProcessEnding); err != nil {
			t.Fatal(err)
		}
		err := e.sessions.UpdateMatchmakerData(e.ctx, g.GameSessionId, "{}", "MATCHMAKING_DATA_UPDATED", "ticket-3")
		wantFault(t, err, fault.InvalidGameSessionStatus)
		if n := len(e.pushes.of("UpdateGameSession")); n != 2 {
			t.Fatalf("%d UpdateGameSession pushes, want 2", n)
		}
	})
}

func TestFleetUtilizationCountsLiveSessionsAndPlayers(t *testing.T) {
	e := newEnv(t, nil)
	a := e.active(4)
	b := e.active(6)
	e.reserve(a.GameSessionId, "p1", "p2")
	e.reserve(b.GameSessionId, "p3")
	e.process()
	ended := e.create(10)
	e.clk.Advance(activationTimeout) // ended is ERROR now; a and b are ACTIVE
	out, err := e.fleets.DescribeFleetUtilization(e.ctx, &gamelift.DescribeFleetUtilizationInput{FleetIds: []string{e.fleetID}})
	if err != nil || len(out.FleetUtilization) != 1 {
		t.Fatalf("%+v %v", out, err)
	}
	u := out.FleetUtilization[0]
	// The reservations are 30 s old: not timed out yet.
	if *u.CurrentPlayerSessionCount != 3 || *u.MaximumPlayerSessionCount != 10 {
		t.Fatalf("players %d of %d, want 3 of 10 (the ERROR session %s not counted)", *u.CurrentPlayerSessionCount, *u.MaximumPlayerSessionCount, ended.GameSessionId)
	}
}

// processOf returns the process hosting a game session.
func (e *env) processOf(g gamelift.GameSession) string {
	e.t.Helper()
	gs, err := e.sessions.GameSession(e.ctx, g.GameSessionId)
	if err != nil {
		e.t.Fatal(err)
	}
	return gs.ProcessID
}
