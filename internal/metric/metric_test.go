package metric_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/metric"
)

// series counts the registry's series of the metric named name, and sums
// their counter values.
func series(t *testing.T, reg *prometheus.Registry, name string) (n int, sum float64) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			n++
			sum += m.GetCounter().GetValue()
		}
	}
	return n, sum
}

func TestRegisterTwiceReturnsTheFirst(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := metric.Counter(reg, "muster_test_total", "A test counter.", "id")
	b := metric.Counter(reg, "muster_test_total", "A test counter.", "id")
	if a != b {
		t.Fatal("the second registration returned a new collector")
	}
	a.WithLabelValues("x").Inc()
	b.WithLabelValues("x").Inc()
	if n, sum := series(t, reg, "muster_test_total"); n != 1 || sum != 2 {
		t.Fatalf("%d series summing to %v, want one of 2", n, sum)
	}
}

func TestRegisterAnotherShapePanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	metric.Counter(reg, "muster_test_total", "A test counter.", "id")
	defer func() {
		if recover() == nil {
			t.Fatal("a counter and a gauge of one name: no panic")
		}
	}()
	metric.Gauge(reg, "muster_test_total", "A test counter.", "id")
}

func TestForgetDropsOneResource(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := metric.Counter(reg, "muster_calls_total", "Calls.", "hook", "outcome")
	h := metric.Histogram(reg, "muster_call_seconds", "Call time.", prometheus.DefBuckets, "hook")
	c.WithLabelValues("a", "ok").Inc()
	c.WithLabelValues("a", "refused").Inc()
	c.WithLabelValues("b", "ok").Inc()
	h.WithLabelValues("a").Observe(1)
	metric.Forget("hook", "a", c, h)
	if n, _ := series(t, reg, "muster_calls_total"); n != 1 {
		t.Fatalf("%d counter series left, want 1 (hook b's)", n)
	}
	if n, _ := series(t, reg, "muster_call_seconds"); n != 0 {
		t.Fatalf("%d histogram series left, want 0", n)
	}
}
