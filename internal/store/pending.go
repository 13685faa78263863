package store

import (
	"context"
	"sync/atomic"
)

// Pending is an event that commits with the first transaction made under
// a context that carries it (WithPending), appended after that
// transaction's own writes: a record of a change (an operator's audit
// event) joins the change's transaction rather than costing a commit of
// its own. Whoever made it calls Take once the work is done and, if no
// transaction took it, appends it in a transaction of its own.
type Pending struct {
	Event Event
	state atomic.Int32 // pendingWaiting, pendingClaimed or pendingCommitted
}

const (
	pendingWaiting int32 = iota
	pendingClaimed
	pendingCommitted
)

type pendingKey struct{}

// WithPending returns ctx carrying p.
func WithPending(ctx context.Context, p *Pending) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

// PendingFrom returns the Pending ctx carries, or nil.
func PendingFrom(ctx context.Context) *Pending {
	p, _ := ctx.Value(pendingKey{}).(*Pending)
	return p
}

// Committed reports whether a transaction under the context committed p.
func (p *Pending) Committed() bool { return p.state.Load() == pendingCommitted }

// Take claims p for its maker, who then appends it in a transaction of its
// own; false when a transaction took it (committed, or committing).
func (p *Pending) Take() bool { return p.state.CompareAndSwap(pendingWaiting, pendingCommitted) }

// pendingUpdate wraps fn so that, if ctx carries a Pending no other
// transaction has taken, fn's transaction appends it. settle, called with
// the transaction's outcome, marks it committed or gives it back.
func pendingUpdate(ctx context.Context, fn func(Writer) error) (func(Writer) error, func(err error)) {
	p := PendingFrom(ctx)
	if p == nil || p.state.Load() != pendingWaiting {
		return fn, func(error) {}
	}
	var claimed atomic.Bool // set on the writer, read by the caller after Finish
	wrapped := func(w Writer) error {
		if err := fn(w); err != nil {
			return err
		}
		if !p.state.CompareAndSwap(pendingWaiting, pendingClaimed) {
			return nil
		}
		claimed.Store(true)
		if err := w.Append(ctx, p.Event); err != nil {
			p.state.Store(pendingWaiting)
			claimed.Store(false)
			return err
		}
		return nil
	}
	settle := func(err error) {
		if !claimed.Load() {
			return
		}
		if err != nil {
			p.state.Store(pendingWaiting)
			return
		}
		p.state.Store(pendingCommitted)
	}
	return wrapped, settle
}
