package sdk

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/bus/natsbus"
	"github.com/musterhq/muster/internal/bus/natsbus/natstest"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// TestAnUpdateCommitsWithTheDataItAnnounces: a replica hub keeps an
// UpdateGameSession in the caller's transaction, so a crash right after
// the commit (a backfill's new players seated, the game session's
// matchmaker data changed) cannot lose the push to the game server, and a
// transaction that rolls back leaves none behind.
func TestAnUpdateCommitsWithTheDataItAnnounces(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	nc, err := natsbus.Connect(natstest.Start(t).ClientURL(), "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	b, err := natsbus.New(natsbus.Config{Conn: nc})
	if err != nil {
		t.Fatal(err)
	}
	h := NewReplicaHub(b, db, clk, slog.New(slog.DiscardHandler))
	pending := func(r store.Reader) int {
		items, err := r.Find(ctx, store.Query{Kind: kindUpdate, Key: 1, Value: "p1"})
		if err != nil {
			t.Fatal(err)
		}
		return len(items)
	}
	g := session.GameSession{ID: "gs1", ProcessID: "p1", MatchmakerData: `{"matchId":"m1"}`}
	err = db.Update(ctx, func(w store.Writer) error {
		if err := h.UpdateGameSession(ctx, w, "p1", g, "MATCHMAKING_DATA_UPDATED", "bf1"); err != nil {
			return err
		}
		if n := pending(w); n != 1 {
			t.Errorf("%d pending updates inside the transaction, want 1: the update must commit with it", n)
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the transaction did not roll back")
	}
	if err := db.View(ctx, func(r store.Reader) error {
		if n := pending(r); n != 0 {
			t.Errorf("%d pending updates after a rollback, want none", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
