package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

type requestIDKey struct{}

// RequestID returns the request id that Observe assigned, if any.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// BearerToken is the token of r's "Authorization: Bearer <token>" header
// (the scheme in any case, surrounding white space trimmed); ok is false
// when there is no such header or its token is empty.
func BearerToken(r *http.Request) (token string, ok bool) {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	token = strings.TrimSpace(h[len(p):])
	return token, token != ""
}

// Metrics are the HTTP metrics shared by every route.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "muster_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// StatusWriter remembers the status a handler answered (Status, 0 until
// it answers), for middleware that acts on the outcome.
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records the first status and sends it.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and writes b.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Observe wraps the whole mux: it assigns a request id (X-Request-Id and,
// for AWS clients, x-amzn-RequestId), records metrics labelled by the
// matched route pattern, and writes a debug access log. It never logs
// headers, so tokens and signatures stay out of logs.
func Observe(next http.Handler, m *Metrics, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := uuid.NewString()
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Amzn-Requestid", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		sw := &StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if sw.Status == 0 {
			sw.Status = http.StatusOK
		}
		elapsed := time.Since(start)
		m.requests.WithLabelValues(route, strconv.Itoa(sw.Status)).Inc()
		m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
		if log.Enabled(r.Context(), slog.LevelDebug) {
			log.Debug("request", "request_id", id, "method", r.Method, "route", route, "status", sw.Status, "duration", elapsed)
		}
	})
}
