//go:build soak

package soak_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/testenv"
)

// ledger is what the load knows of its tickets: those the server accepted
// (answered with success), and those whose answer was lost (a killed or
// paused server) — they may or may not exist, and if they do they must end
// like the others.
type ledger struct {
	mu       sync.Mutex
	accepted map[string]string // ticket id → configuration
	maybe    map[string]string
	refused  map[string]int // error kind → count
	example  map[string]string
	joined   map[string]bool // ticket id → its player was validated by the game server
	joinErrs map[string]string
}

func newLedger() *ledger {
	return &ledger{accepted: map[string]string{}, maybe: map[string]string{}, refused: map[string]int{},
		example: map[string]string{}, joined: map[string]bool{}, joinErrs: map[string]string{}}
}

func (l *ledger) accept(id, config string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepted[id] = config
}

func (l *ledger) fail(id, config string, err error) {
	kind := "transport"
	var api smithy.APIError
	var ce *client.Error
	switch {
	case errors.As(err, &api):
		kind = api.ErrorCode()
	case errors.As(err, &ce):
		kind = "player-api-" + strconv.Itoa(ce.Status)
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if id != "" {
		l.maybe[id] = config
	}
	l.refused[kind]++
	if _, ok := l.example[kind]; !ok {
		l.example[kind] = err.Error()
	}
}

// pairTickets are the accepted and maybe-accepted tickets of the pair
// configuration not yet joined.
func (l *ledger) unjoinedPairs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for _, m := range []map[string]string{l.accepted, l.maybe} {
		for id, cfg := range m {
			if cfg == pairConfig && !l.joined[id] && l.joinErrs[id] == "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// load sends tickets at a steady rate: 6 in 10 through the control API and
// 2 in 10 through the player API (each after an anonymous sign-in) to the
// pair configuration, 2 in 10 to the lonely one. A request that cannot
// start because 32 are already waiting (a paused server) is skipped and
// counted, so the load does not pile up behind a fault.
type load struct {
	c       *cluster
	gl      *gamelift.Client
	ledger  *ledger
	next    atomic.Int64
	skipped atomic.Int64
}

func (l *load) run(ctx context.Context, rate int) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			l.skipped.Add(1)
			continue
		}
		i := l.next.Add(1)
		wg.Go(func() {
			defer func() { <-sem }()
			l.one(i)
		})
	}
}

func (l *load) one(i int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch i % 10 {
	case 6, 7:
		pc := client.New(l.c.url(), client.WithPolling())
		if _, err := pc.SignInAnonymous(ctx); err != nil {
			l.ledger.fail("", pairConfig, err)
			return
		}
		tk, err := pc.StartMatchmaking(ctx, pairConfig, map[string]int{location: 20})
		if err != nil {
			l.ledger.fail("", pairConfig, err)
			return
		}
		l.ledger.accept(tk.TicketID, pairConfig)
	case 8, 9:
		id := fmt.Sprintf("lonely-%d", i)
		l.start(ctx, id, lonelyConfig, float64(10*i))
	default:
		id := fmt.Sprintf("pair-%d", i)
		l.start(ctx, id, pairConfig, 1000)
	}
}

func (l *load) start(ctx context.Context, id, config string, skill float64) {
	_, err := l.gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String(config),
		Players: []types.Player{{PlayerId: aws.String("p-" + id), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(skill)}},
			LatencyInMs: map[string]int32{location: 20}}}})
	if err != nil {
		l.ledger.fail(id, config, err)
		return
	}
	l.ledger.accept(id, config)
}

// joiner plays the players' part: once both tickets of a match are
// COMPLETED, their players connect to the game server together with their
// player session ids, are validated (WELCOME), play for a moment and
// leave, which ends the game and lets its process host the next one.
func (l *load) joiner(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	matches := map[string][]types.MatchmakingTicket{} // game session → its COMPLETED tickets
	started := map[string]bool{}
	for ctx.Err() == nil {
		ids := l.ledger.unjoinedPairs()
		for i := 0; i < len(ids); i += 10 {
			out, err := l.gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: ids[i:min(i+10, len(ids))]})
			if err != nil {
				break // a fault: try again on the next round
			}
			for _, tk := range out.TicketList {
				info := tk.GameSessionConnectionInfo
				if tk.Status != types.MatchmakingConfigurationStatusCompleted || info == nil || started[aws.ToString(tk.TicketId)] {
					continue
				}
				gs := aws.ToString(info.GameSessionArn)
				matches[gs] = append(matches[gs], tk)
				started[aws.ToString(tk.TicketId)] = true
				if len(matches[gs]) == 2 {
					group := matches[gs]
					delete(matches, gs)
					wg.Go(func() { l.play(ctx, group) })
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond): // polling the server's state, as a game client would
		}
	}
}

// play connects every player of one match, then lets them leave together.
func (l *load) play(ctx context.Context, match []types.MatchmakingTicket) {
	conns := make([]*testenv.ArenaPlayer, len(match))
	var wg sync.WaitGroup
	for i, tk := range match {
		wg.Go(func() { conns[i] = l.join(ctx, tk) })
	}
	wg.Wait()
	time.Sleep(1500 * time.Millisecond) // the match itself: a game over within a second of its process's launch looks to the agent like a crash
	for _, p := range conns {
		if p != nil {
			p.Conn.Write([]byte("QUIT\n"))
			p.Conn.Close()
		}
	}
}

// join connects the ticket's player to its game, trying for up to 30 s
// while the control plane (which validates the player session) restarts.
func (l *load) join(ctx context.Context, tk types.MatchmakingTicket) *testenv.ArenaPlayer {
	id := aws.ToString(tk.TicketId)
	info := tk.GameSessionConnectionInfo
	var psid string
	for _, mp := range info.MatchedPlayerSessions {
		if len(tk.Players) > 0 && aws.ToString(mp.PlayerId) == aws.ToString(tk.Players[0].PlayerId) {
			psid = aws.ToString(mp.PlayerSessionId)
		}
	}
	addr := net.JoinHostPort(aws.ToString(info.IpAddress), strconv.Itoa(int(aws.ToInt32(info.Port))))
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) && ctx.Err() == nil {
		p, err := testenv.DialArena(addr, psid)
		if err == nil && strings.HasPrefix(p.First, "WELCOME") {
			l.ledger.mu.Lock()
			l.ledger.joined[id] = true
			l.ledger.mu.Unlock()
			return p
		}
		if err == nil {
			last = p.First
			p.Conn.Close()
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond) // retrying a connection, not waiting out a timeout
	}
	l.ledger.mu.Lock()
	l.ledger.joinErrs[id] = last
	l.ledger.mu.Unlock()
	return nil
}
