package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/loadtest"
)

// playerTickets starts a loadtest matchmaking run's tickets through the
// player API, as game clients do: each with a signed-in player's access
// token, the player's attributes coming from their record.
//
// A player may hold one active ticket per configuration, so each worker of
// the run owns perWorker players and sends their tickets in turn: a
// player's next ticket comes perWorker of its worker's tickets after the
// previous one. Every player ticket has the same skill (the record has
// none, so the rule set's default), any two of them match and at most one
// waits at a time, for the next ticket of any worker: by the time its
// player comes round again it has long been matched. perWorker also sets
// each player's share of the run's rate, which the server's per-player
// limit (serve --player-identity-rate) bounds.
type playerTickets struct {
	config    string
	perWorker int
	// players[w*perWorker+i] is worker w's player i, and last its newest
	// ticket's id. A worker alone touches its players' entries while the
	// run lasts and loadtest.RunAt returns after its workers, so neither
	// needs a lock.
	players []*client.Client
	last    []string
}

// usePlayers makes the run's timed tickets go through the player API: it
// opens the run's configuration to players and signs them in, saying how
// many and how long that took.
func (lt *matchmakingRun) usePlayers(ctx context.Context, w io.Writer, o operatorFlags, endpoints []string, concurrency, perWorker int) error {
	if err := o.openToPlayers(ctx, http.DefaultClient, lt.name); err != nil {
		return fmt.Errorf("open configuration %s to players: %w", lt.name, err)
	}
	t0 := time.Now()
	pt, err := signInPlayers(ctx, o, endpoints, lt.name, concurrency, perWorker)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "signed in %d players (%d per request in flight) in %.1fs\n", len(pt.players), perWorker, time.Since(t0).Seconds())
	lt.players = pt
	return nil
}

// signInPlayers signs in concurrency×perWorker players, concurrency at a
// time, spread over endpoints (the replicas --endpoint lists). Their user
// ids are fixed (muster-loadtest-N), so that runs reuse the same
// identities rather than make new ones each time.
func signInPlayers(ctx context.Context, o operatorFlags, endpoints []string, config string, concurrency, perWorker int) (*playerTickets, error) {
	hc := playerHTTPClient(concurrency)
	n := concurrency * perWorker
	pt := &playerTickets{config: config, perWorker: perWorker, players: make([]*client.Client, n), last: make([]string, n)}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				ep, user := endpoints[i%len(endpoints)], fmt.Sprintf("muster-loadtest-%d", i)
				s, err := loadtest.DeveloperSignIn(ctx, hc, ep, o.keyID, o.secret, user)
				if err != nil {
					cancel(fmt.Errorf("sign in player %s at %s: %w", user, ep, err))
					return
				}
				pt.players[i] = client.New(ep, client.WithHTTPClient(hc), client.WithSession(s),
					client.WithUserAgent("muster-loadtest-matchmaking/1"))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return pt, nil
}

// playerHTTPClient is the client every player shares: it keeps an idle
// connection for each request in flight, so the run measures tickets and
// not connection set-up.
func playerHTTPClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = concurrency*2, concurrency*2, 0
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// start sends the ticket of worker's seq-th call, for its next player in
// turn.
func (pt *playerTickets) start(ctx context.Context, worker, seq int) error {
	i := worker*pt.perWorker + seq%pt.perWorker
	t, err := pt.players[i].StartMatchmaking(ctx, pt.config, nil)
	if err != nil {
		return err
	}
	pt.last[i] = t.TicketID
	return nil
}

// started lists each player's newest ticket: the one that may still wait
// after the run.
func (pt *playerTickets) started() []string {
	var ids []string
	for _, id := range pt.last {
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}
