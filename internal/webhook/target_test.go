package webhook_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
	"github.com/musterhq/muster/internal/webhook"
)

// topic is the NotificationTarget naming subscription name.
func topic(name string) string { return "arn:aws:sns:mu-local-1:000000000000:" + name }

// elsewhere subscribes only to a queue no event here is about, so that a
// subscription receives an event only when its NotificationTarget names it.
func elsewhere(in *webhook.CreateInput) {
	in.Resources = []string{arns.Build(gamelift.ResourceGameSessionQueue, "elsewhere")}
}

// placements is a placement service on st, without a placer: placements
// stay PENDING until a test ends them.
func placements(e *env, st store.Store) *placement.Service {
	return placement.New(placement.Config{Base: service.Base{Store: st, Clock: e.clock, ARNs: arns}})
}

// cancelPlacement starts placement id on queue and stops it: one PlacementCancelled.
func cancelPlacement(t *testing.T, e *env, svc *placement.Service, queue, id string) {
	t.Helper()
	must[*gamelift.StartGameSessionPlacementOutput](t)(svc.StartGameSessionPlacement(e.ctx, &gamelift.StartGameSessionPlacementInput{
		PlacementId: id, GameSessionQueueName: queue, MaximumPlayerSessionCount: new(int32(4))}))
	must[*gamelift.StopGameSessionPlacementOutput](t)(svc.StopGameSessionPlacement(e.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: id}))
}

// placementOf reads a delivered placement event.
func placementOf(t *testing.T, d delivery) placement.EventDocument {
	t.Helper()
	var doc placement.EventDocument
	if err := json.Unmarshal(d.body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// offline stops the service and runs fn on the store with no worker
// reading it, then starts the service again: whatever fn changes is
// already in place when the workers route fn's events.
func (e *env) offline(fn func(st store.Store)) {
	e.t.Helper()
	e.stop()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: e.path, Clock: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	fn(db)
	if err := db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

func TestRoutingByTheTargetRecordedWithTheEvent(t *testing.T) {
	t.Run("a queue deleted with waiting placements: the subscription its NotificationTarget names receives their PlacementFailed events", func(t *testing.T) {
		e := newEnv(t, nil)
		named := e.subscribe("queue-events", elsewhere)
		other := e.subscribe("other", elsewhere)
		queues := placements(e, e.db)
		must[*gamelift.CreateGameSessionQueueOutput](t)(queues.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{
			Name: "q", NotificationTarget: new(topic("queue-events"))}))
		for _, id := range []string{"p1", "p2"} {
			must[*gamelift.StartGameSessionPlacementOutput](t)(queues.StartGameSessionPlacement(e.ctx, &gamelift.StartGameSessionPlacementInput{
				PlacementId: id, GameSessionQueueName: "q", MaximumPlayerSessionCount: new(int32(4))}))
		}
		must[*gamelift.DeleteGameSessionQueueOutput](t)(queues.DeleteGameSessionQueue(e.ctx, &gamelift.DeleteGameSessionQueueInput{Name: "q"}))
		got := map[string]bool{}
		for range 2 {
			d := e.rcv.next()
			doc := placementOf(t, d)
			if d.path != "/hooks/queue-events" || doc.Detail.Type != placement.EventPlacementFailed || doc.Resources[0] != arns.Build(gamelift.ResourceGameSessionQueue, "q") ||
				strings.Contains(string(d.body), topic("queue-events")) { // the target routes the event; it is not part of it
				t.Errorf("delivered to %s: %s", d.path, d.body)
			}
			got[doc.Detail.PlacementID] = true
		}
		if !got["p1"] || !got["p2"] {
			t.Errorf("PlacementFailed delivered for %v, want p1 and p2", got)
		}
		e.rcv.none(func() { e.caughtUp(named.ID); e.caughtUp(other.ID) })
	})
	t.Run("an event written before the NotificationTarget changes goes to the old target, one after to the new", func(t *testing.T) {
		e := newEnv(t, nil)
		before := e.subscribe("before", elsewhere)
		after := e.subscribe("after", elsewhere)
		// Both events and the change are committed before any worker
		// reads them, so each is routed after the change.
		e.offline(func(st store.Store) {
			queues := placements(e, st)
			must[*gamelift.CreateGameSessionQueueOutput](t)(queues.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{
				Name: "q", NotificationTarget: new(topic("before"))}))
			cancelPlacement(t, e, queues, "q", "p-before")
			must[*gamelift.UpdateGameSessionQueueOutput](t)(queues.UpdateGameSessionQueue(e.ctx, &gamelift.UpdateGameSessionQueueInput{
				Name: "q", NotificationTarget: new(topic("after"))}))
			cancelPlacement(t, e, queues, "q", "p-after")
		})
		got := map[string]string{}
		for range 2 {
			d := e.rcv.next()
			got[placementOf(t, d).Detail.PlacementID] = d.path
		}
		if got["p-before"] != "/hooks/before" || got["p-after"] != "/hooks/after" {
			t.Errorf("delivered %v; want p-before to /hooks/before and p-after to /hooks/after", got)
		}
		e.rcv.none(func() { e.caughtUp(before.ID); e.caughtUp(after.ID) })
	})
	t.Run("an event recorded without a target is not taken by a target set later", func(t *testing.T) {
		e := newEnv(t, nil)
		named := e.subscribe("later", elsewhere)
		e.offline(func(st store.Store) {
			queues := placements(e, st)
			must[*gamelift.CreateGameSessionQueueOutput](t)(queues.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{Name: "q"}))
			cancelPlacement(t, e, queues, "q", "p-untargeted")
			must[*gamelift.UpdateGameSessionQueueOutput](t)(queues.UpdateGameSessionQueue(e.ctx, &gamelift.UpdateGameSessionQueueInput{
				Name: "q", NotificationTarget: new(topic("later"))}))
			cancelPlacement(t, e, queues, "q", "p-targeted")
		})
		if d := e.rcv.next(); placementOf(t, d).Detail.PlacementID != "p-targeted" || d.path != "/hooks/later" {
			t.Errorf("delivered to %s: %s; want only p-targeted's event", d.path, d.body)
		}
		e.rcv.none(func() { e.caughtUp(named.ID) })
	})
	t.Run("an event written without a recorded target, as before targets were kept, goes by the target its resource has at delivery", func(t *testing.T) {
		e := newEnv(t, nil)
		named := e.subscribe("current", elsewhere)
		e.offline(func(st store.Store) {
			queues := placements(e, st)
			must[*gamelift.CreateGameSessionQueueOutput](t)(queues.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{
				Name: "q", NotificationTarget: new(topic("current"))}))
			queue := arns.Build(gamelift.ResourceGameSessionQueue, "q")
			doc := gamelift.NewEnvelope(arns, gamelift.DetailTypeQueuePlacement, "2026-03-01T12:00:00Z", queue,
				placement.EventDetail{Type: placement.EventPlacementFailed, PlacementID: "p-old"})
			err := st.Update(e.ctx, func(w store.Writer) error {
				return w.Append(e.ctx, store.Event{ID: doc.ID, Type: placement.EventPlacementFailed, Resource: queue, Doc: store.MustJSON(doc)})
			})
			if err != nil {
				t.Fatal(err)
			}
		})
		if d := e.rcv.next(); placementOf(t, d).Detail.PlacementID != "p-old" || d.path != "/hooks/current" {
			t.Errorf("delivered to %s: %s; want p-old's event", d.path, d.body)
		}
		e.rcv.none(func() { e.caughtUp(named.ID) })
	})
}

func TestRecordedTarget(t *testing.T) {
	queue := arns.Build(gamelift.ResourceGameSessionQueue, "q")
	for _, tt := range []struct {
		name   string
		target *string
		arn    string
		want   string
		ok     bool
	}{
		{"a target recorded for the event's resource is its target", new(topic("s")), queue, topic("s"), true},
		{"a target recorded as none is none", new(""), queue, "", true},
		{"an event without one has none recorded", nil, queue, "", false},
		{"another resource of the event has none recorded", new(topic("s")), configARN("arena"), "", false},
	} {
		got, ok := webhook.RecordedTarget(store.Event{Resource: queue, Target: tt.target}, tt.arn)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: RecordedTarget = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
