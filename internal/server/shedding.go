package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/store"
)

// DefaultShedWriteDelay is how long writes may wait for the store's writer
// before new sign-ins and tickets are refused at the door. Below capacity
// a write waits for one group commit, a few milliseconds. Past it, the
// bound is what the writer's queue settles at, and a player's walk through
// the flow takes about ten writes one after another, each paying it.
// Measured with muster loadtest flow (10-player matches, simulated game
// servers, load tool and server on the same two cores), five minutes unless
// said:
//   - at 450 players/s, 500 ms let the queue settle at half a second:
//     412 players/s completed, end-to-end p99 41 s, 636 admitted tickets
//     timed out in placement; 150 ms: 441/s completed, p99 1.6 s, none
//     timed out, 2,570 refused at the door;
//   - at 500/s with 150 ms: 484/s completed, p99 2.0 s, 4,100 refused;
//   - at 400/s with 150 ms nothing was refused (p99 180 ms over 120 s).
//
// Where placement rather than the writer bounds the rate (2-player
// matches at 400/s, game servers always busy), 150 ms refused somewhat
// more than 500 ms (240 and 207 completed per second against 265 and
// 253, in two pairs of one-minute runs), and neither bound kept admitted
// tickets from waiting in placement.
const DefaultShedWriteDelay = 150 * time.Millisecond

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
