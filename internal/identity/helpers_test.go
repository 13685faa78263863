package identity_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store/sqlite"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type env struct {
	dir string
	box *secret.Box
	clk *clock.Fake
	db  *sqlite.DB
	svc *identity.Service
}

func newBox(t testing.TB) *secret.Box {
	t.Helper()
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// newEnv opens a store in a temporary directory and the service on it.
func newEnv(t testing.TB, mod func(*identity.Config)) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), box: newBox(t), clk: clock.NewFake(t0)}
	e.open(t, mod)
	return e
}

func (e *env) open(t testing.TB, mod func(*identity.Config)) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(e.dir, "muster.db"), Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	e.svc = e.service(t, mod)
}

func (e *env) service(t testing.TB, mod func(*identity.Config)) *identity.Service {
	t.Helper()
	cfg := identity.Config{Base: service.Base{Store: e.db, Clock: e.clk}, Box: e.box}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := identity.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// restart closes the store and opens it and the service again on the same
// directory.
func (e *env) restart(t testing.TB, mod func(*identity.Config)) {
	t.Helper()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	e.open(t, mod)
}

func asFault(err error, fe **fault.Error) bool { return errors.As(err, fe) }
