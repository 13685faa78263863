package capacity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// ReconcileAll reconciles every managed location that has a provisioner.
func (s *Service) ReconcileAll(ctx context.Context) error {
	var caps []fleet.Capacity
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		caps, err = fleet.ManagedCapacities(ctx, r)
		return err
	})
	if err != nil {
		return fmt.Errorf("capacity: %w", err)
	}
	var errs []error
	for _, c := range caps {
		if c.Set && s.cfg.Provisioners[c.Location] != nil {
			errs = append(errs, s.Reconcile(ctx, c.FleetID, c.Location))
		}
	}
	return errors.Join(errs...)
}

// plan is what one reconcile pass decided inside its transaction, done
// after it commits.
type plan struct {
	undrain   []string
	provision []string
	release   []string
	drain     []string
	remove    []string
}

// Reconcile brings one fleet location towards its desired capacity (see
// the package comment).
func (s *Service) Reconcile(ctx context.Context, fleetID, location string) error {
	prov := s.cfg.Provisioners[location]
	if st, ok := prov.(stopper); prov == nil || ok && st.Stopped() {
		return nil
	}
	var p plan
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var err error
		p, err = s.decide(ctx, w, fleetID, location)
		return err
	})
	if err != nil {
		return fmt.Errorf("reconcile %s %s: %w", fleetID, location, err)
	}
	for _, name := range p.undrain {
		if _, err := s.cfg.Fleets.UndrainCompute(ctx, fleetID, name, fmt.Sprintf("the desired capacity of %s rose again", location)); err != nil {
			return err
		}
	}
	for _, name := range p.drain {
		if _, err := s.cfg.Fleets.DrainCompute(ctx, fleetID, name, fmt.Sprintf("scale-in of %s", location)); err != nil {
			return err
		}
	}
	for _, name := range p.provision {
		s.metrics.provisions.WithLabelValues(location).Inc()
		if err := prov.Provision(ctx, Host{FleetID: fleetID, Location: location, ComputeName: name}); err != nil {
			s.cfg.Logger.Warn("provisioner failed", "fleet_id", fleetID, "location", location, "compute_name", name, "err", err)
			if err := s.failed(ctx, fleetID, location, name, "error", err.Error()); err != nil {
				return err
			}
		}
	}
	for _, name := range p.release {
		result := "ok"
		if err := prov.Release(ctx, Host{FleetID: fleetID, Location: location, ComputeName: name}); err != nil {
			result = "error"
			s.cfg.Logger.Warn("provisioner failed to release a host", "fleet_id", fleetID, "location", location, "compute_name", name, "err", err)
			s.event(ctx, fleetID, fmt.Sprintf("Provisioner of %s failed to release compute %s: %v; it is deregistered after %s if it stays", location, name, err, s.cfg.ReleaseDeadline))
		}
		s.metrics.releases.WithLabelValues(location, result).Inc()
	}
	for _, name := range p.remove {
		err := s.cfg.Fleets.RemoveCompute(ctx, fleetID, name, fmt.Sprintf("released by the provisioner of %s %s ago and still registered", location, s.cfg.ReleaseDeadline))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// decide is Reconcile's transaction.
func (s *Service) decide(ctx context.Context, w store.Writer, fleetID, location string) (plan, error) {
	var p plan
	c, version, found, err := fleet.GetCapacity(ctx, w, fleetID, location)
	if err != nil || !found || !c.Set {
		return p, err
	}
	if _, _, err := fleet.GetFleet(ctx, w, fleetID); fault.Is(err, fault.NotFound) {
		return p, w.Delete(ctx, fleet.KindCapacity, fleetID+"/"+location, version)
	} else if err != nil {
		return p, err
	}
	loads, err := fleet.LocationComputes(ctx, w, fleetID, location)
	if err != nil {
		return p, err
	}
	before := string(store.MustJSON(c))
	now := s.cfg.Clock.Now().UTC()
	registered := map[string]fleet.ComputeLoad{}
	for _, l := range loads {
		registered[l.Name] = l
	}
	if err := s.settlePending(ctx, w, &c, registered, now); err != nil {
		return p, err
	}
	releasing := map[string]bool{}
	keptReleasing := c.Releasing[:0]
	for _, r := range c.Releasing {
		if _, still := registered[r.ComputeName]; !still {
			continue
		}
		releasing[r.ComputeName] = true
		if !now.Before(r.Deadline) {
			p.remove = append(p.remove, r.ComputeName)
			continue
		}
		keptReleasing = append(keptReleasing, r)
	}
	c.Releasing = keptReleasing
	active := 0
	for _, l := range loads {
		if l.Status == gamelift.ComputeActive {
			active++
		}
	}
	have := active + len(c.Pending)
	// target is the desired count held to the fleet service's limit on
	// instances, so a count stored above it never has the provisioner asked
	// for more hosts than the limit.
	target := s.cfg.Fleets.Target(c, have)
	undrain := map[string]bool{}
	switch {
	case target > have:
		// A compute still draining for a scale-in is kept before a new host
		// is asked for.
		for _, name := range undrainOrder(loads, releasing, target-have) {
			undrain[name] = true
			p.undrain = append(p.undrain, name)
			have++
		}
		for range target - have {
			h := fleet.PendingHost{ComputeName: newComputeName(), RequestedAt: now, Deadline: now.Add(s.cfg.RegisterDeadline), Attempts: 1}
			s.markAsked(h.ComputeName)
			c.Pending = append(c.Pending, h)
			p.provision = append(p.provision, h.ComputeName)
		}
	case target < have:
		excess := have - target
		for excess > 0 && len(c.Pending) > 0 {
			last := c.Pending[len(c.Pending)-1]
			c.Pending = c.Pending[:len(c.Pending)-1]
			p.release = append(p.release, last.ComputeName)
			excess--
		}
		p.drain = drainOrder(loads, excess)
	}
	for i := range c.Pending {
		h := &c.Pending[i]
		if h.NextAttempt.IsZero() && !s.asked(h.ComputeName) {
			// Asked by an earlier run of the control plane (or another
			// replica) whose provisioner may not have finished: asked again
			// at once, as provisioners make sure a host exists.
			s.markAsked(h.ComputeName)
			h.RequestedAt, h.Deadline = now, now.Add(s.cfg.RegisterDeadline)
			p.provision = append(p.provision, h.ComputeName)
			continue
		}
		if !h.NextAttempt.IsZero() && !now.Before(h.NextAttempt) {
			h.NextAttempt, h.RequestedAt, h.Deadline = time.Time{}, now, now.Add(s.cfg.RegisterDeadline)
			h.Attempts++
			p.provision = append(p.provision, h.ComputeName)
		}
	}
	for _, l := range loads {
		if l.Status == gamelift.ComputeTerminating && l.Sessions == 0 && !releasing[l.Name] && !undrain[l.Name] {
			c.Releasing = append(c.Releasing, fleet.PendingHost{ComputeName: l.Name, RequestedAt: now, Deadline: now.Add(s.cfg.ReleaseDeadline), Attempts: 1})
			p.release = append(p.release, l.Name)
		}
	}
	if string(store.MustJSON(c)) == before {
		return p, nil
	}
	return p, fleet.PutCapacity(ctx, w, c, version)
}

// settlePending drops hosts that registered and marks for retry those past
// their deadline, each with a fleet event.
func (s *Service) settlePending(ctx context.Context, w store.Writer, c *fleet.Capacity, registered map[string]fleet.ComputeLoad, now time.Time) error {
	kept := c.Pending[:0]
	for _, h := range c.Pending {
		if _, ok := registered[h.ComputeName]; ok {
			s.forgetAsked(h.ComputeName)
			msg := fmt.Sprintf("Compute %s registered in %s, %s after it was asked of the provisioner", h.ComputeName, c.Location, now.Sub(h.RequestedAt).Round(time.Millisecond))
			if err := s.cfg.Fleets.AddEvent(ctx, w, c.FleetID, "GENERIC_EVENT", msg); err != nil {
				return err
			}
			continue
		}
		if h.NextAttempt.IsZero() && !now.Before(h.Deadline) {
			h.LastError = fmt.Sprintf("did not register within %s", s.cfg.RegisterDeadline)
			h.Failures++
			h.NextAttempt = now.Add(s.backoff(h.Attempts))
			s.metrics.failures.WithLabelValues(c.Location, "deadline").Inc()
			msg := fmt.Sprintf("Compute %s asked of the provisioner of %s %s; asking again in %s (attempt %d)", h.ComputeName, c.Location, h.LastError, h.NextAttempt.Sub(now), h.Attempts+1)
			if err := s.cfg.Fleets.AddEvent(ctx, w, c.FleetID, "GENERIC_EVENT", msg); err != nil {
				return err
			}
		}
		kept = append(kept, h)
	}
	c.Pending = kept
	return nil
}

// drainOrder picks n ACTIVE computes to drain: the least useful first.
//
// Only computes whose host runs the agent are drained: a provisioner's
// hosts all do (Host), so those are the hosts it can give back. A compute
// registered by other means — the studio's own tooling through
// RegisterCompute, a load tool's simulated servers — hosts game sessions
// and counts toward the capacity, but is the studio's to remove: draining
// it would end its idle processes and then deregister it, for a host no
// provisioner knows.
func drainOrder(loads []fleet.ComputeLoad, n int) []string {
	return pick(loads, n, func(l fleet.ComputeLoad) bool { return l.Status == gamelift.ComputeActive && l.Agent }, lessUseful)
}

// lessUseful orders computes from the least useful to keep: fewest game
// sessions first, ties the newest.
func lessUseful(a, b fleet.ComputeLoad) int {
	if a.Sessions != b.Sessions {
		return a.Sessions - b.Sessions
	}
	return b.CreatedAt.Compare(a.CreatedAt)
}

// pick names up to n of the computes that keep accepts, in order.
func pick(loads []fleet.ComputeLoad, n int, keep func(fleet.ComputeLoad) bool, order func(a, b fleet.ComputeLoad) int) []string {
	var kept []fleet.ComputeLoad
	for _, l := range loads {
		if keep(l) {
			kept = append(kept, l)
		}
	}
	slices.SortStableFunc(kept, order)
	var names []string
	for _, l := range kept[:min(n, len(kept))] {
		names = append(names, l.Name)
	}
	return names
}

// stopper is a provisioner that can stop with the control plane (Local):
// once stopped, Reconcile leaves its locations alone.
type stopper interface{ Stopped() bool }

// asked says whether this Service asked a provisioner for the host.
func (s *Service) asked(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.askedHosts[name]
}

func (s *Service) markAsked(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.askedHosts[name] = true
}

func (s *Service) forgetAsked(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.askedHosts, name)
}

// undrainOrder picks up to n computes draining for a scale-in whose hosts
// were not released yet, to keep: the most useful first (drainOrder's
// reverse).
func undrainOrder(loads []fleet.ComputeLoad, releasing map[string]bool, n int) []string {
	return pick(loads, n, func(l fleet.ComputeLoad) bool {
		return l.Status == gamelift.ComputeTerminating && l.ScaleIn && !releasing[l.Name]
	}, func(a, b fleet.ComputeLoad) int { return lessUseful(b, a) })
}

// backoff is the wait before the attempt after attempts failed ones.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.cfg.BaseBackoff << min(max(attempts-1, 0), 16)
	return min(d, s.cfg.MaxBackoff)
}

// failed records a failed Provision of a pending host: it is asked again
// after a backoff; a fleet event and the failure metric report it.
func (s *Service) failed(ctx context.Context, fleetID, location, name, reason, why string) error {
	s.metrics.failures.WithLabelValues(location, reason).Inc()
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		c, version, found, err := fleet.GetCapacity(ctx, w, fleetID, location)
		if err != nil || !found {
			return err
		}
		i := slices.IndexFunc(c.Pending, func(h fleet.PendingHost) bool { return h.ComputeName == name })
		if i < 0 {
			return nil
		}
		h := &c.Pending[i]
		now := s.cfg.Clock.Now().UTC()
		h.LastError, h.NextAttempt = why, now.Add(s.backoff(h.Attempts))
		h.Failures++
		if err := fleet.PutCapacity(ctx, w, c, version); err != nil {
			return err
		}
		return s.cfg.Fleets.AddEvent(ctx, w, fleetID, "GENERIC_EVENT", fmt.Sprintf("Provisioner of %s failed to add compute %s: %s; asking again in %s (attempt %d)",
			location, name, why, h.NextAttempt.Sub(now), h.Attempts+1))
	})
}

func (s *Service) event(ctx context.Context, fleetID, msg string) {
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error { return s.cfg.Fleets.AddEvent(ctx, w, fleetID, "GENERIC_EVENT", msg) })
	if err != nil {
		s.cfg.Logger.Error("fleet event", "fleet_id", fleetID, "err", err)
	}
}

// newComputeName names a provisioned host: muster-<8 hex digits>.
func newComputeName() string {
	var b [4]byte
	rand.Read(b[:])
	return "muster-" + hex.EncodeToString(b[:])
}
