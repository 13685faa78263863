package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// DefaultDevDrainGrace is --dev-drain-grace's default: how long Ctrl-C of
// `serve --dev` lets the matches being played go on.
const DefaultDevDrainGrace = 30 * time.Second

// devDrain is what `serve --dev` does on Ctrl-C before it stops its
// agents and their game servers: the dev location's computes get no new
// game session (their idle processes are told to end), and the game
// sessions being played have up to grace to end on their own; a second
// Ctrl-C stops at once. The control plane keeps serving meanwhile, so
// players and game servers can finish.
type devDrain struct {
	grace time.Duration
	clock clock.Clock
	// drain makes the dev computes TERMINATING; live counts their game
	// sessions still being played.
	drain func(ctx context.Context) error
	live  func(ctx context.Context) (int, error)
	// again receives a second Ctrl-C; say prints to the operator.
	again <-chan os.Signal
	say   func(format string, args ...any)
}

// newDevDrain drains the computes of fleetID's dev location on srv's fleets.
func (d *devSystem) newDevDrain(fleetID string) *devDrain {
	fleets := d.srv.Hosting.Fleets
	st := d.srv.Store()
	computes := func(ctx context.Context) ([]fleet.ComputeLoad, error) {
		var loads []fleet.ComputeLoad
		err := st.View(ctx, func(r store.Reader) error {
			var err error
			loads, err = fleet.LocationComputes(ctx, r, fleetID, devLocation)
			return err
		})
		return loads, err
	}
	return &devDrain{
		grace: d.drainGrace,
		clock: clock.Real{},
		drain: func(ctx context.Context) error {
			loads, err := computes(ctx)
			for _, l := range loads {
				if l.Status == gamelift.ComputeActive && err == nil {
					_, err = fleets.DrainCompute(ctx, fleetID, l.Name, "muster serve --dev is stopping")
				}
			}
			return err
		},
		live: func(ctx context.Context) (int, error) {
			loads, err := computes(ctx)
			n := 0
			for _, l := range loads {
				n += l.Sessions
			}
			return n, err
		},
		say: func(format string, args ...any) { fmt.Fprintf(d.out, format, args...) },
	}
}

// run drains and returns once no game session is live, the grace has
// passed, or a second Ctrl-C came. It reports how many sessions were still
// live when it gave up (0 after a clean drain).
func (dd *devDrain) run(ctx context.Context) int {
	if dd.grace <= 0 {
		return 0
	}
	if err := dd.drain(ctx); err != nil {
		dd.say("muster serve --dev: cannot stop placing game sessions: %v\n", err)
		return 0
	}
	n, err := dd.live(ctx)
	if err != nil || n == 0 {
		return 0
	}
	again := dd.again
	if again == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		again = ch
	}
	dd.say("\nStopping: no new matches; waiting up to %s for %d game session(s) being played to end (Ctrl-C again to stop now)\n", dd.grace, n)
	deadline := dd.clock.NewTimer(dd.grace)
	defer deadline.Stop()
	tick := dd.clock.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-deadline.C():
			dd.say("Stopping: %d game session(s) still running after %s are ended now\n", n, dd.grace)
			return n
		case <-again:
			dd.say("Stopping now: %d game session(s) are ended\n", n)
			return n
		case <-ctx.Done():
			return n
		case <-tick.C():
			if n, err = dd.live(ctx); err == nil && n == 0 {
				dd.say("Stopping: every match ended\n")
				return 0
			}
		}
	}
}
