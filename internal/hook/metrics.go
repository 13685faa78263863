package hook

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
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
	hook := []string{"hook"}
	return &metrics{
		calls: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_hook_calls_total",
			Help: "Hook calls by outcome: allowed, refused, timeout, error, status, bad_answer, overloaded (not made: too many in flight), short_circuited (not made: breaker open), cancelled."},
			[]string{"hook", "point", "outcome"})),
		latency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "muster_hook_call_seconds",
			Help: "Time from sending a hook call to its answer (or its time-out).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, hook)),
		timeouts: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_hook_timeouts_total",
			Help: "Hook calls that did not answer within the hook's time-out."}, hook)),
		refusals: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_hook_refusals_total",
			Help: "Answers that refused (a ticket, a sign-in, a match)."}, hook)),
		badAnswers: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_hook_bad_answers_total",
			Help: "Answers with status 200 that are not a valid answer (shape, types, players, configuration)."}, hook)),
	}
}

// register registers c, or returns the collector already registered under
// its name (a service rebuilt on the same registry).
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

// forget drops a deleted hook's series.
func (m *metrics) forget(id string) {
	labels := prometheus.Labels{"hook": id}
	m.calls.DeletePartialMatch(labels)
	m.latency.DeletePartialMatch(labels)
	m.timeouts.DeletePartialMatch(labels)
	m.refusals.DeletePartialMatch(labels)
	m.badAnswers.DeletePartialMatch(labels)
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
