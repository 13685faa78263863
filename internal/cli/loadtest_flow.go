package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/musterhq/muster/internal/loadtest"
)

const flowUsage = `Usage: muster loadtest flow [--endpoint URL] [--config NAME] [--players N] --rate R --duration D [--json]

Bots walk the whole player flow against a running Muster, as game clients
would: sign in (developer-authenticated with the operator key from
MUSTER_ACCESS_KEY_ID and MUSTER_SECRET_ACCESS_KEY, anonymous without one),
read their player record, ask for a match, wait for it to be made and
placed, connect to the game server (the example arena's protocol) and be
validated. The report gives each phase's and the end-to-end latency
(p50/p90/p99), failures by phase and kind, and the players/s sustained.
Anonymous sign-in is limited per client IP (serve --player-ip-rate).

Flags:
`

func runLoadtestFlow(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("loadtest flow", flag.ContinueOnError)
	var cfg loadtest.FlowConfig
	fs.StringVar(&cfg.Endpoint, "endpoint", defaultPlayEndpoint, "Muster `URL` (or MUSTER_ENDPOINT)")
	fs.StringVar(&cfg.AccessKeyID, "access-key-id", "", "operator access key `id` (or MUSTER_ACCESS_KEY_ID)")
	fs.StringVar(&cfg.SecretAccessKey, "secret-access-key", "", "operator `secret` (or MUSTER_SECRET_ACCESS_KEY)")
	fs.StringVar(&cfg.Configuration, "config", "dev-duel", "matchmaking `configuration` the bots play in")
	fs.IntVar(&cfg.Players, "players", 0, "start at most `N` bots in all (0: rate × duration)")
	fs.Float64Var(&cfg.Rate, "rate", 10, "bots started per second: a `number` above 0 (0.5 is one bot every 2 s)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long bots are started")
	fs.DurationVar(&cfg.Timeout, "timeout", time.Minute, "give up on a bot after this long")
	fs.DurationVar(&cfg.Hold, "hold", time.Second, "how long each validated bot stays in the game before it quits (the example game server ends a session once all its players left, so a bot that quits at once can end it before its opponent arrives)")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", 0, "most bots walking at once; a bot due beyond it is skipped and counted (0: no cap)")
	fs.BoolVar(&cfg.Polling, "polling", false, "follow tickets by polling instead of the server's event stream")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load tool itself to `file`, to see whether the tool rather than the server bounds a run")
	var sim simFlags
	fs.IntVar(&sim.slots, "simulate-servers", 0, "also host matches on this many game servers simulated at the protocol level (a compute registered for the run), to measure the control plane without starting a process per match (0: none)")
	fs.StringVar(&sim.fleet, "sim-fleet", "", "fleet `id` of the simulated game servers (default: serve --dev's fleet)")
	fs.StringVar(&sim.location, "sim-location", devLocation, "`location` of the simulated game servers")
	if ok, code := parseFlow(fs, env, args); !ok {
		return code
	}
	if checkFlowFlags(cfg, sim).report(env.Stderr, "muster loadtest flow") {
		return ExitUsage
	}
	if isTerminal(env.Stderr) && !*asJSON {
		w := env.Stderr
		cfg.Progress = func(p loadtest.Progress) { fmt.Fprintf(w, "\r\033[K%s", p.Line()) }
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(env.Stderr, "muster loadtest flow: %v\n", err)
		return ExitUsage
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(env.Stderr, "muster loadtest flow: --cpuprofile: %v\n", err)
			return 1
		}
		defer stop()
	}
	var host *loadtest.SimHost
	if sim.slots > 0 {
		var err error
		if host, err = startSimHost(ctx, cfg, sim, slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))); err != nil {
			fmt.Fprintf(env.Stderr, "muster loadtest flow: %v\n", err)
			return 1
		}
		defer func() {
			if err := host.Close(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintf(env.Stderr, "muster loadtest flow: deregister the simulated game servers: %v\n", err)
			}
		}()
	}
	rep, err := loadtest.RunFlow(ctx, cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster loadtest flow: %v\n", err)
		return 1
	}
	if cfg.Progress != nil {
		fmt.Fprintln(env.Stderr)
	}
	if host != nil {
		sr := host.Report()
		rep.SimulatedServers = &sr
		if !*asJSON {
			printSimReport(env.Stdout, sr)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		rep.Print(env.Stdout)
	}
	if rep.Failed > 0 || rep.Completed == 0 {
		return 1
	}
	return 0
}

// parseFlow parses the flags, then fills the endpoint and the operator
// key from the environment where not given. It does not use Parse: --config
// names a matchmaking configuration here, not a config file.
func parseFlow(fs *flag.FlagSet, env Env, args []string) (bool, int) {
	usage := func(w io.Writer) {
		fmt.Fprint(w, flowUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if ok, code := parseWithEnv(fs, env, args, usage, "endpoint", "access-key-id", "secret-access-key"); !ok {
		return false, code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "muster loadtest flow: takes no arguments (got %q)\n", fs.Args())
		return false, ExitUsage
	}
	return true, 0
}

// checkFlowFlags names each flag whose value the flow cannot run with
// (loadtest.FlowConfig.Validate checks the same fields, by their Go names).
func checkFlowFlags(cfg loadtest.FlowConfig, sim simFlags) *flagChecks {
	var c flagChecks
	c.check(cfg.Endpoint != "", "--endpoint", "", "required (or MUSTER_ENDPOINT)")
	c.check(cfg.Configuration != "", "--config", "", "required")
	c.check(cfg.Rate > 0, "--rate", strconv.FormatFloat(cfg.Rate, 'g', -1, 64), "must be above 0 bots per second")
	c.check(cfg.Duration > 0, "--duration", cfg.Duration.String(), "must be above 0")
	c.check(cfg.Players >= 0, "--players", strconv.Itoa(cfg.Players), "must be 0 (rate × duration) or more")
	c.check(cfg.MaxInFlight >= 0, "--max-in-flight", strconv.Itoa(cfg.MaxInFlight), "must be 0 (no cap) or more")
	c.check(cfg.Hold >= 0, "--hold", cfg.Hold.String(), "must not be negative")
	c.check(sim.slots >= 0, "--simulate-servers", strconv.Itoa(sim.slots), "must be 0 (none) or more")
	c.check(cfg.SecretAccessKey != "" || cfg.AccessKeyID == "", "--secret-access-key", "", "required with --access-key-id (or MUSTER_SECRET_ACCESS_KEY)")
	c.check(cfg.AccessKeyID != "" || cfg.SecretAccessKey == "", "--access-key-id", "", "required with --secret-access-key (or MUSTER_ACCESS_KEY_ID)")
	return &c
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startCPUProfile profiles the process into path until stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// printSimReport says what the simulated game servers did, and whether
// they rather than the control plane bounded the run.
func printSimReport(out io.Writer, r loadtest.SimReport) {
	ms := func(v float64) time.Duration {
		return time.Duration(v * float64(time.Millisecond)).Round(time.Millisecond)
	}
	fmt.Fprintf(out, "simulated game servers: %d slots hosted %d game sessions\n", r.Slots, r.GameSessions)
	fmt.Fprintf(out, "  a slot's cycle, mean over %d processes: start %v, wait for a game session %v, activate %v, play %v; %d sessions nobody joined held a slot a minute each\n",
		r.Processes, ms(r.StartMs), ms(r.WaitMs), ms(r.ActivateMs), ms(r.PlayMs), r.Unjoined)
	fmt.Fprintf(out, "  busy on average: %.0f of %d slots\n", r.BusySlots, r.Slots)
	if r.Saturated() {
		fmt.Fprintln(out, "  the slots were nearly always busy: placements waited for a free game server, so this run measured the slots rather than the control plane; give more --simulate-servers")
	}
}
