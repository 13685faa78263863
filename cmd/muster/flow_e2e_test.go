//go:build unix

package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/loadtest"
	"github.com/musterhq/muster/internal/testenv"
)

// These tests send bots through the whole player flow — sign-in, record,
// ticket, match, placement, joining a game server on the official Go
// server SDK (examples/arena) and being validated by it — first against
// `serve --dev`, then against `muster serve` and `muster agent` as separate
// processes while the control plane is killed and restarted.

// TestLoadtestFlowOnServeDev runs `muster loadtest flow` with 20 bots
// against `serve --dev` and checks each was validated by a game server
// with its own player session; then Ctrl-C lets a match being played end
// before the server stops.
func TestLoadtestFlowOnServeDev(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.WithDir(testenv.ModuleRoot()),
		testenv.WithArgs("--dev", "--dev-processes", "6", "--sdk-listen", "127.0.0.1:0", "--player-ip-rate", "0", "--player-identity-rate", "0"))
	testenv.Eventually(t, "/readyz to answer ready", 3*time.Minute, func() bool {
		res, _, err := s.Request(context.Background(), http.MethodGet, "/readyz", "", "")
		return err == nil && res.StatusCode == http.StatusOK
	})
	cmd := exec.Command(testenv.Binary(t), "loadtest", "flow", "--endpoint", s.URL(), "--players", "20", "--rate", "10", "--duration", "2s", "--timeout", "90s", "--json")
	cmd.Env = append(cmd.Environ(), "MUSTER_ACCESS_KEY_ID="+testenv.AdminKeyID, "MUSTER_SECRET_ACCESS_KEY="+testenv.AdminSecret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var rep loadtest.FlowReport
	if jerr := json.Unmarshal(stdout.Bytes(), &rep); err != nil || jerr != nil {
		t.Fatalf("muster loadtest flow: %v %v\nstdout:\n%s\nstderr:\n%s", err, jerr, stdout.String(), stderr.String())
	}
	if rep.Started != 20 || rep.Completed != 20 || rep.Failed != 0 {
		t.Fatalf("20 bots: %d started, %d completed, %d failed (%v)", rep.Started, rep.Completed, rep.Failed, rep.Failures)
	}
	for _, p := range rep.Phases {
		if p.Count != 20 {
			t.Fatalf("phase %s: %d bots got through, want 20", p.Name, p.Count)
		}
	}
	if n := acceptedPlayerSessions(t, s.Admin()); n < 20 {
		t.Fatalf("%d player sessions were accepted by a game server, want at least 20", n)
	}
	checkCtrlCLetsAMatchEnd(t, s)
}

// acceptedPlayerSessions counts the player sessions of every game session
// that a game server accepted (ACTIVE, or COMPLETED once the player left).
func acceptedPlayerSessions(t *testing.T, gl *gamelift.Client) int {
	t.Helper()
	ctx := context.Background()
	fleets, err := gl.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{})
	if err != nil || len(fleets.FleetAttributes) != 1 {
		t.Fatalf("fleets: %v %v", fleets, err)
	}
	n := 0
	gs := &gamelift.DescribeGameSessionsInput{FleetId: fleets.FleetAttributes[0].FleetId, Limit: aws.Int32(100)}
	for {
		out, err := gl.DescribeGameSessions(ctx, gs)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.GameSessions {
			ps, err := gl.DescribePlayerSessions(ctx, &gamelift.DescribePlayerSessionsInput{GameSessionId: g.GameSessionId})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps.PlayerSessions {
				if p.Status == types.PlayerSessionStatusActive || p.Status == types.PlayerSessionStatusCompleted {
					n++
				}
			}
		}
		if out.NextToken == nil {
			return n
		}
		gs.NextToken = out.NextToken
	}
}

// checkCtrlCLetsAMatchEnd starts a 1v1 match, sends the server SIGINT while
// it is played, and checks the game goes on and the server then stops on
// its own once the players leave.
func checkCtrlCLetsAMatchEnd(t *testing.T, s *testenv.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var players []*testenv.ArenaPlayer
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			c := client.New(s.URL())
			if _, err := c.SignInAnonymous(ctx); err != nil {
				t.Error(err)
				return
			}
			lat, _ := c.MeasureLatencies(ctx)
			tk, err := c.StartMatchmaking(ctx, "dev-duel", lat)
			if err != nil {
				t.Error(err)
				return
			}
			m, err := c.Wait(ctx, tk.TicketID)
			if err != nil {
				t.Error(err)
				return
			}
			p, err := testenv.DialArena(m.Addr(), m.PlayerSessionID)
			if err != nil || !strings.HasPrefix(p.First, "WELCOME") {
				t.Errorf("join: %v %+v", err, p)
				return
			}
			mu.Lock()
			players = append(players, p)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if err := s.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "serve --dev to say it waits for the match", 20*time.Second, func() bool {
		return strings.Contains(s.Logs(), "waiting up to 30s for 1 game session(s)")
	})
	// The match goes on: moves still change the board.
	for _, p := range players {
		if _, err := p.Conn.Write([]byte("MOVE N\n")); err != nil {
			t.Fatalf("the game server dropped a player on Ctrl-C: %v", err)
		}
		if !nextState(p) {
			t.Fatal("the game stopped on the first Ctrl-C")
		}
	}
	for _, p := range players {
		_, _ = p.Conn.Write([]byte("QUIT\n"))
		p.Conn.Close()
	}
	testenv.Eventually(t, "serve --dev to stop once the match ended", 30*time.Second, func() bool {
		return strings.Contains(s.Logs(), "every match ended") && processGone(s)
	})
}

func nextState(p *testenv.ArenaPlayer) bool {
	for p.In.Scan() {
		if strings.HasPrefix(p.In.Text(), "STATE ") {
			return true
		}
	}
	return false
}

// processGone reports whether the server process has exited.
func processGone(s *testenv.Server) bool {
	return s.Signal(syscall.Signal(0)) != nil
}

// freeAddr returns a loopback address with a free port, so a restarted
// server listens where the agent and players already point.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestFlowSurvivesAControlPlaneKill9 runs the flow against `muster serve`
// and a separate `muster agent` hosting arena processes, kills the control
// plane with SIGKILL while bots are in every phase, restarts it on the same
// data and addresses, and checks every ticket a bot got: none lost, none
// left unfinished, no player matched twice; the game servers reconnect and
// take the next bots' matches.
func TestFlowSurvivesAControlPlaneKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	args := testenv.WithArgs("--listen", freeAddr(t), "--sdk-listen", freeAddr(t), "--player-ip-rate", "0", "--player-identity-rate", "0")
	s := testenv.Start(t, testenv.WithDataDir(dir), args)
	ctx := context.Background()
	gl := s.Admin()
	fleetID := s.CreateArenaFleet(t, testenv.ArenaFleet{Name: "flow", Locations: []string{"custom-flow"}, Processes: 8, Parameters: "--idle-exit 20s"})
	setUpFlowMatchmaking(t, gl, "flow", fleetID)
	agent := testenv.StartAgent(t, s, testenv.AgentConfig{FleetID: fleetID, Location: "custom-flow", ComputeName: "flow-host"})
	testenv.Eventually(t, "the agent's processes to be ready", time.Minute, func() bool { return s.ActiveProcesses(ctx, fleetID) >= 4 })

	var mu sync.Mutex
	var results []loadtest.BotResult
	var finished atomic.Int64
	cfg := loadtest.FlowConfig{Endpoint: s.URL(), Configuration: "flow", AccessKeyID: testenv.AdminKeyID, SecretAccessKey: testenv.AdminSecret,
		// A bot whose opponent failed in the outage gives up (and cancels
		// its ticket) after Timeout.
		Rate: 10, Duration: 5 * time.Second, Timeout: 15 * time.Second, Hold: time.Second,
		OnBot: func(r loadtest.BotResult) {
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
			finished.Add(1)
		}}
	done := make(chan *loadtest.FlowReport, 1)
	go func() {
		rep, err := loadtest.RunFlow(ctx, cfg)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	testenv.Eventually(t, "bots to finish before the kill", time.Minute, func() bool { return finished.Load() >= 10 })
	s.Kill() // SIGKILL, with bots in every phase
	s = testenv.Start(t, testenv.WithDataDir(dir), args)
	rep := <-done
	t.Logf("across the kill: %d bots, %d validated, %d failed: %v", rep.Started, rep.Completed, rep.Failed, rep.Failures)

	checkNoTicketLostOrMatchedTwice(t, s.Admin(), results)
	// The game servers reconnected to the restarted control plane and host
	// the next matches. They run in a configuration of their own: a ticket
	// whose creation committed just before the kill, but whose answer the
	// kill cut, belongs to no bot and may still be searching in "flow",
	// where it would take the seat of a bot of this run and leave that
	// bot's opponent alone.
	setUpFlowMatchmaking(t, s.Admin(), "flow-after", fleetID)
	after, err := loadtest.RunFlow(ctx, loadtest.FlowConfig{Endpoint: s.URL(), Configuration: "flow-after", AccessKeyID: testenv.AdminKeyID,
		SecretAccessKey: testenv.AdminSecret, Rate: 10, Duration: time.Second, Timeout: 60 * time.Second, Hold: time.Second})
	if err != nil || after.Completed != after.Started || after.Started == 0 {
		t.Fatalf("after the restart: %+v %v", after, err)
	}
	reconnected, hosted := reconnectedGameServers(t, agent.LogDir)
	if reconnected == 0 {
		t.Fatal("no game server reconnected to the restarted control plane (no process log shows a second SDK connection)")
	}
	t.Logf("%d game servers reconnected to the restarted control plane; %d of them then hosted a match", reconnected, hosted)
}

// reconnectedGameServers reads the game servers' logs (the Go server SDK
// logs its connections) and counts those whose SDK connection dropped
// with the control plane and was made again, and those of them given a
// game session afterwards.
func reconnectedGameServers(t *testing.T, logDir string) (reconnected, hosted int) {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(logDir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range logs {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		i := strings.Index(text, "Detected network interruption")
		if i < 0 {
			continue
		}
		j := strings.Index(text[i:], "read goroutine 2: starting") // the new connection's reader
		if j < 0 {
			continue
		}
		reconnected++
		if strings.Contains(text[i+j:], "Received CreateGameSession") {
			hosted++
		}
	}
	return reconnected, hosted
}

func setUpFlowMatchmaking(t *testing.T, gl *gamelift.Client, name, fleetID string) {
	t.Helper()
	err := testenv.CreateMatchmaking(context.Background(), gl, testenv.Matchmaking{Name: name, FleetID: fleetID, Players: true,
		Rules: `{"ruleLanguageVersion":"1.0","teams":[{"name":"red","minPlayers":1,"maxPlayers":1},{"name":"blue","minPlayers":1,"maxPlayers":1}]}`,
		Mutate: func(in *gamelift.CreateMatchmakingConfigurationInput) {
			in.RequestTimeoutSeconds = aws.Int32(flowRequestTimeout)
		}})
	if err != nil {
		t.Fatal(err)
	}
}

// flowRequestTimeout is the kill test's configurations' request timeout,
// in seconds. A bot whose call the outage cut fails without cancelling
// its ticket, so an odd one out searches on alone until this time-out.
const flowRequestTimeout = 30

// checkNoTicketLostOrMatchedTwice waits for every ticket the bots got to
// finish, and checks each is still known and no player has two seats.
func checkNoTicketLostOrMatchedTwice(t *testing.T, gl *gamelift.Client, results []loadtest.BotResult) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	player := map[string]string{}
	for _, r := range results {
		if r.TicketID != "" {
			ids = append(ids, r.TicketID)
			player[r.TicketID] = r.IdentityID
		}
	}
	if len(ids) < 10 {
		t.Fatalf("only %d bots got a ticket", len(ids))
	}
	var tickets []types.MatchmakingTicket
	// A ticket ends at the latest when its search times out or, matched
	// just before, when its placement does (the queue's 60 s timeout).
	within := (flowRequestTimeout + 60 + 10) * time.Second
	testenv.Eventually(t, "every ticket to finish after the restart", within, func() bool {
		tickets = tickets[:0]
		for i := 0; i < len(ids); i += 10 {
			out, err := gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: ids[i:min(i+10, len(ids))]})
			if err != nil {
				return false
			}
			tickets = append(tickets, out.TicketList...)
		}
		if len(tickets) != len(ids) {
			t.Fatalf("%d tickets were lost across kill -9 (%d of %d found)", len(ids)-len(tickets), len(tickets), len(ids))
		}
		for _, tk := range tickets {
			switch tk.Status {
			case types.MatchmakingConfigurationStatusCompleted, types.MatchmakingConfigurationStatusCancelled,
				types.MatchmakingConfigurationStatusTimedOut, types.MatchmakingConfigurationStatusFailed:
			default:
				return false
			}
		}
		return true
	})
	completed := 0
	for _, tk := range tickets {
		if tk.Status != types.MatchmakingConfigurationStatusCompleted {
			continue
		}
		completed++
		p := player[aws.ToString(tk.TicketId)]
		ps, err := gl.DescribePlayerSessions(ctx, &gamelift.DescribePlayerSessionsInput{PlayerId: aws.String(p)})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps.PlayerSessions) != 1 {
			t.Fatalf("player %s of ticket %s has %d player sessions, want 1", p, aws.ToString(tk.TicketId), len(ps.PlayerSessions))
		}
	}
	t.Logf("%d tickets across the kill: %d completed, the others ended without a match", len(tickets), completed)
}
