package agent

import (
	"context"
	"errors"
	"fmt"
)

// ErrComputeTaken is why Run stops when the control plane answers a
// heartbeat with 409: another agent runs the compute (two hosts were given
// one compute name), or took it over while this one could not reach the
// control plane for longer than the lost window.
var ErrComputeTaken = errors.New("another agent runs this compute")

// ErrFleetGone is Run's error when the control plane no longer knows the
// compute and refuses to register it again because its fleet (or the
// fleet's location) no longer exists: the fleet was deleted. The agent
// stops its processes and returns instead of trying again for ever.
var ErrFleetGone = errors.New("the fleet no longer exists")

// claim heartbeats, with no processes, before the compute is registered:
// the heartbeat carries the agent's instance id, which RegisterCompute (a
// GameLift operation) cannot, so the control plane can refuse a second
// agent of one compute before its registration overwrites the address of
// the first. A compute the control plane does not know (404) is free to
// register.
func (s *Supervisor) claim(ctx context.Context) error {
	_, err := s.sendHeartbeat(ctx)
	switch {
	case err == nil, IsNotFound(err):
		return nil
	case IsConflict(err):
		return s.takenBy(err)
	}
	return fmt.Errorf("claim the compute: %w", err)
}

// takenBy is the error Run returns once the control plane said, with err,
// that another agent runs the compute.
func (s *Supervisor) takenBy(err error) error {
	return fmt.Errorf("agent: compute %s of fleet %s: %w: %w", s.cfg.ComputeName, s.cfg.FleetID, ErrComputeTaken, err)
}

// lose records that another agent took the compute over while this one
// ran it (a heartbeat answered err, a 409). The Supervisor then stops its
// processes, whose records the control plane has already ended, and
// leaves the compute registered: it is the other agent's now.
func (s *Supervisor) lose(err error) {
	if s.taken != nil {
		return
	}
	s.taken = s.takenBy(err)
	s.log.Error("another agent runs this compute now: stopping the processes and leaving the compute to it", "instance_id", s.cfg.InstanceID, "err", err)
}
