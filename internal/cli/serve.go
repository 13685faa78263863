package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/server"
)

func runServe(ctx context.Context, env Env, args []string) int {
	fs, common := commonFlagSet("serve")
	var cfg server.Config
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "`address` to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&cfg.AddrFile, "addr-file", "", "write the bound address to this `file` once listening")
	fs.StringVar(&cfg.Region, "region", server.DefaultRegion, "`region` name used in ARNs (must look like an AWS region, [a-z]{2}-[a-z]+-N, or the server SDKs reject game session ids)")
	fs.StringVar(&cfg.Account, "account", "000000000000", "12-digit `account` id used in ARNs")
	fs.StringVar(&cfg.AdminAccessKeyID, "admin-access-key-id", "", "on first start, create the first admin key with this `id` (else one is generated)")
	fs.StringVar(&cfg.AdminSecretAccessKey, "admin-secret-access-key", "", "the first admin key's `secret` (with --admin-access-key-id)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let in-flight requests finish on SIGINT/SIGTERM")
	fs.DurationVar(&cfg.MaxSkew, "max-clock-skew", 5*time.Minute, "largest SigV4 clock skew accepted")
	fs.BoolVar(&cfg.Dev, "dev", false, "development mode: one command for a whole working system: the local capacity provisioner starts a muster agent on this machine hosting a dev fleet in location custom-dev (capacity 1 host until UpdateFleetCapacity changes it) running examples/arena (built from source when run in a checkout), with sample matchmaking configurations dev-duel and dev-5v5 open to players (try muster play)")
	devProcesses := fs.Int("dev-processes", DefaultDevProcesses, fmt.Sprintf("with --dev: how many example game server processes each dev host runs at once (1 to %d, as GameLift runs at most %[1]d on a compute)", maxDevProcesses))
	devDrainGrace := fs.Duration("dev-drain-grace", DefaultDevDrainGrace, "with --dev: on Ctrl-C, how long matches being played may go on before the game servers are stopped (no new match starts meanwhile; Ctrl-C again stops at once)")
	fs.DurationVar(&cfg.MatchmakingCycleInterval, "matchmaking-cycle-interval", 250*time.Millisecond, "longest time between two matchmaking cycles of a configuration (a cycle also runs as soon as tickets arrive)")
	fs.DurationVar(&cfg.MatchmakingTicketRetention, "matchmaking-ticket-retention", time.Hour, "how long finished matchmaking tickets stay readable")
	fs.BoolVar(&cfg.FakeClock, "fake-clock", false, "TESTING ONLY: time moves only through POST /v1/admin/clock/advance")
	registerHostingFlags(fs, &cfg)
	registerCapacityFlags(fs, &cfg)
	registerBusFlags(fs, &cfg)
	finishListener := registerListenerFlags(fs, &cfg)
	finishLimits := registerLimitFlags(fs, &cfg)
	registerOutboxFlags(fs, &cfg)
	registerSheddingFlags(fs, &cfg)
	finishIdentity := registerIdentityFlags(fs, &cfg.Player)
	if ok, code := Parse(fs, env, "muster serve [flags]", args); !ok {
		return code
	}
	// Every value serve cannot use is named now, before the data
	// directory is made or anything listens.
	var checks flagChecks
	if fs.NArg() > 0 {
		checks.add(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	checks.check(*devProcesses >= 1 && *devProcesses <= maxDevProcesses, "--dev-processes", strconv.Itoa(*devProcesses),
		fmt.Sprintf("must be 1 to %d", maxDevProcesses))
	if _, err := common.parseMasterKey(); err != nil {
		checks.add(err.Error())
	}
	finishListener()
	finishLimits(&checks)
	finishIdentity(&checks)
	if checks.report(env.Stderr, "muster serve") {
		return ExitUsage
	}
	log, err := common.logger(env.Stderr)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return ExitUsage
	}
	cfg.DataDir, cfg.MasterKey, cfg.Store, cfg.Version = common.dataDir, common.masterKey.value, common.storeURL, env.Version
	var dev *devSystem
	if cfg.Dev {
		dev = newDevSystem(&cfg, log, *devProcesses, env.Stdout)
		dev.drainGrace = *devDrainGrace
	}
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if dev != nil {
		dev.attach(srv)
		srv.SetReadyCheck(dev.readyCheck)
		srv.AddStopFirst(dev.background)
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}

// registerListenerFlags adds the main listener's TLS, metrics and
// credential-transport flags; the returned func finishes them after Parse.
func registerListenerFlags(fs *flag.FlagSet, cfg *server.Config) func() {
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "serve HTTPS (HTTP/2) with this PEM certificate `file` (with --tls-key); reloaded on SIGHUP or when the file changes")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "the PEM private key `file` of --tls-cert")
	fs.BoolVar(&cfg.WebhookAllowPrivate, "webhook-allow-private", false, "let webhook deliveries and studio hooks reach loopback and private networks (and hooks use http://); link-local, cloud metadata and Muster's own addresses stay refused")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve /metrics on its own `address` (loopback when no host is given, e.g. :9100); /metrics on --listen then needs an operator key")
	proxies := fs.String("trusted-proxies", "", "comma-separated `CIDRs` of TLS-terminating proxies whose X-Forwarded-Proto: https is believed (bearer operator keys through them count as HTTPS)")
	fs.BoolVar(&cfg.AllowInsecureBearer, "allow-insecure-bearer", false, "accept bearer operator keys (Authorization: Bearer ID:SECRET) over plain HTTP from other machines; by default only over HTTPS, a trusted proxy or loopback")
	return func() {
		if *proxies != "" {
			cfg.TrustedProxies = strings.Split(*proxies, ",")
		}
	}
}

// runVersion is `muster version`; it has no flags but -h.
func runVersion(_ context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the flag package's own messages; ours follow
	usage := "Usage: muster version\n\nPrints the version of this muster binary.\n"
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.Stdout, usage)
			return 0
		}
		fmt.Fprintf(env.Stderr, "muster version: %v\n%s", err, usage)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "muster version: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	fmt.Fprintf(env.Stdout, "muster %s\n", env.Version)
	return 0
}

// OSEnv is the Env of the real process.
func OSEnv(version string) Env {
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Version: version}
}
