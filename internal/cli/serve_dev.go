package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/musterhq/muster/internal/capacity"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/loadtest"
	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/store"
)

// Dev mode names: one custom location and one ANYWHERE fleet, whose hosts
// are `muster agent` processes the local provisioner starts on this machine.
const (
	devLocation  = "custom-dev"
	devFleetName = "dev"
	// DefaultDevProcesses is --dev-processes' default: enough game
	// servers on a laptop for a few matches at once.
	DefaultDevProcesses = 4
	// maxDevProcesses is GameLift's most server processes on one
	// compute, which a fleet's runtime configuration may not exceed.
	maxDevProcesses = 50
)

// devCapacity is the dev location's capacity when none was ever set: one
// host running --dev-processes game servers. UpdateFleetCapacity changes it
// (raise MaxSize first), and a later run keeps what was set.
var devCapacity = struct{ desired, min, max int32 }{1, 1, 1}

// devSystem makes `muster serve --dev` a whole working system: once the
// control plane listens, it builds the example game server (when run from
// a source checkout with a Go toolchain), makes sure the dev location and
// fleet exist, sets up matchmaking on it (devsetup.go), and gives the dev
// location its capacity: the local capacity provisioner (which dev mode
// owns and stops) starts a `muster agent` for each of its hosts, with its
// latency beacon on 127.0.0.1:7770 (a free port when that is taken).
// Without the example's source the agents run whatever runtime
// configuration the dev fleet has.
type devSystem struct {
	srv     *server.Server
	cfg     server.Config
	log     *slog.Logger
	addr    chan string
	dataDir string
	// endpoint is the control plane's URL once it listens.
	endpoint atomic.Pointer[string]
	// local starts and stops the dev location's agents.
	local *capacity.Local
	// key is dev mode's own admin key, made when first needed and revoked
	// when dev mode ends; its Keys are set with srv. agentKeys are its
	// agents' keys (agent role, each bound to its host's compute of the
	// dev fleet), likewise.
	key       identity.TransientKey
	agentKeys identity.AgentKeys
	// processes is how many game server processes each dev host runs.
	processes int
	// drainGrace is how long Ctrl-C lets live matches go on before the
	// game servers are stopped (serve_dev_drain.go); 0 stops them at once.
	drainGrace time.Duration
	// out receives the banner saying where everything is, once ready.
	out io.Writer
	// ready is set once the dev fleet first has an idle process: /readyz
	// answers ready from then on (readyCheck).
	ready atomic.Bool
	// stopped is why dev mode stopped, if it did: /readyz then says so.
	stopped atomic.Pointer[error]
}

// attach gives dev mode the server built from the configuration it hooked.
func (d *devSystem) attach(srv *server.Server) {
	d.srv, d.key.Keys, d.agentKeys.Keys = srv, srv.Keys(), srv.Keys()
}

// run sets dev mode up, then waits for ctx and drains the dev location:
// on return no match is being played there any more (or the grace passed).
func (d *devSystem) run(ctx context.Context) error {
	var addr string
	select {
	case addr = <-d.addr:
	case <-ctx.Done():
		return nil
	}
	endpoint := "http://" + addr
	d.endpoint.Store(&endpoint)
	keyID, secret, err := d.key.Get(ctx)
	if err != nil {
		return fmt.Errorf("dev mode: create the agents' key: %w", err)
	}
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	control := loadtest.NewControlClient(endpoint, d.cfg.Region, creds, false, 4)

	launchPath := d.buildArena(ctx)
	fleetID, err := d.ensureFleet(ctx, control, launchPath)
	if err != nil {
		return err
	}
	if err := d.forgetDeadComputes(ctx, control, fleetID); err != nil {
		return err
	}
	setup := devSetup{control: control, endpoint: endpoint, keyID: keyID, secret: secret,
		arns: gamelift.ARNBuilder{Region: d.cfg.Region, Account: d.cfg.Account}}
	if err := setup.ensure(ctx, fleetID); err != nil {
		return err
	}
	if err := d.ensureCapacity(ctx, control, fleetID); err != nil {
		return err
	}
	d.log.Info("dev mode: the local provisioner hosts the dev fleet", "fleet_id", fleetID, "location", devLocation, "launch_path", launchPath)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { d.announceWhenReady(ctx, endpoint, fleetID) })
	<-ctx.Done()
	// The agents outlive ctx by the drain: on Ctrl-C live matches may end
	// first, while the control plane still serves them. No host is added
	// or released meanwhile.
	d.local.Stop()
	d.newDevDrain(fleetID).run(context.WithoutCancel(ctx))
	return nil
}

// ensureCapacity gives the dev location its default capacity unless one
// was set (by an earlier run or an operator), and has the capacity service
// look at it at once.
func (d *devSystem) ensureCapacity(ctx context.Context, c *loadtest.ControlClient, fleetID string) error {
	var set bool
	err := d.srv.Store().View(ctx, func(r store.Reader) error {
		cp, _, found, err := fleet.GetCapacity(ctx, r, fleetID, devLocation)
		set = found && cp.Set
		return err
	})
	if err != nil {
		return fmt.Errorf("dev mode: capacity: %w", err)
	}
	if !set {
		in := gamelift.UpdateFleetCapacityInput{FleetId: fleetID, Location: devLocation,
			DesiredInstances: &devCapacity.desired, MinSize: &devCapacity.min, MaxSize: &devCapacity.max}
		if err := c.Do(ctx, "UpdateFleetCapacity", in, nil); err != nil {
			return fmt.Errorf("dev mode: capacity: %w", err)
		}
	}
	if d.srv.Capacity != nil {
		d.srv.Capacity.Wake()
	}
	return nil
}

// buildArena builds examples/arena into the data directory when the source
// and a Go toolchain are here; it returns "" otherwise.
func (d *devSystem) buildArena(ctx context.Context) string {
	// A dev fleet made without a game server to run never becomes ready,
	// so these say what to do at WARN level rather than in passing.
	const keeps = "the dev fleet keeps its runtime configuration, and a new one has none and never becomes ready: "
	if _, err := os.Stat(filepath.Join("examples", "arena", "main.go")); err != nil {
		d.log.Warn("dev mode: examples/arena not found in the working directory; " + keeps +
			"run muster serve --dev from the repository root, or set the dev fleet's launch path with UpdateRuntimeConfiguration")
		return ""
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		d.log.Warn("dev mode: no Go toolchain to build examples/arena; " + keeps +
			"install Go, or set the dev fleet's launch path with UpdateRuntimeConfiguration")
		return ""
	}
	out := filepath.Join(d.dataDir, "bin", "arena")
	abs, err := filepath.Abs(out)
	if err != nil {
		return ""
	}
	// Built beside it and renamed over it: game servers a dev agent
	// already runs from it (a capacity set by an earlier run is provisioned
	// at once) keep their executable.
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", abs+".new", "./examples/arena")
	if b, err := cmd.CombinedOutput(); err != nil {
		d.log.Warn("dev mode: building examples/arena failed", "err", err, "output", strings.TrimSpace(string(b)))
		return ""
	}
	if err := os.Rename(abs+".new", abs); err != nil {
		d.log.Warn("dev mode: building examples/arena failed", "err", err)
		return ""
	}
	return abs
}

// ensureFleet returns the dev fleet's id, creating the location and fleet
// on first use and pointing the runtime configuration at launchPath.
func (d *devSystem) ensureFleet(ctx context.Context, c *loadtest.ControlClient, launchPath string) (string, error) {
	var apiErr *loadtest.APIError
	err := c.Do(ctx, "CreateLocation", gamelift.CreateLocationInput{LocationName: devLocation}, nil)
	if err != nil && !(errors.As(err, &apiErr) && apiErr.Type == "ConflictException") {
		return "", fmt.Errorf("dev mode: %w", err)
	}
	n := int32(d.processes)
	runtime := &gamelift.RuntimeConfiguration{ServerProcesses: []gamelift.ServerProcess{{LaunchPath: launchPath,
		Parameters: "--idle-exit " + devIdleExit.String(), ConcurrentExecutions: &n}}}
	idFile := filepath.Join(d.dataDir, "dev-fleet-id")
	if b, err := os.ReadFile(idFile); err == nil {
		id := strings.TrimSpace(string(b))
		if launchPath != "" {
			if err := c.Do(ctx, "UpdateRuntimeConfiguration", gamelift.UpdateRuntimeConfigurationInput{FleetId: id, RuntimeConfiguration: runtime}, nil); err != nil {
				return "", fmt.Errorf("dev mode: %w", err)
			}
		}
		return id, nil
	}
	in := gamelift.CreateFleetInput{Name: devFleetName, ComputeType: "ANYWHERE", Description: "created by muster serve --dev",
		Locations: []gamelift.LocationConfiguration{{Location: devLocation}}}
	if launchPath != "" {
		in.RuntimeConfiguration = runtime
	}
	var out gamelift.CreateFleetOutput
	if err := c.Do(ctx, "CreateFleet", in, &out); err != nil {
		return "", fmt.Errorf("dev mode: %w", err)
	}
	id := out.FleetAttributes.FleetId
	if err := os.WriteFile(idFile, []byte(id+"\n"), 0o600); err != nil {
		return "", err
	}
	return id, nil
}

// newDevSystem prepares dev mode for a server about to be built from cfg:
// it hooks cfg.OnListening to learn the bound address and gives the dev
// location its local provisioner. Attach the server and add background as a
// background service once the server exists.
func newDevSystem(cfg *server.Config, log *slog.Logger, processes int, out io.Writer) *devSystem {
	d := &devSystem{log: log, addr: make(chan string, 1), dataDir: cfg.DataDir, processes: processes, out: out}
	d.key.Description = "dev mode (serve --dev)"
	d.agentKeys.Description = "dev-mode agents (serve --dev)"
	prev := cfg.OnListening
	cfg.OnListening = func(a string) {
		if prev != nil {
			prev(a)
		}
		d.addr <- a
	}
	binary, err := os.Executable()
	if err != nil {
		log.Warn("dev mode: cannot tell where the muster executable is; no agent can start", "err", err)
	}
	d.local = &capacity.Local{Binary: binary, Endpoint: d.agentEndpoint, Keys: &d.agentKeys, Dir: filepath.Join(cfg.DataDir, "dev-agents"),
		Beacon: capacity.LocalBeacon, Log: log.With("component", "dev-agents")}
	provs := map[string]capacity.Provisioner{devLocation: d.local}
	for loc, p := range cfg.Provisioners {
		if loc != devLocation {
			provs[loc] = p
		}
	}
	cfg.Provisioners = provs
	d.cfg = *cfg
	return d
}

// agentEndpoint is the control plane's URL for the dev agents ("" until
// it listens).
func (d *devSystem) agentEndpoint() string {
	if e := d.endpoint.Load(); e != nil {
		return *e
	}
	return ""
}

// background is run as a server background service stopped before the
// listeners close: it runs dev mode and the dev agents, and on stop drains
// the dev location, then stops the agents (they deregister their computes
// while the control plane still listens). Dev mode failing stops the dev
// agents and leaves the control plane running, with the reason in the log.
func (d *devSystem) background(ctx context.Context) error {
	agentsCtx, stopAgents := context.WithCancel(context.WithoutCancel(ctx))
	var agents sync.WaitGroup
	agents.Go(func() { d.local.Run(agentsCtx) })
	if err := d.run(ctx); err != nil && ctx.Err() == nil {
		d.stopped.Store(&err)
		d.log.Error("dev mode stopped; the control plane keeps running", "err", err)
		d.local.Stop() // no dev agents without dev mode
	}
	stopAgents()
	agents.Wait()
	_ = d.key.Revoke(context.WithoutCancel(ctx))
	_ = d.agentKeys.Revoke(context.WithoutCancel(ctx))
	return nil
}

// readyCheck is the server's extra /readyz condition in dev mode: a
// newcomer's first match needs a game server ready to take it.
func (d *devSystem) readyCheck(context.Context) error {
	if d.ready.Load() {
		return nil
	}
	if err := d.stopped.Load(); err != nil {
		return fmt.Errorf("dev mode stopped: %w", *err)
	}
	return errors.New("dev mode: the dev fleet has no ready game server process yet")
}

// announceWhenReady waits for the dev fleet's first idle process, then
// marks the system ready and prints where everything is.
func (d *devSystem) announceWhenReady(ctx context.Context, endpoint, fleetID string) {
	tick := time.NewTicker(200 * time.Millisecond) // real time: a process starting up, not business time
	defer tick.Stop()
	for {
		n, err := d.srv.Hosting.Fleets.IdleProcessCount(ctx, fleetID, devLocation)
		if err == nil && n > 0 {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	d.ready.Store(true)
	d.log.Info("dev mode: ready to match", "fleet_id", fleetID)
	fmt.Fprint(d.out, d.banner(endpoint))
}

// banner says where the APIs and credentials are and what to try next.
func (d *devSystem) banner(endpoint string) string {
	creds := filepath.Join(d.dataDir, "admin-credentials") + " (MUSTER_ACCESS_KEY_ID, MUSTER_SECRET_ACCESS_KEY)"
	if d.cfg.AdminAccessKeyID != "" {
		creds = "the admin key given at first start (" + d.cfg.AdminAccessKeyID + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nMuster is ready to match (dev mode).\n")
	fmt.Fprintf(&b, "  Control API (GameLift): %s  region %s  (aws gamelift --endpoint-url %s ...)\n", endpoint, d.cfg.Region, endpoint)
	fmt.Fprintf(&b, "  Player API:             %s/v1  (OpenAPI document: %s/v1/openapi.json)\n", endpoint, endpoint)
	fmt.Fprintf(&b, "  Operator credentials:   %s\n", creds)
	fmt.Fprintf(&b, "  Matchmaking:            configurations")
	for _, c := range devConfigurations {
		fmt.Fprintf(&b, " %s", c.name)
	}
	fmt.Fprintf(&b, " (open to players), queue %s, fleet %s (%d arena processes in %s)\n", devQueue, devFleetName, d.processes, devLocation)
	play := "go run ./cmd/muster play"
	if endpoint != defaultPlayEndpoint {
		play += " --endpoint " + endpoint
	}
	fmt.Fprintf(&b, "Next, in another terminal:\n  %s\n  %s --config dev-5v5 --players 10\n\n", play, play)
	return b.String()
}

// forgetDeadComputes deregisters the computes of the dev location left by
// an earlier run: their agents were this process's children and stopped
// with it, but a run that was killed (kill -9, a crash) could not say so:
// until their heartbeats lapsed, their processes would still count as
// ready and take placements nobody can join, and the location would look
// as large as its desired capacity. Computes of agents this run started
// are kept.
func (d *devSystem) forgetDeadComputes(ctx context.Context, c *loadtest.ControlClient, fleetID string) error {
	var computes []gamelift.Compute
	for next := ""; ; {
		var out gamelift.ListComputeOutput
		if err := c.Do(ctx, "ListCompute", gamelift.ListComputeInput{FleetId: fleetID, Location: devLocation, NextToken: next}, &out); err != nil {
			return fmt.Errorf("dev mode: forget the last run's computes: %w", err)
		}
		computes = append(computes, out.ComputeList...)
		if next = out.NextToken; next == "" {
			break
		}
	}
	for _, cp := range computes {
		if d.local.Running(fleetID, cp.ComputeName) {
			continue
		}
		err := c.Do(ctx, "DeregisterCompute", gamelift.DeregisterComputeInput{FleetId: fleetID, ComputeName: cp.ComputeName}, nil)
		var apiErr *loadtest.APIError
		if err != nil && !(errors.As(err, &apiErr) && apiErr.Type == "NotFoundException") {
			return fmt.Errorf("dev mode: forget the last run's computes: %w", err)
		}
	}
	return nil
}
