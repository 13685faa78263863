package hook_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockHook vetoes matches holding both players of a blocked pair.
func blockHook(mu *sync.Mutex, blocked map[[2]string]bool, vetoes *int, vetoed chan<- struct{}) func(*http.Request, map[string]any) (int, any) {
	return func(_ *http.Request, body map[string]any) (int, any) {
		var ids []string
		for _, tk := range body["tickets"].([]any) {
			for _, p := range tk.(map[string]any)["players"].([]any) {
				ids = append(ids, p.(map[string]any)["playerId"].(string))
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range ids {
			for _, b := range ids {
				if blocked[[2]string{a, b}] {
					*vetoes++
					select {
					case vetoed <- struct{}{}:
					default:
					}
					return http.StatusOK, map[string]any{"allow": false, "reason": "these players blocked each other"}
				}
			}
		}
		return http.StatusOK, map[string]any{"allow": true}
	}
}

func TestAVetoedMatchSendsItsTicketsBackToMatchWithOthers(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	var mu sync.Mutex
	blocked := map[[2]string]bool{}
	vetoes := 0
	vetoed := make(chan struct{}, 1)
	s := newStudio(t, blockHook(&mu, blocked, &vetoes, vetoed))
	e.hook(s, "matchProposed", `"failMode":"failClosed","configurations":["duel"]`)

	names := []string{"a", "b", "c", "d"}
	players, ids := map[string]tokens{}, map[string]string{}
	for _, n := range names {
		players[n] = e.player()
	}
	mu.Lock()
	blocked[[2]string{players["a"].IdentityID, players["b"].IdentityID}] = true
	mu.Unlock()
	// a and b arrive first and are proposed together: the hook vetoes it.
	for _, n := range names[:2] {
		var tk ticket
		e.do("POST", "/v1/matchmaking/tickets", players[n].bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated).Decode(&tk)
		ids[n] = tk.TicketID
	}
	select {
	case <-vetoed:
	case <-time.After(time.Minute):
		t.Fatal("a and b were never proposed to the hook")
	}
	// The gate answers outside the pool's passes, and the vetoed pair goes
	// back to the pool at the first pass after the answer arrived. c and d
	// must find a and b there, or c and d match each other and leave a and
	// b nobody to play; so the clock moves a cycle at a time until both
	// are back.
	s.settle()
	e.backInPool(ids["a"], ids["b"])
	for _, n := range names[2:] {
		var tk ticket
		e.do("POST", "/v1/matchmaking/tickets", players[n].bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated).Decode(&tk)
		ids[n] = tk.TicketID
	}
	matches := map[string]string{}
	for _, n := range names {
		if out := e.finished(players[n], ids[n]); out["status"] != "COMPLETED" {
			t.Fatalf("the ticket of %s ended %v", n, out)
		}
		var x struct{ Text string }
		e.do("GET", "/v1/admin/matchmaking/tickets/"+ids[n]+"/explain", admin, "").Want(http.StatusOK).Decode(&x)
		_, matches[n], _ = strings.Cut(x.Text, "; match ")
	}
	mu.Lock()
	defer mu.Unlock()
	if vetoes != 1 || matches["a"] == matches["b"] || matches["a"] == "" || matches["b"] == "" {
		t.Fatalf("%d vetoes; matches %v: a and b must each match someone else, and their group be vetoed once", vetoes, matches)
	}
	call := s.lastBody()
	if call["point"] != "matchProposed" || call["configurationName"] != "duel" || len(call["tickets"].([]any)) != 2 {
		t.Fatalf("the hook was asked %v", call)
	}
}
