package webhook

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
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
	sub := []string{"subscription"}
	return &metrics{
		attempts: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_webhook_attempts_total",
			Help: "Webhook delivery attempts."}, sub)),
		successes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_webhook_deliveries_total",
			Help: "Events delivered (a 2xx answer)."}, sub)),
		failures: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_webhook_failures_total",
			Help: "Failed delivery attempts by kind: status_3xx, status_4xx, status_429, status_5xx, gone, timeout, connection, refused."},
			[]string{"subscription", "kind"})),
		deadLetters: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_webhook_dead_letters_total",
			Help: "Events that became dead letters after their last attempt."}, sub)),
		latency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "muster_webhook_attempt_seconds",
			Help: "Time from sending a delivery to its answer.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 9)}, sub)),
		lag: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "muster_webhook_cursor_lag_seconds",
			Help: "Age of the event a subscription is delivering (0 once it has caught up with the outbox)."}, sub)),
	}
}

// register registers c, or returns the collector already registered under
// its name (a service rebuilt on the same registry, as after a restart in
// one process).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // two metrics of one name and different shapes: a programming error
	}
	return c
}

// forget drops a deleted subscription's series.
func (m *metrics) forget(id string) {
	labels := prometheus.Labels{"subscription": id}
	m.attempts.DeletePartialMatch(labels)
	m.successes.DeletePartialMatch(labels)
	m.failures.DeletePartialMatch(labels)
	m.deadLetters.DeletePartialMatch(labels)
	m.latency.DeletePartialMatch(labels)
	m.lag.DeletePartialMatch(labels)
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
