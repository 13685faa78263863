package hook_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// lvl makes a configuration open to players whose rule set declares a
// number attribute "level" (default 0).
func (e *env) lvl(name string) {
	e.T.Helper()
	rs, _ := json.Marshal(`{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"level","type":"number","default":0}],
		"teams":[{"name":"duel","minPlayers":2,"maxPlayers":2}]}`)
	e.control("CreateMatchmakingRuleSet", `{"Name":"`+name+`","RuleSetBody":`+string(rs)+`}`)
	e.control("CreateMatchmakingConfiguration", `{"Name":"`+name+`","RuleSetName":"`+name+`","RequestTimeoutSeconds":600,"AcceptanceRequired":false,"FlexMatchMode":"STANDALONE"}`)
	e.do("PUT", "/v1/admin/matchmaking/configurations/"+name+"/player-access", admin, `{"allowed":true}`).Want(http.StatusOK)
}

// ticketOf reads a ticket's configuration and its first player's
// attributes through the control API.
func (e *env) ticketOf(id string) (config string, attrs map[string]any) {
	e.T.Helper()
	var d struct {
		TicketList []struct {
			ConfigurationName string
			Players           []struct{ PlayerAttributes map[string]any }
		}
	}
	if err := json.Unmarshal(e.control("DescribeMatchmaking", `{"TicketIds":["`+id+`"]}`), &d); err != nil || len(d.TicketList) != 1 {
		e.T.Fatalf("describe %s: %v", id, err)
	}
	return d.TicketList[0].ConfigurationName, d.TicketList[0].Players[0].PlayerAttributes
}

// A hook that moves a ticket to another configuration does not bypass the
// hooks scoped to that configuration: they decide on it as on a ticket
// sent there directly.
func TestAMovedTicketMeetsTheHooksOfItsNewConfiguration(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	e.lvl("lvl")
	var guarded atomic.Int64
	e.hook(newStudio(t, func(*http.Request, map[string]any) (int, any) {
		guarded.Add(1)
		return http.StatusOK, `{"allow":false,"reason":"lvl is for subscribers"}`
	}), "beforeTicket", `"failMode":"failClosed","order":0,"configurations":["lvl"]`)
	e.hook(newStudio(t, func(*http.Request, map[string]any) (int, any) {
		return http.StatusOK, `{"allow":true,"configurationName":"lvl"}`
	}), "beforeTicket", `"failMode":"failClosed","order":1`)
	e.do("POST", "/v1/matchmaking/tickets", e.player().bearer(), `{"configurationName":"lvl"}`).Want(http.StatusForbidden)
	e.do("POST", "/v1/matchmaking/tickets", e.player().bearer(), `{"configurationName":"duel"}`).Want(http.StatusForbidden)
	if n := guarded.Load(); n != 2 {
		t.Fatalf("lvl's hook decided %d tickets, want 2 (the one sent to lvl and the one moved there)", n)
	}
}

// A ticket moved to another configuration carries the attributes the new
// rule set declares from the player's record, as one sent there directly.
func TestAMovedTicketReadsTheAttributesItsNewRuleSetDeclares(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	e.lvl("lvl")
	e.hook(newStudio(t, func(*http.Request, map[string]any) (int, any) {
		return http.StatusOK, `{"allow":true,"configurationName":"lvl"}`
	}), "beforeTicket", `"failMode":"failClosed","configurations":["duel"]`)
	p := e.player()
	e.do("PATCH", "/v1/admin/players/"+p.IdentityID, admin, `{"attributes":{"level":{"N":42}}}`).Want(http.StatusOK)
	var moved ticket
	e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated).Decode(&moved)
	config, attrs := e.ticketOf(moved.TicketID)
	level, _ := attrs["level"].(map[string]any)
	if config != "lvl" || level["N"] != float64(42) {
		t.Fatalf("moved ticket in %s with attributes %v, want lvl with level 42 from the player's record", config, attrs)
	}
}

// A ticket start would refuse anyway (a duplicate, or one shed while the
// server is past its capacity) is refused before the studio's service is
// asked: a client retrying in a loop does not reach it.
func TestARefusedDuplicateCostsNoHookCall(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	s := newStudio(t, func(*http.Request, map[string]any) (int, any) { return http.StatusOK, `{"allow":true}` })
	e.hook(s, "beforeTicket", `"failMode":"failClosed"`)
	p := e.player()
	e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated)
	for range 5 {
		e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"duel"}`).Want(http.StatusBadRequest)
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("the hook was called %d times for 1 ticket written and 5 duplicates refused, want 1", n)
	}
}

// A ticket of a configuration that no beforeTicket hook names is written
// as if there were no hooks: the studio's service is not asked, and a
// duplicate is refused as it is before the gate.
func TestATicketOfAConfigurationNoHookNamesIsNotSentToTheStudio(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	e.duel("casual")
	s := newStudio(t, func(*http.Request, map[string]any) (int, any) {
		return http.StatusOK, `{"allow":false,"reason":"duel is closed"}`
	})
	e.hook(s, "beforeTicket", `"failMode":"failClosed","configurations":["duel"]`)
	p := e.player()
	e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"casual"}`).Want(http.StatusCreated)
	dup := e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"casual"}`).Want(http.StatusBadRequest)
	if !strings.Contains(dup.Detail(), "is already in active ticket") {
		t.Fatalf("a duplicate is refused with %q", dup.Detail())
	}
	if n := s.calls.Load(); n != 0 {
		t.Fatalf("the hook of duel was called %d times for tickets of casual", n)
	}
	e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"duel"}`).Want(http.StatusForbidden)
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("the hook of duel was called %d times for one ticket of duel", n)
	}
}
