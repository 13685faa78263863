package matchmaking_test

import (
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
)

// WITH_QUEUE matches are placed, completed and backfilled by the real
// placement and hosting services in internal/api/sdk's withqueue_test.go
// (a real Go-SDK game server, the Go SDK client). Here: a matchmaker
// assembled without placement says so on the tickets instead of losing them.
func TestWithQueueWithoutPlacementFailsClearly(t *testing.T) {
	e := newEnv(t)
	e.config("q", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.FlexMatchMode = gamelift.FlexMatchWithQueue
		in.GameSessionQueueArns = []string{"arn:aws:gamelift:mu-local-1:000000000000:gamesessionqueue/main"}
	})
	e.startTicket("q", "a", "pa", 1000)
	e.startTicket("q", "b", "pb", 1000)
	e.cycle("q")
	a := e.ticket("a")
	if a.Status != gamelift.TicketFailed || !strings.Contains(a.StatusMessage, "placement") {
		t.Fatal(a.Status, a.StatusMessage)
	}
}
