package capacity

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// FailuresMetric opens the provisioning failures counter to tests.
func (s *Service) FailuresMetric(location, reason string) prometheus.Counter {
	return s.metrics.failures.WithLabelValues(location, reason)
}

// NoCapacityPass runs Run's answer to one NoCapacity.
func (s *Service) NoCapacityPass(ctx context.Context) { s.noCapacityPass(ctx) }
