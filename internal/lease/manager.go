package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/store"
)

// DefaultTTL is a lease's life without renewal unless Config.TTL says
// otherwise: with a Tick every TTL/3, a dead holder's pieces move within
// about 4 s.
const DefaultTTL = 3 * time.Second

// Config configures a Manager.
type Config struct {
	Store store.Store
	Clock clock.Clock
	// Logger receives ownership changes (discarded when nil).
	Logger *slog.Logger
	// Replica is this replica's unique id.
	Replica string
	// Address is where this replica serves, shown to operators.
	Address string
	// TTL is how long a lease lasts without renewal (default 3 s).
	TTL time.Duration
}

// Work is a piece of background work run under a lease. It runs until ctx
// ends — when the lease is lost, shed or released — and calls Check in the
// transactions that act on its ownership.
type Work func(ctx context.Context, l Lease)

// Manager holds this replica's leases and runs their work.
type Manager struct {
	cfg Config
	log *slog.Logger

	// kick asks Run for a Tick now (a piece was registered).
	kick chan struct{}

	// mu guards pieces, each piece's running state and address.
	mu      sync.Mutex
	pieces  map[string]*piece
	address string

	// seen judges other replicas' records by this replica's clock
	// (sighting.go).
	seen sightings
}

type piece struct {
	name string
	work Work
	// held is the lease while this replica runs the work; nil otherwise.
	held   *Lease
	cancel context.CancelFunc
	done   chan struct{}
}

// NewManager returns a Manager with no pieces.
func NewManager(cfg Config) *Manager {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	return &Manager{cfg: cfg, log: cfg.Logger, pieces: map[string]*piece{}, address: cfg.Address, kick: make(chan struct{}, 1)}
}

// SetAddress sets the address shown to operators for the leases taken
// from now on. A server learns its address only once it listens, after
// the pieces that need this Manager were built.
func (m *Manager) SetAddress(addr string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.address = addr
}

func (m *Manager) addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.address
}

// Replica returns this replica's id.
func (m *Manager) Replica() string { return m.cfg.Replica }

// Kick asks Run for a Tick now rather than at its next period: a piece
// just registered (a configuration created) starts at once if this
// replica may take it, and a released lease is taken without waiting.
func (m *Manager) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Register adds a piece of work this replica can run. A piece may be
// registered at any time (a matchmaking configuration created while
// running); it starts on a later Tick once its lease is taken.
func (m *Manager) Register(name string, work Work) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pieces[name]; !ok {
		m.pieces[name] = &piece{name: name, work: work}
		m.Kick()
	}
}

// Unregister stops the piece's work if it runs here, releases its lease
// and forgets it.
func (m *Manager) Unregister(ctx context.Context, name string) {
	m.mu.Lock()
	p, ok := m.pieces[name]
	delete(m.pieces, name)
	m.mu.Unlock()
	if ok {
		m.stopAndRelease(ctx, p)
	}
}

// Run ticks every TTL/3 until ctx ends, then stops all work and releases
// the leases so that other replicas take them at once.
func (m *Manager) Run(ctx context.Context) error {
	m.Tick(ctx)
	t := m.cfg.Clock.NewTicker(m.cfg.TTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.releaseAll()
			return nil
		case <-t.C():
			m.Tick(ctx)
		case <-m.kick:
			m.Tick(ctx)
		}
	}
}

// Held returns the leases this replica holds, by name.
func (m *Manager) Held() []Lease {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Lease
	for _, p := range m.pieces {
		if p.held != nil {
			out = append(out, *p.held)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Tick is one pass: it marks this replica alive, renews its leases, sheds
// one above its fair share, and takes free ones up to it. Run calls it on
// the clock; tests call it directly.
func (m *Manager) Tick(ctx context.Context) {
	// A store that hangs (a lock held by a paused replica) should not hold
	// the Tick past a lease's life: reads and writes not yet taken by the
	// store's writer give up at this deadline. A write being committed
	// waits for its verdict, which the store bounds itself (PostgreSQL's
	// CommitTimeout): a paused peer's lock lasts at most 2 s there.
	ctx, cancel := context.WithTimeout(ctx, m.cfg.TTL)
	defer cancel()
	replicas, err := m.heartbeat(ctx)
	if err != nil {
		m.log.Warn("lease heartbeat failed", "err", err)
	}
	m.mu.Lock()
	pieces := make([]*piece, 0, len(m.pieces))
	for _, p := range m.pieces {
		pieces = append(pieces, p)
	}
	m.mu.Unlock()
	sort.Slice(pieces, func(i, j int) bool { return pieces[i].name < pieces[j].name })

	held := 0
	for _, p := range pieces {
		if l := m.heldBy(p); l != nil && m.renew(ctx, p, *l) {
			held++
		}
	}
	share := fairShare(len(pieces), replicas)
	for _, p := range pieces {
		running := m.heldBy(p) != nil
		switch {
		case running && held > share:
			m.log.Info("shedding a lease above this replica's share", "lease", p.name, "held", held, "share", share)
			m.stopAndRelease(ctx, p)
			held--
		case !running && held < share && m.acquire(ctx, p):
			held++
		}
	}
}

// fairShare is how many of n pieces one of r live replicas should hold.
func fairShare(n, r int) int {
	if r < 1 {
		r = 1
	}
	return (n + r - 1) / r
}

// heartbeat refreshes this replica's record and counts the live replicas.
func (m *Manager) heartbeat(ctx context.Context) (int, error) {
	now := m.cfg.Clock.Now()
	doc := store.MustJSON(map[string]any{"replica": m.cfg.Replica, "address": m.addr(), "seen": now})
	err := m.cfg.Store.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: KindReplica, ID: m.cfg.Replica, Doc: doc, Upsert: true, ExpiresAt: now.Add(m.cfg.TTL)})
		return err
	})
	if err != nil {
		return 1, err
	}
	n := 0
	live := map[string]bool{}
	err = m.cfg.Store.View(ctx, func(r store.Reader) error {
		return store.Walk(ctx, r, store.Query{Kind: KindReplica, Prefix: true, NoDocs: true}, func(it store.Item) error {
			// The store drops a record past its expiry by this replica's
			// clock; one that a clock behind the writer's still shows
			// counts only while it changes (sighting.go).
			key := KindReplica + "/" + it.ID
			live[key] = true
			if it.ID == m.cfg.Replica || m.seen.unchangedFor(key, it.Version, now) < m.cfg.TTL {
				n++
			}
			return nil
		})
	})
	if err == nil {
		m.seen.forget(KindReplica+"/", live)
	}
	return max(n, 1), err
}

// acquire takes p's lease if it is free or expired, and starts the work.
func (m *Manager) acquire(ctx context.Context, p *piece) bool {
	now := m.cfg.Clock.Now()
	var got Lease
	err := m.cfg.Store.Update(ctx, func(w store.Writer) error {
		cur, version, err := store.GetJSON[Lease](ctx, w, KindLease, p.name)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case cur.Holder != m.cfg.Replica && !cur.Released && m.seen.unchangedFor(KindLease+"/"+p.name, version, now) < m.cfg.TTL:
			// Held until this replica has seen it unrenewed for TTL by
			// its own clock, whatever the holder's clock wrote as its
			// expiry (sighting.go).
			return errHeld
		}
		got = Lease{Name: p.name, Holder: m.cfg.Replica, Address: m.addr(), Epoch: cur.Epoch + 1, Since: now, ExpiresAt: now.Add(m.cfg.TTL)}
		_, err = w.Put(ctx, store.Record{Kind: KindLease, ID: p.name, Doc: store.MustJSON(got), Keys: store.Keys{m.cfg.Replica}, Version: version})
		return err
	})
	if err != nil {
		if !errors.Is(err, errHeld) && !errors.Is(err, store.ErrConflict) {
			m.log.Warn("taking a lease failed", "lease", p.name, "err", err)
		}
		return false
	}
	if !m.start(p, got) {
		// Unregistered while the lease was being taken: nobody would stop
		// its work or renew the lease, so the lease goes back at once.
		m.release(ctx, got)
		return false
	}
	m.log.Info("took a lease", "lease", p.name, "epoch", got.Epoch)
	return true
}

var errHeld = errors.New("lease: held by another replica")

// renew extends p's lease. If the lease moved on, or cannot be renewed
// before it expires, the work stops.
func (m *Manager) renew(ctx context.Context, p *piece, l Lease) bool {
	now := m.cfg.Clock.Now()
	expires := l.ExpiresAt
	l.ExpiresAt = now.Add(m.cfg.TTL)
	err := m.rewrite(ctx, l, now, store.Keys{m.cfg.Replica})
	switch {
	case err == nil:
		m.mu.Lock()
		p.held = &l
		m.mu.Unlock()
		return true
	case errors.Is(err, ErrLost):
		m.log.Warn("lost a lease", "lease", p.name, "epoch", l.Epoch)
		m.stop(p)
		return false
	case !now.Before(expires):
		m.log.Warn("a lease expired while it could not be renewed", "lease", p.name, "err", err)
		m.stop(p)
		return false
	default:
		m.log.Warn("renewing a lease failed; trying again before it expires", "lease", p.name, "err", err)
		return true
	}
}

// start runs p's work under l, unless p is no longer registered (false).
// Unregister removes p under the same lock before it stops p's work, so
// either start sees p gone or Unregister sees the work started.
func (m *Manager) start(p *piece, l Lease) bool {
	m.mu.Lock()
	if m.pieces[p.name] != p {
		m.mu.Unlock()
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p.held, p.cancel, p.done = &l, cancel, done
	m.mu.Unlock()
	go func() {
		defer close(done)
		p.work(ctx, l)
	}()
	return true
}

// stop cancels p's work, waits for it to return, and returns the lease it
// ran under (nil if it was not running here).
func (m *Manager) stop(p *piece) *Lease {
	m.mu.Lock()
	cancel, done, held := p.cancel, p.done, p.held
	p.cancel, p.done, p.held = nil, nil, nil
	m.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return held
}

// release gives up a lease whose work has stopped, so another replica need
// not wait for it to expire.
func (m *Manager) release(ctx context.Context, l Lease) {
	now := m.cfg.Clock.Now()
	l.ExpiresAt, l.Released = now, true
	err := m.rewrite(ctx, l, now, store.Keys{})
	if err != nil && !errors.Is(err, ErrLost) {
		m.log.Warn("releasing a lease failed; it expires on its own", "lease", l.Name, "err", fmt.Errorf("release: %w", err))
	}
}

// rewrite stores l (its new expiry) with keys, if at now the lease is
// still l's (ErrLost otherwise).
func (m *Manager) rewrite(ctx context.Context, l Lease, now time.Time, keys store.Keys) error {
	return m.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := Check(ctx, w, l, now); err != nil {
			return err
		}
		_, version, err := store.GetJSON[Lease](ctx, w, KindLease, l.Name)
		if err != nil {
			return err
		}
		_, err = w.Put(ctx, store.Record{Kind: KindLease, ID: l.Name, Doc: store.MustJSON(l), Keys: keys, Version: version})
		return err
	})
}

// stopAndRelease stops p's work and releases its lease.
func (m *Manager) stopAndRelease(ctx context.Context, p *piece) {
	if l := m.stop(p); l != nil {
		m.release(ctx, *l)
	}
}

// heldBy returns p's lease while this replica runs its work.
func (m *Manager) heldBy(p *piece) *Lease {
	m.mu.Lock()
	defer m.mu.Unlock()
	return p.held
}

// releaseAll stops every piece's work, releases its lease and removes this
// replica's record, for shutdown: the others' fair share then counts
// without it at once.
func (m *Manager) releaseAll() {
	m.mu.Lock()
	pieces := make([]*piece, 0, len(m.pieces))
	for _, p := range m.pieces {
		pieces = append(pieces, p)
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range pieces {
		m.stopAndRelease(ctx, p)
	}
	err := m.cfg.Store.Update(ctx, func(w store.Writer) error {
		err := w.Delete(ctx, KindReplica, m.cfg.Replica, 0)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		m.log.Warn("removing this replica's record failed; it expires on its own", "err", err)
	}
}
