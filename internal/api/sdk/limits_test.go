package sdk

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
)

// Many game servers share a host, so the SDK listener caps sockets per
// compute: a compute at its cap is refused at once (503, before the token
// is checked), while another compute on the same address is served.
func TestSocketsAreCappedPerComputeNotPerAddress(t *testing.T) {
	s, err := New(Config{DataDir: t.TempDir(),
		Limiter: httpx.NewLimiter("sdk", httpx.Limits{MaxConnsPerClient: 1, ClientsByKey: true}, nil)})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{}
	var h http.Handler
	h = s.limitPerCompute(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("pID") != "first" {
			return
		}
		// While the first socket of compute-a is open:
		for _, q := range []string{"FleetId=fleet-1&ComputeId=compute-a&pID=second", "FleetId=fleet-1&ComputeId=compute-b&pID=other"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/?"+q, nil)
			req.RemoteAddr = "10.0.0.5:1234" // the same host
			h.ServeHTTP(rec, req)
			codes[q] = rec.Code
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/?FleetId=fleet-1&ComputeId=compute-a&pID=first", nil)
	req.RemoteAddr = "10.0.0.5:1233"
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got := codes["FleetId=fleet-1&ComputeId=compute-a&pID=second"]; got != http.StatusServiceUnavailable {
		t.Errorf("a second socket of a compute at its cap: %d, want 503", got)
	}
	if got := codes["FleetId=fleet-1&ComputeId=compute-b&pID=other"]; got != http.StatusOK {
		t.Errorf("another compute on the same host: %d, want 200", got)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?FleetId=fleet-1&ComputeId=compute-a&pID=later", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("after the first socket closed: %d, want 200", rec.Code)
	}
}
