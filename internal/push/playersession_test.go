package push_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// playerSessionEvent commits a player session event of player's session.
func (e *env) playerSessionEvent(typ, status, player, id string) string {
	e.t.Helper()
	ev := store.Event{ID: uuid.NewString(), Type: typ, Resource: id, Doc: store.MustJSON(session.PlayerSessionEvent{
		PlayerSessionID: id, PlayerID: player, GameSessionID: "arn:aws:gamelift:mu-local-1::gamesession/fleet-1/gs-1", FleetID: "fleet-1",
		Status: status, IPAddress: "10.0.0.7", Port: 7777, CreationTime: gamelift.At(e.clock.Now()).String()})}
	e.append(ev)
	return ev.ID
}

// Each player's stream carries its own player sessions' events, as
// {"id","type","time","playerSession":{…}}, and no other player's.
func TestPlayerSessionEventsReachTheirPlayerOnly(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.signIn(), e.signIn()
	ca, cb := e.dial(a.AccessToken, ""), e.dial(b.AccessToken, "")
	hello(t, ca)
	hello(t, cb)
	reserved := e.playerSessionEvent(session.EventPlayerSessionReserved, gamelift.PlayerSessionReserved, a.IdentityID, "psess-a")
	activated := e.playerSessionEvent(session.EventPlayerSessionActivated, gamelift.PlayerSessionActive, a.IdentityID, "psess-a")
	// b's next message is its own ticket event, so nothing of a's came first.
	mine := e.ticketEvent(matchmaking.EventSearching, nil, ticket("tb", b.IdentityID))
	for _, want := range []string{reserved, activated} {
		m := next(t, ca)
		if m.ID != want || m.PlayerSession == nil || m.PlayerSession.PlayerSessionID != "psess-a" || m.PlayerSession.PlayerID != a.IdentityID {
			t.Fatalf("a got %+v, want its player session event %s", m, want)
		}
	}
	if m := next(t, cb); m.ID != mine {
		t.Fatalf("b got %+v, want only its own events", m)
	}
	// A resume replays them too.
	c := e.dial(a.AccessToken, "?after="+reserved)
	hello(t, c)
	if m := next(t, c); m.ID != activated || m.PlayerSession == nil || m.PlayerSession.Status != gamelift.PlayerSessionActive {
		t.Fatalf("resume got %+v, want %s", m, activated)
	}
}
