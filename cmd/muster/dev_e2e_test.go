package main_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"regexp"
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
	session := waitGameSessionActive(t, gl, aws.ToString(gs.GameSession.GameSessionId), time.Minute)
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

// TestPlayAMatchOnServeDev is a newcomer's first ten minutes: `serve --dev`
// with no set-up by hand, then `muster play` in another terminal, whose
// bots sign in, get matched, and are let into the arena game server. A
// restart on the same data directory reuses the set-up, and so does one
// after the server was killed.
func TestPlayAMatchOnServeDev(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	start := func() *testenv.Server {
		began := time.Now()
		s := testenv.Start(t, testenv.WithDir(testenv.ModuleRoot()), testenv.WithDataDir(dataDir), testenv.WithArgs("--dev", "--sdk-listen", "127.0.0.1:0"))
		// The first start builds examples/arena, hence the long wait.
		testenv.Eventually(t, "/readyz to answer ready", 3*time.Minute, func() bool {
			res, _, err := s.Request(context.Background(), http.MethodGet, "/readyz", "", "")
			return err == nil && res.StatusCode == http.StatusOK
		})
		t.Logf("serve --dev was ready to match %s after it started", time.Since(began).Round(time.Millisecond))
		// The banner reaches the log through the server's stdout pipe,
		// which may trail /readyz.
		testenv.Eventually(t, "the ready banner to say what to try next", 10*time.Second, func() bool {
			return strings.Contains(s.Logs(), "go run ./cmd/muster play")
		})
		return s
	}
	s := start()
	playAndCheck(t, s, 2, "--players", "2")
	playAndCheck(t, s, 10, "--config", "dev-5v5", "--players", "10")
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	s = start()
	if strings.Contains(s.Logs(), "dev mode stopped") || strings.Contains(s.Logs(), "level=ERROR") {
		t.Fatalf("the restart reported an error:\n%s", s.Logs())
	}
	checkOneDevSetUp(t, s.Admin())
	playAndCheck(t, s, 2, "--players", "2")

	// Killed, serve --dev could not end its game servers' records; they
	// died with it and must not be taken for ready ones after a restart.
	s.Kill()
	s = start()
	playAndCheck(t, s, 2, "--players", "2")
}

var playerSessionRE = regexp.MustCompile(`validated .* joined as p\d+ with (psess-[0-9a-f]+)`)

// playAndCheck runs `muster play` and checks, with the control API, that
// the game server accepted each bot's player session.
func playAndCheck(t *testing.T, s *testenv.Server, bots int, args ...string) {
	t.Helper()
	began := time.Now()
	cmd := exec.Command(testenv.Binary(t), append([]string{"play", "--endpoint", s.URL(), "--play-for", "1s", "--timeout", "90s"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("muster play %v: %v\n%s", args, err, out)
	}
	t.Logf("muster play %v took %s:\n%s", args, time.Since(began).Round(time.Millisecond), out)
	ids := playerSessionRE.FindAllStringSubmatch(string(out), -1)
	if len(ids) != bots {
		t.Fatalf("%d bots were validated, want %d", len(ids), bots)
	}
	gl := s.Admin()
	for _, id := range ids {
		ps, err := gl.DescribePlayerSessions(context.Background(), &gamelift.DescribePlayerSessionsInput{PlayerSessionId: aws.String(id[1])})
		if err != nil || len(ps.PlayerSessions) != 1 {
			t.Fatalf("player session %s: %v", id[1], err)
		}
		// ACTIVE once the game server accepted the player, COMPLETED once
		// it removed them; RESERVED or TIMEDOUT would mean never accepted.
		if st := ps.PlayerSessions[0].Status; st != types.PlayerSessionStatusActive && st != types.PlayerSessionStatusCompleted {
			t.Fatalf("player session %s is %s: the game server did not accept it", id[1], st)
		}
	}
}

// checkOneDevSetUp checks a restart made nothing twice.
func checkOneDevSetUp(t *testing.T, gl *gamelift.Client) {
	t.Helper()
	ctx := context.Background()
	fleets, err1 := gl.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{})
	queues, err2 := gl.DescribeGameSessionQueues(ctx, &gamelift.DescribeGameSessionQueuesInput{})
	ruleSets, err3 := gl.DescribeMatchmakingRuleSets(ctx, &gamelift.DescribeMatchmakingRuleSetsInput{})
	configs, err4 := gl.DescribeMatchmakingConfigurations(ctx, &gamelift.DescribeMatchmakingConfigurationsInput{})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatalf("describing the set-up after a restart: %v", err)
	}
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"fleets", len(fleets.FleetAttributes), 1},
		{"queues", len(queues.GameSessionQueues), 1},
		{"rule sets", len(ruleSets.RuleSets), 2},
		{"configurations", len(configs.Configurations), 2},
	} {
		if c.got != c.want {
			t.Fatalf("%s after a restart: %d, want %d", c.what, c.got, c.want)
		}
	}
}
