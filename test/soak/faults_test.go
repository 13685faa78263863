//go:build soak

package soak_test

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	_ "github.com/ncruces/go-sqlite3/driver" // PRAGMA integrity_check on the store after the run
)

// bytesPerTicket is room on disk for one ticket of the fault phase: its
// rows, events and indexes, and its share of the game servers' logs.
const bytesPerTicket = 64 << 10

// TestSoakFaults runs mixed load while a fault is injected every
// -soak.fault-every, in turn: kill -9 and restart of muster serve;
// SIGSTOP for -soak.pause, then SIGCONT; a game server host vanishing (its
// agent and processes killed) and a new one joining; the data directory's
// disk filling for -soak.pause (when a tmpfs can be mounted). Expected, up
// front: every accepted pair ticket COMPLETED (the last unpaired one, if
// the count is odd, cancelled by the test), every accepted lonely ticket
// TIMED_OUT; a ticket whose answer was lost in a fault, if it exists, ends
// the same way. Then: no ticket in two matches, no match on two game
// sessions, one terminal event per ticket, no event twice, and the SQLite
// file intact.
func TestSoakFaults(t *testing.T) {
	dir := t.TempDir()
	// The tmpfs holds the database and the game servers' logs for the
	// whole phase: a long run needs room in proportion, or its disk would
	// stay full after the fault that was meant to free it.
	disk := mountTmpfs(t, dir, fmt.Sprintf("%dm", max(256, int(faultPhase.Seconds())*(*faultRate)*bytesPerTicket>>20)))
	c := newCluster(t, dir)
	ctx := context.Background()
	c.setUp(ctx, int32(*processes))
	gl := c.admin()
	l := &load{c: c, gl: gl, ledger: newLedger()}

	loadCtx, stopLoad := context.WithTimeout(ctx, *faultPhase)
	defer stopLoad()
	joinCtx, stopJoin := context.WithCancel(ctx)
	defer stopJoin()
	var loading, joining sync.WaitGroup
	loading.Go(func() { l.run(loadCtx, *faultRate) })
	joining.Go(func() { l.joiner(joinCtx) })

	faults := []func(){
		func() { c.server().Kill(); c.start() },
		func() {
			s := c.server()
			s.Signal(syscall.SIGSTOP)
			time.Sleep(*pauseFor) // the fault itself: the server stays stopped this long
			s.Signal(syscall.SIGCONT)
		},
		func() {
			a := c.agents[0]
			c.agents = c.agents[1:]
			a.Cmd.Process.Kill() // its game servers die with it (Pdeathsig)
			c.addHost()
		},
	}
	names := []string{"kill -9 and restart", "SIGSTOP/SIGCONT", "host vanishes"}
	if disk {
		faults = append(faults, func() {
			free := fillDisk(t, dir)
			time.Sleep(*pauseFor) // the fault itself: the disk stays full this long
			free()
		})
		names = append(names, "disk full")
	}
	tick := time.NewTicker(*faultEvery)
	injected := 0
	for ; ; injected++ {
		select {
		case <-loadCtx.Done():
		case <-tick.C:
			i := injected % len(faults)
			began := time.Now()
			faults[i]()
			t.Logf("fault %d: %s (%v); %d tickets sent so far", injected+1, names[i], time.Since(began).Round(time.Millisecond), l.next.Load())
			continue
		}
		break
	}
	tick.Stop()
	if injected < len(faults) {
		t.Errorf("%d faults injected, fewer than the %d kinds: -soak.faults must leave room for one of each at -soak.fault-every", injected, len(faults))
	}
	loading.Wait() // the load has stopped; the joiner goes on until the end

	check := c.checker()
	closeOddOneOut(t, ctx, check, l.ledger)
	final := settle(t, ctx, check, l.ledger)
	stopJoin()
	joining.Wait()
	checkOutcome(t, l, final, disk)
	checkEvents(t, c.events(ctx), final)
	if err := c.server().Stop(); err != nil {
		t.Error(err)
	}
	checkIntegrity(t, dir+"/muster.db")
}

// ticketsOf describes every ticket the load sent, in batches of ten, and
// returns their statuses (a maybe-ticket the server never wrote is absent).
func ticketsOf(t *testing.T, ctx context.Context, gl *gamelift.Client, ids []string) map[string]types.MatchmakingTicket {
	out := map[string]types.MatchmakingTicket{}
	for i := 0; i < len(ids); i += 10 {
		res, err := gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: ids[i:min(i+10, len(ids))]})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range res.TicketList {
			out[aws.ToString(tk.TicketId)] = tk
		}
	}
	return out
}

func (l *ledger) all() (ids []string, config map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	config = map[string]string{}
	for _, m := range []map[string]string{l.accepted, l.maybe} {
		for id, c := range m {
			ids = append(ids, id)
			config[id] = c
		}
	}
	sort.Strings(ids)
	return ids, config
}

func terminal(s types.MatchmakingConfigurationStatus) bool {
	switch s {
	case types.MatchmakingConfigurationStatusCompleted, types.MatchmakingConfigurationStatusTimedOut,
		types.MatchmakingConfigurationStatusCancelled, types.MatchmakingConfigurationStatusFailed:
		return true
	}
	return false
}

// closeOddOneOut waits until at most one pair ticket is still searching
// (pairs match each other, so an odd count leaves one) and cancels it.
func closeOddOneOut(t *testing.T, ctx context.Context, gl *gamelift.Client, l *ledger) {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ids, config := l.all()
		var open []string
		for id, tk := range ticketsOf(t, ctx, gl, ids) {
			if config[id] == pairConfig && !terminal(tk.Status) {
				open = append(open, id)
			}
		}
		if len(open) <= 1 {
			if len(open) == 1 {
				t.Logf("cancelling the odd one out: %s", open[0])
				if _, err := gl.StopMatchmaking(ctx, &gamelift.StopMatchmakingInput{TicketId: aws.String(open[0])}); err != nil {
					t.Logf("StopMatchmaking %s: %v (it may have just matched)", open[0], err)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pair tickets still not in an end state 3 min after the load, e.g. %v", len(open), open[:min(5, len(open))])
		}
		time.Sleep(time.Second) // polling the server's real state
	}
}

// settle waits until every ticket the server knows is in an end state.
func settle(t *testing.T, ctx context.Context, gl *gamelift.Client, l *ledger) map[string]types.MatchmakingTicket {
	deadline := time.Now().Add(time.Minute)
	for {
		ids, _ := l.all()
		tickets := ticketsOf(t, ctx, gl, ids)
		open := 0
		for _, tk := range tickets {
			if !terminal(tk.Status) {
				open++
			}
		}
		if open == 0 {
			return tickets
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tickets not in an end state a minute after the load", open)
		}
		time.Sleep(time.Second) // polling the server's real state
	}
}

// checkOutcome holds each ticket to the end stated up front.
//
// A full disk is the one fault that may fail a match: a game server whose
// ActivateGameSession cannot be written ends, and its placement FAILED —
// the players are told at once rather than left waiting. Those tickets are
// counted apart.
func checkOutcome(t *testing.T, l *load, final map[string]types.MatchmakingTicket, diskFilled bool) {
	led := l.ledger
	led.mu.Lock()
	defer led.mu.Unlock()
	counts := map[string]int{}
	for id, cfg := range led.accepted {
		tk, ok := final[id]
		if !ok {
			t.Errorf("accepted ticket %s is lost", id)
			continue
		}
		counts[cfg+" "+string(tk.Status)]++
		want := types.MatchmakingConfigurationStatusTimedOut
		if cfg == pairConfig {
			want = types.MatchmakingConfigurationStatusCompleted
		}
		oddOneOut := cfg == pairConfig && tk.Status == types.MatchmakingConfigurationStatusCancelled && counts[cfg+" CANCELLED"] == 1
		failedOnFullDisk := diskFilled && cfg == pairConfig && tk.Status == types.MatchmakingConfigurationStatusFailed
		if tk.Status != want && !oddOneOut && !failedOnFullDisk {
			t.Errorf("ticket %s of %s is %s (%s), want %s", id, cfg, tk.Status, aws.ToString(tk.StatusMessage), want)
		}
	}
	maybeFound := 0
	for id := range led.maybe {
		if _, ok := final[id]; ok {
			maybeFound++
		}
	}
	t.Logf("sent %d, skipped %d while the server was unreachable; accepted %d; answers lost %d (%d of them written); refusals %v",
		l.next.Load(), l.skipped.Load(), len(led.accepted), len(led.maybe), maybeFound, led.refused)
	for kind, msg := range led.example {
		t.Logf("refusal %s, e.g.: %s", kind, msg)
	}
	t.Logf("end states of accepted tickets: %v", counts)
	t.Logf("players validated by their game server: %d; joins that failed: %d", len(led.joined), len(led.joinErrs))
	for id, why := range led.joinErrs {
		t.Logf("join of %s failed: %s", id, why)
	}
	if len(led.joined) == 0 {
		t.Error("no player was validated by a game server")
	}
}

// checkEvents: every event once, one terminal event per ticket, no ticket
// in two matches and no match on two game sessions.
func checkEvents(t *testing.T, events []outboxEvent, final map[string]types.MatchmakingTicket) {
	seen := map[string]bool{}
	terminalEvents := map[string][]string{}
	matchOf := map[string]string{}
	sessionOf := map[string]string{}
	for _, e := range events {
		if seen[e.ID] {
			t.Errorf("event %s appears twice in the outbox", e.ID)
		}
		seen[e.ID] = true
		d := e.Detail.Detail
		switch e.Type {
		case "MatchmakingSucceeded", "MatchmakingTimedOut", "MatchmakingCancelled", "MatchmakingFailed":
			for _, tk := range d.Tickets {
				terminalEvents[tk.TicketID] = append(terminalEvents[tk.TicketID], e.Type)
			}
		}
		if e.Type != "MatchmakingSucceeded" {
			continue
		}
		if prev, ok := sessionOf[d.MatchID]; ok && prev != d.GameSessionInfo.GameSessionArn {
			t.Errorf("match %s on two game sessions: %s and %s", d.MatchID, prev, d.GameSessionInfo.GameSessionArn)
		}
		sessionOf[d.MatchID] = d.GameSessionInfo.GameSessionArn
		for _, tk := range d.Tickets {
			if prev, ok := matchOf[tk.TicketID]; ok && prev != d.MatchID {
				t.Errorf("ticket %s in two matches: %s and %s", tk.TicketID, prev, d.MatchID)
			}
			matchOf[tk.TicketID] = d.MatchID
		}
	}
	for id, tk := range final {
		evs := terminalEvents[id]
		if len(evs) != 1 {
			t.Errorf("ticket %s (%s) has terminal events %v, want exactly one", id, tk.Status, evs)
		}
	}
	t.Logf("outbox: %d events, %d matches", len(events), len(sessionOf))
}

func checkIntegrity(t *testing.T, path string) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Fatalf("PRAGMA integrity_check: %s", res)
	}
}
