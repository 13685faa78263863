package push

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// The stream label of muster_push_resets_total: a player's stream
// (WebSocket or SSE) or an operator's (GET /v1/admin/events).
const (
	streamPlayer   = "player"
	streamOperator = "operator"
)

// metrics are the streams' figures; transport is "websocket" or "sse".
type metrics struct {
	clients  *prometheus.GaugeVec
	pushed   *prometheus.CounterVec
	dropped  prometheus.Counter
	resumes  prometheus.Counter
	resets   *prometheus.CounterVec
	latency  prometheus.Histogram
	watchers prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		clients: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "muster_push_clients",
			Help: "Players' streams open now, by transport (websocket, sse)."}, []string{"transport"}),
		pushed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_push_messages_total",
			Help: "Messages written to players' streams, by transport."}, []string{"transport"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "muster_push_dropped_clients_total",
			Help: "Streams disconnected because their queue was full (a client that does not read)."}),
		resumes: prometheus.NewCounter(prometheus.CounterOpts{Name: "muster_push_resumes_total",
			Help: "Resumes served from the outbox after a reconnect."}),
		resets: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_push_resets_total",
			Help: "Resumes answered with a reset (the id was older than what is kept, or unknown), by stream (player, operator)."}, []string{"stream"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "muster_push_delivery_seconds",
			Help:    "From an event's commit to its write on a player's stream.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}),
		watchers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "muster_push_long_polls",
			Help: "Ticket long polls waiting now."}),
	}
	m.resets.WithLabelValues(streamPlayer)
	m.resets.WithLabelValues(streamOperator)
	var errs []error
	for _, c := range []prometheus.Collector{m.clients, m.pushed, m.dropped, m.resumes, m.resets, m.latency, m.watchers} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}
