package client_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/testenv"
)

// The whole flow of a game client through the SDK: a real agent's beacon,
// a WITH_QUEUE configuration whose matches are placed on examples/arena
// game servers, and each player let in with the seat Wait returned.
func TestAPlacedMatchIsJoinedWithItsSeat(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs muster, an agent and arena game servers")
	}
	s := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fleetID, _ := s.StartArenaFleet(t, testenv.ArenaFleet{Name: "arena", Processes: 2, Locations: []string{"custom-arena"}})
	// arena-duel: a 1v1 WITH_QUEUE configuration placing on the fleet, open to players.
	if err := testenv.CreateMatchmaking(ctx, s.Admin(), testenv.Matchmaking{Name: "arena-duel", Rules: oneVOne, FleetID: fleetID, Players: true}); err != nil {
		t.Fatal(err)
	}

	// One player asks and waits in two calls, the other with FindMatch:
	// either way the seat comes with the COMPLETED ticket.
	done := make(chan outcome, 2)
	for _, find := range []bool{false, true} {
		go func() {
			var o outcome
			o.match, o.err = playArena(ctx, s.URL(), find)
			done <- o
		}()
	}
	for range 2 {
		o := <-done
		if o.err != nil {
			t.Fatal(o.err)
		}
		if m := o.match; m.IPAddress != "127.0.0.1" || m.Port == 0 || !strings.Contains(m.GameSessionArn, "/custom-arena/") || m.PlayerSessionID == "" {
			t.Fatalf("%+v", m)
		}
		if got := joinArena(t, o.match.Addr(), o.match.PlayerSessionID); !strings.HasPrefix(got, "WELCOME") {
			t.Fatalf("JOIN %s answered %q", o.match.PlayerSessionID, got)
		}
	}
}

// playArena is a game client up to its match: sign in, measure, ask, wait
// (with FindMatch when find).
func playArena(ctx context.Context, endpoint string, find bool) (*client.Match, error) {
	c := client.New(endpoint, client.WithPollInterval(pollEvery))
	if _, err := c.SignInAnonymous(ctx); err != nil {
		return nil, err
	}
	ms, err := c.MeasureLatencies(ctx)
	if err != nil {
		return nil, err
	}
	if ms["custom-arena"] < 1 {
		return nil, fmt.Errorf("the agent's beacon was not measured: %v", ms)
	}
	if find {
		return c.FindMatch(ctx, "arena-duel", ms)
	}
	t, err := c.StartMatchmaking(ctx, "arena-duel", ms)
	if err != nil {
		return nil, err
	}
	return c.Wait(ctx, t.TicketID)
}

// joinArena connects to the arena game server with a seat and returns its
// first answer. A COMPLETED ticket's game session may still be activating
// on its process, so a refused JOIN is tried again for a while.
func joinArena(t *testing.T, addr, playerSessionID string) string {
	t.Helper()
	var last string
	testenv.Eventually(t, "the game server to welcome "+playerSessionID, 20*time.Second, func() bool {
		p, err := testenv.DialArena(addr, playerSessionID)
		if err != nil {
			last = err.Error()
			return false
		}
		if last = p.First; !strings.HasPrefix(last, "WELCOME") {
			p.Conn.Close()
			return false
		}
		t.Cleanup(func() { p.Conn.Close() })
		return true
	})
	return last
}
