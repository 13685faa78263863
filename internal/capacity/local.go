package capacity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/agent"
)

// Local provisions hosts as `muster agent` processes on this machine, each
// registering its compute name in the location: what `serve --dev` and the
// end-to-end tests use. Release sends the agent SIGINT, so it drains (its
// processes get its DrainGrace) and deregisters its compute. The agents run
// in their own process group, so a terminal's Ctrl-C reaches only the
// control plane, which decides when they stop; on Linux the kernel tells
// them to drain if the control plane dies without stopping them.
type Local struct {
	// Binary is the muster executable.
	Binary string
	// Endpoint is the control plane's URL, known once it listens.
	Endpoint func() string
	// Credentials returns the operator key the agents of a fleet use: an
	// agent key (auth.RoleAgent) bound to that fleet, never an admin key,
	// which the agent's game servers could read from its environment.
	Credentials func(ctx context.Context, fleetID string) (id, secret string, err error)
	// Env is the environment the agents start from, besides their key; nil
	// is the allowed part of this process's (AgentEnv).
	Env []string
	// Dir holds each agent's logs and working directory.
	Dir        string
	DrainGrace time.Duration
	// Beacon is the --beacon-listen of the agents ("" or "off": none).
	// When its port is taken (another agent, another server), an agent
	// listens on a free port of the same host.
	Beacon string
	Log    *slog.Logger

	mu      sync.Mutex
	agents  map[string]*localAgent
	stopped bool
	// onExit hears an agent that exited with an error (New sets it).
	onExit func(h Host, err error, logPath string)
	wg     sync.WaitGroup
}

// LocalBeacon is where the latency beacon of a local provisioner's agents
// listens: on this machine, like their game servers (--ip-address
// 127.0.0.1), so that players here can measure the location as players
// elsewhere measure a remote one.
const LocalBeacon = "127.0.0.1:7770"

var errStopping = errors.New("local provisioner: the control plane is stopping")

type localAgent struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Provision starts an agent for h unless one runs.
func (l *Local) Provision(ctx context.Context, h Host) error {
	if l.Stopped() {
		return errStopping
	}
	id, secret, err := l.Credentials(ctx, h.FleetID)
	if err != nil {
		return fmt.Errorf("local provisioner: operator key: %w", err)
	}
	endpoint := l.Endpoint()
	if endpoint == "" {
		return errors.New("local provisioner: the control plane does not listen yet")
	}
	key := h.FleetID + "/" + h.ComputeName
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return errStopping
	}
	if l.agents == nil {
		l.agents = map[string]*localAgent{}
	}
	if _, running := l.agents[key]; running {
		return nil
	}
	dir := filepath.Join(l.Dir, h.ComputeName)
	grace := l.grace()
	logFile := filepath.Join(dir, "agent.log")
	cmd := exec.Command(l.Binary, "agent", "--endpoint", endpoint, "--fleet", h.FleetID, "--location", h.Location,
		"--compute-name", h.ComputeName, "--ip-address", "127.0.0.1", "--log-file", logFile,
		"--log-dir", filepath.Join(dir, "logs"), "--work-dir", filepath.Join(dir, "work"), "--drain-grace", grace.String(), "--beacon-listen", l.beacon())
	cmd.Env = append(l.env(), "MUSTER_ACCESS_KEY_ID="+id, "MUSTER_SECRET_ACCESS_KEY="+secret)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("local provisioner: %w", err)
	}
	// The agent rotates agent.log itself (--log-file); agent.out holds only
	// what it writes outside its log (a usage error, a panic), one run's
	// worth. A file, not a pipe: an agent draining after the control
	// plane died must not die of SIGPIPE.
	out, err := os.OpenFile(filepath.Join(dir, "agent.out"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("local provisioner: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	detach(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("local provisioner: start agent: %w", err)
	}
	a := &localAgent{cmd: cmd, done: make(chan struct{})}
	l.agents[key] = a
	l.wg.Go(func() {
		err := cmd.Wait()
		out.Close()
		l.mu.Lock()
		if l.agents[key] == a {
			delete(l.agents, key)
		}
		onExit, stopping := l.onExit, l.stopped
		l.mu.Unlock()
		close(a.done)
		logPath := exitLog(out.Name(), logFile)
		l.log().Info("local agent exited", "compute_name", h.ComputeName, "err", err, "log", logPath)
		if err != nil && onExit != nil && !stopping {
			onExit(h, err, logPath)
		}
	})
	l.log().Info("local agent started", "compute_name", h.ComputeName, "location", h.Location, "pid", cmd.Process.Pid)
	return nil
}

// exitLog is the file that says why an agent exited: its stray output
// when there is any (it died before it could log, or panicked), else its
// log.
func exitLog(outPath, logPath string) string {
	if st, err := os.Stat(outPath); err == nil && st.Size() > 0 {
		return outPath
	}
	return logPath
}

// localEnv are the variables of the control plane's environment a local
// agent gets, as exec provisioners get baseEnv: what a program needs to
// run (and, on Windows, to reach the network), to trust the control
// plane's certificate, and Go's own settings for race-built test
// binaries. Anything else — the admin key, the master key, a database
// URL — stays with the control plane: an agent's game servers inherit
// its environment.
var localEnv = append(slices.Clone(baseEnv), "SSL_CERT_FILE", "SSL_CERT_DIR", "GORACE", "GOCOVERDIR",
	"SYSTEMROOT", "SystemRoot", "TEMP", "TMP", "USERPROFILE", "LOCALAPPDATA", "APPDATA", "PATHEXT", "COMSPEC")

// AgentEnv is the part of environ (NAME=value entries) a local agent gets.
func AgentEnv(environ []string) []string { return execEnv(environ, localEnv) }

// env is the environment an agent starts from, before its key.
func (l *Local) env() []string {
	if l.Env != nil {
		return AgentEnv(l.Env)
	}
	return AgentEnv(os.Environ())
}

// setOnExit sets the hook that hears an agent exit with an error: the
// capacity service built on this provisioner, so that a host whose agent
// died before registering is asked again soon.
func (l *Local) setOnExit(f func(h Host, err error, logPath string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onExit = f
}

// beacon is the --beacon-listen of the next agent: Beacon, or a free
// port of its host when Beacon's port is taken (the agent tries the two in
// order, so two agents starting at once cannot both count on a port one
// of them probed free).
func (l *Local) beacon() string {
	if l.Beacon == "" || l.Beacon == "off" {
		return "off"
	}
	host, port, err := net.SplitHostPort(l.Beacon)
	if err != nil || port == "0" {
		return l.Beacon
	}
	return l.Beacon + "," + net.JoinHostPort(host, "0")
}

// Running says whether an agent this provisioner started for the compute
// runs now.
func (l *Local) Running(fleetID, computeName string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.agents[fleetID+"/"+computeName]
	return ok
}

// Stop makes Provision refuse from now on, and Reconcile leave the
// locations of this provisioner alone (Stopped): the control plane is
// stopping and the agents with it, so no host is added, kept or released
// meanwhile. Run then stops the agents.
func (l *Local) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

// Stopped reports whether Stop was called.
func (l *Local) Stopped() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopped
}

// Release tells h's agent to drain and deregister.
func (l *Local) Release(ctx context.Context, h Host) error {
	l.mu.Lock()
	a := l.agents[h.FleetID+"/"+h.ComputeName]
	l.mu.Unlock()
	if a == nil {
		return nil
	}
	if err := a.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return a.cmd.Process.Kill()
	}
	return nil
}

// grace is the agents' --drain-grace: DrainGrace, else the agent's own
// default.
func (l *Local) grace() time.Duration {
	if l.DrainGrace > 0 {
		return l.DrainGrace
	}
	return agent.DefaultDrainGrace
}

func (l *Local) log() *slog.Logger {
	if l.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Log
}

// Run owns the agents: when ctx ends it tells every agent still running to
// drain and waits for them (killing those still running after their drain
// grace and ten seconds more: a real process's time).
func (l *Local) Run(ctx context.Context) error {
	<-ctx.Done()
	l.mu.Lock()
	l.stopped = true
	agents := make([]*localAgent, 0, len(l.agents))
	for _, a := range l.agents {
		agents = append(agents, a)
		a.cmd.Process.Signal(os.Interrupt)
	}
	l.mu.Unlock()
	limit := time.NewTimer(l.grace() + 10*time.Second)
	defer limit.Stop()
	for _, a := range agents {
		select {
		case <-a.done:
		case <-limit.C:
			for _, b := range agents {
				b.cmd.Process.Kill()
			}
		}
	}
	l.wg.Wait()
	return nil
}
