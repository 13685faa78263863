package matchmaking_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// While the queue a configuration's matches are placed through is past its
// capacity, a new ticket is refused at the door with store.ErrOverloaded
// and nothing is written — its match would be refused a placement anyway —
// and tickets are taken again once the queue places game sessions.
func TestANewTicketIsRefusedWhileItsQueueIsPastCapacity(t *testing.T) {
	w := newHostingWorld(t)
	// A queue that always takes one waiting placement and judges the rest
	// by the rate it places them.
	base := service.Base{Store: w.db, Clock: w.clock, ARNs: w.arns, Tags: w.tags}
	w.placement = placement.New(placement.Config{Base: base, Fleets: w.fleets, Sessions: w.sessions, AdmitWaiting: 1,
		Listeners: []placement.Listener{placement.ListenerFunc(func(ctx context.Context, tw store.Writer, p placement.Placement) error {
			return w.svc.PlacementEnded(ctx, tw, p)
		})}})
	w.cfg.Placer = w.placement
	w.restart()
	arn := w.queue("main")
	w.ruleSet("duel", duelRules)
	w.standalone("q", "duel", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.FlexMatchMode, in.GameSessionQueueArns = gamelift.FlexMatchWithQueue, []string{arn}
	})
	w.startTicket("q", "a", "ann", 1500)
	w.startTicket("q", "b", "bob", 1500)
	w.cycle("q")
	match := w.matchOf("a")
	// The placer starts with the match's placement pending, tries it,
	// finds no server process and arms its retry: the queue now holds a
	// placement it has no rate for.
	timers := w.clock.Timers()
	go w.placement.Run(w.root.Context()) //nolint:errcheck // ends with the test
	w.clock.WaitForTimers(timers + 1)

	_, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{TicketId: "c", ConfigurationName: "q",
		Players: []gamelift.Player{{PlayerId: "cat", PlayerAttributes: skill(1500)}}})
	if !errors.Is(err, store.ErrOverloaded) || !strings.Contains(err.Error(), "queue main is past its capacity") {
		t.Fatalf("StartMatchmaking with the queue past its capacity = %v, want store.ErrOverloaded naming the queue", err)
	}
	out, err := w.svc.DescribeMatchmaking(w.ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"c"}})
	if err != nil || len(out.TicketList) != 0 {
		t.Fatalf("the refused ticket was written: %+v %v", out, err)
	}
	if w.placement.TicketsRefused() != 1 {
		t.Fatalf("TicketsRefused = %d, want 1", w.placement.TicketsRefused())
	}

	// A server process comes: the match is placed, and the queue, placing
	// again, takes new tickets.
	w.process()
	if !w.place(match) {
		t.Fatal("the match was not placed on the new process")
	}
	w.startTicket("q", "c", "cat", 1500)
}
