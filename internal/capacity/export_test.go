package capacity

import "github.com/prometheus/client_golang/prometheus"

// FailuresMetric opens the provisioning failures counter to tests.
func (s *Service) FailuresMetric(location, reason string) prometheus.Counter {
	return s.metrics.failures.WithLabelValues(location, reason)
}
