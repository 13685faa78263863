package hook

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/metric"
)

// metrics are the calls' metrics, by hook id.
type metrics struct {
	calls      *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	timeouts   *prometheus.CounterVec
	refusals   *prometheus.CounterVec
	badAnswers *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		calls: metric.Counter(reg, "muster_hook_calls_total",
			"Hook calls by outcome: allowed, refused, timeout, error, status, bad_answer, overloaded (not made: too many in flight), short_circuited (not made: breaker open), unusable (not made: the destination policy in force refuses the hook's URL, or its secret cannot be opened), cancelled.",
			"hook", "point", "outcome"),
		latency: metric.Histogram(reg, "muster_hook_call_seconds",
			"Time from sending a hook call to its answer (or its time-out).", prometheus.ExponentialBuckets(0.0005, 2, 14), "hook"),
		timeouts:   metric.Counter(reg, "muster_hook_timeouts_total", "Hook calls that did not answer within the hook's time-out.", "hook"),
		refusals:   metric.Counter(reg, "muster_hook_refusals_total", "Answers that refused (a ticket, a sign-in, a match).", "hook"),
		badAnswers: metric.Counter(reg, "muster_hook_bad_answers_total", "Answers with status 200 that are not a valid answer (shape, types, players, configuration).", "hook"),
	}
}

// forget drops a deleted hook's series.
func (m *metrics) forget(id string) {
	metric.Forget("hook", id, m.calls, m.latency, m.timeouts, m.refusals, m.badAnswers)
}

// Metrics are the call metrics, for tests and embedding programs.
type Metrics struct {
	Calls, Timeouts, Refusals, BadAnswers *prometheus.CounterVec
	Latency                               *prometheus.HistogramVec
}

// Metrics returns the service's call metrics.
func (s *Service) Metrics() Metrics {
	m := s.metrics
	return Metrics{Calls: m.calls, Timeouts: m.timeouts, Refusals: m.refusals, BadAnswers: m.badAnswers, Latency: m.latency}
}
