package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/internal/agent"
)

const agentUsage = `muster agent --endpoint URL --fleet FLEET_ID --location LOCATION [flags]

Registers this host as a compute of an ANYWHERE fleet and runs the fleet's
runtime configuration on it. Credentials of an operator key come from
MUSTER_ACCESS_KEY_ID and MUSTER_SECRET_ACCESS_KEY: give it a key of role
agent for its fleet (muster keys create --role agent --fleet FLEET_ID), which
may run only that fleet's computes. SIGTERM or SIGINT drains:
the processes are told to end, killed after --drain-grace, and the compute is
deregistered.`

// agentFlags are the flags of `muster agent`.
type agentFlags struct {
	logFlags
	endpoint, fleet, location, computeName, ip, dns, region string
	beaconListen, logDir, workDir, logFile                  string
	logMaxBytes                                             int64
	logKeep, keepExited                                     int
	drainGrace, stopGrace                                   time.Duration
}

func (f *agentFlags) register(fs *flag.FlagSet) {
	f.logFlags.register(fs)
	fs.StringVar(&f.endpoint, "endpoint", "", "control plane `URL` (the address of muster serve), e.g. http://10.0.0.1:8080")
	fs.StringVar(&f.fleet, "fleet", "", "`id` of the ANYWHERE fleet to join")
	fs.StringVar(&f.location, "location", "", "custom `location` of this compute (e.g. custom-home)")
	fs.StringVar(&f.computeName, "compute-name", "", "compute `name` (letters, digits, hyphens); default: the host name")
	fs.StringVar(&f.ip, "ip-address", "", "`IP` address players connect to; default: the address this host uses to reach the endpoint")
	fs.StringVar(&f.dns, "dns-name", "", "DNS `name` players connect to, instead of or besides the IP address")
	fs.StringVar(&f.region, "region", agent.DefaultRegion, "SigV4 signing `region`")
	fs.StringVar(&f.beaconListen, "beacon-listen", "0.0.0.0:7770", "UDP `address` of the latency beacon (docs/beacon-protocol.md), or several separated by commas, tried in order until one binds (port 0: a free port); \"off\" disables it")
	fs.StringVar(&f.logDir, "log-dir", "muster-agent/logs", "`directory` of the per-process log files (<processId>.log)")
	fs.StringVar(&f.workDir, "work-dir", "muster-agent/work", "working `directory` of the server processes (must be writable)")
	fs.StringVar(&f.logFile, "log-file", "", "write the agent's own log to this `file` instead of stderr, rotated as the processes' logs are (--log-max-bytes, --log-keep)")
	fs.Int64Var(&f.logMaxBytes, "log-max-bytes", agent.DefaultLogMaxBytes, "rotate a process's log file, and --log-file, at this many `bytes`")
	fs.IntVar(&f.logKeep, "log-keep", agent.DefaultLogKeep, "rotated log files kept per process, and for --log-file")
	fs.IntVar(&f.keepExited, "log-keep-exited", agent.DefaultKeepExited, "`number` of exited processes whose logs are kept, counting those an earlier run of the agent left (-1: all)")
	fs.DurationVar(&f.drainGrace, "drain-grace", agent.DefaultDrainGrace, "how long a process told to end has before it is stopped: on SIGTERM (the agent drains), or when the control plane says it is TERMINATING (scale-in, TerminateGameSession); reported to the control plane as the processes' termination time")
	fs.DurationVar(&f.stopGrace, "stop-grace", agent.DefaultStopGrace, "how long a process the agent stops has between SIGTERM and SIGKILL")
}

// logOutput is where the agent's own log goes: stderr, or --log-file
// through the rotating writer the processes' logs use.
func (f *agentFlags) logOutput(stderr io.Writer) (io.WriteCloser, error) {
	if f.logFile == "" {
		return nopCloser{stderr}, nil
	}
	if err := os.MkdirAll(filepath.Dir(f.logFile), 0o700); err != nil {
		return nil, fmt.Errorf("--log-file: %w", err)
	}
	w, err := agent.OpenLogFile(f.logFile, f.logMaxBytes, f.logKeep)
	if err != nil {
		return nil, fmt.Errorf("--log-file: %w", err)
	}
	return w, nil
}

// nopCloser is a writer the agent does not own (stderr).
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// startBeacon starts the latency beacon on wg, unless --beacon-listen is
// off, and returns the address the agent reports for it.
func (f *agentFlags) startBeacon(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) (*agent.BeaconAddress, error) {
	if f.beaconListen == "off" || f.beaconListen == "" {
		return nil, nil
	}
	b, err := listenBeacon(ctx, f.beaconListen, log)
	if err != nil {
		return nil, err
	}
	reported := beaconAddress(b.Addr(), f.ip, f.dns)
	log.Info("latency beacon listening", "addr", b.Addr().String(), "reported", fmt.Sprintf("%s:%d", reported.Domain, reported.Port))
	wg.Go(func() {
		if err := b.Serve(ctx); err != nil {
			log.Error("latency beacon stopped", "err", err)
		}
	})
	return reported, nil
}

// listenBeacon binds the first of the comma-separated addresses that it
// can. A list lets whoever starts the agent prefer a well-known port and
// fall back on a free one, without probing the port first: another agent
// starting at the same moment could take it between the probe and the
// bind.
func listenBeacon(ctx context.Context, addrs string, log *slog.Logger) (*beacon.Server, error) {
	var errs []error
	for addr := range strings.SplitSeq(addrs, ",") {
		b, err := beacon.Listen(ctx, strings.TrimSpace(addr), log)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func runAgent(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	var f agentFlags
	f.register(fs)
	if ok, code := Parse(fs, env, agentUsage, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "muster agent: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	var missing []string
	// RegisterCompute refuses a compute without a location.
	for _, m := range []struct{ name, v string }{{"--endpoint", f.endpoint}, {"--fleet", f.fleet}, {"--location", f.location}} {
		if m.v == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		verb := "are"
		if len(missing) == 1 {
			verb = "is"
		}
		fmt.Fprintf(env.Stderr, "muster agent: %s %s required\n", joinAnd(missing), verb)
		return ExitUsage
	}
	logOut, err := f.logOutput(env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster agent: %v\n", err)
		return 1
	}
	defer logOut.Close()
	log, err := f.logger(logOut)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		return ExitUsage
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	client, err := agent.NewClient(agent.ClientConfig{
		Endpoint: f.endpoint, Region: f.region,
		AccessKeyID: getenv("MUSTER_ACCESS_KEY_ID"), SecretAccessKey: getenv("MUSTER_SECRET_ACCESS_KEY"),
	})
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster agent: %v\n", err)
		return ExitUsage
	}
	if f.computeName == "" {
		host, _ := os.Hostname()
		f.computeName = sanitizeComputeName(host)
	}
	if f.ip == "" && f.dns == "" {
		if f.ip, err = outboundIP(ctx, f.endpoint); err != nil {
			fmt.Fprintf(env.Stderr, "muster agent: cannot tell this host's address (give --ip-address or --dns-name): %v\n", err)
			return ExitUsage
		}
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reported, err := f.startBeacon(ctx, &wg, log)
	if err != nil {
		log.Error("cannot start the latency beacon", "err", err)
		return 1
	}
	instance := rand.Text() // this run of the agent, in its heartbeats
	sup, err := agent.New(agent.Config{
		FleetID: f.fleet, ComputeName: f.computeName, Location: f.location, IPAddress: f.ip, DNSName: f.dns,
		InstanceID: instance,
		Control:    client,
		Launcher:   &agent.ExecLauncher{LogDir: f.logDir, WorkDir: f.workDir, LogMaxBytes: f.logMaxBytes, LogKeep: f.logKeep, KeepExited: f.keepExited},
		Log:        log,
		BaseEnv:    os.Environ(),
		Beacon:     reported,
		DrainGrace: f.drainGrace,
		StopGrace:  f.stopGrace,
	})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	log.Info("agent starting", "endpoint", f.endpoint, "location", f.location, "ip_address", f.ip, "dns_name", f.dns, "instance_id", instance)
	if err := sup.Run(ctx); errors.Is(err, agent.ErrComputeTaken) {
		log.Error("another agent runs this compute: give each host its own --compute-name (the default, the short host name, is the same on hosts cloned from one image); "+
			"an agent that crashed or was killed leaves its compute to a new one after three heartbeat intervals of silence (30s by default)",
			"compute_name", f.computeName, "err", err)
		return 1
	} else if errors.Is(err, agent.ErrFleetGone) {
		// Exit 0: a service manager that restarts on failure must not
		// start an agent of a deleted fleet again.
		log.Warn("the fleet was deleted; the agent stopped its processes and exits", "fleet_id", f.fleet, "err", err)
		return 0
	} else if err != nil {
		log.Error("agent stopped with an error", "err", err)
		return 1
	}
	log.Info("agent stopped")
	return 0
}

// sanitizeComputeName makes a host name a valid compute name (the server
// SDK accepts only letters, digits and hyphens in a host id).
func sanitizeComputeName(host string) string {
	host, _, _ = strings.Cut(host, ".")
	var b strings.Builder
	for _, r := range host {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		return "compute"
	}
	return name
}

// outboundIP is the local address the host uses to reach the endpoint.
func outboundIP(ctx context.Context, endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	port := u.Port()
	switch {
	case port != "":
	case u.Scheme == "https":
		port = "443"
	default:
		port = "80"
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", net.JoinHostPort(u.Hostname(), port)) // sends nothing
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

// beaconAddress is what the heartbeat reports for a beacon bound to addr:
// its own host, or the compute's address when it listens on all interfaces.
func beaconAddress(addr net.Addr, ip, dns string) *agent.BeaconAddress {
	host, portStr, _ := net.SplitHostPort(addr.String())
	port, _ := strconv.Atoi(portStr)
	if a := net.ParseIP(host); a == nil || a.IsUnspecified() {
		host = dns
		if host == "" {
			host = ip
		}
	}
	return &agent.BeaconAddress{Domain: host, Port: port}
}
