package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/auth"
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

// AgentProcess is one process an agent reports.
type AgentProcess struct {
	ProcessID  string    `json:"processId"`
	PID        int       `json:"pid,omitempty"`
	LaunchPath string    `json:"launchPath,omitempty"`
	Parameters string    `json:"parameters,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
}

// AgentBeacon is the UDP ping beacon an agent serves.
type AgentBeacon struct {
	Domain string `json:"domain"`
	Port   int    `json:"port"`
}

// AgentHeartbeat is the heartbeat body.
type AgentHeartbeat struct {
	Draining  bool           `json:"draining"`
	Processes []AgentProcess `json:"processes"`
	Beacon    *AgentBeacon   `json:"beacon,omitempty"`
}

// AgentProcessStatus is what the control plane knows of one process.
// GameSessionID names the live game session it hosts, so an agent whose
// runtime configuration shrank stops idle processes rather than games.
// Kill asks the agent to kill the process now rather than give it time to
// exit: its game session was force-terminated (EndReason FORCE_TERMINATED)
// or it failed UnhealthyChecks health checks in a row (UNHEALTHY).
type AgentProcessStatus struct {
	ProcessID     string `json:"processId"`
	Status        string `json:"status"`
	GameSessionID string `json:"gameSessionId,omitempty"`
	Kill          bool   `json:"kill,omitempty"`
	EndReason     string `json:"endReason,omitempty"`
}

// AgentHeartbeatReply is the heartbeat answer.
type AgentHeartbeatReply struct {
	ComputeStatus              string                        `json:"computeStatus"`
	HeartbeatIntervalSeconds   int                           `json:"heartbeatIntervalSeconds"`
	ProcessReadyTimeoutSeconds int                           `json:"processReadyTimeoutSeconds"`
	RuntimeConfiguration       gamelift.RuntimeConfiguration `json:"runtimeConfiguration"`
	Processes                  []AgentProcessStatus          `json:"processes"`
}

// Heartbeat records an agent heartbeat for a compute.
func (s *Service) Heartbeat(ctx context.Context, fleetID, computeName string, hb AgentHeartbeat) (AgentHeartbeatReply, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return AgentHeartbeatReply{}, err
	}
	var v fault.Validator
	for i, p := range hb.Processes {
		v.Check(p.ProcessID != "", fmt.Sprintf("$.processes[%d].processId", i), "is required")
	}
	if err := v.Err(); err != nil {
		return AgentHeartbeatReply{}, err
	}
	reply := AgentHeartbeatReply{HeartbeatIntervalSeconds: int(s.cfg.HeartbeatInterval / time.Second), ProcessReadyTimeoutSeconds: 300,
		Processes: []AgentProcessStatus{}}
	var terminate []string
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		f, _, err := GetFleet(ctx, w, s.FleetID(fleetID))
		if err != nil {
			return err
		}
		c, cversion, err := GetCompute(ctx, w, f.ID, computeName)
		if err != nil {
			return err
		}
		now := s.cfg.Clock.Now().UTC()
		wasDraining := c.Status == gamelift.ComputeTerminating
		c.Agent, c.Heartbeat = true, now
		switch {
		case hb.Draining:
			c.Status = gamelift.ComputeTerminating
		case c.Status == gamelift.ComputeImpaired:
			c.Status = gamelift.ComputeActive
		}
		if _, err := w.Put(ctx, store.Record{Kind: KindCompute, ID: computeID(c.FleetID, c.Name), Doc: store.MustJSON(c), Keys: computeKeys(c), Version: cversion}); err != nil {
			return err
		}
		if err := s.recordBeacon(ctx, w, c, hb.Beacon, now); err != nil {
			return err
		}
		reported := map[string]AgentProcess{}
		for _, ap := range hb.Processes {
			reported[ap.ProcessID] = ap
		}
		items, err := w.Find(ctx, store.Query{Kind: KindProcess, Key: 2, Value: computeID(c.FleetID, c.Name), Limit: 10000})
		if err != nil {
			return err
		}
		ps, err := store.Decode[Process](items)
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for i, p := range ps {
			known[p.ID] = true
			ap, running := reported[p.ID]
			version := items[i].Version
			switch {
			case p.Status == ProcessTerminated:
			case !running && (p.PID != 0 || now.Sub(p.CreatedAt) > s.cfg.HeartbeatInterval):
				// The agent no longer runs it: it exited. A process the agent
				// reported before (its pid is known) ends at once; one only
				// seen on the SDK socket gets an interval for the agent to
				// report its launch.
				if err := s.endProcess(ctx, w, p, version, EndExited); err != nil {
					return err
				}
				p.Status = ProcessTerminated
			default:
				changed := false
				if running && p.PID == 0 && ap.PID != 0 {
					p.PID, p.LaunchPath, p.Parameters, changed = ap.PID, ap.LaunchPath, ap.Parameters, true
				}
				if c.Status == gamelift.ComputeTerminating && !p.Draining {
					p.Draining, changed = true, true
				}
				if c.Status == gamelift.ComputeActive && p.Draining {
					p.Draining, changed = false, true
				}
				if changed {
					if _, err := PutProcess(ctx, w, p, version); err != nil {
						return err
					}
				}
				if c.Status == gamelift.ComputeTerminating && !wasDraining {
					terminate = append(terminate, p.ID)
				}
			}
			if running || p.Status != ProcessTerminated {
				st := AgentProcessStatus{ProcessID: p.ID, Status: p.Status, EndReason: p.EndReason,
					Kill: p.Status == ProcessTerminated && (p.EndReason == EndForced || p.EndReason == EndUnhealthy)}
				if p.SessionLive {
					st.GameSessionID = p.GameSessionID
				}
				reply.Processes = append(reply.Processes, st)
			}
		}
		for _, ap := range hb.Processes {
			if known[ap.ProcessID] {
				continue
			}
			p := Process{ID: ap.ProcessID, FleetID: c.FleetID, ComputeName: c.Name, Location: c.Location, Status: ProcessPending,
				IPAddress: c.IPAddress, DNSName: c.DNSName, PID: ap.PID, LaunchPath: ap.LaunchPath, Parameters: ap.Parameters,
				CreatedAt: now, Draining: c.Status != gamelift.ComputeActive}
			if _, err := PutProcess(ctx, w, p, 0); err != nil {
				return err
			}
			reply.Processes = append(reply.Processes, AgentProcessStatus{ProcessID: p.ID, Status: p.Status})
		}
		reply.ComputeStatus, reply.RuntimeConfiguration = c.Status, f.Runtime
		return nil
	})
	if err != nil {
		return AgentHeartbeatReply{}, fmt.Errorf("compute heartbeat: %w", err)
	}
	if s.cfg.Pusher != nil {
		at := s.cfg.Clock.Now().Add(s.cfg.TerminateGrace)
		for _, id := range terminate {
			s.cfg.Pusher.TerminateProcess(id, at)
		}
	}
	return reply, nil
}

// SweepLostComputes marks computes whose agent stopped heartbeating as
// lost (IMPAIRED), ending their processes and game sessions, each with an
// event. The server runs it every heartbeat interval; tests call it.
func (s *Service) SweepLostComputes(ctx context.Context) error {
	deadline := s.cfg.Clock.Now().Add(-LostAfterHeartbeats * s.cfg.HeartbeatInterval)
	var lost []store.Item
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		q := store.Query{Kind: KindCompute, Prefix: true, Limit: 1000}
		for {
			items, err := r.Find(ctx, q)
			if err != nil {
				return err
			}
			cs, err := store.Decode[Compute](items)
			if err != nil {
				return err
			}
			for i, c := range cs {
				if c.Agent && c.Status != gamelift.ComputeImpaired && c.Heartbeat.Before(deadline) {
					lost = append(lost, items[i])
				}
			}
			if len(items) < q.Limit {
				return nil
			}
			q.After = items[len(items)-1].ID
		}
	})
	if err != nil {
		return err
	}
	for _, it := range lost {
		err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
			c, version, err := store.GetJSON[Compute](ctx, w, KindCompute, it.ID)
			if err != nil {
				return err
			}
			if c.Status == gamelift.ComputeImpaired || !c.Heartbeat.Before(deadline) {
				return nil // it came back meanwhile
			}
			c.Status = gamelift.ComputeImpaired
			if _, err := w.Put(ctx, store.Record{Kind: KindCompute, ID: it.ID, Doc: store.MustJSON(c), Keys: computeKeys(c), Version: version}); err != nil {
				return err
			}
			if err := s.AddEvent(ctx, w, c.FleetID, "GENERIC_EVENT", fmt.Sprintf("Compute %s in %s was lost: no agent heartbeat since %s", c.Name, c.Location, c.Heartbeat.Format(time.RFC3339))); err != nil {
				return err
			}
			return s.endComputeProcesses(ctx, w, c, EndComputeLost)
		})
		if err != nil && !fault.Is(err, fault.NotFound) {
			return fmt.Errorf("sweep lost compute %s: %w", it.ID, err)
		}
		s.cfg.Logger.Warn("compute lost", "compute", it.ID)
	}
	return nil
}

// SilenceTimeout is how long a server process may go without an SDK
// heartbeat (every 60 ± 10 s) before it is taken for dead: it covers the
// SDK's ~184 s of reconnect attempts with room to spare.
const SilenceTimeout = 5 * time.Minute

// SweepSilentProcesses ends processes that sent no SDK heartbeat (or, never
// ready, connected no later than) SilenceTimeout ago, with their game
// sessions: a crashed process on a compute without an agent, or one whose
// socket never came back.
func (s *Service) SweepSilentProcesses(ctx context.Context) error {
	deadline := s.cfg.Clock.Now().Add(-SilenceTimeout)
	var silent []string
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		fleets, err := r.Find(ctx, store.Query{Kind: KindFleet, Prefix: true, Limit: 100000})
		if err != nil {
			return err
		}
		fs, err := store.Decode[Fleet](fleets)
		if err != nil {
			return err
		}
		for _, f := range fs {
			for _, l := range f.Locations {
				for _, st := range []string{statePending, stateIdle, stateActivating, stateBusy, stateUsed, stateUnavailable} {
					items, err := r.Find(ctx, store.Query{Kind: KindProcess, Key: 1, Value: f.ID + "/" + l + "/" + st, Limit: 100000})
					if err != nil {
						return err
					}
					ps, err := store.Decode[Process](items)
					if err != nil {
						return err
					}
					for _, p := range ps {
						last := p.Heartbeat
						if last.IsZero() {
							last = p.CreatedAt
						}
						if last.Before(deadline) {
							silent = append(silent, p.ID)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range silent {
		err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
			p, version, err := GetProcess(ctx, w, id)
			if err != nil {
				return err
			}
			last := p.Heartbeat
			if last.IsZero() {
				last = p.CreatedAt
			}
			if !last.Before(deadline) {
				return nil
			}
			return s.endProcess(ctx, w, p, version, EndSilent)
		})
		if err != nil && !fault.Is(err, fault.NotFound) {
			return fmt.Errorf("sweep silent process %s: %w", id, err)
		}
		s.cfg.Logger.Warn("server process silent: ended", "process", id)
	}
	return nil
}

// Run sweeps lost computes and silent processes every heartbeat interval
// until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := s.cfg.Clock.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C():
			if err := s.SweepLostComputes(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("sweep lost computes", "err", err)
			}
			if err := s.SweepSilentProcesses(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("sweep silent processes", "err", err)
			}
		}
	}
}

// SessionCounts, when set by the session service, reports the current and
// maximum player sessions of a fleet location's live game sessions for
// DescribeFleetUtilization.
type SessionCounts func(ctx context.Context, r store.Reader, fleetID, location string) (current, maximum int, err error)

// SetSessionCounts sets the utilization hook (at wiring).
func (s *Service) SetSessionCounts(f SessionCounts) { s.sessionCounts = f }

type usage struct {
	computesActive, computesIdle, computesTerminating int
	processesActive, sessions, players, maxPlayers    int
}

func (s *Service) usage(ctx context.Context, r store.Reader, f Fleet, location string) (usage, error) {
	var u usage
	items, err := r.Find(ctx, store.Query{Kind: KindCompute, Key: 2, Value: f.ID + "/" + location, Limit: 10000})
	if err != nil {
		return u, err
	}
	cs, err := store.Decode[Compute](items)
	if err != nil {
		return u, err
	}
	busyByCompute := map[string]bool{}
	for _, st := range []string{stateIdle, stateActivating, stateBusy, stateUsed, stateUnavailable} {
		items, err := r.Find(ctx, store.Query{Kind: KindProcess, Key: 1, Value: f.ID + "/" + location + "/" + st, Limit: 100000})
		if err != nil {
			return u, err
		}
		u.processesActive += len(items)
		if st == stateBusy || st == stateActivating {
			u.sessions += len(items)
			ps, err := store.Decode[Process](items)
			if err != nil {
				return u, err
			}
			for _, p := range ps {
				busyByCompute[p.ComputeName] = true
			}
		}
	}
	for _, c := range cs {
		switch c.Status {
		case gamelift.ComputeActive:
			u.computesActive++
			if !busyByCompute[c.Name] {
				u.computesIdle++
			}
		case gamelift.ComputeTerminating:
			u.computesTerminating++
		}
	}
	if s.sessionCounts != nil {
		u.players, u.maxPlayers, err = s.sessionCounts(ctx, r, f.ID, location)
	}
	return u, err
}

func (s *Service) capacity(f Fleet, location string, u usage) gamelift.FleetCapacity {
	return gamelift.FleetCapacity{FleetId: f.ID, FleetArn: f.ARN, Location: location, InstanceCounts: &gamelift.EC2InstanceCounts{
		DESIRED: itoa32(u.computesActive), MINIMUM: itoa32(0), MAXIMUM: itoa32(u.computesActive + u.computesTerminating),
		PENDING: itoa32(0), ACTIVE: itoa32(u.computesActive), IDLE: itoa32(u.computesIdle), TERMINATING: itoa32(u.computesTerminating)}}
}

// fleetUsage adds up a fleet's locations.
func (s *Service) fleetUsage(ctx context.Context, r store.Reader, f Fleet) (usage, error) {
	var total usage
	for _, l := range f.Locations {
		u, err := s.usage(ctx, r, f, l)
		if err != nil {
			return total, err
		}
		total.computesActive += u.computesActive
		total.computesIdle += u.computesIdle
		total.computesTerminating += u.computesTerminating
		total.processesActive += u.processesActive
		total.sessions += u.sessions
		total.players += u.players
		total.maxPlayers += u.maxPlayers
	}
	return total, nil
}

// DescribeFleetCapacity reports, for Anywhere fleets, counts of computes:
// ACTIVE registered and active, IDLE of those hosting no game session,
// TERMINATING draining.
func (s *Service) DescribeFleetCapacity(ctx context.Context, in *gamelift.DescribeFleetCapacityInput) (*gamelift.DescribeFleetCapacityOutput, error) {
	fleets, next, err := s.listFleets(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetCapacityOutput{FleetCapacity: []gamelift.FleetCapacity{}, NextToken: next}
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		for _, f := range fleets {
			u, err := s.fleetUsage(ctx, r, f)
			if err != nil {
				return err
			}
			fc := s.capacity(f, "", u)
			out.FleetCapacity = append(out.FleetCapacity, fc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("describe fleet capacity: %w", err)
	}
	return out, nil
}

// DescribeFleetLocationCapacity is DescribeFleetCapacity for one location.
func (s *Service) DescribeFleetLocationCapacity(ctx context.Context, in *gamelift.DescribeFleetLocationCapacityInput) (*gamelift.DescribeFleetLocationCapacityOutput, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	var v fault.Validator
	s.cfg.Formats.Check(&v, "FleetId", "FleetIdOrArn", in.FleetId)
	s.cfg.Formats.Check(&v, "Location", "LocationStringModel", in.Location)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var fc gamelift.FleetCapacity
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		f, _, err := GetFleet(ctx, r, s.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		if !f.HasLocation(in.Location) {
			return fault.New(fault.NotFound, "Location: fleet %s has no location %s", f.ID, in.Location)
		}
		u, err := s.usage(ctx, r, f, in.Location)
		fc = s.capacity(f, in.Location, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe fleet location capacity: %w", err)
	}
	return &gamelift.DescribeFleetLocationCapacityOutput{FleetCapacity: &fc}, nil
}

// DescribeFleetUtilization reports active processes, live game sessions
// and player sessions (reserved + active) of each fleet.
func (s *Service) DescribeFleetUtilization(ctx context.Context, in *gamelift.DescribeFleetUtilizationInput) (*gamelift.DescribeFleetUtilizationOutput, error) {
	fleets, next, err := s.listFleets(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetUtilizationOutput{FleetUtilization: []gamelift.FleetUtilization{}, NextToken: next}
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		for _, f := range fleets {
			u, err := s.fleetUsage(ctx, r, f)
			if err != nil {
				return err
			}
			out.FleetUtilization = append(out.FleetUtilization, gamelift.FleetUtilization{FleetId: f.ID, FleetArn: f.ARN,
				ActiveServerProcessCount: itoa32(u.processesActive), ActiveGameSessionCount: itoa32(u.sessions),
				CurrentPlayerSessionCount: itoa32(u.players), MaximumPlayerSessionCount: itoa32(u.maxPlayers)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("describe fleet utilization: %w", err)
	}
	return out, nil
}
