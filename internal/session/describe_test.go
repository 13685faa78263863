package session_test

import (
	"context"
	"slices"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
)

func TestDescribeGameSessionsNamesEveryBadMember(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name   string
		in     gamelift.DescribeGameSessionsInput
		fields []string
	}{
		{"nothing to describe", gamelift.DescribeGameSessionsInput{}, []string{"FleetId"}},
		{"both FleetId and AliasId", gamelift.DescribeGameSessionsInput{FleetId: e.fleetID, AliasId: "alias-00000000-0000-0000-0000-000000000000"}, []string{"FleetId"}},
		{"a malformed FleetId", gamelift.DescribeGameSessionsInput{FleetId: "no fleet"}, []string{"FleetId"}},
		{"a malformed AliasId", gamelift.DescribeGameSessionsInput{AliasId: "no alias"}, []string{"AliasId"}},
		{"a malformed Location", gamelift.DescribeGameSessionsInput{FleetId: e.fleetID, Location: "no/where"}, []string{"Location"}},
		{"an unknown StatusFilter, Limit 0 and a forged NextToken", gamelift.DescribeGameSessionsInput{FleetId: e.fleetID, StatusFilter: "DONE",
			Limit: ptr(int32(0)), NextToken: "!!not base64!!"}, []string{"StatusFilter", "Limit", "NextToken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.sessions.DescribeGameSessions(e.ctx, &tt.in)
			wantFields(t, err, tt.fields...)
			_, err = e.sessions.DescribeGameSessionDetails(e.ctx, &tt.in)
			wantFields(t, err, tt.fields...)
		})
	}
	e.wantFleetReadRefusals(t, func(ctx context.Context, fleetID string) error {
		_, err := e.sessions.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{FleetId: fleetID})
		return err
	})
}

func TestDescribeGameSessionsPagesAndFilters(t *testing.T) {
	e := newEnv(t, nil, "custom-a", "custom-b")
	var ids []string
	for range 3 {
		ids = append(ids, e.active(2).GameSessionId)
	}
	tokB := e.compute("custom-b")
	e.processIn("custom-b", tokB)
	out, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, Location: "custom-b", MaximumPlayerSessionCount: ptr(int32(2))})
	if err != nil {
		t.Fatal(err)
	}
	inB := out.GameSession.GameSessionId
	all := append(slices.Clone(ids), inB)
	slices.Sort(all)
	page := func(in gamelift.DescribeGameSessionsInput) []string {
		t.Helper()
		got := allPages(t, in.Limit, func(token string) ([]string, string, error) {
			in.NextToken = token
			out, err := e.sessions.DescribeGameSessions(e.ctx, &in)
			if err != nil {
				return nil, "", err
			}
			return gameSessionIDs(out.GameSessions), out.NextToken, nil
		})
		slices.Sort(got)
		return got
	}
	t.Run("pages of one return every session of the fleet once", func(t *testing.T) {
		if got := page(gamelift.DescribeGameSessionsInput{FleetId: e.fleetID, Limit: ptr(int32(1))}); !slices.Equal(got, all) {
			t.Fatalf("got %v, want %v", got, all)
		}
	})
	t.Run("pages of two by fleet ARN", func(t *testing.T) {
		arn := e.arns.Build(gamelift.ResourceFleet, e.fleetID)
		if got := page(gamelift.DescribeGameSessionsInput{FleetId: arn, Limit: ptr(int32(2))}); !slices.Equal(got, all) {
			t.Fatalf("got %v, want %v", got, all)
		}
	})
	t.Run("Location keeps one location's sessions", func(t *testing.T) {
		if got := page(gamelift.DescribeGameSessionsInput{FleetId: e.fleetID, Location: "custom-b"}); !slices.Equal(got, []string{inB}) {
			t.Fatalf("got %v, want %v", got, []string{inB})
		}
	})
	t.Run("StatusFilter keeps sessions in that status", func(t *testing.T) {
		if got := page(gamelift.DescribeGameSessionsInput{FleetId: e.fleetID, StatusFilter: gamelift.GameSessionActivating, Limit: ptr(int32(1))}); !slices.Equal(got, []string{inB}) {
			t.Fatalf("ACTIVATING: got %v, want %v", got, []string{inB})
		}
		want := slices.Sorted(slices.Values(ids))
		if got := page(gamelift.DescribeGameSessionsInput{FleetId: e.fleetID, StatusFilter: gamelift.GameSessionActive}); !slices.Equal(got, want) {
			t.Fatalf("ACTIVE: got %v, want %v", got, want)
		}
	})
	t.Run("an alias describes its fleet's sessions", func(t *testing.T) {
		a, err := e.fleets.CreateAlias(e.ctx, &gamelift.CreateAliasInput{Name: "live", RoutingStrategy: &gamelift.RoutingStrategy{Type: "SIMPLE", FleetId: e.fleetID}})
		if err != nil {
			t.Fatal(err)
		}
		if got := page(gamelift.DescribeGameSessionsInput{AliasId: a.Alias.AliasId}); !slices.Equal(got, all) {
			t.Fatalf("got %v, want %v", got, all)
		}
	})
	t.Run("GameSessionId finds one session, or none", func(t *testing.T) {
		if got := page(gamelift.DescribeGameSessionsInput{GameSessionId: ids[0]}); !slices.Equal(got, ids[:1]) {
			t.Fatalf("got %v, want %v", got, ids[:1])
		}
		if got := page(gamelift.DescribeGameSessionsInput{GameSessionId: ids[0], StatusFilter: gamelift.GameSessionTerminated}); len(got) != 0 {
			t.Fatalf("got %v with StatusFilter TERMINATED, want none", got)
		}
		if got := page(gamelift.DescribeGameSessionsInput{GameSessionId: e.arns.GameSession(e.fleetID, e.location, "nope")}); len(got) != 0 {
			t.Fatalf("got %v for an unknown session, want none", got)
		}
	})
	t.Run("details page the same way, with each session's protection", func(t *testing.T) {
		out, err := e.sessions.DescribeGameSessionDetails(e.ctx, &gamelift.DescribeGameSessionDetailsInput{FleetId: e.fleetID, Limit: ptr(int32(3))})
		if err != nil || len(out.GameSessionDetails) != 3 || out.NextToken == "" {
			t.Fatalf("first page %+v, %v; want 3 and a token", out, err)
		}
		for _, d := range out.GameSessionDetails {
			if d.ProtectionPolicy != gamelift.ProtectionNone || d.GameSession == nil {
				t.Fatalf("detail %+v, want NoProtection", d)
			}
		}
		rest, err := e.sessions.DescribeGameSessionDetails(e.ctx, &gamelift.DescribeGameSessionDetailsInput{FleetId: e.fleetID, Limit: ptr(int32(3)), NextToken: out.NextToken})
		if err != nil || len(rest.GameSessionDetails) != 1 || rest.NextToken != "" {
			t.Fatalf("second page %+v, %v; want the last one", rest, err)
		}
	})
}

func TestDescribePlayerSessionsFiltersAndPages(t *testing.T) {
	e := newEnv(t, nil)
	g := e.active(10)
	pid := e.processOf(g)
	ps := e.reserve(g.GameSessionId, "p1", "p2", "p3", "p4")
	id := func(i int) string { return ps[i].PlayerSessionId }
	if err := e.sessions.AcceptPlayerSession(e.ctx, pid, g.GameSessionId, id(0), "r1"); err != nil {
		t.Fatal(err)
	}
	if err := e.sessions.AcceptPlayerSession(e.ctx, pid, g.GameSessionId, id(1), "r2"); err != nil {
		t.Fatal(err)
	}
	if err := e.sessions.RemovePlayerSession(e.ctx, pid, g.GameSessionId, id(1), "r3"); err != nil {
		t.Fatal(err)
	}
	other := e.active(2)
	e.reserve(other.GameSessionId, "p1")
	describe := func(in gamelift.DescribePlayerSessionsInput) []string {
		t.Helper()
		got := allPages(t, in.Limit, func(token string) ([]string, string, error) {
			in.NextToken = token
			out, err := e.sessions.DescribePlayerSessionsOp(e.ctx, &in)
			if err != nil {
				return nil, "", err
			}
			var ids []string
			for _, p := range out.PlayerSessions {
				ids = append(ids, p.PlayerSessionId)
			}
			return ids, out.NextToken, nil
		})
		slices.Sort(got)
		return got
	}
	sorted := func(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }
	tests := []struct {
		name string
		in   gamelift.DescribePlayerSessionsInput
		want []string
	}{
		{"a game session's, in pages of one", gamelift.DescribePlayerSessionsInput{GameSessionId: g.GameSessionId, Limit: ptr(int32(1))},
			sorted(id(0), id(1), id(2), id(3))},
		{"a game session's ACTIVE ones", gamelift.DescribePlayerSessionsInput{GameSessionId: g.GameSessionId, PlayerSessionStatusFilter: gamelift.PlayerSessionActive},
			[]string{id(0)}},
		{"a game session's RESERVED ones, in pages of one", gamelift.DescribePlayerSessionsInput{GameSessionId: g.GameSessionId,
			PlayerSessionStatusFilter: gamelift.PlayerSessionReserved, Limit: ptr(int32(1))}, sorted(id(2), id(3))},
		{"a game session's COMPLETED ones", gamelift.DescribePlayerSessionsInput{GameSessionId: g.GameSessionId, PlayerSessionStatusFilter: gamelift.PlayerSessionCompleted},
			[]string{id(1)}},
		{"one by id", gamelift.DescribePlayerSessionsInput{PlayerSessionId: id(2)}, []string{id(2)}},
		{"an unknown id: none", gamelift.DescribePlayerSessionsInput{PlayerSessionId: "psess-00000000000000000000000000000000"}, nil},
		{"a player's in another game session too", gamelift.DescribePlayerSessionsInput{PlayerId: "p2"}, []string{id(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a player's sessions in every game session", func(t *testing.T) {
		if got := describe(gamelift.DescribePlayerSessionsInput{PlayerId: "p1", Limit: ptr(int32(1))}); len(got) != 2 || !slices.Contains(got, id(0)) {
			t.Fatalf("p1's player sessions %v, want %s and one in %s", got, id(0), other.GameSessionId)
		}
	})
	t.Run("reservations read as TIMEDOUT once 60 s have passed", func(t *testing.T) {
		e.clk.Advance(session.DefaultReservationTimeout)
		got := describe(gamelift.DescribePlayerSessionsInput{GameSessionId: g.GameSessionId, PlayerSessionStatusFilter: gamelift.PlayerSessionTimedOut})
		if !slices.Equal(got, sorted(id(2), id(3))) {
			t.Fatalf("TIMEDOUT: got %v, want %v", got, sorted(id(2), id(3)))
		}
	})
	t.Run("a server process sees only its own fleet's player sessions", func(t *testing.T) {
		ps, _, err := e.sessions.DescribePlayerSessions(e.ctx, session.PlayerQuery{PlayerSessionID: id(0), FleetID: "fleet-00000000-0000-0000-0000-000000000000"})
		if err != nil || len(ps) != 0 {
			t.Fatalf("got %+v, %v; want none of another fleet", ps, err)
		}
		ps, _, err = e.sessions.DescribePlayerSessions(e.ctx, session.PlayerQuery{PlayerSessionID: id(0), FleetID: e.fleetID})
		if err != nil || len(ps) != 1 {
			t.Fatalf("got %+v, %v; want its own", ps, err)
		}
	})
}

func TestDescribePlayerSessionsNamesEveryBadMember(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name   string
		in     gamelift.DescribePlayerSessionsInput
		fields []string
	}{
		{"nothing to describe", gamelift.DescribePlayerSessionsInput{}, []string{"GameSessionId"}},
		{"two things to describe", gamelift.DescribePlayerSessionsInput{PlayerId: "p1", PlayerSessionId: "psess-00000000000000000000000000000000"}, []string{"GameSessionId"}},
		{"a malformed PlayerSessionId", gamelift.DescribePlayerSessionsInput{PlayerSessionId: "nope"}, []string{"PlayerSessionId"}},
		{"an unknown status, Limit 0 and a forged token", gamelift.DescribePlayerSessionsInput{PlayerId: "p1", PlayerSessionStatusFilter: "GONE",
			Limit: ptr(int32(0)), NextToken: "!!"}, []string{"PlayerSessionStatusFilter", "Limit", "NextToken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.sessions.DescribePlayerSessionsOp(e.ctx, &tt.in)
			wantFields(t, err, tt.fields...)
		})
	}
	t.Run("a caller without operator credentials is refused", func(t *testing.T) {
		_, err := e.sessions.DescribePlayerSessionsOp(context.Background(), &gamelift.DescribePlayerSessionsInput{PlayerId: "p1"})
		wantFault(t, err, fault.Unauthenticated)
	})
}
