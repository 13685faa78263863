package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// The host agent's heartbeat (Muster-specific, not GameLift):
//
//	POST /v1/admin/fleets/{fleetId}/computes/{computeName}/heartbeat
//
// with operator credentials, every HeartbeatIntervalSeconds. The body lists
// the processes the agent runs; the answer tells the agent the runtime
// configuration to converge to and what the control plane knows of each of
// its processes. A compute whose agent misses LostAfterHeartbeats intervals
// is lost (IMPAIRED): its processes end and their game sessions with them
// (SweepLostComputes). A draining agent makes its compute TERMINATING: no
// new game session goes there and each of its processes gets TerminateProcess.
// One agent at a time runs a compute, told apart by the instance id in its
// heartbeats (claimAgent).

// Heartbeat records an agent heartbeat for a compute and answers with what
// the control plane knows (agentwire.Reply). A process the agent reported
// before and no longer lists has exited and ends now; a process it lists
// for the first time is recorded PENDING. A process it names in Exited ends
// at once and the answer says how it ended. A draining agent makes its
// compute TERMINATING, and each of its processes is told to terminate.
func (s *Service) Heartbeat(ctx context.Context, fleetID, computeName string, hb agentwire.Heartbeat) (agentwire.Reply, error) {
	if err := s.agentOp(ctx, true, fleetID, computeName, func(v *fault.Validator) {
		for i, p := range hb.Processes {
			v.Check(p.ProcessID != "", fmt.Sprintf("Processes[%d].ProcessId", i), "is required")
		}
		if b := hb.Beacon; b != nil {
			v.Check(b.Port >= 0 && b.Port <= 65535, "Beacon.Port", "must be 0 to 65535")
		}
		v.Check(hb.DrainGraceSeconds >= 0, "DrainGraceSeconds", "must be at least 0")
	}); err != nil {
		return agentwire.Reply{}, err
	}
	var reply agentwire.Reply
	var terminate []string
	var c Compute
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var err error
		reply, terminate, c, err = s.recordHeartbeat(ctx, w, fleetID, computeName, hb)
		return err
	})
	if err != nil {
		return agentwire.Reply{}, fmt.Errorf("compute heartbeat: %w", err)
	}
	if s.cfg.Pusher != nil {
		at := s.terminationTime(c)
		for _, id := range terminate {
			s.cfg.Pusher.TerminateProcess(id, at)
		}
	}
	return reply, nil
}

// recordHeartbeat is Heartbeat's transaction. It returns the reply and the
// processes to push TerminateProcess to once it commits (those of a
// compute that starts draining with this heartbeat), and the compute.
func (s *Service) recordHeartbeat(ctx context.Context, w store.Writer, fleetID, computeName string, hb agentwire.Heartbeat) (agentwire.Reply, []string, Compute, error) {
	f, _, err := GetFleet(ctx, w, s.FleetID(fleetID))
	if err != nil {
		return agentwire.Reply{}, nil, Compute{}, err
	}
	c, cversion, err := GetCompute(ctx, w, f.ID, computeName)
	if err != nil {
		return agentwire.Reply{}, nil, Compute{}, err
	}
	now := s.cfg.Clock.Now().UTC()
	if err := s.claimAgent(ctx, w, &c, hb.InstanceID, now); err != nil {
		return agentwire.Reply{}, nil, Compute{}, err
	}
	wasDraining := c.Status == gamelift.ComputeTerminating
	c.Agent, c.Heartbeat = true, now
	if hb.DrainGraceSeconds > 0 {
		c.DrainGrace = time.Duration(hb.DrainGraceSeconds) * time.Second
	}
	switch {
	case hb.Draining:
		c.Status, c.ScaleIn = gamelift.ComputeTerminating, false
	case c.Status == gamelift.ComputeImpaired:
		c.Status = gamelift.ComputeActive
	}
	if _, err := w.Put(ctx, store.Record{Kind: KindCompute, ID: computeID(c.FleetID, c.Name), Doc: store.MustJSON(c), Keys: computeKeys(c), Version: cversion}); err != nil {
		return agentwire.Reply{}, nil, Compute{}, err
	}
	if err := s.recordBeacon(ctx, w, c, hb.Beacon, now); err != nil {
		return agentwire.Reply{}, nil, Compute{}, err
	}
	reply := agentwire.Reply{ComputeStatus: c.Status, HeartbeatIntervalSeconds: int(s.cfg.HeartbeatInterval / time.Second),
		ProcessReadyTimeoutSeconds: 300, RuntimeConfiguration: f.Runtime, Processes: []agentwire.ProcessStatus{}}
	reported := map[string]agentwire.Process{}
	for _, ap := range hb.Processes {
		reported[ap.ProcessID] = ap
	}
	exited := map[string]bool{}
	for _, id := range hb.Exited {
		exited[id] = true
	}
	ps, versions, err := heartbeatProcesses(ctx, w, c, hb)
	if err != nil {
		return agentwire.Reply{}, nil, Compute{}, err
	}
	var terminate []string
	for i, p := range ps {
		ap, running := reported[p.ID]
		delete(reported, p.ID)
		if p, err = s.reconcileProcess(ctx, w, c, p, versions[i], ap, running, exited[p.ID], now); err != nil {
			return agentwire.Reply{}, nil, Compute{}, err
		}
		if p.Status != ProcessTerminated && c.Status == gamelift.ComputeTerminating && !wasDraining {
			terminate = append(terminate, p.ID)
		}
		if running || p.Status != ProcessTerminated || exited[p.ID] {
			reply.Processes = append(reply.Processes, processStatus(p))
		}
	}
	for _, ap := range hb.Processes {
		if _, unknown := reported[ap.ProcessID]; !unknown {
			continue
		}
		p := Process{ID: ap.ProcessID, FleetID: c.FleetID, ComputeName: c.Name, Location: c.Location, Status: ProcessPending,
			IPAddress: c.IPAddress, DNSName: c.DNSName, PID: ap.PID, LaunchPath: ap.LaunchPath, Parameters: ap.Parameters,
			CreatedAt: now, Draining: c.Status != gamelift.ComputeActive}
		if _, err := PutProcess(ctx, w, p, 0); err != nil {
			return agentwire.Reply{}, nil, Compute{}, err
		}
		reply.Processes = append(reply.Processes, agentwire.ProcessStatus{ProcessID: p.ID, Status: p.Status})
	}
	return reply, terminate, c, nil
}

// claimAgent lets the agent instance that sent a heartbeat run c. Two
// agents heartbeating one compute (cloned hosts share a host name, the
// agent's default compute name) would each end the processes the other
// reported, so while the agent that runs c is live — its heartbeats keep
// within the lost window, and the compute is not lost — another instance
// is refused with Conflict (409). Once that agent is gone (c is lost or
// deregistered, or silent past the window) a new one takes the compute
// over, as after a crash and restart of the agent. A heartbeat without an
// instance id, from an agent older than the id, is accepted and claims
// nothing.
func (s *Service) claimAgent(ctx context.Context, w store.Writer, c *Compute, instance string, now time.Time) error {
	if instance == "" || instance == c.AgentInstance {
		return nil
	}
	window := LostAfterHeartbeats * s.cfg.HeartbeatInterval
	silent := now.Sub(c.Heartbeat)
	if c.AgentInstance != "" {
		if c.Status != gamelift.ComputeImpaired && silent < window {
			return fault.New(fault.Conflict, "ComputeName: compute %s of fleet %s is run by another agent (instance %s, heartbeat %s ago); "+
				"an agent takes a compute over only once the one running it has deregistered it or been silent for %s: give each host its own compute name",
				c.Name, c.FleetID, c.AgentInstance, silent.Round(time.Second), window)
		}
		msg := fmt.Sprintf("Compute %s in %s was taken over by a new agent: the one that ran it was silent since %s", c.Name, c.Location, c.Heartbeat.Format(time.RFC3339))
		if err := s.AddEvent(ctx, w, c.FleetID, "GENERIC_EVENT", msg); err != nil {
			return err
		}
	}
	c.AgentInstance = instance
	return nil
}

// heartbeatProcesses reads the processes a heartbeat concerns: the
// compute's processes that have not ended (its index holds only those, so a
// compute that ran many short-lived processes is not read whole at every
// heartbeat), and, by id, the ended ones the agent still reports or names
// as exited. A process of another compute is left out.
func heartbeatProcesses(ctx context.Context, w store.Writer, c Compute, hb agentwire.Heartbeat) ([]Process, []int64, error) {
	ps, versions, err := ComputeProcesses(ctx, w, c)
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		seen[p.ID] = true
	}
	ids := make([]string, 0, len(hb.Processes)+len(hb.Exited))
	for _, ap := range hb.Processes {
		ids = append(ids, ap.ProcessID)
	}
	for _, id := range append(ids, hb.Exited...) {
		if seen[id] {
			continue
		}
		seen[id] = true
		p, version, err := GetProcess(ctx, w, id)
		switch {
		case fault.Is(err, fault.NotFound):
			continue
		case err != nil:
			return nil, nil, err
		case p.FleetID != c.FleetID || p.ComputeName != c.Name:
			continue
		}
		ps, versions = append(ps, p), append(versions, version)
	}
	return ps, versions, nil
}

// reconcileProcess brings one known process of a heartbeating compute up to
// date with the agent's report (ap, when running; exited, when the agent
// says it exited) and returns it as stored.
func (s *Service) reconcileProcess(ctx context.Context, w store.Writer, c Compute, p Process, version int64, ap agentwire.Process, running, exited bool, now time.Time) (Process, error) {
	switch {
	case p.Status == ProcessTerminated:
		return p, nil
	case !running && (exited || p.PID != 0 || now.Sub(p.CreatedAt) > s.cfg.HeartbeatInterval):
		// The agent no longer runs it: it exited. A process the agent
		// reported before (its pid is known) or says exited ends at once;
		// one only seen on the SDK socket gets an interval for the agent to
		// report its launch.
		if err := s.endProcess(ctx, w, p, version, EndExited); err != nil {
			return p, err
		}
		p.Status, p.EndReason = ProcessTerminated, EndExited
		return p, nil
	}
	changed := false
	if running && p.PID == 0 && ap.PID != 0 {
		p.PID, p.LaunchPath, p.Parameters, changed = ap.PID, ap.LaunchPath, ap.Parameters, true
	}
	switch {
	case c.Status == gamelift.ComputeTerminating && !p.Draining && !(c.ScaleIn && p.SessionLive):
		// A compute drained for a scale-in leaves game sessions to finish.
		p.Draining, changed = true, true
	case c.Status == gamelift.ComputeActive && p.Draining && p.Status == ProcessPending:
		// A ready process marked draining was told to end (its compute
		// drained) and ends even if its compute is ACTIVE again.
		p.Draining, changed = false, true
	}
	if changed {
		if _, err := PutProcess(ctx, w, p, version); err != nil {
			return p, err
		}
	}
	return p, nil
}

// processStatus is what a heartbeat reply says of a process: a ready
// process told to end (draining) is TERMINATING, which its agent stops
// once its drain grace has passed.
func processStatus(p Process) agentwire.ProcessStatus {
	status := p.Status
	if status == ProcessActive && p.Draining {
		status = agentwire.StatusTerminating
	}
	st := agentwire.ProcessStatus{ProcessID: p.ID, Status: status, EndReason: p.EndReason,
		Kill:     p.Status == ProcessTerminated && (p.EndReason == EndForced || p.EndReason == EndUnhealthy),
		WasReady: !p.ReadyAt.IsZero(), HostedGameSession: p.GameSessionID != ""}
	if p.SessionLive {
		st.GameSessionID = p.GameSessionID
	}
	return st
}
