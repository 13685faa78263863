package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/clock"
)

// GroupCommit is the writer every backend shares: Update queues a
// transaction function, one goroutine takes what is waiting — up to
// MaxBatch functions — and hands the batch to the backend's commit, which
// runs each function in a savepoint of one database transaction, so one
// durable commit serves many writers. After-commit hooks run in the
// caller's goroutine once its Update has its answer, never on the writer.
// It also measures how long requests wait for the writer, for Admit
// (a backend's DB embeds it to be an Admitter), and runs the backend's
// sweep of expired records until Close.
type GroupCommit struct {
	maxBatch int
	commit   func(batch []*Request)
	clock    clock.Clock
	adm      admission

	reqs chan *Request
	stop chan struct{}
	wg   sync.WaitGroup

	// sweepStop ends the sweep loop. Close stops it before the writer:
	// a backend may sweep through Update.
	sweepStop chan struct{}
	sweeping  sync.WaitGroup
	closeOnce sync.Once

	mu     sync.RWMutex // guards closed against Update racing Close
	closed bool
}

// GroupCommitConfig configures NewGroupCommit.
type GroupCommitConfig struct {
	// MaxBatch caps how many waiting transactions share one commit.
	MaxBatch int
	// Clock times the queue and the sweeps (nil: the real clock).
	Clock clock.Clock
	// Commit commits a batch; it must call Finish on every request of it
	// (Settle does).
	Commit func(batch []*Request)
	// Sweep deletes expired records, every SweepInterval; a failure is
	// logged to Logger and tried again at the next tick.
	Sweep         func(context.Context) (int64, error)
	SweepInterval time.Duration
	Logger        *slog.Logger
}

// Request is one queued transaction function.
type Request struct {
	Ctx context.Context
	Fn  func(Writer) error

	done  chan error
	hooks []func()
	at    time.Time // when Update queued it
}

// NewGroupCommit starts the writer goroutine and the sweep loop.
func NewGroupCommit(cfg GroupCommitConfig) *GroupCommit {
	c := cfg.Clock
	if c == nil {
		c = clock.Real{}
	}
	g := &GroupCommit{maxBatch: cfg.MaxBatch, commit: cfg.Commit, clock: c,
		reqs: make(chan *Request, 4096), stop: make(chan struct{}), sweepStop: make(chan struct{})}
	g.wg.Add(1)
	go g.loop()
	g.sweeping.Go(func() { sweepLoop(c, cfg.SweepInterval, g.sweepStop, cfg.Logger, cfg.Sweep) })
	return g
}

// Finish answers the request's Update: err, or nil with the hooks to run.
func (r *Request) Finish(err error, hooks []func()) {
	if err == nil {
		r.hooks = hooks
	}
	r.done <- err
}

// Run calls the request's function on w, turning a panic into an error so
// that one bad function cannot take the writer down.
func (r *Request) Run(w Writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: transaction function panicked: %v", p)
		}
	}()
	return r.Fn(w)
}

// Update queues fn and waits until its transaction commits, then runs its
// after-commit hooks. A Pending event in ctx (WithPending) that no other
// transaction took is appended after fn's writes.
func (g *GroupCommit) Update(ctx context.Context, fn func(Writer) error) error {
	fn, settle := pendingUpdate(ctx, fn)
	req := &Request{Ctx: ctx, Fn: fn, done: make(chan error, 1), at: g.clock.Now()}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return ErrClosed
	}
	g.adm.outstanding.Add(1)
	select {
	case g.reqs <- req:
		g.mu.RUnlock()
	case <-ctx.Done():
		g.mu.RUnlock()
		g.adm.outstanding.Add(-1)
		return ctx.Err()
	}
	// Once queued, wait for the verdict even if ctx ends: the caller must
	// learn whether the write committed.
	err := <-req.done
	g.adm.outstanding.Add(-1)
	settle(err)
	if err != nil {
		return err
	}
	// After-commit work runs here, in the caller's goroutine, never on the
	// writer: a slow hook (a push to a game server, say) holds up only its
	// own caller, and a hook may itself call Update.
	for _, h := range req.hooks {
		h()
	}
	return nil
}

// Closed reports whether Close was called.
func (g *GroupCommit) Closed() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.closed
}

// Close stops the sweep loop, then stops accepting writes, commits those
// already queued and stops the writer. Only the first call does so and
// returns true.
func (g *GroupCommit) Close() bool {
	first := false
	g.closeOnce.Do(func() {
		first = true
		close(g.sweepStop)
		g.sweeping.Wait()
		g.mu.Lock()
		g.closed = true
		close(g.stop)
		g.mu.Unlock()
		g.wg.Wait()
	})
	return first
}

// Settle answers every request of a batch run in one transaction whose
// commit returned commitErr. A failed commit fails every request that had
// not failed already; otherwise each request gets its own result and,
// when it succeeded and hooks is not nil, its after-commit hooks.
func Settle(batch []*Request, results []error, hooks [][]func(), commitErr error) {
	for i, req := range batch {
		err := results[i]
		if err == nil {
			err = commitErr
		}
		var h []func()
		if err == nil && hooks != nil {
			h = hooks[i]
		}
		req.Finish(err, h)
	}
}

func (g *GroupCommit) loop() {
	defer g.wg.Done()
	batch := make([]*Request, 0, g.maxBatch)
	for {
		select {
		case req := <-g.reqs:
			batch = append(batch[:0], req)
		case <-g.stop:
			for { // commit what was queued before Close
				select {
				case req := <-g.reqs:
					g.commit([]*Request{req})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < g.maxBatch {
			select {
			case req := <-g.reqs:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		// The batch's first request is its oldest: the queue is FIFO.
		now := g.clock.Now()
		g.adm.taken(now, now.Sub(batch[0].at))
		g.commit(batch)
	}
}
