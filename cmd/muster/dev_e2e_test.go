package main_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
)

// TestServeDevIsAWholeWorkingSystem runs `muster serve --dev` from the
// checkout, as the README tells a newcomer to, and plays the flow through:
// the dev fleet's arena servers come up, a game session and a player
// session are made with the real Go GameLift client, and a player joins the
// arena with its player session id while a forged one is refused.
func TestServeDevIsAWholeWorkingSystem(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.WithDir(testenv.ModuleRoot()), testenv.WithArgs("--dev", "--sdk-listen", "127.0.0.1:0"))
	gl := s.Admin()
	ctx := context.Background()

	// The first start builds examples/arena, hence the long wait.
	var fleetID string
	testenv.Eventually(t, "the dev fleet to run 2 active arena processes", 3*time.Minute, func() bool {
		if fleetID == "" {
			out, err := gl.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{})
			if err != nil {
				return false
			}
			for _, f := range out.FleetAttributes {
				if aws.ToString(f.Name) == "dev" {
					fleetID = aws.ToString(f.FleetId)
				}
			}
			if fleetID == "" {
				return false
			}
		}
		cap, err := gl.DescribeFleetCapacity(ctx, &gamelift.DescribeFleetCapacityInput{FleetIds: []string{fleetID}})
		return err == nil && len(cap.FleetCapacity) == 1 && aws.ToInt32(cap.FleetCapacity[0].InstanceCounts.IDLE) >= 1 &&
			s.ActiveProcesses(ctx, fleetID) >= 2
	})

	gs, err := gl.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: aws.String(fleetID), MaximumPlayerSessionCount: aws.Int32(4)})
	if err != nil {
		t.Fatal(err)
	}
	var session types.GameSession
	testenv.Eventually(t, "the game session to be ACTIVE", time.Minute, func() bool {
		out, err := gl.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: gs.GameSession.GameSessionId})
		if err != nil {
			t.Fatal(err)
		}
		session = out.GameSessions[0]
		return session.Status == types.GameSessionStatusActive
	})
	ps, err := gl.CreatePlayerSession(ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: session.GameSessionId, PlayerId: aws.String("player-1")})
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(aws.ToString(session.IpAddress), fmt.Sprint(aws.ToInt32(session.Port)))

	join := func(id string) string { return testenv.JoinArena(t, addr, id).First }
	if got := join("psess-forged-00000000-0000-0000-0000-000000000000"); !strings.HasPrefix(got, "ERR") {
		t.Fatalf("a forged player session id was answered %q", got)
	}
	if got := join(aws.ToString(ps.PlayerSession.PlayerSessionId)); !strings.HasPrefix(got, "WELCOME") {
		t.Fatalf("the real player session id was answered %q", got)
	}
}
