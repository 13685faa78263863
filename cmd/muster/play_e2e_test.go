package main_test

import (
	"context"
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
	counts := []struct {
		what  string
		want  int
		count func() (int, error)
	}{
		{"fleets", 1, func() (int, error) {
			out, err := gl.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{})
			if err != nil {
				return 0, err
			}
			return len(out.FleetAttributes), nil
		}},
		{"queues", 1, func() (int, error) {
			out, err := gl.DescribeGameSessionQueues(ctx, &gamelift.DescribeGameSessionQueuesInput{})
			if err != nil {
				return 0, err
			}
			return len(out.GameSessionQueues), nil
		}},
		{"rule sets", 2, func() (int, error) {
			out, err := gl.DescribeMatchmakingRuleSets(ctx, &gamelift.DescribeMatchmakingRuleSetsInput{})
			if err != nil {
				return 0, err
			}
			return len(out.RuleSets), nil
		}},
		{"configurations", 2, func() (int, error) {
			out, err := gl.DescribeMatchmakingConfigurations(ctx, &gamelift.DescribeMatchmakingConfigurationsInput{})
			if err != nil {
				return 0, err
			}
			return len(out.Configurations), nil
		}},
	}
	for _, c := range counts {
		if n, err := c.count(); err != nil || n != c.want {
			t.Fatalf("%s after a restart: %d (%v), want %d", c.what, n, err, c.want)
		}
	}
}
