package hook_test

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestHooksOfOnePointRunInOrder: attribute changes merge in order (a later
// hook's value wins), and the first refusal wins, so later hooks are not
// called.
func TestHooksOfOnePointRunInOrder(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	rank := func(n float64) func(*http.Request, map[string]any) (int, any) {
		return func(_ *http.Request, body map[string]any) (int, any) {
			id := body["playerId"].(string)
			return http.StatusOK, map[string]any{"allow": true, "attributes": map[string]any{id: map[string]any{"rank": map[string]any{"N": n}}}}
		}
	}
	second := newStudio(t, rank(7))
	first := newStudio(t, rank(5))
	// Registered out of order: order, not registration, decides.
	e.hook(second, "beforeTicket", `"failMode":"failClosed","order":2`)
	e.hook(first, "beforeTicket", `"failMode":"failClosed","order":1`)
	p := e.player()
	var tk ticket
	e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated).Decode(&tk)
	seen := second.lastBody()["players"].([]any)[0].(map[string]any)["attributes"].(map[string]any)["rank"].(map[string]any)["N"]
	if seen != 5.0 {
		t.Fatalf("the second hook saw rank %v, not the first hook's 5", seen)
	}
	var d struct {
		TicketList []struct {
			Players []struct {
				PlayerAttributes map[string]struct{ N float64 }
			}
		}
	}
	if err := json.Unmarshal(e.control("DescribeMatchmaking", `{"TicketIds":["`+tk.TicketID+`"]}`), &d); err != nil || d.TicketList[0].Players[0].PlayerAttributes["rank"].N != 7 {
		t.Fatalf("the ticket's rank is %+v (%v), want the later hook's 7", d, err)
	}

	var refusals atomic.Int64
	e.hook(newStudio(t, func(*http.Request, map[string]any) (int, any) {
		refusals.Add(1)
		return http.StatusOK, map[string]any{"allow": false, "reason": "closed today"}
	}), "beforeTicket", `"failMode":"failOpen","order":0`)
	before := first.calls.Load() + second.calls.Load()
	e.do("POST", "/v1/matchmaking/tickets", e.player().bearer(), `{"configurationName":"duel"}`).Want(http.StatusForbidden)
	if refusals.Load() != 1 || first.calls.Load()+second.calls.Load() != before {
		t.Fatal("hooks after the first refusal were called")
	}
}
