package main_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
)

// sdkBalancer is the TCP load balancer in front of the replicas' SDK
// ports (docs/replicas.md): each new connection goes to the next live
// backend in turn, and marking a backend down closes its sessions, as
// haproxy's health check does with `on-marked-down shutdown-sessions`.
// The game servers' SDKs reconnect to its one URL.
type sdkBalancer struct {
	*testenv.Relay

	mu       sync.Mutex
	backends []string
	down     map[string]bool
	next     int
}

func newSDKBalancer(t *testing.T) *sdkBalancer {
	b := &sdkBalancer{down: map[string]bool{}}
	b.Relay = testenv.NewRelay(t, b.pick)
	return b
}

func (b *sdkBalancer) url() string { return "ws://" + b.Addr() }

func (b *sdkBalancer) add(backend string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, backend)
}

// markDown sends no new connection to backend and closes its sessions.
func (b *sdkBalancer) markDown(backend string) {
	b.mu.Lock()
	b.down[backend] = true
	b.mu.Unlock()
	b.Cut(backend)
}

// pick is the next live backend in turn, "" when none is.
func (b *sdkBalancer) pick() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.backends {
		be := b.backends[b.next%len(b.backends)]
		b.next++
		if !b.down[be] {
			return be
		}
	}
	return ""
}

// placedFleet is an Anywhere fleet whose game servers reach the replicas
// through the balancer, a queue on it, and a WITH_QUEUE configuration
// "placed" whose matches it hosts.
type placedFleet struct {
	fleetID string
	servers []*testenv.SDKGameServer
	// hosts maps a game session to its game server.
	hosts map[string]*testenv.SDKGameServer
}

func setupPlacedFleet(t *testing.T, gl *gamelift.Client, lb *sdkBalancer, n int) *placedFleet {
	t.Helper()
	ctx := context.Background()
	sdkEnv := testenv.CreateSDKFleet(t, gl, testenv.SDKFleet{Name: "replicas", Location: "custom-replicas", Compute: "host-1", Processes: int32(n), ActivationTimeout: 60})
	sdkEnv.URL = lb.url()
	f := &placedFleet{fleetID: sdkEnv.FleetID, hosts: map[string]*testenv.SDKGameServer{}}
	if err := testenv.CreateMatchmaking(ctx, gl, testenv.Matchmaking{Name: "placed", Rules: e2eOneVOne, FleetID: f.fleetID}); err != nil {
		t.Fatal(err)
	}
	for range n {
		f.servers = append(f.servers, testenv.StartSDKGameServer(t, sdkEnv))
	}
	for _, g := range f.servers {
		if r := g.Wait("event", "ready"); r["err"] != "" {
			t.Fatalf("ProcessReady: %v", r["err"])
		}
	}
	return f
}

// placeMatches starts two one-player tickets per match through the live
// replicas and waits until each match's game session is active on one of
// the fleet's game servers; it returns the game sessions.
func (f *placedFleet) placeMatches(t *testing.T, replicas []*replica, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	live := liveReplicas(replicas)
	var ids []string
	for i := range 2 * n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		if _, err := live[i%len(live)].gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("placed"),
			Players: []types.Player{skillPlayer("p-"+id, 1000)}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	sessions := map[string]bool{}
	for _, id := range ids {
		tk := waitTicketWithin(t, live[0].gl, id, types.MatchmakingConfigurationStatusCompleted, 60*time.Second) // room for a lease to move
		sessions[aws.ToString(tk.GameSessionConnectionInfo.GameSessionArn)] = true
	}
	var out []string
	testenv.Eventually(t, fmt.Sprintf("%d game sessions started on the game servers", len(sessions)), 60*time.Second, func() bool {
		for _, g := range f.servers {
			if m := g.Take("event", "start"); m != nil {
				f.hosts[m["gameSessionId"].(string)] = g
			}
		}
		for gs := range sessions {
			if f.hosts[gs] == nil {
				return false
			}
		}
		return true
	})
	for gs := range sessions {
		if a := f.hosts[gs].Wait("event", "activated"); a["err"] != "" {
			t.Fatalf("ActivateGameSession of %s: %v", gs, a["err"])
		}
		out = append(out, gs)
	}
	return out
}

// checkGameServersKept checks, through replica r, that every game server
// hosting one of the game sessions has its socket on a live replica and
// still hosts its game session: it accepts its players' reserved sessions
// (which fails while its SDK reconnects), and that no game session has a
// player slot reserved twice.
func (f *placedFleet) checkGameServersKept(t *testing.T, r *replica, lb *sdkBalancer, dead string, sessions []string) {
	t.Helper()
	ctx := context.Background()
	for _, gs := range sessions {
		g := f.hosts[gs]
		ps, err := r.gl.DescribePlayerSessions(ctx, &gamelift.DescribePlayerSessionsInput{GameSessionId: aws.String(gs)})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, p := range ps.PlayerSessions {
			if seen[aws.ToString(p.PlayerId)] {
				t.Errorf("game session %s: player %s holds two slots", gs, aws.ToString(p.PlayerId))
			}
			seen[aws.ToString(p.PlayerId)] = true
			if p.Status != types.PlayerSessionStatusReserved {
				continue
			}
			testenv.Eventually(t, "AcceptPlayerSession from the game server of "+gs, 60*time.Second, func() bool {
				return g.CallErr("accept", aws.ToString(p.PlayerSessionId)) == ""
			})
		}
		if r := g.Call("gsid", nil); r["err"] != "" || r["result"] != gs {
			t.Errorf("game server %s hosts %v (%v), want %s", g.ID, r["result"], r["err"], gs)
		}
		d, err := r.gl.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{GameSessionId: aws.String(gs)})
		if err != nil || len(d.GameSessions) != 1 || d.GameSessions[0].Status != types.GameSessionStatusActive {
			t.Errorf("game session %s after the fault: %+v (%v), want ACTIVE", gs, d, err)
		} else if n := int(aws.ToInt32(d.GameSessions[0].CurrentPlayerSessionCount)); n > int(aws.ToInt32(d.GameSessions[0].MaximumPlayerSessionCount)) {
			t.Errorf("game session %s has %d player sessions for %d slots", gs, n, aws.ToInt32(d.GameSessions[0].MaximumPlayerSessionCount))
		}
	}
	testenv.Eventually(t, "every game server's socket on a live replica", 60*time.Second, func() bool {
		open, n := lb.Open(), 0
		for be, k := range open {
			if be != dead {
				n += k
			}
		}
		return open[dead] == 0 && n == len(f.servers)
	})
}

// reserveAtOnce creates a game session with slots free on an idle game
// server and reserves more players than it has slots, at the same time
// through every live replica: exactly as many as there are slots get one.
func (f *placedFleet) reserveAtOnce(t *testing.T, replicas []*replica, slots int) {
	t.Helper()
	ctx := context.Background()
	live := liveReplicas(replicas)
	out, err := live[0].gl.CreateGameSession(ctx, &gamelift.CreateGameSessionInput{FleetId: aws.String(f.fleetID), Location: aws.String("custom-replicas"),
		MaximumPlayerSessionCount: aws.Int32(int32(slots))})
	if err != nil {
		t.Fatal(err)
	}
	gs := aws.ToString(out.GameSession.GameSessionId)
	waitGameSessionActive(t, live[0].gl, gs, 60*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for i := range 3 * slots {
		wg.Go(func() {
			r := live[i%len(live)]
			_, err := r.gl.CreatePlayerSession(ctx, &gamelift.CreatePlayerSessionInput{GameSessionId: aws.String(gs), PlayerId: aws.String(fmt.Sprintf("slot-%d", i))})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				got++
			} else if !strings.Contains(err.Error(), "GameSessionFull") {
				t.Errorf("CreatePlayerSession through %s: %v", r.id, err)
			}
		})
	}
	wg.Wait()
	if got != slots {
		t.Errorf("%d players reserved a slot of %s through %d replicas at once, want %d", got, gs, len(live), slots)
	}
	ps, err := live[0].gl.DescribePlayerSessions(ctx, &gamelift.DescribePlayerSessionsInput{GameSessionId: aws.String(gs)})
	if err != nil || len(ps.PlayerSessions) != slots {
		t.Errorf("%s has %d player sessions (%v), want %d", gs, len(ps.PlayerSessions), err, slots)
	}
}
