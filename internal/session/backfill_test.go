package session_test

import (
	"context"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/session"
)

func TestWithoutMatchmakingBackfillFailsClearly(t *testing.T) {
	var b session.Backfiller = session.NoMatchmaking{}
	_, err := b.StartMatchBackfill(context.Background(), session.BackfillRequest{})
	if !fault.Is(err, fault.Unsupported) || !strings.Contains(err.Error(), "matchmaking is not available on this server") {
		t.Fatalf("StartMatchBackfill: %v", err)
	}
	if err := b.StopMatchBackfill(context.Background(), "", "", ""); !fault.Is(err, fault.Unsupported) {
		t.Fatalf("StopMatchBackfill: %v", err)
	}
}
