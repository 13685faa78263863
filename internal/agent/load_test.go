//go:build unix

package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/testenv"
)

// procStat reads a process's resident memory (KiB) and CPU time (clock
// ticks, user + system) from /proc.
func procStat(t *testing.T, pid int) (rssKiB int, cpuTicks int) {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKiB, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if i := bytes.LastIndexByte(stat, ')'); i > 0 {
		f := strings.Fields(string(stat[i+2:]))
		u, _ := strconv.Atoi(f[11])
		s, _ := strconv.Atoi(f[12])
		cpuTicks = u + s
	}
	return rssKiB, cpuTicks
}

// TestLoadAgentKeepsManyArenaProcesses measures one real `muster agent`
// keeping MUSTER_AGENT_LOAD arena processes (e.g. 50, 100, 200) ACTIVE
// against a real `muster serve`. A fleet allows at most 50 processes per
// compute, so a proxy between the agent and the control plane rewrites the
// heartbeat's runtime configuration to ask for N. It logs the time until all
// are ACTIVE, the agent's RSS and CPU over a steady minute, the arena
// processes' total RSS, and the drain time. Run with -v -timeout 20m.
func TestLoadAgentKeepsManyArenaProcesses(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MUSTER_AGENT_LOAD"))
	if n <= 0 {
		t.Skip("set MUSTER_AGENT_LOAD=N to measure one agent running N arena processes")
	}
	steady := 60 * time.Second
	if s, err := time.ParseDuration(os.Getenv("MUSTER_AGENT_LOAD_STEADY")); err == nil {
		steady = s
	}
	srv := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0", "--log-level", "info"))
	ctx := context.Background()
	fleetID := srv.CreateArenaFleet(t, testenv.ArenaFleet{Name: "load", Locations: []string{"custom-load"}, Processes: 1})

	// The proxy keeps the Host header, so the agent's SigV4 signatures verify.
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if !strings.HasSuffix(r.Request.URL.Path, "/heartbeat") || r.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		var answer map[string]any
		if err := json.Unmarshal(body, &answer); err != nil {
			return err
		}
		if rc, ok := answer["runtimeConfiguration"].(map[string]any); ok {
			if sps, ok := rc["ServerProcesses"].([]any); ok && len(sps) == 1 {
				sps[0].(map[string]any)["ConcurrentExecutions"] = n
			}
		}
		body, _ = json.Marshal(answer)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	front := httptest.NewServer(proxy)
	defer front.Close()

	start := time.Now()
	agent := testenv.StartAgent(t, srv, testenv.AgentConfig{FleetID: fleetID, Location: "custom-load", ComputeName: "load-host", Endpoint: front.URL, DrainGrace: "60s"})
	agentCmd := agent.Cmd

	testenv.Eventually(t, "all processes ACTIVE", 10*time.Minute, func() bool { return srv.ActiveProcesses(ctx, fleetID) == int32(n) })
	t.Logf("%d processes ACTIVE %.1f s after the agent started (%d launches)", n, time.Since(start).Seconds(), len(agent.Launched()))

	rss0, cpu0 := procStat(t, agentCmd.Process.Pid)
	steadyStart := time.Now()
	time.Sleep(steady) // measuring real resource use over real time
	rss1, cpu1 := procStat(t, agentCmd.Process.Pid)
	elapsed := time.Since(steadyStart).Seconds()
	var arenaRSS int
	alive := 0
	for _, pid := range agent.Launched() {
		if r, _ := procStat(t, pid); r > 0 {
			arenaRSS += r
			alive++
		}
	}
	active := srv.ActiveProcesses(ctx, fleetID)
	t.Logf("steady %.0f s: agent RSS %d→%d KiB, agent CPU %.2f%% of one core; %d arena processes alive (ACTIVE %d), arena RSS total %d MiB (%d KiB each)",
		elapsed, rss0, rss1, float64(cpu1-cpu0)/100/elapsed*100, alive, active, arenaRSS/1024, arenaRSS/max(alive, 1))
	if launches := len(agent.Launched()); launches != n {
		t.Errorf("%d launches for %d processes: some were replaced during the steady period", launches, n)
	}

	drainStart := time.Now()
	_ = agentCmd.Process.Signal(syscall.SIGTERM)
	if err := agent.Exit(t, 3*time.Minute); err != nil {
		t.Errorf("agent exited with %v", err)
	}
	t.Logf("drain of %d processes took %.1f s; killed after the grace: %d", n, time.Since(drainStart).Seconds(),
		strings.Count(agent.Out.String(), "still running when the drain grace period ended"))
}
