package player_test

import (
	"net/http"
	"testing"
)

// TestOtherPackagesRoutesAnswerAsDocumented drives the routes that other
// packages add to the player API document (x-muster-package: matchmaking
// tickets, parties, locations) through the real server, so every
// documented operation has a response validated against the document.
func TestOtherPackagesRoutesAnswerAsDocumented(t *testing.T) {
	e := newAPI(t, nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	e.openConfiguration(t, "quad")

	a, b := e.player(t), e.player(t)
	var party struct{ PartyID, InviteCode string }
	e.do(t, "POST", "/v1/parties", a.bearer(), `{}`, nil).Want(http.StatusCreated).Decode(&party)
	e.do(t, "POST", "/v1/parties/"+party.PartyID+"/join", b.bearer(), `{"inviteCode":"`+party.InviteCode+`"}`, nil).Want(http.StatusOK)
	e.do(t, "GET", "/v1/parties/"+party.PartyID, a.bearer(), "", nil).Want(http.StatusOK)
	e.do(t, "POST", "/v1/parties/"+party.PartyID+"/leave", b.bearer(), "", nil).Want(http.StatusNoContent)

	var ticket struct{ TicketID string }
	e.do(t, "POST", "/v1/matchmaking/tickets", a.bearer(), `{"configurationName":"quad","latencyInMs":{"custom-a":20}}`, nil).
		Want(http.StatusCreated).Decode(&ticket)
	id := ticket.TicketID
	e.do(t, "GET", "/v1/matchmaking/tickets/"+id, a.bearer(), "", nil).Want(http.StatusOK)
	e.do(t, "GET", "/v1/matchmaking/tickets/"+id, b.bearer(), "", nil).Want(http.StatusNotFound)
	e.do(t, "GET", "/v1/matchmaking/tickets/"+id+"/explain", a.bearer(), "", nil).Want(http.StatusOK)
	e.do(t, "GET", "/v1/admin/matchmaking/tickets/"+id+"/explain", admin, "", nil).Want(http.StatusOK)
	e.do(t, "POST", "/v1/matchmaking/tickets/"+id+"/accept", a.bearer(), `{"accept":true}`, nil).Want(http.StatusBadRequest)
	e.do(t, "DELETE", "/v1/matchmaking/tickets/"+id, a.bearer(), "", nil).Want(http.StatusNoContent)
	e.do(t, "GET", "/v1/locations", "", "", nil).Want(http.StatusOK)
}

// TestWebhookSubscriptionRoutesAnswerAsDocumented drives the operator
// routes of webhook subscriptions (package webhook) through the real server.
func TestWebhookSubscriptionRoutesAnswerAsDocumented(t *testing.T) {
	e := newAPI(t, nil)
	var sub struct{ ID string }
	e.do(t, "POST", "/v1/admin/subscriptions", admin, `{"name":"studio-events","url":"https://hooks.example.com/muster","eventTypes":["MatchmakingSucceeded"]}`, nil).
		Want(http.StatusCreated).Decode(&sub)
	base := "/v1/admin/subscriptions/" + sub.ID
	e.do(t, "GET", "/v1/admin/subscriptions", admin, "", nil).Want(http.StatusOK)
	e.do(t, "GET", base, admin, "", nil).Want(http.StatusOK)
	e.do(t, "PATCH", base, admin, `{"enabled":false}`, nil).Want(http.StatusOK)
	e.do(t, "POST", base+"/secret/rotate", admin, "", nil).Want(http.StatusOK)
	e.do(t, "GET", base+"/deliveries", admin, "", nil).Want(http.StatusOK)
	e.do(t, "GET", base+"/dead-letters", admin, "", nil).Want(http.StatusOK)
	e.do(t, "POST", base+"/dead-letters/redrive", admin, `{}`, nil).Want(http.StatusOK)
	e.do(t, "GET", "/v1/admin/subscriptions/no-such-id", admin, "", nil).Want(http.StatusNotFound)
	e.do(t, "DELETE", base, admin, "", nil).Want(http.StatusNoContent)
}

// TestEventStreamRoutesAnswerAsDocumented drives the players' event
// streams (package push) through the real server as far as a plain HTTP
// client can: a stream token, and the answers to requests that cannot
// stream (the streams themselves are tested in internal/push).
func TestEventStreamRoutesAnswerAsDocumented(t *testing.T) {
	e := newAPI(t, nil)
	p := e.player(t)
	e.do(t, "POST", "/v1/events/tokens", p.bearer(), "", nil).Want(http.StatusCreated)
	e.do(t, "GET", "/v1/events", "", "", nil).Want(http.StatusUnauthorized)
	e.do(t, "GET", "/v1/ws", p.bearer(), "", nil).Want(http.StatusUpgradeRequired)
}
