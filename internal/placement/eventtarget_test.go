package placement_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/store"
)

// eventTargets returns, by placement id, the Target recorded with each
// placement event ("<nil>" when none was) and fails unless its document is
// exactly GameLift's shape: receivers get the document, not the target.
func eventTargets(t *testing.T, e *env) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := e.db.View(context.Background(), func(r store.Reader) error {
		evs, err := r.Events(context.Background(), store.EventQuery{Limit: 1000})
		for _, ev := range evs {
			switch ev.Type {
			case placement.EventPlacementFulfilled, placement.EventPlacementCancelled, placement.EventPlacementTimedOut, placement.EventPlacementFailed:
			default:
				continue
			}
			var doc placement.EventDocument
			if err := json.Unmarshal(ev.Doc, &doc); err != nil {
				return err
			}
			if again := store.MustJSON(doc); string(again) != string(ev.Doc) {
				t.Errorf("event of %s carries more than GameLift's document: %s", doc.Detail.PlacementID, ev.Doc)
			}
			out[doc.Detail.PlacementID] = "<nil>"
			if ev.Target != nil {
				out[doc.Detail.PlacementID] = fmt.Sprintf("%q", *ev.Target)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPlacementEventsRecordTheQueuesNotificationTargetOfTheirTime: each
// placement event carries the queue's NotificationTarget when it was
// written: the old one before an update, the queue's own for the
// placements DeleteGameSessionQueue fails, and none for a placement that
// ends after its queue was deleted.
func TestPlacementEventsRecordTheQueuesNotificationTargetOfTheirTime(t *testing.T) {
	e := newEnv(t, envOptions{holdActivation: true})
	f := e.fleet("1", "custom-a")
	old, current := "arn:aws:sns:mu-local-1:000000000000:old", "arn:aws:sns:mu-local-1:000000000000:current"
	q := e.queue(&gamelift.CreateGameSessionQueueInput{Name: "q", NotificationTarget: &old, Destinations: []gamelift.GameSessionQueueDestination{{DestinationArn: e.fleetArn(f)}}})
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "stopped", GameSessionQueueName: q})
	if _, err := e.svc.StopGameSessionPlacement(e.ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: "stopped"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateGameSessionQueue(e.ctx, &gamelift.UpdateGameSessionQueueInput{Name: q, NotificationTarget: &current}); err != nil {
		t.Fatal(err)
	}
	e.process(f, "custom-a")
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "activating", GameSessionQueueName: q})
	if _, err := e.svc.Attempt(context.Background(), "activating"); err != nil {
		t.Fatal(err)
	}
	e.place(&gamelift.StartGameSessionPlacementInput{PlacementId: "waiting", GameSessionQueueName: q})
	if _, err := e.svc.DeleteGameSessionQueue(e.ctx, &gamelift.DeleteGameSessionQueueInput{Name: q}); err != nil {
		t.Fatal(err)
	}
	g, err := e.sessions.GameSession(context.Background(), e.arns.GameSession(f, "custom-a", "activating"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sessions.ActivateGameSession(context.Background(), g.ProcessID, g.ID); err != nil {
		t.Fatal(err)
	}
	if p := e.wait("activating"); p.Status != gamelift.PlacementFulfilled {
		t.Fatalf("placement ended %s; want FULFILLED", p.Status)
	}
	want := map[string]string{"stopped": fmt.Sprintf("%q", old), "waiting": fmt.Sprintf("%q", current), "activating": `""`}
	if got := eventTargets(t, e); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("targets recorded %v, want %v", got, want)
	}
}
