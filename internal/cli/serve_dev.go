package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/internal/agent"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/loadtest"
	"github.com/musterhq/muster/internal/server"
)

// Dev mode names: one custom location and one ANYWHERE fleet, hosted by an
// agent running inside `muster serve --dev`.
const (
	devLocation  = "custom-dev"
	devFleetName = "dev"
	devCompute   = "dev-host"
	// DefaultDevProcesses is --dev-processes' default: enough game
	// servers on a laptop for a few matches at once.
	DefaultDevProcesses = 4
)

// devSystem makes `muster serve --dev` a whole working system: once the
// control plane listens, it builds the example game server (when run from
// a source checkout with a Go toolchain), makes sure the dev location and
// fleet exist, sets up matchmaking on it (devsetup.go), and runs a host
// agent for that fleet in process, with its latency beacon on
// 127.0.0.1:7770 (a free port when that is taken). Without the example's
// source it still runs the agent, with whatever runtime configuration the
// dev fleet has.
type devSystem struct {
	srv     *server.Server
	cfg     server.Config
	log     *slog.Logger
	addr    chan string
	dataDir string
	// processes is how many game server processes the dev fleet runs.
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

func (d *devSystem) run(ctx context.Context) error {
	var addr string
	select {
	case addr = <-d.addr:
	case <-ctx.Done():
		return nil
	}
	endpoint := "http://" + addr
	key, secret, err := d.srv.Keys().Create(ctx, auth.RoleAdmin, "dev-mode agent (serve --dev)")
	if err != nil {
		return fmt.Errorf("dev mode: create the agent's key: %w", err)
	}
	defer func() {
		// The key lives only as long as this dev run.
		_ = d.srv.Keys().Revoke(context.WithoutCancel(ctx), key.AccessKeyID)
	}()
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: secret}
	control := loadtest.NewControlClient(endpoint, d.cfg.Region, creds, false, 4)

	launchPath := d.buildArena(ctx)
	fleetID, err := d.ensureFleet(ctx, control, launchPath)
	if err != nil {
		return err
	}
	if err := forgetDeadProcesses(ctx, control, fleetID); err != nil {
		return err
	}
	setup := devSetup{control: control, endpoint: endpoint, keyID: key.AccessKeyID, secret: secret,
		arns: gamelift.ARNBuilder{Region: d.cfg.Region, Account: d.cfg.Account}}
	if err := setup.ensure(ctx, fleetID); err != nil {
		return err
	}
	client, err := agent.NewClient(agent.ClientConfig{Endpoint: endpoint, Region: d.cfg.Region, AccessKeyID: key.AccessKeyID, SecretAccessKey: secret})
	if err != nil {
		return err
	}
	var reported *agent.BeaconAddress
	var wg sync.WaitGroup
	defer wg.Wait()
	if b, err := d.listenBeacon(ctx); err != nil {
		d.log.Warn("dev mode: no latency beacon", "err", err)
	} else {
		reported = &agent.BeaconAddress{Domain: "127.0.0.1", Port: b.Addr().(*net.UDPAddr).Port}
		wg.Go(func() { b.Serve(ctx) }) // ends with ctx
	}
	sup, err := agent.New(agent.Config{
		FleetID: fleetID, ComputeName: devCompute, Location: devLocation, IPAddress: "127.0.0.1",
		Control:  client,
		Launcher: &agent.ExecLauncher{LogDir: filepath.Join(d.dataDir, "dev-agent", "logs"), WorkDir: filepath.Join(d.dataDir, "dev-agent", "work")},
		Log:      d.log.With("component", "dev-agent"),
		BaseEnv:  os.Environ(),
		Beacon:   reported,
	})
	if err != nil {
		return fmt.Errorf("dev mode: agent: %w", err)
	}
	d.log.Info("dev mode: a local agent hosts the dev fleet", "fleet_id", fleetID, "location", devLocation, "launch_path", launchPath)
	wg.Go(func() { d.announceWhenReady(ctx, endpoint, fleetID) })
	// The agent outlives ctx by the drain: on Ctrl-C live matches may end
	// first, while the control plane still serves them.
	agentCtx, stopAgent := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgent()
	agentDone := make(chan struct{})
	wg.Go(func() {
		select {
		case <-ctx.Done():
			d.newDevDrain(fleetID).run(context.WithoutCancel(ctx))
			stopAgent()
		case <-agentDone:
		}
	})
	err = sup.Run(agentCtx)
	close(agentDone)
	return err
}

// buildArena builds examples/arena into the data directory when the source
// and a Go toolchain are here; it returns "" otherwise.
func (d *devSystem) buildArena(ctx context.Context) string {
	if _, err := os.Stat(filepath.Join("examples", "arena", "main.go")); err != nil {
		d.log.Info("dev mode: examples/arena not found in the working directory; the dev fleet keeps its runtime configuration")
		return ""
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		d.log.Info("dev mode: no Go toolchain to build examples/arena")
		return ""
	}
	out := filepath.Join(d.dataDir, "bin", "arena")
	abs, err := filepath.Abs(out)
	if err != nil {
		return ""
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", abs, "./examples/arena")
	if b, err := cmd.CombinedOutput(); err != nil {
		d.log.Warn("dev mode: building examples/arena failed", "err", err, "output", strings.TrimSpace(string(b)))
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
// it hooks cfg.OnListening to learn the bound address. Set srv and add run
// as a background service once the server exists.
func newDevSystem(cfg *server.Config, log *slog.Logger, processes int, out io.Writer) *devSystem {
	d := &devSystem{log: log, addr: make(chan string, 1), dataDir: cfg.DataDir, processes: processes, out: out}
	prev := cfg.OnListening
	cfg.OnListening = func(a string) {
		if prev != nil {
			prev(a)
		}
		d.addr <- a
	}
	d.cfg = *cfg
	return d
}

// background is run as a server background service: dev mode failing
// leaves the control plane running, with the reason in the log.
func (d *devSystem) background(ctx context.Context) error {
	if err := d.run(ctx); err != nil && ctx.Err() == nil {
		d.stopped.Store(&err)
		d.log.Error("dev mode stopped; the control plane keeps running", "err", err)
	}
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

// forgetDeadProcesses deregisters the dev compute left by an earlier run.
// Its game servers were this process's children and died with it, but a
// run that was killed (kill -9, a crash) could not say so: until the
// heartbeat lapsed, its processes would still count as ready and take
// placements nobody can join.
func forgetDeadProcesses(ctx context.Context, c *loadtest.ControlClient, fleetID string) error {
	err := c.Do(ctx, "DeregisterCompute", gamelift.DeregisterComputeInput{FleetId: fleetID, ComputeName: devCompute}, nil)
	var apiErr *loadtest.APIError
	if err != nil && !(errors.As(err, &apiErr) && apiErr.Type == "NotFoundException") {
		return fmt.Errorf("dev mode: forget the last run's processes: %w", err)
	}
	return nil
}

// listenBeacon listens for pings on 127.0.0.1:7770 or, when that is taken
// (another dev server on this machine), on a free port: without a beacon
// players measure no latency, and a rule set with a latency rule (dev-5v5)
// can never match them.
func (d *devSystem) listenBeacon(ctx context.Context) (*beacon.Server, error) {
	b, err := beacon.Listen(ctx, "127.0.0.1:7770", d.log)
	if err == nil {
		return b, nil
	}
	d.log.Info("dev mode: 127.0.0.1:7770 is taken; the latency beacon listens on a free port", "err", err)
	return beacon.Listen(ctx, "127.0.0.1:0", d.log)
}
