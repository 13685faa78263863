package httpx_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// TestEveryRetryableUnavailableSaysWhenToRetry: a 503 a client may retry
// carries Retry-After, whichever cause made it.
func TestEveryRetryableUnavailableSaysWhenToRetry(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"shed at the door", fmt.Errorf("admit: %w", store.ErrOverloaded), "1"},
		{"out of disk", fmt.Errorf("put: %w", store.ErrStorageFull), "5"},
		{"a failClosed hook failed", fault.New(fault.NotReady, "hook beforeTicket did not answer"), "5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			httpx.WriteError(w, httptest.NewRequest("POST", "/v1/matchmaking/tickets", nil), slog.New(slog.DiscardHandler), c.err)
			if w.Code != 503 || w.Header().Get("Retry-After") != c.want {
				t.Fatalf("%d Retry-After %q, want 503 with Retry-After %q", w.Code, w.Header().Get("Retry-After"), c.want)
			}
		})
	}
}
