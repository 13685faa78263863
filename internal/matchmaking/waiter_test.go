package matchmaking

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/gamelift"
)

// A waiting ticket's record comes back from the waiter as it went in, so
// the pass that ends the ticket writes exactly what was stored.
func TestWaiterKeepsTheRecordExactly(t *testing.T) {
	rs, err := flexmatch.Parse([]byte(pairRules))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{CycleInterval: time.Second}, log: slog.New(slog.DiscardHandler)}
	p := newPool(s, configRec{Name: "duel", ARN: "arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/duel", RequestTimeout: 60}, rs)
	n, text := 1000.25, "eu"
	start := time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC)
	full := ticketRec{ID: "t1", ConfigName: "duel", ConfigArn: p.arn, Status: gamelift.TicketSearching, Reason: ReasonAcceptanceFailed, Message: "m",
		Start: start, Players: []playerRec{
			{ID: "p1", Attributes: map[string]gamelift.AttributeValue{"skill": {N: &n}, "mode": {S: &text}, "maps": {SL: []string{"a", "b"}}, "w": {SDM: map[string]float64{"x": 1.5}}},
				Latency: map[string]int32{"custom-home": 40}, Team: "red"},
			{ID: "p2"},
		}, MatchID: "m1", PartyID: "party", Conn: &connRec{GameSessionArn: "gs"}}
	other := full
	other.ID, other.ConfigName, other.ConfigArn = "t2", "renamed", "arn:other"
	for _, rec := range []ticketRec{full, other, {ID: "t3", ConfigName: "duel", ConfigArn: p.arn, Status: gamelift.TicketSearching, Start: start, Players: []playerRec{{ID: "p3"}}}} {
		for _, fresh := range []bool{true, false} {
			w := p.newWaiter(arrival{rec: rec, version: 7, fresh: fresh}, start)
			if k := p.known(w); k.version != 7 || !reflect.DeepEqual(k.rec, rec) {
				t.Fatalf("fresh %v: got back\n%+v\nwant\n%+v", fresh, k.rec, rec)
			}
			p.keep(w, &rec, 8)
			if w.rec != nil || len(w.doc) == 0 {
				t.Fatal("keep left the record decoded")
			}
			if mine := rec.ConfigArn == p.arn; mine == strings.Contains(w.doc, `"configArn"`) || strings.Contains(w.doc, `"id":"`+rec.ID) {
				t.Fatalf("kept %s", w.doc)
			}
			if k := p.known(w); k.version != 8 || !reflect.DeepEqual(k.rec, rec) {
				t.Fatalf("kept: got back\n%+v\nwant\n%+v", k.rec, rec)
			}
			if et := p.engineTicket(w); et.ID != rec.ID || !et.StartTime.Equal(start) || len(et.Players) != len(rec.Players) {
				t.Fatalf("engine ticket %+v", et)
			}
		}
	}
	t.Run("a waiter whose stored version is unknown tells the pass to read the ticket", func(t *testing.T) {
		w := p.newWaiter(arrival{rec: full}, start)
		if k := p.known(w); k.version != 0 {
			t.Fatalf("known %+v", k)
		}
	})
}

// A waiter stays within a 64-byte allocation: a pool holds tens of
// thousands.
func TestWaiterIsSmall(t *testing.T) {
	if n := unsafe.Sizeof(waiter{}); n > 64 {
		t.Fatalf("a waiter is %d bytes", n)
	}
}
