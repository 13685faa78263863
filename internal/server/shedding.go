package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/store"
)

// DefaultShedWriteDelay is how long writes may wait for the store's writer
// before new sign-ins and tickets are refused at the door. Below capacity
// a write waits for one group commit, a few milliseconds. Measured with
// muster loadtest flow (1v1, 2 shared cores): at 250 ms a CPU-starved
// writer shed new players at 120 players/s while matches, not the writer,
// bounded the rate; at 500 ms nothing was shed up to 200/s, and at 400/s,
// where the writer falls behind for good, shedding kept 15 players/s
// completing against 5 with none.
const DefaultShedWriteDelay = 500 * time.Millisecond

// mountShedding sets the store's admission bound (store.Admitter): past
// it, identity sign-ins and matchmaking tickets are refused at once — 503
// with Retry-After on the player API, ThrottlingException on the control
// API — while placements, sessions and everything else already admitted
// still commit. Refusals are counted in muster_admission_refused_total by
// door; the writer's queue is shown beside them.
func (s *Server) mountShedding(d *deps) {
	a, ok := d.store.(store.Admitter)
	if !ok {
		return
	}
	bound := s.cfg.ShedWriteDelay
	switch {
	case bound == 0:
		bound = DefaultShedWriteDelay
	case bound < 0:
		bound = 0
	}
	a.SetAdmissionBound(bound)
	d.reg.MustRegister(admissionCollector{a: a})
}

var (
	refusedDesc = prometheus.NewDesc("muster_admission_refused_total",
		"New sign-ins and tickets refused at the door because the store's writer was behind, by door (sign-in, ticket).", []string{"door"}, nil)
	waitingDesc = prometheus.NewDesc("muster_store_writes_waiting",
		"Writes queued for the store's writer or being committed.", nil, nil)
	delayDesc = prometheus.NewDesc("muster_store_write_queue_delay_seconds",
		"How long the oldest write of the writer's last batch waited for it.", nil, nil)
)

// admissionCollector reads the store's admission figures at scrape time.
type admissionCollector struct{ a store.Admitter }

func (c admissionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- refusedDesc
	ch <- waitingDesc
	ch <- delayDesc
}

func (c admissionCollector) Collect(ch chan<- prometheus.Metric) {
	refused := c.a.Refused()
	for _, door := range []string{"sign-in", "ticket"} {
		ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(refused[door]), door)
	}
	ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(c.a.Waiting()))
	ch <- prometheus.MustNewConstMetric(delayDesc, prometheus.GaugeValue, c.a.QueueDelay().Seconds())
}
