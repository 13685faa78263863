package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/bus/natsbus/natstest"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/testenv"
)

// replica is one `muster serve` of a cluster sharing a PostgreSQL store.
type replica struct {
	id      string
	srv     *testenv.Server
	gl      *gamelift.Client
	sdkAddr string
	down    atomic.Bool // killed or stopped: the load skips it
}

// startReplicas runs n replicas on one new PostgreSQL database, sharing
// the master key that seals its secrets, with their SDK ports behind one
// TCP load balancer whose URL they all advertise.
func startReplicas(t *testing.T, n int, extra ...string) ([]*replica, *sdkBalancer) {
	url := pgtest.NewDatabase(t)
	key := newMasterKey()
	lb := newSDKBalancer(t)
	var out []*replica
	for i := range n {
		id := fmt.Sprintf("r%d", i+1)
		addrFile := filepath.Join(t.TempDir(), "sdk-addr")
		args := append([]string{"--store", url, "--sdk-listen", "127.0.0.1:0", "--sdk-addr-file", addrFile, "--sdk-url", lb.url(),
			"--replica-id", id, "--master-key", key}, extra...)
		s := testenv.Start(t, testenv.WithArgs(args...))
		r := &replica{id: id, srv: s, gl: s.Admin()}
		testenv.Eventually(t, "the SDK endpoint of "+id+" to listen", 30*time.Second, func() bool {
			b, err := os.ReadFile(addrFile)
			r.sdkAddr = string(b)
			return err == nil && len(b) > 0
		})
		lb.add(r.sdkAddr)
		out = append(out, r)
	}
	return out, lb
}

// newMasterKey is a fresh master key for the replicas of one test, which
// share it to read the secrets it seals.
func newMasterKey() string {
	key := make([]byte, 32)
	rand.Read(key)
	return hex.EncodeToString(key)
}

type leaseView struct {
	Name, Holder string
	Epoch        int64
}

// leaseHolder is the holder of a lease as r sees it ("" when free).
func leaseHolder(t *testing.T, r *replica, name string) string {
	_, body, err := r.srv.Bearer(context.Background(), http.MethodGet, "/v1/admin/leases", "")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Shared bool
		Leases []leaseView
	}
	if err := json.Unmarshal(body, &doc); err != nil || !doc.Shared {
		t.Fatalf("GET /v1/admin/leases: %s (%v), want a shared store's leases", body, err)
	}
	for _, l := range doc.Leases {
		if l.Name == name {
			return l.Holder
		}
	}
	return ""
}

// ticketLoad starts tickets of one player each, round robin over the
// replicas that are up, until stopped; accepted are the ids a replica
// acknowledged.
type ticketLoad struct {
	accepted sync.Map
	n        atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startLoad(replicas []*replica, config string, workers int) *ticketLoad {
	l := &ticketLoad{stop: make(chan struct{})}
	l.run(workers, 0, func(w, i int) (string, bool) {
		r := replicas[(w+i)%len(replicas)]
		if r.down.Load() {
			return "", false
		}
		id := fmt.Sprintf("w%d-%d", w, i)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := r.gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String(config),
			Players: []types.Player{skillPlayer("p-"+id, 1000)}}, func(o *gamelift.Options) { o.RetryMaxAttempts = 1 })
		return id, err == nil
	})
	return l
}

// startPlayerLoad adds players to the load: each signs in anonymously on
// one live replica and starts a ticket through the player API of the next,
// with the access token the first issued. Each worker waits pace between
// tickets, under the per-IP limit of the player API.
func (l *ticketLoad) startPlayerLoad(replicas []*replica, config string, workers int) {
	live := func(i int) *replica {
		if up := liveReplicas(replicas); len(up) > 0 {
			return up[i%len(up)]
		}
		return replicas[0]
	}
	l.run(workers, 10*time.Millisecond, func(w, i int) (string, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return playerTicket(ctx, live(w+i), live(w+i+1), config)
	})
}

// run starts workers that each call start with their number and a count
// that goes up, pace apart, until the load is halted; it keeps the ids of
// the tickets start reports accepted.
func (l *ticketLoad) run(workers int, pace time.Duration, start func(w, i int) (id string, ok bool)) {
	for w := range workers {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				case <-time.After(pace):
				}
				if id, ok := start(w, i); ok {
					l.accepted.Store(id, true)
					l.n.Add(1)
				}
			}
		})
	}
}

// liveReplicas are the replicas that are up.
func liveReplicas(replicas []*replica) []*replica {
	var live []*replica
	for _, r := range replicas {
		if !r.down.Load() {
			live = append(live, r)
		}
	}
	return live
}

// playerTicket signs a player in anonymously through a and starts a
// ticket through b's player API; it returns the ticket id.
func playerTicket(ctx context.Context, a, b *replica, config string) (string, bool) {
	res, body, err := a.srv.Request(ctx, http.MethodPost, "/v1/identity/anonymous", "", `{}`)
	if err != nil || res.StatusCode >= 300 {
		return "", false
	}
	var tok struct{ AccessToken string }
	if json.Unmarshal(body, &tok) != nil {
		return "", false
	}
	res, body, err = b.srv.Request(ctx, http.MethodPost, "/v1/matchmaking/tickets", tok.AccessToken, `{"configurationName":"`+config+`"}`)
	if err != nil || res.StatusCode != http.StatusCreated {
		return "", false
	}
	var tk struct{ TicketID string }
	if json.Unmarshal(body, &tk) != nil || tk.TicketID == "" {
		return "", false
	}
	return tk.TicketID, true
}

// playerTickets counts the accepted tickets a player started.
func (l *ticketLoad) playerTickets() int {
	n := 0
	l.accepted.Range(func(k, _ any) bool {
		if !strings.HasPrefix(k.(string), "w") {
			n++
		}
		return true
	})
	return n
}

func (l *ticketLoad) waitFor(n int64) {
	for l.n.Load() < n {
		time.Sleep(time.Millisecond)
	}
}

func (l *ticketLoad) halt() []string {
	close(l.stop)
	l.wg.Wait()
	var ids []string
	l.accepted.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	return ids
}

// TestReplicasShareMatchmaking runs three replicas on one PostgreSQL
// database under a steady load of tickets sent to all of them, with game
// servers on the official Go server SDK spread over the replicas through a
// TCP load balancer and hosting placed matches, and takes away the replica
// running the busiest matchmaking pool: killed (kill -9), or paused
// (SIGSTOP) past its lease and resumed. Another replica takes the pool,
// rebuilt from the store; every ticket ends, none is matched twice, the
// paused replica's stale writes are refused, every game server reconnects
// to a live replica and keeps its game session, matches placed meanwhile
// reach their game servers, and no player slot is reserved twice.
func TestReplicasShareMatchmaking(t *testing.T) {
	// The longest test of the package, mostly waiting on leases to move:
	// it overlaps with the other parallel ones rather than adding to them,
	// and its cases, each with a database and replicas of its own, overlap
	// with each other.
	t.Parallel()
	t.Run("kill -9 of the pool's holder", func(t *testing.T) {
		t.Parallel()
		replicaTakeover(t, false)
	})
	t.Run("SIGSTOP of the pool's holder past its lease", func(t *testing.T) {
		t.Parallel()
		replicaTakeover(t, true)
	})
	t.Run("kill -9 of the pool's holder, NATS as the bus", func(t *testing.T) {
		t.Parallel()
		pgtest.NewDatabase(t) // skips, with its reason, when no PostgreSQL is reachable
		replicaTakeover(t, false, "--nats", natstest.Start(t).ClientURL())
	})
}

func replicaTakeover(t *testing.T, pause bool, extra ...string) {
	replicas, lb := startReplicas(t, 3, extra...)
	mmSetup(t, replicas[0].gl, "busy", e2eOneVOne, nil)
	fleet := setupPlacedFleet(t, replicas[0].gl, lb, 6)
	placed := fleet.placeMatches(t, replicas, "before", 2)
	const lease = "matchmaking/busy"
	var holder *replica
	testenv.Eventually(t, "a replica takes the pool's lease", 30*time.Second, func() bool {
		h := leaseHolder(t, replicas[1], lease)
		for _, r := range replicas {
			if r.id == h {
				holder = r
			}
		}
		return holder != nil
	})
	t.Logf("%s holds %s", holder.id, lease)
	_, metrics, err := holder.srv.Bearer(context.Background(), http.MethodGet, "/metrics", "")
	if err != nil || !strings.Contains(string(metrics), `muster_lease_held{lease="`+lease+`"} 1`) {
		t.Fatalf("the holder's /metrics lacks muster_lease_held for %s (%v)", lease, err)
	}

	allowPlayers(t, replicas[0].srv, "busy")
	load := startLoad(replicas, "busy", 6)
	load.startPlayerLoad(replicas, "busy", 2)
	load.waitFor(200)
	holder.down.Store(true)
	taken := time.Now()
	onHolder := lb.Open()
	t.Logf("game servers per replica's SDK port when %s goes: %v", holder.id, onHolder)
	if onHolder[holder.sdkAddr] == 0 {
		t.Fatalf("no game server is connected to %s: the balancer spread none to it", holder.id)
	}
	if pause {
		if err := holder.srv.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	} else {
		holder.srv.Kill()
	}
	lb.markDown(holder.sdkAddr) // the balancer's health check saw it go
	var other *replica
	for _, r := range replicas {
		if r != holder && other == nil {
			other = r
		}
	}
	var next string
	testenv.Eventually(t, "another replica takes the pool's lease", 60*time.Second, func() bool {
		next = leaseHolder(t, other, lease)
		return next != "" && next != holder.id
	})
	t.Logf("FIGURE: %s moved from %s to %s %.2f s after the holder was %s", lease, holder.id, next, time.Since(taken).Seconds(),
		map[bool]string{true: "paused", false: "killed"}[pause])
	phase := time.Now()
	placed = append(placed, fleet.placeMatches(t, replicas, "during", 2)...)
	t.Logf("two matches placed and active %.2f s after the lease moved", time.Since(phase).Seconds())
	phase = time.Now()
	fleet.reserveAtOnce(t, replicas, 2)
	t.Logf("a game session created, active and filled through every live replica in %.2f s", time.Since(phase).Seconds())
	before := load.n.Load()
	load.waitFor(before + 200)
	if pause {
		holder.srv.Signal(syscall.SIGCONT)
		// The woken replica still runs its pool until its next lease tick:
		// whatever it tries to record under the old epoch is refused.
		testenv.Eventually(t, "the woken replica gives up the pool", 30*time.Second, func() bool {
			for _, line := range strings.Split(holder.srv.Logs(), "\n") {
				if strings.Contains(line, "lease="+lease) && (strings.Contains(line, "lost a lease") || strings.Contains(line, "expired while it could not be renewed")) {
					return true
				}
			}
			return false
		})
		refused := strings.Count(holder.srv.Logs(), "lease: lost")
		t.Logf("the woken replica's writes refused under its stale lease: %d", refused)
		holder.down.Store(false)
		load.waitFor(load.n.Load() + 100)
	}
	ids := load.halt()
	t.Logf("%d tickets accepted by the replicas, %d of them started by players through the player API", len(ids), load.playerTickets())
	if load.playerTickets() == 0 {
		t.Fatal("no player started a ticket through the player API")
	}
	checkTicketsEnded(t, other, ids)
	checkMatchedOnce(t, other)
	phase = time.Now()
	fleet.checkGameServersKept(t, other, lb, holder.sdkAddr, placed)
	t.Logf("every game server back on a live replica, with its game session, checked in %.2f s", time.Since(phase).Seconds())
}

// checkTicketsEnded waits until every ticket but at most one (an odd one
// out) is COMPLETED, through replica r.
func checkTicketsEnded(t *testing.T, r *replica, ids []string) {
	ctx := context.Background()
	var searching []string
	testenv.Eventually(t, "every ticket ends", 60*time.Second, func() bool {
		searching = searching[:0]
		for i := 0; i < len(ids); i += 10 {
			batch := ids[i:min(i+10, len(ids))]
			out, err := r.gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: batch})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.TicketList) != len(batch) {
				t.Fatalf("DescribeMatchmaking of %d accepted tickets found %d: tickets were lost", len(batch), len(out.TicketList))
			}
			for _, tk := range out.TicketList {
				switch tk.Status {
				case types.MatchmakingConfigurationStatusCompleted:
				case types.MatchmakingConfigurationStatusSearching, types.MatchmakingConfigurationStatusQueued:
					searching = append(searching, aws.ToString(tk.TicketId))
				default:
					t.Fatalf("ticket %s is %s (%s)", aws.ToString(tk.TicketId), tk.Status, aws.ToString(tk.StatusMessage))
				}
			}
		}
		return len(searching) <= 1
	})
}

// checkMatchedOnce reads every MatchmakingSucceeded event from the
// outbox and fails if a ticket appears in two matches.
func checkMatchedOnce(t *testing.T, r *replica) {
	matches := map[string]string{}
	for _, e := range adminEvents(t, r.srv, "MatchmakingSucceeded") {
		m := flexMatchOf(t, e)
		for _, tk := range m.Tickets {
			if other, dup := matches[tk.TicketID]; dup && other != m.MatchID {
				t.Errorf("ticket %s matched twice: in %s and %s", tk.TicketID, other, m.MatchID)
			}
			matches[tk.TicketID] = m.MatchID
		}
	}
	t.Logf("%d tickets in MatchmakingSucceeded events, each in one match", len(matches))
	if len(matches) == 0 {
		t.Fatal("no MatchmakingSucceeded event was read")
	}
}

// TestReplicasStartedAtOnceOnAFreshDatabase starts three `muster serve`
// replicas at the same instant on a new PostgreSQL database, all naming
// the first admin key: every one comes up and accepts that key.
func TestReplicasStartedAtOnceOnAFreshDatabase(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	key := newMasterKey()
	bin := testenv.Binary(t)
	type proc struct {
		cmd      *exec.Cmd
		addrFile string
		log      testenv.Buffer
		done     chan struct{}
	}
	procs := make([]*proc, 3)
	for i := range procs {
		p := &proc{addrFile: filepath.Join(t.TempDir(), "addr"), done: make(chan struct{})}
		p.cmd = exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--addr-file", p.addrFile, "--data-dir", t.TempDir(),
			"--store", url, "--sdk-listen", "127.0.0.1:0", "--replica-id", fmt.Sprintf("r%d", i+1), "--master-key", key)
		p.cmd.Env = append(os.Environ(), "MUSTER_ADMIN_ACCESS_KEY_ID="+testenv.AdminKeyID, "MUSTER_ADMIN_SECRET_ACCESS_KEY="+testenv.AdminSecret)
		p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
		procs[i] = p
	}
	for _, p := range procs { // back to back: the replicas race on the first admin key
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	}
	for i, p := range procs {
		var addr []byte
		testenv.Eventually(t, fmt.Sprintf("replica r%d listens", i+1), 60*time.Second, func() bool {
			select {
			case <-p.done:
				t.Fatalf("replica r%d exited: %s", i+1, p.log.String())
			default:
			}
			addr, _ = os.ReadFile(p.addrFile)
			return len(addr) > 0
		})
		req, _ := http.NewRequest(http.MethodGet, "http://"+string(addr)+"/v1/admin/leases", nil)
		req.Header.Set("Authorization", "Bearer "+testenv.AdminKeyID+":"+testenv.AdminSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("replica r%d answers the admin key with %s", i+1, resp.Status)
		}
	}
}
