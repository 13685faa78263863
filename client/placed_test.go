package client_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/testenv"
)

// The whole flow of a game client through the SDK: a real agent's beacon,
// a WITH_QUEUE configuration whose matches are placed on examples/arena
// game servers, and each player let in with the seat Wait returned.
func TestAPlacedMatchIsJoinedWithItsSeat(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs muster, an agent and arena game servers")
	}
	s := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fleetID := s.CreateArenaFleet(t, testenv.ArenaFleet{Name: "arena", Processes: 2, Locations: []string{"custom-arena"}})
	testenv.StartAgent(t, s, testenv.AgentConfig{FleetID: fleetID, Location: "custom-arena", ComputeName: "arena-host"})
	testenv.Eventually(t, "two ACTIVE arena processes", 90*time.Second, func() bool { return s.ActiveProcesses(ctx, fleetID) == 2 })
	placedConfiguration(t, s, fleetID)

	done := make(chan outcome, 2)
	for range 2 {
		go func() {
			var o outcome
			o.match, o.err = playArena(ctx, s.URL())
			done <- o
		}()
	}
	for range 2 {
		o := <-done
		if o.err != nil {
			t.Fatal(o.err)
		}
		if m := o.match; m.IPAddress != "127.0.0.1" || m.Port == 0 || !strings.Contains(m.GameSessionArn, "/custom-arena/") || m.PlayerSessionID == "" {
			t.Fatalf("%+v", m)
		}
		if got := joinArena(t, o.match.Addr(), o.match.PlayerSessionID); !strings.HasPrefix(got, "WELCOME") {
			t.Fatalf("JOIN %s answered %q", o.match.PlayerSessionID, got)
		}
	}
}

// placedConfiguration makes "arena-duel", a 1v1 WITH_QUEUE configuration
// placing on the fleet, open to players.
func placedConfiguration(t *testing.T, s *testenv.Server, fleetID string) {
	t.Helper()
	ctx := context.Background()
	gl := s.Admin()
	q, err := gl.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: aws.String("arena-queue"), TimeoutInSeconds: aws.Int32(60),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String("arn:aws:gamelift:mu-local-1:000000000000:fleet/" + fleetID)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gl.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: aws.String("duel-rules"), RuleSetBody: aws.String(oneVOne)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String("arena-duel"), RuleSetName: aws.String("duel-rules"),
		RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeWithQueue,
		GameSessionQueueArns: []string{aws.ToString(q.GameSessionQueue.GameSessionQueueArn)}}); err != nil {
		t.Fatal(err)
	}
	res, body, err := s.Bearer(ctx, http.MethodPut, "/v1/admin/matchmaking/configurations/arena-duel/player-access", `{"allowed":true}`)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("player access: %v %v %s", err, res, body)
	}
}

// playArena is a game client up to its match: sign in, measure, ask, wait.
func playArena(ctx context.Context, endpoint string) (*client.Match, error) {
	c := client.New(endpoint, client.WithPollInterval(pollEvery))
	if _, err := c.SignInAnonymous(ctx); err != nil {
		return nil, err
	}
	ms, err := c.MeasureLatencies(ctx)
	if err != nil {
		return nil, err
	}
	if ms["custom-arena"] < 1 {
		return nil, fmt.Errorf("the agent's beacon was not measured: %v", ms)
	}
	t, err := c.StartMatchmaking(ctx, "arena-duel", ms)
	if err != nil {
		return nil, err
	}
	return c.Wait(ctx, t.TicketID)
}

// joinArena connects to the arena game server with a seat and returns its
// first answer. A COMPLETED ticket's game session may still be activating
// on its process, so a refused JOIN is tried again for a while.
func joinArena(t *testing.T, addr, playerSessionID string) string {
	t.Helper()
	var last string
	testenv.Eventually(t, "the game server to welcome "+playerSessionID, 20*time.Second, func() bool {
		p, err := testenv.DialArena(addr, playerSessionID)
		if err != nil {
			last = err.Error()
			return false
		}
		if last = p.First; !strings.HasPrefix(last, "WELCOME") {
			p.Conn.Close()
			return false
		}
		t.Cleanup(func() { p.Conn.Close() })
		return true
	})
	return last
}
