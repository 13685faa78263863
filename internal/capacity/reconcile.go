package capacity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// ReconcileAll reconciles every managed location that has a provisioner,
// and every location left with hosts to release (a deleted fleet or
// location). Each location's plan is decided and its fleet actions done in
// turn; its provisioner calls start on the location's own workers and are
// not waited for, so that a slow provisioner holds up neither the other
// locations nor the next pass (Run waits for them when it stops).
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
		if (c.Set || len(c.Releasing) > 0) && s.cfg.Provisioners[c.Location] != nil {
			errs = append(errs, s.reconcile(ctx, c.FleetID, c.Location, nil))
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
	remove    []removal
}

// removal is a released host's compute to deregister, and why.
type removal struct{ name, why string }

// Reconcile brings one fleet location towards its desired capacity (see
// the package comment), and returns once the provisioner calls it started
// have returned.
func (s *Service) Reconcile(ctx context.Context, fleetID, location string) error {
	var wg sync.WaitGroup
	err := s.reconcile(ctx, fleetID, location, &wg)
	wg.Wait()
	return err
}

// reconcile decides a location's plan, starts its provisioner calls (wg,
// when set, waits for them) and does its fleet actions. Every action is
// tried: one that fails does not hold back the others, which would leave
// hosts neither drained nor released.
func (s *Service) reconcile(ctx context.Context, fleetID, location string, wg *sync.WaitGroup) error {
	prov := s.cfg.Provisioners[location]
	if st, ok := prov.(stopper); prov == nil || ok && st.Stopped() {
		return nil
	}
	var p plan
	// planMu makes deciding and claiming the calls one step, so that two
	// passes over a location never start the same call twice.
	s.planMu.Lock()
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var err error
		p, err = s.decide(ctx, w, fleetID, location)
		return err
	})
	if err == nil {
		s.claim(fleetID, p)
	}
	s.planMu.Unlock()
	if err != nil {
		return fmt.Errorf("reconcile %s %s: %w", fleetID, location, err)
	}
	s.startCalls(ctx, prov, fleetID, location, p, wg)
	var errs []error
	for _, name := range p.undrain {
		_, err := s.cfg.Fleets.UndrainCompute(ctx, fleetID, name, fmt.Sprintf("the desired capacity of %s rose again", location))
		errs = append(errs, err)
	}
	for _, name := range p.drain {
		_, err := s.cfg.Fleets.DrainCompute(ctx, fleetID, name, fmt.Sprintf("scale-in of %s", location))
		errs = append(errs, err)
	}
	for _, r := range p.remove {
		if err := s.cfg.Fleets.RemoveCompute(ctx, fleetID, r.name, r.why); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reconcile %s %s: %w", fleetID, location, err)
	}
	return nil
}

// decide is Reconcile's transaction.
func (s *Service) decide(ctx context.Context, w store.Writer, fleetID, location string) (plan, error) {
	var p plan
	c, version, found, err := fleet.GetCapacity(ctx, w, fleetID, location)
	if err != nil || !found || !c.Set && len(c.Releasing) == 0 {
		return p, err
	}
	now := s.cfg.Clock.Now().UTC()
	f, _, err := fleet.GetFleet(ctx, w, fleetID)
	gone := fault.Is(err, fault.NotFound)
	if err != nil && !gone {
		return p, err
	}
	if gone || !f.HasLocation(location) {
		// Nothing is provisioned for a location its fleet no longer has:
		// what is left is releasing the hosts it had.
		if _, err := fleet.RetireCapacity(ctx, w, fleetID, location, now); err != nil {
			return p, err
		}
		if c, version, found, err = fleet.GetCapacity(ctx, w, fleetID, location); err != nil || !found {
			return p, err
		}
	}
	loads, err := fleet.LocationComputes(ctx, w, fleetID, location)
	if err != nil {
		return p, err
	}
	before := string(store.MustJSON(c))
	registered := map[string]fleet.ComputeLoad{}
	for _, l := range loads {
		registered[l.Name] = l
	}
	if c.Set {
		if err := s.scale(ctx, w, &c, &p, loads, registered, now); err != nil {
			return p, err
		}
	}
	s.settleReleasing(&c, &p, registered, now)
	if !c.Set && len(c.Releasing) == 0 {
		return p, w.Delete(ctx, fleet.KindCapacity, fleetID+"/"+location, version)
	}
	if string(store.MustJSON(c)) == before {
		return p, nil
	}
	return p, fleet.PutCapacity(ctx, w, c, version)
}

// scale plans a managed location's way to its desired count: hosts to
// keep, ask for, give back and drain, and retries of hosts that failed.
func (s *Service) scale(ctx context.Context, w store.Writer, c *fleet.Capacity, p *plan, loads []fleet.ComputeLoad, registered map[string]fleet.ComputeLoad, now time.Time) error {
	if err := s.settlePending(ctx, w, c, registered, now); err != nil {
		return err
	}
	releasing := map[string]bool{}
	for _, r := range c.Releasing {
		releasing[r.ComputeName] = true
	}
	active := 0
	for _, l := range loads {
		// A host being released that registered all the same is on its
		// way out: it is not capacity.
		if l.Status == gamelift.ComputeActive && !releasing[l.Name] {
			active++
		}
	}
	have := active + len(c.Pending)
	// target is the desired count held to the fleet service's limit on
	// instances, so a count stored above it never has the provisioner asked
	// for more hosts than the limit.
	target := s.cfg.Fleets.Target(*c, have)
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
			// A host not registered yet is given back first; it stays in
			// Releasing until its provisioner has released it.
			last := c.Pending[len(c.Pending)-1]
			c.Pending = c.Pending[:len(c.Pending)-1]
			s.forgetAsked(last.ComputeName)
			c.Releasing = append(c.Releasing, fleet.PendingHost{ComputeName: last.ComputeName, RequestedAt: now, NextAttempt: now})
			releasing[last.ComputeName] = true
			excess--
		}
		p.drain = drainOrder(loads, releasing, excess)
	}
	s.retryPending(c, p, now)
	for _, l := range loads {
		if l.Status == gamelift.ComputeTerminating && l.Sessions == 0 && !releasing[l.Name] && !undrain[l.Name] {
			c.Releasing = append(c.Releasing, fleet.PendingHost{ComputeName: l.Name, RequestedAt: now, NextAttempt: now})
		}
	}
	return s.releaseLost(ctx, w, c, loads, releasing, now)
}

// retryPending plans the Provision of pending hosts due for one again.
func (s *Service) retryPending(c *fleet.Capacity, p *plan, now time.Time) {
	for i := range c.Pending {
		h := &c.Pending[i]
		if s.inFlight(c.FleetID, h.ComputeName) {
			continue
		}
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
		if h.NextAttempt.IsZero() && !now.Before(h.Deadline) && !s.inFlight(c.FleetID, h.ComputeName) {
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
// provisioner knows. A host already being released is not capacity.
func drainOrder(loads []fleet.ComputeLoad, releasing map[string]bool, n int) []string {
	return pick(loads, n, func(l fleet.ComputeLoad) bool {
		return l.Status == gamelift.ComputeActive && l.Agent && !releasing[l.Name]
	}, lessUseful)
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

// newComputeName names a provisioned host: muster-<8 hex digits>.
func newComputeName() string {
	var b [4]byte
	rand.Read(b[:])
	return "muster-" + hex.EncodeToString(b[:])
}
