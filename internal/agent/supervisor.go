package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
)

// Defaults of Config.
const (
	DefaultDrainGrace          = 30 * time.Second
	DefaultStopGrace           = 30 * time.Second
	DefaultRetryInterval       = 5 * time.Second
	DefaultHeartbeatInterval   = 10 * time.Second
	DefaultProcessReadyTimeout = 300 * time.Second
	// healthyRuntime is how long a process must have run for its exit not to
	// count as a crash loop.
	healthyRuntime = 10 * time.Second
	// cleanExitRuntime is how long a process that exits with status 0 must
	// have run, or the agent must have seen it ready, for the exit to be a
	// clean end when the control plane's answer does not say how it ended.
	cleanExitRuntime = time.Second
	maxBackoff       = time.Minute
	// exitWaitAfterKill bounds the wait for killed processes during a drain.
	exitWaitAfterKill = 10 * time.Second
	// promptHeartbeat is how soon after a process exits the control plane
	// hears of it (and of its replacement), instead of a full interval.
	promptHeartbeat = time.Second
)

// ControlPlane is what the Supervisor needs of the control plane; *Client
// implements it.
type ControlPlane interface {
	RegisterCompute(ctx context.Context, in gamelift.RegisterComputeInput) (*gamelift.Compute, error)
	GetComputeAuthToken(ctx context.Context, fleetID, computeName string) (*AuthToken, error)
	Heartbeat(ctx context.Context, fleetID, computeName string, in agentwire.Heartbeat) (*agentwire.Reply, error)
	DeregisterCompute(ctx context.Context, fleetID, computeName string) error
}

// BeaconAddress is where the agent's latency beacon answers, as its
// heartbeat reports it.
type BeaconAddress = agentwire.Beacon

// Config configures a Supervisor. FleetID, ComputeName, Control and Launcher
// are required; zero durations take the defaults above; a nil Clock is the
// wall clock and a nil Log discards.
type Config struct {
	FleetID     string
	ComputeName string
	Location    string
	IPAddress   string
	DNSName     string

	// InstanceID names this agent process in its heartbeats, so that the
	// control plane lets one agent at a time run the compute; New draws a
	// random one when it is empty.
	InstanceID string

	Control  ControlPlane
	Launcher Launcher
	Clock    clock.Clock
	Log      *slog.Logger

	// BaseEnv is the environment every process starts from (usually the
	// agent's own); MUSTER_* and GAMELIFT_* variables are removed from it
	// before the SDK variables are added.
	BaseEnv []string
	// Beacon, when set, is reported in every heartbeat.
	Beacon *BeaconAddress

	// DrainGrace is how long a drain waits for processes to exit before
	// killing them, and how long a process the control plane says is
	// TERMINATING may run before it is stopped. Heartbeats report it: it is
	// the TerminationTime processes are given.
	DrainGrace time.Duration
	// StopGrace is how long a process the agent stops on its own (runtime
	// configuration shrank, never became ready) has between SIGTERM and
	// SIGKILL, and how long a TERMINATED process may linger.
	StopGrace time.Duration
	// RetryInterval paces retries of failed registrations and token fetches.
	RetryInterval time.Duration

	// OnEvent, when set, is called from the supervision loop for every
	// Event, after the loop has re-armed its timers. Tests use it to know
	// when to advance a fake clock. It must not block for long.
	OnEvent func(Event)
}

// EventKind names what happened in the supervision loop.
type EventKind string

// Event kinds.
const (
	EventRegistered   EventKind = "registered"
	EventToken        EventKind = "token"
	EventHeartbeat    EventKind = "heartbeat"
	EventLaunched     EventKind = "launched"
	EventLaunchFailed EventKind = "launch-failed"
	EventExited       EventKind = "exited"
	EventStopping     EventKind = "stopping"
	EventKilled       EventKind = "killed"
	EventDraining     EventKind = "draining"
	EventDeregistered EventKind = "deregistered"
	EventTick         EventKind = "tick"
)

// Event is one thing the supervision loop did.
type Event struct {
	Kind      EventKind
	ProcessID string
	// PID is the process's operating-system id, when known.
	PID int
	// Reason explains stops, kills and failures.
	Reason string
}

// Supervisor registers its host as a compute and keeps the fleet's runtime
// configuration running on it. Create it with New and call Run once.
type Supervisor struct {
	cfg   Config
	clock clock.Clock
	log   *slog.Logger

	// Everything below is owned by the Run goroutine.
	endpoint     string // SDK WebSocket URL from RegisterCompute
	token        *AuthToken
	interval     time.Duration
	readyTimeout time.Duration
	runtime      *gamelift.RuntimeConfiguration // nil until the first heartbeat answer
	computeState string
	draining     bool
	procs        map[string]*proc
	backoff      map[string]*backoff
	// exited holds short clean-looking exits awaiting the control plane's
	// word on how they ended (see onExit), by process id.
	exited  map[string]*proc
	pending []Event
	// taken is set once the control plane said another agent runs the
	// compute (ErrComputeTaken): Run then stops without deregistering.
	taken error
	// gone is set once re-registering found the fleet (or its location)
	// deleted (ErrFleetGone): Run then stops its processes and returns.
	gone error

	exits chan exit
	done  chan struct{}
	wg    sync.WaitGroup
}

type proc struct {
	id          string
	key         string
	launchPath  string
	parameters  string
	handle      Process
	pid         int
	startedAt   time.Time
	status      string
	statusSince time.Time
	gameSession string        // from the control plane, when it says
	ran         time.Duration // set once it exited

	stopping bool
	killAt   time.Time
	killed   bool
}

type backoff struct {
	failures int
	next     time.Time
}

type exit struct {
	p   *proc
	err error
}

// New checks cfg and returns a Supervisor.
func New(cfg Config) (*Supervisor, error) {
	var missing []string
	for name, v := range map[string]bool{"FleetID": cfg.FleetID == "", "ComputeName": cfg.ComputeName == "", "Control": cfg.Control == nil, "Launcher": cfg.Launcher == nil} {
		if v {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("agent: config lacks %s", strings.Join(missing, ", "))
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DrainGrace <= 0 {
		cfg.DrainGrace = DefaultDrainGrace
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = DefaultStopGrace
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if cfg.InstanceID == "" {
		cfg.InstanceID = rand.Text()
	}
	return &Supervisor{
		cfg:          cfg,
		clock:        cfg.Clock,
		log:          cfg.Log.With("fleet_id", cfg.FleetID, "compute_name", cfg.ComputeName),
		interval:     DefaultHeartbeatInterval,
		readyTimeout: DefaultProcessReadyTimeout,
		procs:        map[string]*proc{},
		backoff:      map[string]*backoff{},
		exited:       map[string]*proc{},
		exits:        make(chan exit),
		done:         make(chan struct{}),
	}, nil
}

// Run registers the compute, then supervises until ctx is done, then
// drains: it heartbeats with draining=true (the control plane pushes
// TerminateProcess to every process), waits up to DrainGrace for the
// processes to exit, kills the rest and deregisters the compute. It returns
// nil after a clean drain, or an error when registration is refused. When
// the control plane says another agent runs the compute (ErrComputeTaken)
// it stops the processes as in a drain, without telling the control plane
// or deregistering, and returns that error.
func (s *Supervisor) Run(ctx context.Context) error {
	defer func() {
		close(s.done)
		s.wg.Wait()
	}()
	if err := s.registerWithRetry(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before registering: nothing to drain
		}
		return err
	}
	tokenTimer := s.clock.NewTimer(s.fetchToken(ctx))
	defer tokenTimer.Stop()
	s.heartbeat(ctx)
	s.reconcile(ctx)
	hb := s.clock.NewTimer(s.interval)
	defer hb.Stop()
	nextHeartbeat := s.clock.Now().Add(s.interval)
	wake := s.clock.NewTimer(time.Hour)
	defer wake.Stop()
	s.armWake(wake)
	s.emit(Event{Kind: EventHeartbeat})
	s.flush()
	for {
		if s.taken != nil || s.gone != nil {
			return s.drain(context.WithoutCancel(ctx), hb)
		}
		select {
		case <-ctx.Done():
			return s.drain(context.WithoutCancel(ctx), hb)
		case <-hb.C():
			next := s.interval
			if !s.heartbeat(ctx) {
				next = s.retryInterval()
			}
			s.reconcile(ctx)
			hb.Reset(next)
			nextHeartbeat = s.clock.Now().Add(next)
			s.emit(Event{Kind: EventHeartbeat})
		case <-tokenTimer.C():
			tokenTimer.Reset(s.fetchToken(ctx))
		case ex := <-s.exits:
			s.onExit(ex)
			s.reconcile(ctx)
			if soon := s.clock.Now().Add(promptHeartbeat); nextHeartbeat.After(soon) {
				hb.Reset(promptHeartbeat)
				nextHeartbeat = soon
			}
		case <-wake.C():
			s.reconcile(ctx)
			s.emit(Event{Kind: EventTick})
		}
		s.armWake(wake)
		s.flush()
	}
}

// emit queues an event; flush delivers the queue once timers are re-armed.
func (s *Supervisor) emit(e Event) { s.pending = append(s.pending, e) }

func (s *Supervisor) flush() {
	if s.cfg.OnEvent != nil {
		for _, e := range s.pending {
			s.cfg.OnEvent(e)
		}
	}
	s.pending = s.pending[:0]
}

// sleep waits d on the clock, or until ctx is done (then false).
func (s *Supervisor) sleep(ctx context.Context, d time.Duration) bool {
	t := s.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

func (s *Supervisor) registerWithRetry(ctx context.Context) error {
	for {
		err := s.claim(ctx)
		if err == nil {
			err = s.register(ctx)
		}
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrComputeTaken) {
			return err
		}
		if IsClientError(err) {
			return fmt.Errorf("agent: register compute: %w", err)
		}
		s.log.Warn("cannot register the compute; retrying", "err", err, "retry_in", s.cfg.RetryInterval)
		if !s.sleep(ctx, s.cfg.RetryInterval) {
			return ctx.Err()
		}
	}
}

func (s *Supervisor) register(ctx context.Context) error {
	c, err := s.cfg.Control.RegisterCompute(ctx, gamelift.RegisterComputeInput{
		FleetId: s.cfg.FleetID, ComputeName: s.cfg.ComputeName, Location: s.cfg.Location,
		IpAddress: s.cfg.IPAddress, DnsName: s.cfg.DNSName,
	})
	if err != nil {
		return err
	}
	if c.GameLiftServiceSdkEndpoint == "" {
		return errors.New("RegisterCompute: the answer has no GameLiftServiceSdkEndpoint")
	}
	s.endpoint = c.GameLiftServiceSdkEndpoint
	s.log.Info("compute registered", "sdk_endpoint", s.endpoint, "status", c.ComputeStatus)
	s.emit(Event{Kind: EventRegistered})
	return nil
}

// fetchToken gets a new auth token and returns when to fetch the next one:
// at three quarters of its lifetime, or after RetryInterval on failure.
func (s *Supervisor) fetchToken(ctx context.Context) time.Duration {
	t, err := s.cfg.Control.GetComputeAuthToken(ctx, s.cfg.FleetID, s.cfg.ComputeName)
	if err != nil {
		s.log.Warn("cannot get a compute auth token; retrying", "err", err, "retry_in", s.cfg.RetryInterval)
		s.emit(Event{Kind: EventToken, Reason: err.Error()})
		return s.cfg.RetryInterval
	}
	s.token = t
	s.emit(Event{Kind: EventToken})
	if t.ExpiresAt.IsZero() {
		return time.Hour
	}
	life := t.ExpiresAt.Sub(s.clock.Now())
	if life <= 4*time.Second {
		s.log.Warn("the compute auth token expires at once; check the clocks", "expires_at", t.ExpiresAt)
		return s.cfg.RetryInterval
	}
	return life * 3 / 4
}

// report lists the running processes for a heartbeat.
func (s *Supervisor) report() agentwire.Heartbeat {
	in := agentwire.Heartbeat{InstanceID: s.cfg.InstanceID, Draining: s.draining, Processes: []agentwire.Process{}, Beacon: s.cfg.Beacon,
		DrainGraceSeconds: int((s.cfg.DrainGrace + time.Second - 1) / time.Second)}
	for _, p := range s.sortedProcs() {
		in.Processes = append(in.Processes, agentwire.Process{
			ProcessID: p.id, PID: p.pid, LaunchPath: p.launchPath, Parameters: p.parameters,
			StartedAt: p.startedAt.UTC(),
		})
	}
	for id := range s.exited {
		in.Exited = append(in.Exited, id)
	}
	slices.Sort(in.Exited)
	return in
}

func (s *Supervisor) sortedProcs() []*proc {
	ps := make([]*proc, 0, len(s.procs))
	for _, p := range s.procs {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *proc) int {
		if c := a.startedAt.Compare(b.startedAt); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return ps
}

// heartbeat reports to the control plane and applies its answer, and says
// whether it got one. A compute the control plane does not know is
// registered again.
func (s *Supervisor) heartbeat(ctx context.Context) bool {
	resp, err := s.sendHeartbeat(ctx)
	if IsNotFound(err) && !s.draining {
		s.log.Warn("the control plane does not know this compute; registering again")
		if err := s.register(ctx); err != nil {
			if IsNotFound(err) { // the fleet itself is gone: no compute of it will ever register again
				s.gone = fmt.Errorf("%w: %w", ErrFleetGone, err)
				s.log.Warn("the fleet was deleted; stopping", "err", err)
				return false
			}
			s.log.Warn("cannot register the compute again", "err", err)
			return false
		}
		s.fetchToken(ctx)
		resp, err = s.sendHeartbeat(ctx)
	}
	if IsConflict(err) {
		s.lose(err)
		return false
	}
	if err != nil {
		s.log.Warn("heartbeat failed", "err", err)
		s.judgeExits(nil)
		return false
	}
	s.apply(resp)
	return true
}

// sendHeartbeat sends one heartbeat, waiting for its answer no longer than
// an interval: the control plane takes a compute for lost after
// LostAfterHeartbeats intervals of silence, so one heartbeat held for
// longer would leave too little time for the retries after it.
func (s *Supervisor) sendHeartbeat(ctx context.Context) (*agentwire.Reply, error) {
	hctx, cancel := context.WithTimeout(ctx, s.interval)
	defer cancel()
	return s.cfg.Control.Heartbeat(hctx, s.cfg.FleetID, s.cfg.ComputeName, s.report())
}

// retryInterval is the wait after a failed heartbeat: a fifth of the
// interval (at least a second), so a control plane that failed one answer
// hears the compute again well before it would take it for lost.
func (s *Supervisor) retryInterval() time.Duration {
	return max(s.interval/5, time.Second)
}

func (s *Supervisor) apply(resp *agentwire.Reply) {
	now := s.clock.Now()
	if resp.HeartbeatIntervalSeconds > 0 {
		s.interval = time.Duration(resp.HeartbeatIntervalSeconds) * time.Second
	}
	if resp.ProcessReadyTimeoutSeconds > 0 {
		s.readyTimeout = time.Duration(resp.ProcessReadyTimeoutSeconds) * time.Second
	}
	rc := resp.RuntimeConfiguration
	s.runtime = &rc
	s.computeState = resp.ComputeStatus
	status := make(map[string]agentwire.ProcessStatus, len(resp.Processes))
	for _, ps := range resp.Processes {
		status[ps.ProcessID] = ps
	}
	s.judgeExits(status)
	for _, p := range s.sortedProcs() {
		st := status[p.id].Status
		p.gameSession = status[p.id].GameSessionID
		if st == "" {
			st = agentwire.StatusPending
		}
		if st != p.status {
			p.status, p.statusSince = st, now
		}
		if p.stopping {
			continue
		}
		switch {
		case st == agentwire.StatusTerminated && status[p.id].Kill:
			s.kill(p, "the control plane ended it: "+status[p.id].EndReason)
		case st == agentwire.StatusPending && now.Sub(p.startedAt) >= s.readyTimeout:
			s.stop(p, fmt.Sprintf("did not call ProcessReady within %v", s.readyTimeout))
		case st == agentwire.StatusTerminating && now.Sub(p.statusSince) >= s.cfg.DrainGrace:
			// Told to end by a TerminateProcess push, with the TerminationTime
			// the drain grace this agent reports.
			s.stop(p, fmt.Sprintf("still running %v after it was told to terminate", s.cfg.DrainGrace))
		case st == agentwire.StatusTerminated && now.Sub(p.statusSince) >= s.cfg.StopGrace:
			s.kill(p, fmt.Sprintf("still running %v after it ended", s.cfg.StopGrace))
		}
	}
}

// desired is the runtime configuration as process counts by launch key.
func (s *Supervisor) desired() ([]gamelift.ServerProcess, map[string]int) {
	want := map[string]int{}
	var lines []gamelift.ServerProcess
	if s.runtime == nil {
		return nil, want
	}
	for _, sp := range s.runtime.ServerProcesses {
		k := launchKey(sp.LaunchPath, sp.Parameters)
		if _, seen := want[k]; !seen {
			lines = append(lines, sp)
		}
		if n := sp.ConcurrentExecutions; n != nil {
			want[k] += int(max(*n, 0))
		}
	}
	return lines, want
}

func launchKey(path, params string) string { return path + "\x00" + params }

// reconcile launches and stops processes to match the runtime
// configuration, and kills stopping processes whose grace is over.
func (s *Supervisor) reconcile(ctx context.Context) {
	now := s.clock.Now()
	for _, p := range s.sortedProcs() {
		if p.stopping && !p.killed && !now.Before(p.killAt) {
			s.kill(p, "did not exit after SIGTERM")
		}
	}
	if s.draining || s.taken != nil || s.runtime == nil || s.computeState == agentwire.StatusTerminating {
		return
	}
	lines, want := s.desired()
	live := map[string][]*proc{}
	for _, p := range s.sortedProcs() {
		if !p.stopping {
			live[p.key] = append(live[p.key], p)
		}
	}
	for key, ps := range live {
		extra := len(ps) - want[key]
		if extra <= 0 {
			continue
		}
		// Stop the processes least likely to have players first: not ACTIVE,
		// then ACTIVE, newest first. A process the control plane says hosts
		// a game session is left to end with it.
		rank := func(p *proc) int {
			if p.status != agentwire.StatusActive {
				return 0
			}
			return 1
		}
		slices.SortStableFunc(ps, func(a, b *proc) int {
			if ra, rb := rank(a), rank(b); ra != rb {
				return ra - rb
			}
			return b.startedAt.Compare(a.startedAt)
		})
		for _, p := range ps {
			if extra == 0 {
				break
			}
			if p.gameSession != "" {
				continue
			}
			s.stop(p, "the runtime configuration no longer asks for it")
			extra--
		}
	}
	if s.token == nil {
		return
	}
	for _, sp := range lines {
		key := launchKey(sp.LaunchPath, sp.Parameters)
		bo := s.backoff[key]
		for n := len(live[key]); n < want[key]; n++ {
			if bo != nil && now.Before(bo.next) {
				break
			}
			if s.awaiting(key) > want[key] {
				// Every slot already turned over once on an exit the control
				// plane has yet to judge: wait for its word (the next
				// heartbeat, within a second) rather than spin on a server
				// that exits at once.
				break
			}
			if err := s.launch(ctx, sp, key); err != nil {
				bo = s.failed(key, now)
			}
		}
	}
}

// failed records a crash or failed launch of key and returns its backoff:
// the first failure is retried at once, then after 1 s, 2 s, … up to a minute.
func (s *Supervisor) failed(key string, now time.Time) *backoff {
	bo := s.backoff[key]
	if bo == nil {
		bo = &backoff{}
		s.backoff[key] = bo
	}
	bo.failures++
	if bo.failures >= 2 {
		wait := min(time.Second<<min(bo.failures-2, 10), maxBackoff)
		bo.next = now.Add(wait)
		launchPath, _, _ := strings.Cut(key, "\x00")
		s.log.Warn("server processes keep failing soon after launch; backing off relaunches",
			"launch_path", launchPath, "failures", bo.failures, "retry_in", wait)
	}
	return bo
}

func (s *Supervisor) launch(ctx context.Context, sp gamelift.ServerProcess, key string) error {
	id := uuid.NewString()
	args, err := SplitParameters(sp.Parameters)
	if err != nil {
		s.log.Error("cannot launch: bad parameters", "launch_path", sp.LaunchPath, "err", err)
		s.emit(Event{Kind: EventLaunchFailed, ProcessID: id, Reason: err.Error()})
		return err
	}
	h, err := s.cfg.Launcher.Launch(ctx, LaunchSpec{ProcessID: id, LaunchPath: sp.LaunchPath, Args: args, Env: s.processEnv(id)})
	if err != nil {
		s.log.Error("cannot launch a server process", "launch_path", sp.LaunchPath, "process_id", id, "err", err)
		s.emit(Event{Kind: EventLaunchFailed, ProcessID: id, Reason: err.Error()})
		return err
	}
	now := s.clock.Now()
	p := &proc{id: id, key: key, launchPath: sp.LaunchPath, parameters: sp.Parameters, handle: h, pid: h.PID(), startedAt: now, status: agentwire.StatusPending, statusSince: now}
	s.procs[id] = p
	s.wg.Go(func() {
		err := h.Wait()
		select {
		case s.exits <- exit{p: p, err: err}:
		case <-s.done:
		}
	})
	s.log.Info("server process launched", "process_id", id, "pid", p.pid, "launch_path", sp.LaunchPath)
	s.emit(Event{Kind: EventLaunched, ProcessID: id, PID: p.pid})
	return nil
}

// processEnv is BaseEnv without MUSTER_* (the operator's credentials) and
// GAMELIFT_* variables, plus what the server SDK reads.
func (s *Supervisor) processEnv(processID string) []string {
	env := make([]string, 0, len(s.cfg.BaseEnv)+5)
	for _, kv := range s.cfg.BaseEnv {
		if strings.HasPrefix(kv, "MUSTER_") || strings.HasPrefix(kv, "GAMELIFT_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GAMELIFT_SDK_WEBSOCKET_URL="+s.endpoint,
		"GAMELIFT_SDK_AUTH_TOKEN="+s.token.Token,
		"GAMELIFT_SDK_PROCESS_ID="+processID,
		"GAMELIFT_SDK_HOST_ID="+s.cfg.ComputeName,
		"GAMELIFT_SDK_FLEET_ID="+s.cfg.FleetID,
	)
}

// stop sends SIGTERM and arms the kill after StopGrace.
func (s *Supervisor) stop(p *proc, reason string) {
	p.stopping = true
	p.killAt = s.clock.Now().Add(s.cfg.StopGrace)
	s.log.Info("stopping a server process", "process_id", p.id, "pid", p.pid, "reason", reason)
	if err := p.handle.Terminate(); err != nil {
		s.log.Warn("cannot terminate a server process", "process_id", p.id, "err", err)
	}
	s.emit(Event{Kind: EventStopping, ProcessID: p.id, PID: p.pid, Reason: reason})
}

func (s *Supervisor) kill(p *proc, reason string) {
	p.stopping, p.killed = true, true
	s.log.Warn("killing a server process", "process_id", p.id, "pid", p.pid, "reason", reason)
	if err := p.handle.Kill(); err != nil {
		s.log.Warn("cannot kill a server process", "process_id", p.id, "err", err)
	}
	s.emit(Event{Kind: EventKilled, ProcessID: p.id, PID: p.pid, Reason: reason})
}

func (s *Supervisor) onExit(ex exit) {
	p := ex.p
	delete(s.procs, p.id)
	now := s.clock.Now()
	ran := now.Sub(p.startedAt)
	reason := "exit status 0"
	if ex.err != nil {
		reason = ex.err.Error()
	}
	s.log.Info("server process exited", "process_id", p.id, "pid", p.pid, "ran", ran, "status", reason)
	s.emit(Event{Kind: EventExited, ProcessID: p.id, PID: p.pid, Reason: reason})
	p.ran = ran
	switch {
	case p.stopping || s.draining:
	case ran >= healthyRuntime:
		delete(s.backoff, p.key)
	case ex.err != nil:
		s.crashed(p, reason)
	default:
		// Status 0 soon after launch: a game server ending a short match
		// (clean, however short) or one that quits on start (a crash). The
		// control plane knows which; the next heartbeat asks it.
		s.exited[p.id] = p
	}
}

// awaiting counts key's exits waiting for the control plane's word.
func (s *Supervisor) awaiting(key string) int {
	n := 0
	for _, p := range s.exited {
		if p.key == key {
			n++
		}
	}
	return n
}

// judgeExits settles the exits awaiting a verdict from the control plane's
// answer (status, by process id; nil when the heartbeat failed). A process
// that exited 0 ended cleanly when it had called ProcessReady and then
// ProcessEnding, or had hosted a game session; a process the answer does
// not mention is judged as a control plane without that word allows: by
// whether the agent saw it ready or it ran for cleanExitRuntime.
func (s *Supervisor) judgeExits(status map[string]agentwire.ProcessStatus) {
	for _, p := range s.sortedExited() {
		delete(s.exited, p.id)
		st, known := status[p.id]
		clean := p.ran >= cleanExitRuntime || p.status != agentwire.StatusPending
		if known {
			clean = st.WasReady && (st.EndReason == agentwire.EndProcessEnding || st.HostedGameSession)
		}
		if clean {
			delete(s.backoff, p.key)
			continue
		}
		why := "exit status 0 without ProcessEnding"
		switch {
		case !known:
			why = "exit status 0 at once, never seen ready"
		case !st.WasReady:
			why = "exit status 0 before ProcessReady"
		}
		s.crashed(p, why)
	}
}

func (s *Supervisor) sortedExited() []*proc {
	ps := make([]*proc, 0, len(s.exited))
	for _, p := range s.exited {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *proc) int { return strings.Compare(a.id, b.id) })
	return ps
}

// crashed counts a crash of p toward its launch line's backoff.
func (s *Supervisor) crashed(p *proc, why string) {
	s.log.Info("a server process ended as a crash", "process_id", p.id, "ran", p.ran, "reason", why)
	s.failed(p.key, s.clock.Now())
}

// armWake sets wake to the next moment reconcile has something to do: a
// kill deadline or the end of a launch backoff.
func (s *Supervisor) armWake(wake clock.Timer) {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, p := range s.procs {
		if p.stopping && !p.killed {
			consider(p.killAt)
		}
	}
	_, want := s.desired()
	for key, bo := range s.backoff {
		if want[key] > 0 && bo.next.After(s.clock.Now()) {
			consider(bo.next)
		}
	}
	wake.Stop()
	if !next.IsZero() {
		wake.Reset(max(next.Sub(s.clock.Now()), 0))
	}
}
