package server_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/server"
)

// The matchmaking service decides which durations it can run with; the
// server names the flags that set them.
func TestANegativeMatchmakingDurationStopsTheServer(t *testing.T) {
	cfg := server.Config{DataDir: t.TempDir(), SDKListen: "127.0.0.1:0", MatchmakingCycleInterval: -time.Second, MatchmakingTicketRetention: -time.Hour}
	_, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "--matchmaking-cycle-interval") || !strings.Contains(err.Error(), "CycleInterval") || !strings.Contains(err.Error(), "TicketRetention") {
		t.Fatalf("got %v, want an error naming the flags and both settings", err)
	}
}
