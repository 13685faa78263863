package capacity

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	provisions *prometheus.CounterVec
	failures   *prometheus.CounterVec
	releases   *prometheus.CounterVec
	scalings   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		provisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_capacity_provisions_total",
			Help: "Hosts asked of a location's provisioner (retries included)."}, []string{"location"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_capacity_provision_failures_total",
			Help: "Hosts whose provisioning failed (reason error) or that did not register in time (reason deadline)."}, []string{"location", "reason"}),
		releases: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_capacity_releases_total",
			Help: "Hosts given back to a location's provisioner, by result."}, []string{"location", "result"}),
		scalings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "muster_capacity_scaling_actions_total",
			Help: "Desired capacity changes made by scaling policies, by direction (out, in)."}, []string{"direction"}),
	}
	if reg != nil {
		reg.MustRegister(m.provisions, m.failures, m.releases, m.scalings)
	}
	return m
}
