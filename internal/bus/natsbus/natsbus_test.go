package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/bus/bustest"
	"github.com/musterhq/muster/internal/bus/natsbus"
	"github.com/musterhq/muster/internal/bus/natsbus/natstest"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

func connect(t *testing.T, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := natsbus.Connect(s.ClientURL(), t.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestBusReachesEveryReplica(t *testing.T) {
	s := natstest.Start(t)
	replicas := map[string]bus.Bus{}
	for _, name := range []string{"a", "b", "pub"} {
		b, err := natsbus.New(natsbus.Config{Conn: connect(t, s)})
		if err != nil {
			t.Fatal(err)
		}
		replicas[name] = b
	}
	pub := replicas["pub"]
	delete(replicas, "pub") // publishes without subscribing
	bustest.ReachesEveryReplica(t, pub, replicas)
}

func TestPublisherPublishesEveryEventOnce(t *testing.T) {
	ctx := context.Background()
	s := natstest.Start(t)
	nc := connect(t, s)
	clk := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 50
	err = db.Update(ctx, func(w store.Writer) error {
		for i := range n {
			typ := "MatchmakingSearching"
			if i%5 == 0 {
				typ = "MatchmakingSucceeded"
			}
			if err := w.Append(ctx, store.Event{ID: fmt.Sprintf("ev-%02d", i), Type: typ, Resource: "t", Doc: []byte(`{"n":1}`)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	run := func() {
		pub, err := natsbus.NewPublisher(ctx, natsbus.PublisherConfig{Conn: nc, Outbox: outbox.New(outbox.Config{Store: db, Clock: clk}), Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.PublishPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	run()

	t.Run("each event is on its type's subject with its id as Nats-Msg-Id", func(t *testing.T) {
		js, _ := jetstream.New(nc)
		cons, err := js.OrderedConsumer(ctx, natsbus.DefaultStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{natsbus.Subject("MatchmakingSucceeded")}})
		if err != nil {
			t.Fatal(err)
		}
		batch, err := cons.FetchNoWait(100)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for m := range batch.Messages() {
			ids = append(ids, m.Headers().Get(jetstream.MsgIDHeader))
		}
		if len(ids) != n/5 || ids[0] != "ev-00" || ids[1] != "ev-05" {
			t.Fatalf("MatchmakingSucceeded messages carry ids %v", ids)
		}
	})

	t.Run("publishing again inside the duplicate window adds nothing", func(t *testing.T) {
		// Forget the cursor, as a crash before saving it would.
		err := db.Update(ctx, func(w store.Writer) error { return w.Delete(ctx, outbox.KindCursor, "nats-publisher", 0) })
		if err != nil {
			t.Fatal(err)
		}
		run()
		js, _ := jetstream.New(nc)
		stream, _ := js.Stream(ctx, natsbus.DefaultStream)
		info, err := stream.Info(ctx)
		if err != nil || info.State.Msgs != n {
			t.Fatalf("stream holds %d messages after re-publishing, want %d", info.State.Msgs, n)
		}
	})
}

// A publisher whose lease moved on (its check fails) does not move the
// cursor: the replica that took the lease over owns it.
func TestAPublisherUnderALostLeaseLeavesTheCursor(t *testing.T) {
	ctx := context.Background()
	nc := connect(t, natstest.Start(t))
	clk := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "muster.db"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(ctx, func(w store.Writer) error {
		return w.Append(ctx, store.Event{ID: "ev-1", Type: "MatchmakingSucceeded", Resource: "t", Doc: []byte(`{"n":1}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := natsbus.NewPublisher(ctx, natsbus.PublisherConfig{Conn: nc, Outbox: outbox.New(outbox.Config{Store: db, Clock: clk}), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	checked := make(chan struct{}, 1)
	lost := func(context.Context, store.Writer) error {
		select {
		case checked <- struct{}{}:
		default:
		}
		return errors.New("lease lost")
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pub.RunUnder(runCtx, lost) }()
	<-checked // it published the batch and tried to move the cursor
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if seq, err := outbox.Cursor(ctx, db, "nats-publisher"); err != nil || seq != 0 {
		t.Fatalf("cursor %d (%v) under a lost lease, want it unmoved at 0", seq, err)
	}
}
