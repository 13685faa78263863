package capacity

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// A host given back to its provisioner is in fleet.Capacity.Releasing from
// the moment it is decided until its provisioner has released it and its
// compute, if it registered, is gone: a release that fails, or that a
// crash interrupts, is asked again rather than lost, since a host no one
// releases runs (and in a cloud is billed) for ever. An entry's
// NextAttempt is when its Release is due, zero once the provisioner
// released it; Deadline is then when its compute, still registered, is
// deregistered for it. Attempts counts Release calls, Failures the ones
// that failed.

// settleReleasing plans the Release of each host due for one and not in
// flight, the removal of each released host whose compute is still
// registered past its deadline or lost (IMPAIRED: its agent is gone, so
// nothing else deregisters it), and forgets released hosts no longer
// registered.
func (s *Service) settleReleasing(c *fleet.Capacity, p *plan, registered map[string]fleet.ComputeLoad, now time.Time) {
	kept := c.Releasing[:0]
	for _, r := range c.Releasing {
		l, isRegistered := registered[r.ComputeName]
		switch {
		case !r.NextAttempt.IsZero():
			if !now.Before(r.NextAttempt) && !s.inFlight(c.FleetID, r.ComputeName) {
				s.forgetAsked(r.ComputeName) // no longer a host to provision
				r.Attempts++
				p.release = append(p.release, r.ComputeName)
			}
		case !isRegistered:
			continue // released, and deregistered or never registered
		case l.Status == gamelift.ComputeImpaired:
			p.remove = append(p.remove, removal{r.ComputeName, fmt.Sprintf("lost, and released by the provisioner of %s", c.Location)})
		case !now.Before(r.Deadline):
			p.remove = append(p.remove, removal{r.ComputeName, fmt.Sprintf("released by the provisioner of %s %s ago and still registered", c.Location, s.cfg.ReleaseDeadline)})
		}
		kept = append(kept, r)
	}
	c.Releasing = kept
}

// releaseLost gives back to the provisioner the hosts of computes lost
// (IMPAIRED) for ReleaseDeadline: a host whose agent stopped heartbeating
// was replaced as soon as it was lost, but the machine may still run, and
// its compute would stay for ever. How long it has been lost is measured
// from its last heartbeat, which a lost compute keeps.
func (s *Service) releaseLost(ctx context.Context, w store.Writer, c *fleet.Capacity, loads []fleet.ComputeLoad, releasing map[string]bool, now time.Time) error {
	for _, l := range loads {
		if l.Status != gamelift.ComputeImpaired || !l.Agent || releasing[l.Name] || now.Before(l.Heartbeat.Add(s.cfg.ReleaseDeadline)) {
			continue
		}
		c.Releasing = append(c.Releasing, fleet.PendingHost{ComputeName: l.Name, RequestedAt: now, NextAttempt: now})
		msg := fmt.Sprintf("Compute %s in %s has been lost since %s: its host is released and the compute deregistered", l.Name, c.Location, l.Heartbeat.Format(time.RFC3339))
		if err := s.cfg.Fleets.AddEvent(ctx, w, c.FleetID, "GENERIC_EVENT", msg); err != nil {
			return err
		}
	}
	return nil
}

// released records the outcome of a host's Release: done, its compute has
// ReleaseDeadline to deregister; failed, it is released again after a
// backoff, with a fleet event.
func (s *Service) released(ctx context.Context, h Host, why error) error {
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		c, version, found, err := fleet.GetCapacity(ctx, w, h.FleetID, h.Location)
		if err != nil || !found {
			return err
		}
		i := slices.IndexFunc(c.Releasing, func(r fleet.PendingHost) bool { return r.ComputeName == h.ComputeName })
		if i < 0 {
			return nil
		}
		r := &c.Releasing[i]
		now := s.cfg.Clock.Now().UTC()
		if why == nil {
			r.NextAttempt, r.LastError, r.Deadline = time.Time{}, "", now.Add(s.cfg.ReleaseDeadline)
			return fleet.PutCapacity(ctx, w, c, version)
		}
		r.LastError, r.NextAttempt = why.Error(), now.Add(s.backoff(r.Attempts))
		r.Failures++
		if err := fleet.PutCapacity(ctx, w, c, version); err != nil {
			return err
		}
		return s.cfg.Fleets.AddEvent(ctx, w, h.FleetID, "GENERIC_EVENT", fmt.Sprintf("Provisioner of %s failed to release compute %s: %v; releasing it again in %s (attempt %d)",
			h.Location, h.ComputeName, why, r.NextAttempt.Sub(now), r.Attempts+1))
	})
}
