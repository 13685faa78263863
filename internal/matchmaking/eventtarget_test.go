package matchmaking_test

import (
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/store"
)

// TestEventsRecordTheNotificationTargetOfTheirTime: each FlexMatch event
// carries, beside its document, the configuration's NotificationTarget in
// the transaction that writes it, so one written before the target changes
// keeps the old one; the document itself does not mention it.
func TestEventsRecordTheNotificationTargetOfTheirTime(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("duel", duelRules)
	old, current := "arn:aws:sns:mu-local-1:000000000000:old", "arn:aws:sns:mu-local-1:000000000000:current"
	w.standalone("ranked", "duel", func(in *gamelift.CreateMatchmakingConfigurationInput) { in.NotificationTarget = &old })
	w.startTicket("ranked", "t1", "p1", 1000)
	w.cycle("ranked")
	if _, err := w.svc.UpdateMatchmakingConfiguration(w.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: "ranked", NotificationTarget: &current}); err != nil {
		t.Fatal(err)
	}
	w.startTicket("ranked", "t2", "p2", 2000) // too far apart to match
	w.cycle("ranked")
	if _, err := w.svc.StopMatchmaking(w.ctx, &gamelift.StopMatchmakingInput{TicketId: "t1"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := w.db.View(w.ctx, func(r store.Reader) error {
		evs, err := r.Events(w.ctx, store.EventQuery{Limit: 100})
		for _, e := range evs {
			if e.Type != matchmaking.EventSearching && e.Type != matchmaking.EventCancelled {
				continue
			}
			if strings.Contains(string(e.Doc), "arn:aws:sns") {
				t.Errorf("%s's document names the target: %s", e.Type, e.Doc)
			}
			target := "<none recorded>"
			if e.Target != nil {
				target = *e.Target
			}
			got = append(got, e.Type+" "+target)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{matchmaking.EventSearching + " " + old, matchmaking.EventSearching + " " + current, matchmaking.EventCancelled + " " + current}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events and their targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
