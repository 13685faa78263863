package store

import (
	"context"
	"fmt"
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
// It also measures how long requests wait for the writer, for Admit.
type GroupCommit struct {
	maxBatch int
	commit   func(batch []*Request)
	clock    clock.Clock
	adm      admission

	reqs chan *Request
	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.RWMutex // guards closed against Update racing Close
	closed bool
}

// Request is one queued transaction function.
type Request struct {
	Ctx context.Context
	Fn  func(Writer) error

	done  chan error
	hooks []func()
	at    time.Time // when Update queued it
}

// NewGroupCommit starts the writer goroutine. commit must call Finish on
// every request of the batch it is given. c times the queue (nil: the
// real clock).
func NewGroupCommit(maxBatch int, c clock.Clock, commit func(batch []*Request)) *GroupCommit {
	if c == nil {
		c = clock.Real{}
	}
	g := &GroupCommit{maxBatch: maxBatch, commit: commit, clock: c, reqs: make(chan *Request, 4096), stop: make(chan struct{})}
	g.wg.Add(1)
	go g.loop()
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

// Close stops accepting writes, commits those already queued and stops
// the writer. It returns false if the writer was already closed.
func (g *GroupCommit) Close() bool {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return false
	}
	g.closed = true
	close(g.stop)
	g.mu.Unlock()
	g.wg.Wait()
	return true
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
