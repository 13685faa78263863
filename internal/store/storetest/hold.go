package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// HoldWriter keeps the writer of s busy with a function that waits until
// release is called, so that the Updates started meanwhile queue and share
// the next batch. release lets it go and returns its Update's error; the
// test's cleanup lets it go too, so that closing the store does not wait
// on it.
func HoldWriter(t testing.TB, s store.Store) (release func() error) {
	t.Helper()
	held, let, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(store.Writer) error {
			close(held)
			<-let
			return nil
		})
	}()
	<-held
	var once sync.Once
	letGo := func() { once.Do(func() { close(let) }) }
	t.Cleanup(letGo)
	return func() error {
		letGo()
		return <-done
	}
}

// WaitQueued waits until n writes wait for s's writer, the held one
// included: for other goroutines to queue, never for time to pass. It
// fails the test if they never do.
func WaitQueued(t testing.TB, s store.Store, n int) {
	t.Helper()
	a, ok := s.(store.Admitter)
	if !ok {
		t.Fatalf("%T does not implement store.Admitter", s)
	}
	for i := 0; a.Waiting() < n; i++ {
		if i == 10000 {
			t.Fatalf("%d writes queued, want %d", a.Waiting(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
