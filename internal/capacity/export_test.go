package capacity

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/fleet"
)

// FailuresMetric opens the provisioning failures counter to tests.
func (s *Service) FailuresMetric(location, reason string) prometheus.Counter {
	return s.metrics.failures.WithLabelValues(location, reason)
}

// NoCapacityPass runs Run's answer to one NoCapacity.
func (s *Service) NoCapacityPass(ctx context.Context) { s.noCapacityPass(ctx) }

// TargetCapacity is what a target-based policy asks of a location whose
// active game sessions are active, none activating nor queued.
func TargetCapacity(target float64, active, perCompute int) int {
	return targetCapacity(target, fleet.Stats{Active: active}, 0, perCompute)
}
