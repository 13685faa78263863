package capacity

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
//
// A host's directory goes once its agent exited after a release or with
// the control plane, except the last keptReleasedDirs of them, left for a
// post-mortem; an agent that exits otherwise keeps its directory, whose
// log says why and which the host's next Provision reuses. The directories
// an earlier run of the control plane left count as retired before this
// run's, oldest first, so that a restart or a crash leaks none.
type Local struct {
	// Binary is the muster executable.
	Binary string
	// Endpoint is the control plane's URL, known once it listens.
	Endpoint func() string
	// Keys, when set, gives each host's agent a key of its own, bound to
	// its fleet and compute name: made before the agent starts, revoked
	// once it exits, so an agent can run no other host of its fleet and
	// a released host's key works no more.
	Keys HostKeys
	// Credentials, used only without Keys, returns the operator key every
	// agent of a fleet shares: an agent key (auth.RoleAgent) bound to that
	// fleet, never an admin key, which the agent's game servers could read
	// from its environment.
	Credentials func(ctx context.Context, fleetID string) (id, secret string, err error)
	// Env is the environment the agents start from, besides their key; nil
	// is the allowed part of this process's (AgentEnv).
	Env []string
	// Dir holds each agent's logs and working directory. It is this
	// Local's alone: what an earlier run left there is deleted.
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
	// retired are the directories of hosts whose agents exited after a
	// release or with the control plane, oldest first: the ones kept.
	retired []string
	// leftovers retires the directories an earlier run left, once.
	leftovers sync.Once
	// onExit hears an agent that exited with an error (New sets it).
	onExit func(h Host, err error, logPath string)
	wg     sync.WaitGroup
}

// HostKeys makes and revokes the key of one host's agent
// (identity.AgentKeys).
type HostKeys interface {
	Mint(ctx context.Context, fleetID, computeName string) (id, secret string, err error)
	RevokeKey(ctx context.Context, id string) error
}

// keptReleasedDirs is how many retired hosts' directories stay on disk:
// enough to read why the last few agents ended, few enough that a data
// directory does not fill with the logs of hosts long gone.
const keptReleasedDirs = 3

// LocalBeacon is where the latency beacon of a local provisioner's agents
// listens: on this machine, like their game servers (--ip-address
// 127.0.0.1), so that players here can measure the location as players
// elsewhere measure a remote one.
const LocalBeacon = "127.0.0.1:7770"

var errStopping = errors.New("local provisioner: the control plane is stopping")

type localAgent struct {
	cmd  *exec.Cmd
	done chan struct{}
	dir  string
	// key is the agent's own key, revoked when it exits ("" for a key
	// shared by the fleet, from Credentials).
	key string
	// released is set by Release, under Local.mu.
	released bool
}

// agentKey is the key an agent starts with; minted says that it is the
// agent's own, from Keys.
type agentKey struct {
	id, secret string
	minted     bool
}

// Provision starts an agent for h unless one runs.
func (l *Local) Provision(ctx context.Context, h Host) error {
	if l.Stopped() {
		return errStopping
	}
	endpoint := l.Endpoint()
	if endpoint == "" {
		return errors.New("local provisioner: the control plane does not listen yet")
	}
	if l.Running(h.FleetID, h.ComputeName) {
		return nil // a repeated Provision makes no key
	}
	key, err := l.key(ctx, h)
	if err != nil {
		return fmt.Errorf("local provisioner: operator key: %w", err)
	}
	started, err := l.start(h, endpoint, key)
	if !started && key.minted {
		l.revoke(key.id) // no agent holds it
	}
	return err
}

// key is the key h's agent starts with: its own when there are Keys.
func (l *Local) key(ctx context.Context, h Host) (agentKey, error) {
	if l.Keys != nil {
		id, secret, err := l.Keys.Mint(ctx, h.FleetID, h.ComputeName)
		return agentKey{id, secret, true}, err
	}
	id, secret, err := l.Credentials(ctx, h.FleetID)
	return agentKey{id: id, secret: secret}, err
}

// revoke revokes an agent's own key. A failure is only logged: the key is
// no longer renewed, so it lapses within a minute anyway.
func (l *Local) revoke(id string) {
	// The agent is gone whatever the caller's context; the store bounds
	// its own work.
	if err := l.Keys.RevokeKey(context.Background(), id); err != nil {
		l.log().Warn("local provisioner: revoking an agent's key failed; it lapses unrenewed", "access_key_id", id, "err", err)
	}
}

// start starts h's agent with key unless the provisioner is stopping or
// an agent of h runs already, and says whether it started one.
func (l *Local) start(h Host, endpoint string, key agentKey) (bool, error) {
	// Before the first agent starts, so that no directory is in use but
	// h's. A concurrent first start waits for it, so it deletes no
	// directory under an agent starting there. Only where no agent of an
	// earlier run can still be running in one.
	if agentsDieWithControlPlane {
		l.leftovers.Do(func() { l.retireLeftovers(filepath.Join(l.Dir, h.ComputeName)) })
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return false, errStopping
	}
	if l.agents == nil {
		l.agents = map[string]*localAgent{}
	}
	name := h.FleetID + "/" + h.ComputeName
	if _, running := l.agents[name]; running {
		return false, nil
	}
	dir := filepath.Join(l.Dir, h.ComputeName)
	l.retired = slices.DeleteFunc(l.retired, func(d string) bool { return d == dir }) // in use again
	logFile := filepath.Join(dir, "agent.log")
	cmd := exec.Command(l.Binary, "agent", "--endpoint", endpoint, "--fleet", h.FleetID, "--location", h.Location,
		"--compute-name", h.ComputeName, "--ip-address", "127.0.0.1", "--log-file", logFile,
		"--log-dir", filepath.Join(dir, "logs"), "--work-dir", filepath.Join(dir, "work"), "--drain-grace", l.grace().String(), "--beacon-listen", l.beacon())
	cmd.Env = append(l.env(), "MUSTER_ACCESS_KEY_ID="+key.id, "MUSTER_SECRET_ACCESS_KEY="+key.secret)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("local provisioner: %w", err)
	}
	// The agent rotates agent.log itself (--log-file); agent.out holds only
	// what it writes outside its log (a usage error, a panic), one run's
	// worth. A file, not a pipe: an agent draining after the control
	// plane died must not die of SIGPIPE.
	out, err := os.OpenFile(filepath.Join(dir, "agent.out"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return false, fmt.Errorf("local provisioner: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	detach(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return false, fmt.Errorf("local provisioner: start agent: %w", err)
	}
	a := &localAgent{cmd: cmd, done: make(chan struct{}), dir: dir}
	if key.minted {
		a.key = key.id
	}
	l.agents[name] = a
	l.wg.Go(func() { l.wait(h, name, a, out, logFile) })
	l.log().Info("local agent started", "compute_name", h.ComputeName, "location", h.Location, "pid", cmd.Process.Pid)
	return true, nil
}

// wait waits for agent a of h to exit, then revokes its key and retires
// its directory before it stops counting as running, so that Running
// turning false means both are done.
func (l *Local) wait(h Host, name string, a *localAgent, out *os.File, logFile string) {
	err := a.cmd.Wait()
	out.Close()
	if a.key != "" {
		l.revoke(a.key)
	}
	logPath := exitLog(out.Name(), logFile)
	l.mu.Lock()
	retire := a.released || l.stopped
	l.mu.Unlock()
	if retire {
		l.retire(a.dir)
	}
	l.mu.Lock()
	if l.agents[name] == a {
		delete(l.agents, name)
	}
	onExit, stopping := l.onExit, l.stopped
	l.mu.Unlock()
	close(a.done)
	l.log().Info("local agent exited", "compute_name", h.ComputeName, "err", err, "log", logPath)
	if err != nil && onExit != nil && !stopping {
		onExit(h, err, logPath)
	}
}

// retire keeps dir among the last keptReleasedDirs retired directories
// and deletes the oldest one beyond them.
func (l *Local) retire(dir string) {
	l.mu.Lock()
	l.retired = append(l.retired, dir)
	gone := l.trimRetired()
	l.mu.Unlock()
	l.removeDirs(gone)
}

// retireLeftovers retires the directories under Dir an earlier run of the
// control plane left (a restart, a crash), but keep, the directory of the
// host starting: retired lives only in memory, so they would otherwise
// stay forever, one per host that run ever had. They count as older than
// this run's, and the oldest beyond keptReleasedDirs go at once.
func (l *Local) retireLeftovers(keep string) {
	dirs := slices.DeleteFunc(l.leftDirs(), func(d string) bool { return d == keep })
	l.mu.Lock()
	l.retired = append(dirs, l.retired...)
	gone := l.trimRetired()
	l.mu.Unlock()
	l.removeDirs(gone)
}

// leftDirs are the directories under Dir, oldest first by modification
// time (then by name). Only directories: a host's is one, and a file or a
// symbolic link there is someone else's.
func (l *Local) leftDirs() []string {
	if l.Dir == "" {
		return nil // the agents' directories are then the working directory's entries, not ours to clear
	}
	entries, err := os.ReadDir(l.Dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) { // no Dir yet: nothing left
			l.log().Warn("local provisioner: listing the directories an earlier run left failed; they stay", "dir", l.Dir, "err", err)
		}
		return nil
	}
	type left struct {
		path string
		mod  time.Time
	}
	var dirs []left
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.IsDir() { // an entry gone meanwhile needs no deleting
			dirs = append(dirs, left{filepath.Join(l.Dir, e.Name()), info.ModTime()})
		}
	}
	slices.SortStableFunc(dirs, func(a, b left) int { return a.mod.Compare(b.mod) }) // ReadDir sorts by name
	paths := make([]string, len(dirs))
	for i, d := range dirs {
		paths[i] = d.path
	}
	return paths
}

// trimRetired drops the retired directories beyond the last
// keptReleasedDirs, under l.mu, and returns them for removeDirs.
func (l *Local) trimRetired() []string {
	n := len(l.retired) - keptReleasedDirs
	if n <= 0 {
		return nil
	}
	gone := slices.Clone(l.retired[:n])
	l.retired = slices.Delete(l.retired, 0, n)
	return gone
}

// removeDirs deletes retired directories, outside l.mu: a game server's
// work directory can take a while. A failure leaves one behind, logged.
func (l *Local) removeDirs(dirs []string) {
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			l.log().Warn("local provisioner: deleting a released host's directory failed", "dir", d, "err", err)
		}
	}
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

// Release tells h's agent to drain and deregister. Its key works until it
// exits, since draining and deregistering need it; its directory goes then.
func (l *Local) Release(ctx context.Context, h Host) error {
	l.mu.Lock()
	a := l.agents[h.FleetID+"/"+h.ComputeName]
	if a != nil {
		a.released = true
	}
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
