package session_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

func TestSearchGameSessionsFiltersSortsAndPages(t *testing.T) {
	e := newEnv(t, nil)
	// Three ACTIVE sessions, one a second apart, and one still ACTIVATING.
	mk := func(name string, max int32, props ...gamelift.GameProperty) string {
		e.process()
		out, err := e.sessions.CreateGameSession(e.ctx, &gamelift.CreateGameSessionInput{FleetId: e.fleetID, Name: name,
			MaximumPlayerSessionCount: &max, GameProperties: props})
		if err != nil {
			t.Fatal(err)
		}
		e.activate(*out.GameSession)
		e.clk.Advance(time.Second)
		return out.GameSession.GameSessionId
	}
	ctf := mk("ctf-small", 2, gamelift.GameProperty{Key: "mode", Value: "ctf"})
	dm := mk("dm-big", 8, gamelift.GameProperty{Key: "mode", Value: "dm"})
	open := mk("open", 4)
	e.reserve(ctf, "p1", "p2") // full
	e.reserve(dm, "p3")
	e.process()
	e.create(6) // ACTIVATING: never a search result
	search := func(in gamelift.SearchGameSessionsInput) []string {
		t.Helper()
		in.FleetId = e.fleetID
		return allPages(t, in.Limit, func(token string) ([]string, string, error) {
			in.NextToken = token
			out, err := e.sessions.SearchGameSessions(e.ctx, &in)
			if err != nil {
				return nil, "", err
			}
			return gameSessionIDs(out.GameSessions), out.NextToken, nil
		})
	}
	tests := []struct {
		name   string
		filter string
		sort   string
		limit  *int32
		want   []string
	}{
		{"without a filter every ACTIVE session", "", "creationTimeMillis ASC", nil, []string{ctf, dm, open}},
		{"sorted newest first, in pages of one", "", "creationTimeMillis DESC", ptr(int32(1)), []string{open, dm, ctf}},
		{"by a game property", "gameSessionProperties.mode = 'dm'", "", nil, []string{dm}},
		{"by free slots", "hasAvailablePlayerSessions = true", "maximumSessions DESC", nil, []string{dm, open}},
		{"by player count", "playerSessionCount >= 1", "playerSessionCount ASC", nil, []string{dm, ctf}},
		{"by name", "gameSessionName <> 'open' AND maximumSessions < 8", "", nil, []string{ctf}},
		{"sorted by a property, sessions without it last", "", "gameSessionProperties.mode ASC", ptr(int32(2)), []string{ctf, dm, open}},
		{"full sessions first", "gameSessionName <> 'dm-big'", "hasAvailablePlayerSessions ASC", nil, []string{ctf, open}},
		{"sessions with free slots first", "gameSessionName <> 'dm-big'", "hasAvailablePlayerSessions DESC", nil, []string{open, ctf}},
		{"nothing matches", "maximumSessions > 100", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := search(gamelift.SearchGameSessionsInput{FilterExpression: tt.filter, SortExpression: tt.sort, Limit: tt.limit})
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a page is at most 20 sessions and the answer is never null", func(t *testing.T) {
		out, err := e.sessions.SearchGameSessions(e.ctx, &gamelift.SearchGameSessionsInput{FleetId: e.fleetID, FilterExpression: "maximumSessions > 100", Limit: ptr(int32(500))})
		if err != nil || out.GameSessions == nil || out.NextToken != "" {
			t.Fatalf("%+v, %v; want an empty list", out, err)
		}
	})
	t.Run("Location keeps one location", func(t *testing.T) {
		if got := search(gamelift.SearchGameSessionsInput{Location: e.location, SortExpression: "creationTimeMillis ASC"}); len(got) != 3 {
			t.Fatalf("got %v in %s, want 3", got, e.location)
		}
		if got := search(gamelift.SearchGameSessionsInput{Location: "custom-z"}); len(got) != 0 {
			t.Fatalf("got %v in custom-z, want none", got)
		}
	})
}

func TestSearchGameSessionsNamesEveryBadMember(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name    string
		in      gamelift.SearchGameSessionsInput
		fields  []string
		mention string
	}{
		{"neither FleetId nor AliasId", gamelift.SearchGameSessionsInput{}, []string{"FleetId"}, ""},
		{"malformed ids and Location", gamelift.SearchGameSessionsInput{FleetId: "no fleet", AliasId: "no alias", Location: "no/where"},
			[]string{"FleetId", "FleetId", "AliasId", "Location"}, ""},
		{"a filter that does not parse", gamelift.SearchGameSessionsInput{FleetId: e.fleetID, FilterExpression: "players = 3"}, []string{"FilterExpression"},
			"at position 1: unknown operand"},
		{"a sort that does not parse", gamelift.SearchGameSessionsInput{FleetId: e.fleetID, SortExpression: "maximumSessions UP"}, []string{"SortExpression"},
			"at position 17"},
		{"Limit 0 and a forged token", gamelift.SearchGameSessionsInput{FleetId: e.fleetID, Limit: ptr(int32(0)), NextToken: "!!"},
			[]string{"Limit", "NextToken"}, ""},
		{"a token that is not an offset", gamelift.SearchGameSessionsInput{FleetId: e.fleetID, NextToken: "YWJj"}, []string{"NextToken"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.sessions.SearchGameSessions(e.ctx, &tt.in)
			wantFields(t, err, tt.fields...)
			wantFault(t, err, fault.Invalid, tt.mention)
		})
	}
	e.wantFleetReadRefusals(t, func(ctx context.Context, fleetID string) error {
		_, err := e.sessions.SearchGameSessions(ctx, &gamelift.SearchGameSessionsInput{FleetId: fleetID})
		return err
	})
}
