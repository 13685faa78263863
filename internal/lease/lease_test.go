package lease_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/faultstore"
	"github.com/musterhq/muster/internal/store/postgres"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/store/sqlite"
)

const ttl = 3 * time.Second

var pieces = []string{"matchmaking/duel", "matchmaking/squad", "placer"}

// running counts the work that runs, per replica and piece.
type running struct {
	mu  sync.Mutex
	now map[string]lease.Lease // "replica piece" → the lease it runs under
}

func (r *running) work(replica string) lease.Work {
	return func(ctx context.Context, l lease.Lease) {
		r.mu.Lock()
		r.now[replica+" "+l.Name] = l
		r.mu.Unlock()
		<-ctx.Done()
		r.mu.Lock()
		delete(r.now, replica+" "+l.Name)
		r.mu.Unlock()
	}
}

func (r *running) runs(replica, piece string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.now[replica+" "+piece]
	return ok
}

type cluster struct {
	clk     *clock.Fake
	stores  []store.Store
	run     *running
	manager map[string]*lease.Manager
}

// newCluster builds replicas a, b, … on their own store handles (which
// may be one SQLite store shared by all), every piece registered on each.
func newCluster(t *testing.T, handles []store.Store, clk *clock.Fake, replicas ...string) *cluster {
	c := &cluster{clk: clk, stores: handles, run: &running{now: map[string]lease.Lease{}}, manager: map[string]*lease.Manager{}}
	for i, id := range replicas {
		m := lease.NewManager(lease.Config{Store: handles[i%len(handles)], Clock: clk, Replica: id, Address: id + ":8080", TTL: ttl})
		for _, p := range pieces {
			m.Register(p, c.run.work(id))
		}
		c.manager[id] = m
		t.Cleanup(func() {
			for _, p := range pieces {
				m.Unregister(context.Background(), p)
			}
		})
	}
	return c
}

func (c *cluster) tick(ids ...string) {
	for _, id := range ids {
		c.manager[id].Tick(context.Background())
	}
}

func (c *cluster) held(id string) int { return len(c.manager[id].Held()) }

// eachHeldOnce fails unless every piece is held by exactly one replica.
func (c *cluster) eachHeldOnce(t *testing.T) {
	t.Helper()
	holders := map[string][]string{}
	for id, m := range c.manager {
		for _, l := range m.Held() {
			holders[l.Name] = append(holders[l.Name], id)
		}
	}
	for _, p := range pieces {
		if len(holders[p]) != 1 {
			t.Errorf("%s is held by %v, want exactly one replica", p, holders[p])
		}
	}
}

func sqliteHandles(t *testing.T, clk clock.Clock) []store.Store {
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return []store.Store{db}
}

func postgresHandles(t *testing.T, clk clock.Clock) []store.Store {
	url := pgtest.NewDatabase(t)
	var out []store.Store
	for range 2 {
		db, err := postgres.Open(context.Background(), postgres.Config{URL: url, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out = append(out, db)
	}
	return out
}

func TestLeases(t *testing.T) {
	for name, handles := range map[string]func(*testing.T, clock.Clock) []store.Store{"sqlite": sqliteHandles, "postgres": postgresHandles} {
		t.Run(name, func(t *testing.T) { testLeases(t, handles) })
	}
}

func testLeases(t *testing.T, handles func(*testing.T, clock.Clock) []store.Store) {
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

	t.Run("a lone replica runs every piece, each once", func(t *testing.T) {
		clk := clock.NewFake(start)
		c := newCluster(t, handles(t, clk), clk, "a")
		c.tick("a")
		if c.held("a") != 3 {
			t.Fatalf("holds %d, want 3", c.held("a"))
		}
		c.eachHeldOnce(t)
	})

	t.Run("pieces spread when a second replica joins", func(t *testing.T) {
		clk := clock.NewFake(start)
		c := newCluster(t, handles(t, clk), clk, "a", "b")
		c.tick("a")
		c.tick("b", "a", "b")
		if c.held("a") != 2 || c.held("b") != 1 {
			t.Fatalf("a holds %d, b holds %d; want 2 and 1", c.held("a"), c.held("b"))
		}
		c.eachHeldOnce(t)
	})

	t.Run("a dead replica's pieces move once its leases expire", func(t *testing.T) {
		clk := clock.NewFake(start)
		c := newCluster(t, handles(t, clk), clk, "a", "b")
		c.tick("a", "b")
		// a stops ticking: it died. b may not take a's pieces before they expire.
		clk.Advance(ttl / 3)
		c.tick("b")
		if c.held("b") != 0 {
			t.Fatalf("b took %d live leases", c.held("b"))
		}
		clk.Advance(ttl)
		c.tick("b")
		if c.held("b") != 3 {
			t.Fatalf("b holds %d after a's leases expired, want 3", c.held("b"))
		}
		for _, l := range c.manager["b"].Held() {
			if l.Epoch != 2 {
				t.Errorf("%s at epoch %d, want 2", l.Name, l.Epoch)
			}
		}
	})

	t.Run("a replica paused past its lease cannot write under it, and stops its work", func(t *testing.T) {
		clk := clock.NewFake(start)
		hs := handles(t, clk)
		c := newCluster(t, hs, clk, "a", "b")
		c.tick("a")
		stale := c.manager["a"].Held()[0]
		c.tick("b")                    // b sees a's leases, all held
		clk.Advance(ttl + time.Second) // a is paused; b takes over
		c.tick("b")
		err := hs[0].Update(context.Background(), func(w store.Writer) error {
			return lease.Check(context.Background(), w, stale, clk.Now())
		})
		if !errors.Is(err, lease.ErrLost) {
			t.Fatalf("a write under the stale lease: %v, want ErrLost", err)
		}
		c.tick("a") // a wakes: its renewals fail and its work stops
		for _, l := range c.manager["a"].Held() {
			if l.Name == stale.Name {
				t.Fatalf("a still holds %s after losing it", stale.Name)
			}
		}
		if c.run.runs("a", stale.Name) {
			t.Fatalf("a's work on %s still runs after it lost the lease", stale.Name)
		}
		c.eachHeldOnce(t)
	})

	t.Run("a replica that stops releases its leases for the others at once", func(t *testing.T) {
		clk := clock.NewFake(start)
		c := newCluster(t, handles(t, clk), clk, "a", "b")
		c.tick("a")
		if c.held("a") != 3 {
			t.Fatalf("a holds %d, want 3", c.held("a"))
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- c.manager["a"].Run(ctx) }()
		cancel()
		<-done
		c.tick("b")
		if c.held("b") != 3 {
			t.Fatalf("b holds %d right after a stopped, want 3", c.held("b"))
		}
		leases, err := lease.List(context.Background(), c.stores[0])
		if err != nil || len(leases) != 3 || leases[0].Holder != "b" || leases[0].Address != "b:8080" {
			t.Fatalf("List = %+v, %v", leases, err)
		}
	})
}

// A piece unregistered while a Tick is taking its lease (a matchmaking
// configuration deleted as its lease is taken) does not start: nothing
// would stop its work or renew its lease. The lease is released at once,
// so a replica that registers the piece again takes it without waiting;
// before, the lease stayed with a's orphaned work.
func TestAPieceUnregisteredWhileItsLeaseIsTakenDoesNotRun(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	st := faultstore.New(sqliteHandles(t, clk)[0])
	run := &running{now: map[string]lease.Lease{}}
	a := lease.NewManager(lease.Config{Store: st, Clock: clk, Replica: "a", TTL: ttl})
	b := lease.NewManager(lease.Config{Store: st, Clock: clk, Replica: "b", TTL: ttl})
	const piece = "matchmaking/deleted"
	a.Register(piece, run.work("a"))
	t.Cleanup(func() {
		a.Unregister(ctx, piece)
		b.Unregister(ctx, piece)
	})

	// a's Tick writes its heartbeat (update 1), then takes the lease
	// (update 2), which waits while the piece is unregistered.
	reached, release := st.HoldNext(2)
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		a.Tick(ctx)
	}()
	<-reached
	a.Unregister(ctx, piece)
	release()
	<-ticked

	b.Register(piece, run.work("b"))
	b.Tick(ctx)
	if held := b.Held(); len(held) != 1 || held[0].Epoch != 2 {
		t.Fatalf("b holds %+v: it could not take the lease a took for a piece it no longer had", held)
	}
}
