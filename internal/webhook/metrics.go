package webhook

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/metric"
)

// metrics are the delivery metrics, by subscription id.
type metrics struct {
	attempts    *prometheus.CounterVec
	successes   *prometheus.CounterVec
	failures    *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	lag         *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		attempts:  metric.Counter(reg, "muster_webhook_attempts_total", "Webhook delivery attempts.", "subscription"),
		successes: metric.Counter(reg, "muster_webhook_deliveries_total", "Events delivered (a 2xx answer).", "subscription"),
		failures: metric.Counter(reg, "muster_webhook_failures_total",
			"Failed delivery attempts by kind: status_3xx, status_4xx, status_429, status_5xx, gone, timeout, connection, refused.",
			"subscription", "kind"),
		deadLetters: metric.Counter(reg, "muster_webhook_dead_letters_total", "Events that became dead letters after their last attempt.", "subscription"),
		latency: metric.Histogram(reg, "muster_webhook_attempt_seconds",
			"Time from sending a delivery to its answer.", prometheus.ExponentialBuckets(0.001, 4, 9), "subscription"),
		lag: metric.Gauge(reg, "muster_webhook_cursor_lag_seconds",
			"Age of the event a subscription is delivering (0 once it has caught up with the outbox).", "subscription"),
	}
}

// forget drops a deleted subscription's series.
func (m *metrics) forget(id string) {
	metric.Forget("subscription", id, m.attempts, m.successes, m.failures, m.deadLetters, m.latency, m.lag)
}

// Metrics are the delivery metrics, for tests and embedding programs.
type Metrics struct {
	Attempts, Successes, Failures, DeadLetters *prometheus.CounterVec
	Latency                                    *prometheus.HistogramVec
	Lag                                        *prometheus.GaugeVec
}

// Metrics returns the service's delivery metrics.
func (s *Service) Metrics() Metrics {
	m := s.metrics
	return Metrics{Attempts: m.attempts, Successes: m.successes, Failures: m.failures, DeadLetters: m.deadLetters, Latency: m.latency, Lag: m.lag}
}
