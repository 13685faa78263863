package capacity

import (
	"context"
	"sync"
	"time"
)

// callsPerLocation is how many provisioner calls of one location run at
// once: enough that a few slow ones (a cloud API, a 60 s timeout) do not
// queue the rest behind them, few enough not to flood the operator's
// provisioner when a location scales out by many hosts.
const callsPerLocation = 4

// writeBackTimeout bounds recording a call's outcome after the control
// plane began stopping: a Release that succeeded is worth recording, so
// that it is not asked again, but not worth holding up the stop.
const writeBackTimeout = 10 * time.Second

// claim marks the provisioner calls of a plan in flight, so that no pass
// plans them again until they return.
func (s *Service) claim(fleetID string, p plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, names := range [][]string{p.provision, p.release} {
		for _, name := range names {
			s.calling[fleetID+"/"+name] = true
		}
	}
}

// inFlight says whether a provisioner call for the host is running or
// waiting for one of its location's workers.
func (s *Service) inFlight(fleetID, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calling[fleetID+"/"+name]
}

func (s *Service) returned(h Host) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.calling, h.FleetID+"/"+h.ComputeName)
}

// workers is the location's semaphore of callsPerLocation slots.
func (s *Service) workers(location string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	sem := s.slots[location]
	if sem == nil {
		sem = make(chan struct{}, callsPerLocation)
		s.slots[location] = sem
	}
	return sem
}

// startCalls starts a plan's provisioner calls, each in its own goroutine
// owned by the Service (Run waits for them) and by wg when set; they run
// callsPerLocation at a time per location, each writing its outcome back.
func (s *Service) startCalls(ctx context.Context, prov Provisioner, fleetID, location string, p plan, wg *sync.WaitGroup) {
	for _, name := range p.provision {
		s.call(ctx, Host{FleetID: fleetID, Location: location, ComputeName: name}, wg, func(ctx context.Context, h Host) { s.provision(ctx, prov, h) })
	}
	for _, name := range p.release {
		s.call(ctx, Host{FleetID: fleetID, Location: location, ComputeName: name}, wg, func(ctx context.Context, h Host) { s.release(ctx, prov, h) })
	}
}

func (s *Service) call(ctx context.Context, h Host, wg *sync.WaitGroup, do func(context.Context, Host)) {
	sem := s.workers(h.Location)
	if wg != nil {
		wg.Add(1)
	}
	s.calls.Go(func() {
		defer func() {
			// After the outcome is written back: a pass in between would
			// otherwise see the host neither in flight nor failed.
			s.returned(h)
			if wg != nil {
				wg.Done()
			}
		}()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return // stopping: the host stays due, asked again on the next start
		}
		defer func() { <-sem }()
		do(ctx, h)
	})
}

// provision asks the provisioner for a host; a failure is recorded for a
// retry after the backoff. One cut short because the control plane stops
// is not a failure: the host is asked again at once on the next start.
func (s *Service) provision(ctx context.Context, prov Provisioner, h Host) {
	s.metrics.provisions.WithLabelValues(h.Location).Inc()
	err := prov.Provision(ctx, h)
	if err == nil || ctx.Err() != nil {
		return
	}
	s.cfg.Logger.Warn("provisioner failed", "fleet_id", h.FleetID, "location", h.Location, "compute_name", h.ComputeName, "err", err)
	if err := s.failed(ctx, h.FleetID, h.Location, h.ComputeName, "error", err.Error()); err != nil {
		s.cfg.Logger.Error("record a failed provision", "fleet_id", h.FleetID, "compute_name", h.ComputeName, "err", err)
	}
}

// release gives a host back to the provisioner and records the outcome.
func (s *Service) release(ctx context.Context, prov Provisioner, h Host) {
	err := prov.Release(ctx, h)
	if err != nil && ctx.Err() != nil {
		return // cut short by the stop: still due, released on the next start
	}
	result := "ok"
	if err != nil {
		result = "error"
		s.cfg.Logger.Warn("provisioner failed to release a host", "fleet_id", h.FleetID, "location", h.Location, "compute_name", h.ComputeName, "err", err)
	}
	s.metrics.releases.WithLabelValues(h.Location, result).Inc()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeBackTimeout)
	defer cancel()
	if err := s.released(wctx, h, err); err != nil {
		s.cfg.Logger.Error("record a release", "fleet_id", h.FleetID, "compute_name", h.ComputeName, "err", err)
	}
}
