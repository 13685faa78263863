package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

func TestSearchGameSessionsFiltersAndSortsActiveSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	servers := e.startReadyServers(3)
	prop := func(k, v string) types.GameProperty {
		return types.GameProperty{Key: aws.String(k), Value: aws.String(v)}
	}
	ids := map[string]string{}
	for _, s := range []struct {
		name string
		max  int32
		mode string
	}{{"alpha", 10, "ctf"}, {"beta", 4, "dm"}, {"gamma", 8, "ctf"}} {
		e.advance(time.Second) // distinct creation times
		id := aws.ToString(e.createGameSession(s.name, s.max, prop("mode", s.mode)).GameSessionId)
		gs, _ := e.srv.Hosting.Sessions.GameSession(ctx, id)
		servers[gs.ProcessID].Wait("event", "activated")
		ids[s.name] = id
	}
	// delta stays ACTIVATING on a fourth process: search sees only ACTIVE.
	slow := e.startReady("", "GS_NO_ACTIVATE=1")
	e.createGameSession("delta", 10, prop("mode", "ctf"))
	slow.Wait("event", "start")
	e.reserve(ids["gamma"], "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8")

	names := func(out *gl.SearchGameSessionsOutput) string {
		var n []string
		for _, g := range out.GameSessions {
			n = append(n, aws.ToString(g.Name))
		}
		return strings.Join(n, ",")
	}
	// search searches the fleet with filter and sort ("" for none).
	search := func(filter, sort string) (*gl.SearchGameSessionsOutput, error) {
		in := &gl.SearchGameSessionsInput{FleetId: aws.String(e.fleetID)}
		if filter != "" {
			in.FilterExpression = aws.String(filter)
		}
		if sort != "" {
			in.SortExpression = aws.String(sort)
		}
		return e.gl.SearchGameSessions(ctx, in)
	}
	for _, tt := range []struct{ filter, sort, want string }{
		{"gameSessionProperties.mode = 'ctf'", "gameSessionName ASC", "alpha,gamma"},
		{"maximumSessions>=8 AND hasAvailablePlayerSessions=true", "", "alpha"},
		{"", "maximumSessions DESC", "alpha,gamma,beta"},
		{"NOT gameSessionProperties.mode = 'ctf' OR playerSessionCount = 8", "creationTimeMillis ASC", "beta,gamma"},
		{"gameSessionName <> 'alpha'", "playerSessionCount DESC", "gamma,beta"},
	} {
		t.Run(tt.filter+" sorted by "+tt.sort, func(t *testing.T) {
			out, err := search(tt.filter, tt.sort)
			if err != nil {
				t.Fatal(err)
			}
			got := names(out)
			if tt.sort == "" {
				got = sortedCSV(got)
			}
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("pages of at most the limit", func(t *testing.T) {
		out, err := e.gl.SearchGameSessions(ctx, &gl.SearchGameSessionsInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location),
			SortExpression: aws.String("gameSessionName ASC"), Limit: aws.Int32(2)})
		if err != nil || names(out) != "alpha,beta" || out.NextToken == nil {
			t.Fatalf("first page %s, next %v, err %v", names(out), out.NextToken, err)
		}
		out, err = e.gl.SearchGameSessions(ctx, &gl.SearchGameSessionsInput{FleetId: aws.String(e.fleetID), Location: aws.String(e.location),
			SortExpression: aws.String("gameSessionName ASC"), Limit: aws.Int32(2), NextToken: out.NextToken})
		if err != nil || names(out) != "gamma" || out.NextToken != nil {
			t.Fatalf("second page %s, err %v", names(out), err)
		}
	})
	for _, tt := range []struct{ filter, sort, mention string }{
		{"maximumSessions >", "", "FilterExpression: at position 18"},
		{"players = 3", "", `unknown operand "players"`},
		{"", "maximumSessions SIDEWAYS", "SortExpression: at position 17"},
	} {
		t.Run("a bad expression is refused: "+tt.filter+tt.sort, func(t *testing.T) {
			_, err := search(tt.filter, tt.sort)
			var bad *types.InvalidRequestException
			if !errors.As(err, &bad) || !strings.Contains(aws.ToString(bad.Message), tt.mention) {
				t.Fatalf("got %v, want InvalidRequestException mentioning %q", err, tt.mention)
			}
		})
	}
}

func sortedCSV(s string) string {
	parts := strings.Split(s, ",")
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			if parts[j] < parts[i] {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
	}
	return strings.Join(parts, ",")
}
