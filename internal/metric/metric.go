package metric

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c, or returns the collector already registered under
// its name. Two collectors of one name and different shapes are a
// programming error: it panics.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// Counter registers a counter vector named name with the given labels.
func Counter(reg prometheus.Registerer, name, help string, labels ...string) *prometheus.CounterVec {
	return Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
}

// Gauge registers a gauge vector named name with the given labels.
func Gauge(reg prometheus.Registerer, name, help string, labels ...string) *prometheus.GaugeVec {
	return Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels))
}

// Histogram registers a histogram vector named name with the given buckets
// and labels.
func Histogram(reg prometheus.Registerer, name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels))
}

// Vec is a collector vector whose series can be dropped by label.
type Vec interface {
	DeletePartialMatch(labels prometheus.Labels) int
}

// Forget drops every series of vecs whose label is value (a deleted
// resource's).
func Forget(label, value string, vecs ...Vec) {
	labels := prometheus.Labels{label: value}
	for _, v := range vecs {
		v.DeletePartialMatch(labels)
	}
}
