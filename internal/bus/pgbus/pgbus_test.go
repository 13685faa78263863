package pgbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/bus/bustest"
	"github.com/musterhq/muster/internal/bus/pgbus"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
)

// guard bounds waits for what should arrive at once; reaching it fails.
const guard = 10 * time.Second

func start(t *testing.T, url string, resync func()) *pgbus.Bus {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := pgbus.New(ctx, pgbus.Config{URL: url, Resync: resync})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-b.Listening():
	case <-time.After(guard):
		t.Fatal("the bus never listened")
	}
	return b
}

func TestNotifyReachesEveryReplica(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := start(t, url, nil)
	bustest.ReachesEveryReplica(t, a, map[string]bus.Bus{"a": a, "b": start(t, url, nil)})
}

func TestResyncAfterReconnect(t *testing.T) {
	url := pgtest.NewDatabase(t)
	resyncs := make(chan struct{}, 10)
	start(t, url, func() { resyncs <- struct{}{} })
	<-resyncs // the first connection
	// Cut the listening connection from the server side, as a failover would.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' OR (state = 'idle' AND pid <> pg_backend_pid() AND datname = current_database())"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-resyncs:
	case <-time.After(guard):
		t.Fatal("no resync after the connection was cut: receivers would miss what was sent meanwhile")
	}
}
