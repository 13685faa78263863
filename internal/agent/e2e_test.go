//go:build unix

package agent_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/internal/testenv"
)

// arenaPort reads the port an arena process announced in its log.
func arenaPort(logDir, processID string) int {
	b, _ := os.ReadFile(filepath.Join(logDir, processID+".log"))
	m := regexp.MustCompile(`msg="ready for a game session" port=(\d+)`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	p, _ := strconv.Atoi(string(m[1]))
	return p
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestEndToEndAgentRunsArenaForTheControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs muster and the arena example")
	}
	// The agent learns of crashed processes' ends and of runtime
	// configuration changes through its heartbeat: every 2 s here instead
	// of the default 10 s, so the test waits seconds, not tens of them.
	srv := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0", "--agent-heartbeat-interval", "2s"))
	gl := srv.Admin()
	ctx := context.Background()
	arena := testenv.Arena(t)
	fleetID := srv.CreateArenaFleet(t, testenv.ArenaFleet{Name: "arena", Locations: []string{"custom-e2e"}, Processes: 2, Parameters: "--idle-exit 0s"})

	// The real agent, as an operator would run it.
	agent := testenv.StartAgent(t, srv, testenv.AgentConfig{FleetID: fleetID, Location: "custom-e2e", ComputeName: "e2e-host", DrainGrace: "20s"})
	agentOut, logDir := agent.Out, agent.LogDir

	testenv.Eventually(t, "two ACTIVE arena processes", 90*time.Second, func() bool { return srv.ActiveProcesses(ctx, fleetID) == 2 })

	t.Run("the beacon answers pings", func(t *testing.T) {
		m := regexp.MustCompile(`msg="latency beacon listening" .*addr=(\S+)`).FindStringSubmatch(agentOut.String())
		if m == nil {
			t.Fatal("the agent did not log its beacon address")
		}
		if rtt, err := beacon.Measure(ctx, m[1], 3); err != nil || rtt <= 0 {
			t.Fatalf("Measure = %v, %v", rtt, err)
		}
	})

	gs, err := gl.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: aws.String(fleetID), MaximumPlayerSessionCount: aws.Int32(4), Location: aws.String("custom-e2e")})
	if err != nil {
		t.Fatal(err)
	}
	gsID := gs.GameSession.GameSessionId
	testenv.Eventually(t, "the game session to be ACTIVE", 30*time.Second, func() bool {
		out, err := gl.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: gsID})
		return err == nil && len(out.GameSessions) == 1 && out.GameSessions[0].Status == types.GameSessionStatusActive
	})
	ps, err := gl.CreatePlayerSession(ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: gsID, PlayerId: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(aws.ToString(ps.PlayerSession.IpAddress), strconv.Itoa(int(aws.ToInt32(ps.PlayerSession.Port))))

	var player *testenv.ArenaPlayer
	t.Run("a player with a real player session is let in", func(t *testing.T) {
		var err error
		if player, err = testenv.DialArena(addr, aws.ToString(ps.PlayerSession.PlayerSessionId)); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(player.First, "WELCOME ") {
			t.Fatalf("JOIN answered %q, want WELCOME", player.First)
		}
		out, err := gl.DescribePlayerSessions(ctx, &gamelift.DescribePlayerSessionsInput{PlayerSessionId: ps.PlayerSession.PlayerSessionId})
		if err != nil || len(out.PlayerSessions) != 1 || out.PlayerSessions[0].Status != types.PlayerSessionStatusActive {
			t.Fatalf("player session after JOIN: %+v, %v; want ACTIVE", out, err)
		}
	})
	t.Run("a forged player session is refused", func(t *testing.T) {
		if first := testenv.JoinArena(t, addr, "psess-forged-0000").First; !strings.HasPrefix(first, "ERR player session refused") {
			t.Fatalf("JOIN answered %q, want a refusal", first)
		}
	})

	t.Run("a crashed game server is replaced", func(t *testing.T) {
		gamePort := int(aws.ToInt32(ps.PlayerSession.Port))
		victim, victimPID := "", 0
		for id, pid := range agent.Launched() {
			if port := arenaPort(logDir, id); port != 0 && port != gamePort {
				victim, victimPID = id, pid
			}
		}
		if victim == "" {
			t.Fatal("no idle arena process found")
		}
		if err := syscall.Kill(victimPID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "a replacement process", 30*time.Second, func() bool { return len(agent.Launched()) == 3 })
		if !strings.Contains(agentOut.String(), "process_id="+victim+" pid="+strconv.Itoa(victimPID)+" ran=") {
			t.Error("the agent did not log the crashed process's exit")
		}
		testenv.Eventually(t, "two ACTIVE processes again", 60*time.Second, func() bool { return srv.ActiveProcesses(ctx, fleetID) == 2 })
	})

	t.Run("a runtime configuration change is followed", func(t *testing.T) {
		set := func(n int32) {
			t.Helper()
			_, err := gl.UpdateRuntimeConfiguration(ctx, &gamelift.UpdateRuntimeConfigurationInput{FleetId: aws.String(fleetID),
				RuntimeConfiguration: &types.RuntimeConfiguration{ServerProcesses: []types.ServerProcess{
					{LaunchPath: aws.String(arena), Parameters: aws.String("--idle-exit 0s"), ConcurrentExecutions: aws.Int32(n)},
				}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		set(3)
		// A fourth launch shows that the agent saw the new configuration: until
		// a heartbeat reports the crashed process gone, the control plane may
		// still count it ACTIVE, and three ACTIVE alone could be stale.
		testenv.Eventually(t, "a third ACTIVE process", 60*time.Second, func() bool {
			return len(agent.Launched()) == 4 && srv.ActiveProcesses(ctx, fleetID) == 3
		})
		set(2)
		testenv.Eventually(t, "the agent to stop one", 60*time.Second, func() bool {
			return strings.Contains(agentOut.String(), `reason="the runtime configuration no longer asks for it"`)
		})
		testenv.Eventually(t, "two ACTIVE processes", 60*time.Second, func() bool { return srv.ActiveProcesses(ctx, fleetID) == 2 })
		fmt.Fprintln(player.Conn, "SAY still here")
		for player.In.Scan() {
			if strings.HasPrefix(player.In.Text(), "CHAT ") {
				return
			}
		}
		t.Fatalf("the player's game server went away with the surplus process: %v", player.In.Err())
	})

	t.Run("FORCE_TERMINATE kills the game server and the agent replaces it", func(t *testing.T) {
		gs, err := gl.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: aws.String(fleetID), MaximumPlayerSessionCount: aws.Int32(2), Location: aws.String("custom-e2e")})
		if err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the second game session to be ACTIVE", 30*time.Second, func() bool {
			out, err := gl.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: gs.GameSession.GameSessionId})
			return err == nil && len(out.GameSessions) == 1 && out.GameSessions[0].Status == types.GameSessionStatusActive
		})
		victim, victimPID := "", 0
		for id, pid := range agent.Launched() {
			if alive(pid) && arenaPort(logDir, id) == int(aws.ToInt32(gs.GameSession.Port)) {
				victim, victimPID = id, pid
			}
		}
		if victim == "" {
			t.Fatal("no arena process hosts the second game session")
		}
		if _, err := gl.TerminateGameSession(ctx, &gamelift.TerminateGameSessionInput{GameSessionId: gs.GameSession.GameSessionId,
			TerminationMode: types.TerminationModeForceTerminate}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the agent to kill the process", 30*time.Second, func() bool { return !alive(victimPID) })
		if !regexp.MustCompile(`msg="killing a server process" .*process_id=` + victim + ` .*reason="the control plane ended it: FORCE_TERMINATED"`).MatchString(agentOut.String()) {
			t.Error("the agent did not log killing the force-terminated process")
		}
		testenv.Eventually(t, "two ACTIVE processes again", 60*time.Second, func() bool { return srv.ActiveProcesses(ctx, fleetID) == 2 })
	})

	t.Run("SIGTERM drains the compute and deregisters it", func(t *testing.T) {
		pids := agent.Launched()
		if err := agent.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// The player hears the game end: TerminateProcess reached the arena.
		var bye bool
		for player.In.Scan() {
			if strings.HasPrefix(player.In.Text(), "BYE ") {
				bye = true
				break
			}
		}
		player.Conn.Close()
		if !bye {
			t.Errorf("the player got no BYE (%v)", player.In.Err())
		}
		if err := agent.Exit(t, 60*time.Second); err != nil {
			t.Fatalf("agent exited with %v", err)
		}
		for id, pid := range pids {
			if alive(pid) {
				t.Errorf("process %s (pid %d) still runs after the drain", id, pid)
			}
		}
		log := agentOut.String()
		for id, pid := range pids {
			if alive := regexp.MustCompile(`process_id=` + id + ` pid=\d+ ran=\S+ status="signal`); alive.MatchString(log) {
				continue // the crashed one
			}
			if !strings.Contains(log, fmt.Sprintf(`process_id=%s pid=%d ran=`, id, pid)) || !regexp.MustCompile(`process_id=`+id+` pid=\d+ ran=\S+ status="exit status 0"`).MatchString(log) {
				t.Errorf("process %s did not end cleanly (exit status 0) in the drain", id)
			}
		}
		if strings.Contains(log, "still running when the drain grace period ended") {
			t.Error("an arena process ignored TerminateProcess and had to be killed")
		}
		if !strings.Contains(log, "compute deregistered") {
			t.Error("the agent did not log the deregistration")
		}
		_, err := gl.DescribeCompute(ctx, &gamelift.DescribeComputeInput{FleetId: aws.String(fleetID), ComputeName: aws.String("e2e-host")})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			out, _ := gl.DescribeCompute(ctx, &gamelift.DescribeComputeInput{FleetId: aws.String(fleetID), ComputeName: aws.String("e2e-host")})
			t.Fatalf("DescribeCompute after the drain = %v (%+v), want NotFoundException", err, out)
		}
		out, err := gl.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: gsID})
		if err != nil || len(out.GameSessions) != 1 || out.GameSessions[0].Status != types.GameSessionStatusTerminated {
			t.Errorf("game session after the drain: %+v, %v; want TERMINATED", out, err)
		}
	})
}

// TestEndToEndASecondAgentOfOneComputeNameIsRefused: hosts cloned from one
// image share a host name, the agent's default compute name. The second
// agent is refused before it registers and exits with an error that says
// why; the first agent's processes run on, untouched.
func TestEndToEndASecondAgentOfOneComputeNameIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs muster and the arena example")
	}
	srv := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0", "--agent-heartbeat-interval", "2s"))
	ctx := context.Background()
	fleetID := srv.CreateArenaFleet(t, testenv.ArenaFleet{Name: "arena", Locations: []string{"custom-twins"}, Processes: 2})
	cfg := testenv.AgentConfig{FleetID: fleetID, Location: "custom-twins", ComputeName: "twin"}
	first := testenv.StartAgent(t, srv, cfg)
	testenv.Eventually(t, "two ACTIVE processes", 90*time.Second, func() bool { return srv.ActiveProcesses(ctx, fleetID) == 2 })
	pids := first.Launched()

	second := testenv.StartAgent(t, srv, cfg)
	if err := second.Exit(t, 60*time.Second); err == nil {
		t.Fatal("the second agent of the compute exited 0, want an error")
	}
	out := second.Out.String()
	if !strings.Contains(out, "another agent runs this compute") || !strings.Contains(out, "--compute-name") {
		t.Errorf("the second agent did not say why it stopped:\n%s", out)
	}
	if strings.Contains(out, "compute registered") || len(second.Launched()) != 0 {
		t.Errorf("the refused agent registered the compute or launched processes:\n%s", out)
	}
	for id, pid := range pids {
		if !alive(pid) {
			t.Errorf("the first agent's process %s (pid %d) died", id, pid)
		}
	}
	if n := srv.ActiveProcesses(ctx, fleetID); n != 2 {
		t.Errorf("%d ACTIVE processes after the second agent tried, want the first agent's 2", n)
	}
	if n := len(first.Launched()); n != 2 {
		t.Errorf("the first agent launched %d processes, want its 2 (none replaced)", n)
	}
}

func TestEndToEndAKilledAgentTakesItsProcessesAlongAndRestartsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs muster and the arena example")
	}
	if runtime.GOOS != "linux" {
		t.Skip("processes die with a killed agent only on Linux (parent-death signal)")
	}
	// Heartbeats every 2 s: the control plane takes the killed agent's
	// compute for lost after 6 s of silence instead of 30.
	srv := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0", "--agent-heartbeat-interval", "2s"))
	gl := srv.Admin()
	ctx := context.Background()
	fleetID := srv.CreateArenaFleet(t, testenv.ArenaFleet{Name: "arena", Locations: []string{"custom-restart"}, Processes: 2})
	cfg := testenv.AgentConfig{FleetID: fleetID, Location: "custom-restart", ComputeName: "e2e-host", LogDir: filepath.Join(t.TempDir(), "logs"), DrainGrace: "20s"}

	first := testenv.StartAgent(t, srv, cfg)
	testenv.Eventually(t, "two ACTIVE processes", 90*time.Second, func() bool { return srv.ActiveProcesses(ctx, fleetID) == 2 })
	old := first.Launched()
	if err := first.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the killed agent's processes to die with it", 30*time.Second, func() bool {
		for _, pid := range old {
			if alive(pid) {
				return false
			}
		}
		return true
	})
	// One agent at a time runs a compute: the new one takes it over once
	// the control plane has taken the killed one's for lost.
	testenv.Eventually(t, "the killed agent's compute to be lost", 60*time.Second, func() bool {
		c, err := gl.DescribeCompute(ctx, &gamelift.DescribeComputeInput{FleetId: aws.String(fleetID), ComputeName: aws.String("e2e-host")})
		return err == nil && c.Compute.ComputeStatus == types.ComputeStatusImpaired
	})

	second := testenv.StartAgent(t, srv, cfg)
	testenv.Eventually(t, "two ACTIVE processes of the new agent", 90*time.Second, func() bool {
		return len(second.Launched()) == 2 && srv.ActiveProcesses(ctx, fleetID) == 2
	})
	for id := range second.Launched() {
		if _, reused := old[id]; reused {
			t.Fatalf("process id %s was reused after the restart", id)
		}
	}
	c, err := gl.DescribeCompute(ctx, &gamelift.DescribeComputeInput{FleetId: aws.String(fleetID), ComputeName: aws.String("e2e-host")})
	if err != nil || c.Compute.ComputeStatus != types.ComputeStatusActive {
		t.Fatalf("DescribeCompute after the restart = %+v, %v; want ACTIVE", c, err)
	}
	if err := second.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Exit(t, 60*time.Second); err != nil {
		t.Fatalf("agent exited with %v", err)
	}
}
