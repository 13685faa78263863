package httpx_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
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

// TestAClientThatLeftIsNotAFailedRequest: a request whose client hung up
// ends with its context's error; that is logged at Debug, not as a failed
// request, while the same error under a live request still is one.
func TestAClientThatLeftIsNotAFailedRequest(t *testing.T) {
	for _, c := range []struct {
		name       string
		clientGone bool
		wantError  bool
	}{
		{"the client hung up", true, false},
		{"a cancellation inside the server", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ctx, cancel := context.WithCancel(context.Background())
			if c.clientGone {
				cancel()
			}
			defer cancel()
			r := httptest.NewRequest("POST", "/v1/matchmaking/tickets", nil).WithContext(ctx)
			httpx.WriteError(httptest.NewRecorder(), r, log, fmt.Errorf("start ticket: %w", context.Canceled))
			if got := strings.Contains(logs.String(), "level=ERROR"); got != c.wantError {
				t.Fatalf("logged at Error: %v, want %v\n%s", got, c.wantError, logs.String())
			}
			if !strings.Contains(logs.String(), "context canceled") {
				t.Fatalf("the cause was not logged:\n%s", logs.String())
			}
		})
	}
}
