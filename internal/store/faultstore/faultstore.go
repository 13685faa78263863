package faultstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/musterhq/muster/internal/store"
)

// ErrInjected is the error of a commit that FailNext failed.
var ErrInjected = errors.New("faultstore: injected commit failure")

// ErrConnectionLost is what LoseNext reports after the commit went through.
var ErrConnectionLost = errors.New("faultstore: connection lost after commit")

type fault int

const (
	failCommit fault = iota + 1
	loseAfterCommit
	holdCommit
)

type armed struct {
	at      int // the Update number it applies to
	kind    fault
	err     error
	reached chan struct{}
	release chan struct{}
}

// Store is a store.Store with faults armed on chosen Updates. Reads pass
// through untouched.
type Store struct {
	store.Store

	// mu guards updates and faults.
	mu      sync.Mutex
	updates int
	faults  []*armed
}

// New wraps s.
func New(s store.Store) *Store { return &Store{Store: s} }

// Updates reports how many Updates have started through the wrapper.
func (f *Store) Updates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.updates
}

func (f *Store) arm(n int, a *armed) {
	if n < 1 {
		panic(fmt.Sprintf("faultstore: the Nth update from now must be 1 or more, not %d", n))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a.at = f.updates + n
	f.faults = append(f.faults, a)
}

// FailNext makes the nth Update from now (1 = the next) run its function
// and then fail with err (ErrInjected if nil), committing nothing.
func (f *Store) FailNext(n int, err error) {
	if err == nil {
		err = ErrInjected
	}
	f.arm(n, &armed{kind: failCommit, err: err})
}

// LoseNext makes the nth Update from now commit and then report
// ErrConnectionLost, as a client does when the connection drops before
// the database's answer arrives.
func (f *Store) LoseNext(n int) { f.arm(n, &armed{kind: loseAfterCommit}) }

// HoldNext makes the nth Update from now wait, before its transaction
// starts, until release is called; reached is closed once it waits.
func (f *Store) HoldNext(n int) (reached <-chan struct{}, release func()) {
	a := &armed{kind: holdCommit, reached: make(chan struct{}), release: make(chan struct{})}
	f.arm(n, a)
	var once sync.Once
	return a.reached, func() { once.Do(func() { close(a.release) }) }
}

// Update applies the faults armed for this Update, if any.
func (f *Store) Update(ctx context.Context, fn func(store.Writer) error) error {
	f.mu.Lock()
	f.updates++
	var mine []*armed
	kept := f.faults[:0]
	for _, a := range f.faults {
		if a.at == f.updates {
			mine = append(mine, a)
		} else {
			kept = append(kept, a)
		}
	}
	f.faults = kept
	f.mu.Unlock()

	var fail, lose *armed
	for _, a := range mine {
		switch a.kind {
		case holdCommit:
			close(a.reached)
			select {
			case <-a.release:
			case <-ctx.Done():
				return ctx.Err()
			}
		case failCommit:
			fail = a
		case loseAfterCommit:
			lose = a
		}
	}
	if fail != nil {
		return f.Store.Update(ctx, func(w store.Writer) error {
			if err := fn(w); err != nil {
				return err
			}
			return fail.err
		})
	}
	if err := f.Store.Update(ctx, fn); err != nil {
		return err
	}
	if lose != nil {
		return ErrConnectionLost
	}
	return nil
}
