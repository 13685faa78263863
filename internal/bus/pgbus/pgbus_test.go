package pgbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	got := make(chan string, 10)
	a := start(t, url, nil)
	b := start(t, url, nil)
	a.Subscribe("events", func(p string) { got <- "a:" + p })
	b.Subscribe("events", func(p string) { got <- "b:" + p })
	b.Subscribe("lease", func(p string) { got <- "b-lease:" + p })
	if err := a.Publish(context.Background(), "events", "replica-1"); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 2 {
		select {
		case m := <-got:
			seen[m] = true
		case <-time.After(guard):
			t.Fatalf("only %v arrived", seen)
		}
	}
	if !seen["a:replica-1"] || !seen["b:replica-1"] {
		t.Fatalf("got %v, want the message at both replicas and on its topic only", seen)
	}
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
