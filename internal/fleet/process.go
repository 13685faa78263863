package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// Server process statuses (Muster's; GameLift does not expose processes).
// They are the statuses an agent heartbeat reply reports.
const (
	ProcessPending    = agentwire.StatusPending    // launched or connected, no ProcessReady yet
	ProcessActive     = agentwire.StatusActive     // ProcessReady received
	ProcessTerminated = agentwire.StatusTerminated // ProcessEnding received, exited or lost
)

// Process states in the first secondary key, which is how an idle process
// is found: <fleetId>/<location>/<state>.
const (
	statePending     = "pending"
	stateIdle        = "idle"        // ACTIVE, healthy, never given a game session
	stateActivating  = "activating"  // given a game session it has not activated yet
	stateBusy        = "busy"        // hosting a live, activated game session
	stateUsed        = "used"        // its game session ended; it will not get another
	stateUnavailable = "unavailable" // unhealthy, or its compute is draining or lost
	stateEnded       = "ended"
)

// Reasons a process ended.
const (
	EndProcessEnding = "PROCESS_ENDING"   // the game called ProcessEnding
	EndExited        = "EXITED"           // the agent saw it exit without ProcessEnding
	EndComputeLost   = "COMPUTE_LOST"     // its compute stopped heartbeating
	EndDeregistered  = "DEREGISTERED"     // its compute was deregistered
	EndSilent        = "SILENT"           // no SDK heartbeat for SilenceTimeout
	EndForced        = "FORCE_TERMINATED" // TerminateGameSession FORCE_TERMINATE: its agent kills it
	EndUnhealthy     = "UNHEALTHY"        // UnhealthyChecks health checks in a row failed: its agent kills it
)

// Process is one server process as stored. A process hosts at most one
// game session in its life, as in GameLift: the server SDK keeps the first
// game session id for good.
type Process struct {
	ID          string   `json:"id"`
	FleetID     string   `json:"fleetId"`
	ComputeName string   `json:"computeName"`
	Location    string   `json:"location"`
	Status      string   `json:"status"`
	Port        int32    `json:"port,omitempty"`
	IPAddress   string   `json:"ipAddress,omitempty"`
	DNSName     string   `json:"dnsName,omitempty"`
	SDKVersion  string   `json:"sdkVersion,omitempty"`
	SDKLanguage string   `json:"sdkLanguage,omitempty"`
	LogPaths    []string `json:"logPaths,omitempty"`
	Healthy     bool     `json:"healthy"`
	// FailedChecks counts the health checks failed in a row.
	FailedChecks int       `json:"failedChecks,omitempty"`
	Draining     bool      `json:"draining,omitempty"`
	LaunchPath   string    `json:"launchPath,omitempty"`
	Parameters   string    `json:"parameters,omitempty"`
	PID          int       `json:"pid,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	ReadyAt      time.Time `json:"readyAt,omitzero"`
	Heartbeat    time.Time `json:"heartbeat,omitzero"`
	EndedAt      time.Time `json:"endedAt,omitzero"`
	EndReason    string    `json:"endReason,omitempty"`
	// GameSessionID is the ARN of the game session it was given, if any;
	// SessionLive says that session has not ended.
	GameSessionID string `json:"gameSessionId,omitempty"`
	SessionLive   bool   `json:"sessionLive,omitempty"`
	// SessionActive says the process activated its game session.
	SessionActive bool `json:"sessionActive,omitempty"`
}

func (p Process) state() string {
	switch {
	case p.Status == ProcessTerminated:
		return stateEnded
	case p.Status != ProcessActive:
		return statePending
	case p.SessionLive && !p.SessionActive:
		return stateActivating
	case p.SessionLive:
		return stateBusy
	case p.GameSessionID != "":
		return stateUsed
	case p.Draining || !p.Healthy:
		return stateUnavailable
	}
	return stateIdle
}

func processKeys(p Process) store.Keys {
	k := store.Keys{p.FleetID + "/" + p.Location + "/" + p.state(), p.FleetID + "/" + p.ComputeName, p.GameSessionID}
	if p.Status == ProcessTerminated {
		// A compute's index lists the processes it runs: an ended one,
		// kept for Retention, would be read by every heartbeat.
		k[1] = ""
	}
	return k
}

// GetProcess reads a process inside a transaction; fault.NotFound if absent.
func GetProcess(ctx context.Context, r store.Reader, id string) (Process, int64, error) {
	return service.Get[Process](ctx, r, KindProcess, id, "server process %s is not known", id)
}

// Retention is how long ended processes, game sessions and player sessions
// stay readable (GameLift keeps sessions 30 days).
const Retention = 30 * 24 * time.Hour

// PutProcess writes a process (version as read; 0 creates) with its keys.
// An ended process is kept for Retention, so its id cannot be reused.
func PutProcess(ctx context.Context, w store.Writer, p Process, version int64) (int64, error) {
	r := store.Record{Kind: KindProcess, ID: p.ID, Doc: store.MustJSON(p), Keys: processKeys(p), Version: version}
	if p.Status == ProcessTerminated {
		r.ExpiresAt = p.EndedAt.Add(Retention)
	}
	return w.Put(ctx, r)
}

// ClaimIdleProcess picks an idle process of the fleet location inside w's
// transaction and marks it as hosting gameSessionID. Because store updates
// are serialised, two claims never get the same process. A compute already
// activating the fleet's MaxConcurrentGameSessionActivations game sessions
// is passed over. It fails with FleetCapacityExceeded when no process can
// take the session.
func ClaimIdleProcess(ctx context.Context, w store.Writer, f Fleet, location, gameSessionID string) (Process, error) {
	prefix := f.ID + "/" + location + "/"
	limit := 1
	var activating map[string]int
	if m := f.Runtime.MaxConcurrentGameSessionActivations; m != nil && *m > 0 && *m < 1<<30 {
		items, err := w.Find(ctx, store.Query{Kind: KindProcess, Key: 1, Value: prefix + stateActivating, Limit: 100000})
		if err != nil {
			return Process{}, err
		}
		if len(items) >= int(*m) {
			ps, err := store.Decode[Process](items)
			if err != nil {
				return Process{}, err
			}
			activating = map[string]int{}
			for _, p := range ps {
				activating[p.ComputeName]++
			}
			limit = 1000
		}
	}
	items, err := w.Find(ctx, store.Query{Kind: KindProcess, Key: 1, Value: prefix + stateIdle, Limit: limit})
	if err != nil {
		return Process{}, err
	}
	ps, err := store.Decode[Process](items)
	if err != nil {
		return Process{}, err
	}
	for i, p := range ps {
		if activating != nil && activating[p.ComputeName] >= int(*f.Runtime.MaxConcurrentGameSessionActivations) {
			continue
		}
		p.GameSessionID, p.SessionLive = gameSessionID, true
		if _, err := PutProcess(ctx, w, p, items[i].Version); err != nil {
			return Process{}, err
		}
		return p, nil
	}
	if len(ps) > 0 {
		return Process{}, fault.New(fault.FleetCapacityExceeded, "fleet %s has no idle server process in %s on a compute below MaxConcurrentGameSessionActivations", f.ID, location)
	}
	return Process{}, fault.New(fault.FleetCapacityExceeded, "fleet %s has no idle server process in %s", f.ID, location)
}

// SessionActivated records that a process activated its game session.
func SessionActivated(ctx context.Context, w store.Writer, processID string) error {
	p, version, err := GetProcess(ctx, w, processID)
	if err != nil || p.SessionActive {
		return err
	}
	p.SessionActive = true
	_, err = PutProcess(ctx, w, p, version)
	return err
}

// IdleProcessCount counts the idle processes of a fleet location (for
// placement: a location with none cannot take a game session now).
func (s *Service) IdleProcessCount(ctx context.Context, fleetID, location string) (int, error) {
	n := 0
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		items, err := r.Find(ctx, store.Query{Kind: KindProcess, Key: 1, Value: fleetID + "/" + location + "/" + stateIdle, Limit: 10000})
		n = len(items)
		return err
	})
	return n, err
}

// HasIdleProcess reports whether the fleet location has at least one idle
// server process, with one index lookup: placement checks it outside its
// write transaction so that placements waiting for capacity cost only
// reads. (A process found idle here may be claimed by someone else before
// the write; ClaimIdleProcess decides.)
func HasIdleProcess(ctx context.Context, r store.Reader, fleetID, location string) (bool, error) {
	items, err := r.Find(ctx, store.Query{Kind: KindProcess, Key: 1, Value: fleetID + "/" + location + "/" + stateIdle, Limit: 1})
	return len(items) > 0, err
}

// MaxProcessPort is the highest port a server process may listen on
// (GameLift's limit for ActivateServerProcess).
const MaxProcessPort = 60000

// ProcessReady marks a process ACTIVE (ActivateServerProcess) on port, 1 to
// MaxProcessPort. Calling it again is harmless.
func (s *Service) ProcessReady(ctx context.Context, id string, port int32, sdkVersion, sdkLanguage string, logPaths []string) (Process, error) {
	if port < 1 || port > MaxProcessPort {
		return Process{}, fault.BadField("Port", "must be 1 to %d", MaxProcessPort)
	}
	var p Process
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		p, version, err = GetProcess(ctx, w, id)
		if err != nil {
			return err
		}
		if p.Status == ProcessTerminated {
			return fault.New(fault.InvalidFleetStatus, "server process %s has ended and cannot become ready again", id)
		}
		now := s.cfg.Clock.Now().UTC()
		p.Status, p.Port, p.SDKVersion, p.SDKLanguage, p.LogPaths = ProcessActive, port, sdkVersion, sdkLanguage, logPaths
		p.Healthy, p.Heartbeat = true, now
		if p.ReadyAt.IsZero() {
			p.ReadyAt = now
		}
		if p.GameSessionID == "" {
			s.capacityAfterCommit(w, p)
		}
		_, err = PutProcess(ctx, w, p, version)
		return err
	})
	if err != nil {
		return p, fmt.Errorf("process ready: %w", err)
	}
	return p, nil
}

// reportChangesNothing reports whether a health report would change
// nothing of process p that needs writing: p has ended, or the report is
// healthy, p is healthy and its recorded heartbeat is recent.
func (s *Service) reportChangesNothing(p Process, healthy bool) bool {
	if p.Status == ProcessTerminated {
		return true
	}
	return healthy && p.Healthy && p.FailedChecks == 0 && s.cfg.Clock.Now().Sub(p.Heartbeat) < HeartbeatRecordInterval
}

// HeartbeatRecordInterval is how old the recorded heartbeat of a healthy
// process must be before another healthy report is written. Only
// SweepSilentProcesses reads the time, against SilenceTimeout, so a write
// that would change nothing else is left out: the server SDK reports
// health as soon as the process is ready, right after ProcessReady
// recorded it, which cost every process a write of its record; its
// reports every 60 ± 10 s are all written.
const HeartbeatRecordInterval = SilenceTimeout / 10

// UnhealthyChecks is how many health checks in a row a process may fail
// (HealthStatus false) before it is terminated, as GameLift does.
const UnhealthyChecks = 3

// ProcessHeartbeat records a health report (HeartbeatServerProcess). A
// process reporting unhealthy is given no new game session; after
// UnhealthyChecks failed reports in a row it ends, with its game session,
// and its agent kills it. A healthy report from a healthy process is
// written only once HeartbeatRecordInterval has passed since the last one.
func (s *Service) ProcessHeartbeat(ctx context.Context, id string, healthy bool) error {
	// Most reports change nothing: they are told so from a read, without
	// a turn of the single writer.
	var unchanged bool
	if err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		p, _, err := GetProcess(ctx, r, id)
		unchanged = err == nil && s.reportChangesNothing(p, healthy)
		return err
	}); err == nil && unchanged {
		return nil
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		p, version, err := GetProcess(ctx, w, id)
		if err != nil {
			return err
		}
		if s.reportChangesNothing(p, healthy) {
			return nil
		}
		now := s.cfg.Clock.Now().UTC()
		if healthy && !p.Healthy && p.GameSessionID == "" && p.Status == ProcessActive {
			s.capacityAfterCommit(w, p) // idle and healthy again
		}
		p.Healthy, p.Heartbeat = healthy, now
		p.FailedChecks++
		if healthy {
			p.FailedChecks = 0
		}
		if p.FailedChecks >= UnhealthyChecks {
			return s.endProcess(ctx, w, p, version, EndUnhealthy)
		}
		_, err = PutProcess(ctx, w, p, version)
		return err
	})
	if err != nil {
		return fmt.Errorf("process heartbeat: %w", err)
	}
	return nil
}

// EndProcess ends a process (ProcessEnding, exit, loss); its live game
// session ends with it (Sessions.ProcessEnded). Ending an ended
// process does nothing.
func (s *Service) EndProcess(ctx context.Context, id, reason string) error {
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		p, version, err := GetProcess(ctx, w, id)
		if err != nil {
			return err
		}
		return s.endProcess(ctx, w, p, version, reason)
	})
	if err != nil {
		return fmt.Errorf("end process: %w", err)
	}
	return nil
}

func (s *Service) endProcess(ctx context.Context, w store.Writer, p Process, version int64, reason string) error {
	if p.Status == ProcessTerminated {
		return nil
	}
	p.Status, p.EndedAt, p.EndReason = ProcessTerminated, s.cfg.Clock.Now().UTC(), reason
	if s.sessions != nil && p.SessionLive {
		if err := s.sessions.ProcessEnded(ctx, w, p, reason); err != nil {
			return err
		}
	}
	p.SessionLive = false
	if _, err := PutProcess(ctx, w, p, version); err != nil {
		return err
	}
	if s.cfg.Pusher != nil {
		told := endedByMuster(reason)
		w.AfterCommit(func() {
			if told {
				// Muster ended a process that may still run (on a compute
				// without an agent to kill it): its game ends by its own
				// OnProcessTerminate, rather than living on with its game
				// session already ended.
				s.cfg.Pusher.TerminateProcess(p.ID, p.EndedAt)
			}
			s.cfg.Pusher.ProcessEnded(p.ID)
		})
	}
	switch reason {
	case EndExited:
		return s.AddEvent(ctx, w, p.FleetID, "SERVER_PROCESS_CRASHED", fmt.Sprintf("Server process %s on compute %s exited without calling ProcessEnding", p.ID, p.ComputeName))
	case EndSilent:
		return s.AddEvent(ctx, w, p.FleetID, "SERVER_PROCESS_TERMINATED_UNHEALTHY", fmt.Sprintf("Server process %s on compute %s sent no heartbeat for %s", p.ID, p.ComputeName, SilenceTimeout))
	case EndComputeLost:
		return s.AddEvent(ctx, w, p.FleetID, "SERVER_PROCESS_TERMINATED_UNHEALTHY", fmt.Sprintf("Server process %s ended: compute %s was lost", p.ID, p.ComputeName))
	case EndUnhealthy:
		return s.AddEvent(ctx, w, p.FleetID, "SERVER_PROCESS_TERMINATED_UNHEALTHY", fmt.Sprintf("Server process %s on compute %s failed %d health checks in a row", p.ID, p.ComputeName, UnhealthyChecks))
	case EndForced:
		return s.AddEvent(ctx, w, p.FleetID, "SERVER_PROCESS_FORCE_TERMINATED", fmt.Sprintf("Server process %s on compute %s was force-terminated with its game session %s", p.ID, p.ComputeName, p.GameSessionID))
	}
	return nil
}

// endedByMuster reports whether a process ended for reason may not know it
// ended: Muster judged it unhealthy, silent or lost, rather than the
// process ending or exiting itself, or its agent killing it.
func endedByMuster(reason string) bool {
	return reason == EndUnhealthy || reason == EndSilent || reason == EndComputeLost
}

// ForceTerminate ends a process whose game session was force-terminated
// (the caller has already ended the session, in w's transaction). The
// process is TERMINATED at once, and the next heartbeat of its compute's
// agent tells the agent to kill it (agentwire.ProcessStatus.Kill). As in
// GameLift, a compute without the agent cannot force-terminate: nothing
// there would kill the process.
func (s *Service) ForceTerminate(ctx context.Context, w store.Writer, processID string) error {
	p, version, err := GetProcess(ctx, w, processID)
	if err != nil {
		return err
	}
	if c, _, err := GetCompute(ctx, w, p.FleetID, p.ComputeName); err != nil || !c.Agent {
		return fault.BadField("TerminationMode", "FORCE_TERMINATE needs the Muster agent, which kills the process, on compute %s, and none runs there; use TRIGGER_ON_PROCESS_TERMINATE", p.ComputeName)
	}
	p.SessionLive = false // its session has ended, with its own reason
	return s.endProcess(ctx, w, p, version, EndForced)
}

// SessionEnded marks that a process's game session ended (the process stays
// connected but gets no other session).
func SessionEnded(ctx context.Context, w store.Writer, processID string) error {
	p, version, err := GetProcess(ctx, w, processID)
	if err != nil || !p.SessionLive {
		return err
	}
	p.SessionLive = false
	_, err = PutProcess(ctx, w, p, version)
	return err
}
