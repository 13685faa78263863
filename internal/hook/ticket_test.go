package hook_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// rankHook answers beforeTicket calls with a rank per player.
func rankHook(ranks *sync.Map) func(*http.Request, map[string]any) (int, any) {
	return func(_ *http.Request, body map[string]any) (int, any) {
		attrs := map[string]any{}
		for _, p := range body["players"].([]any) {
			id := p.(map[string]any)["playerId"].(string)
			if r, ok := ranks.Load(id); ok {
				attrs[id] = map[string]any{"rank": map[string]any{"N": r}}
			}
		}
		return http.StatusOK, map[string]any{"allow": true, "attributes": attrs}
	}
}

func TestTheEngineMatchesOnTheAttributesABeforeTicketHookAdds(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	var ranks sync.Map
	e.hook(newStudio(t, rankHook(&ranks)), "beforeTicket", `"failMode":"failClosed"`)

	// Arriving in this order, first come first matched would pair a with c
	// and b with d; the ranks the hook adds pair a with b and c with d.
	players := map[string]tokens{}
	ids := map[string]string{}
	for _, name := range []string{"a", "c", "b", "d"} {
		players[name] = e.player()
		rank := 1
		if name == "c" || name == "d" {
			rank = 9
		}
		ranks.Store(players[name].IdentityID, rank)
		var tk ticket
		e.do("POST", "/v1/matchmaking/tickets", players[name].bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated).Decode(&tk)
		ids[name] = tk.TicketID
	}
	match := func(name string) string {
		if out := e.finished(players[name], ids[name]); out["status"] != "COMPLETED" {
			t.Fatalf("ticket of %s ended %v", name, out)
		}
		var x struct{ Text string }
		e.do("GET", "/v1/admin/matchmaking/tickets/"+ids[name]+"/explain", admin, "").Want(http.StatusOK).Decode(&x)
		_, id, ok := strings.Cut(x.Text, "; match ")
		if !ok {
			t.Fatalf("no match in %q", x.Text)
		}
		return id
	}
	if match("a") != match("b") || match("c") != match("d") {
		t.Fatal("the engine did not match on the ranks the hook added")
	}
}

func TestATicketTheHookRefusesIsNotWritten(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	var mu sync.Mutex
	refuse := true
	s := newStudio(t, func(_ *http.Request, body map[string]any) (int, any) {
		mu.Lock()
		defer mu.Unlock()
		if refuse {
			return http.StatusOK, map[string]any{"allow": false, "reason": "you are banned until Tuesday"}
		}
		return http.StatusOK, map[string]any{"allow": true}
	})
	e.hook(s, "beforeTicket", `"failMode":"failOpen"`)
	p := e.player()
	r := e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"duel","latencyInMs":{}}`).Want(http.StatusForbidden)
	if d := r.Detail(); d != "you are banned until Tuesday" {
		t.Fatalf("the player is told %q", d)
	}
	call := s.lastBody()
	if call["point"] != "beforeTicket" || call["playerId"] != p.IdentityID || call["configurationName"] != "duel" {
		t.Fatalf("the hook was asked %v", call)
	}
	if types := call["attributeTypes"].(map[string]any); types["rank"] != "number" {
		t.Fatalf("the hook was told the types %v", types)
	}
	// Nothing was written: once allowed, the same player starts a ticket
	// (a written one would make this "already in an active ticket").
	mu.Lock()
	refuse = false
	mu.Unlock()
	e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated)
}

// hang answers no call before the caller gives up.
func hang(r *http.Request, _ map[string]any) (int, any) {
	<-r.Context().Done()
	return http.StatusOK, map[string]any{"allow": true}
}

func TestAHookSlowerThanItsTimeOutFollowsItsFailMode(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	s := newStudio(t, hang)
	h := e.hook(s, "beforeTicket", `"failMode":"failOpen","timeoutMs":30`)
	e.do("POST", "/v1/matchmaking/tickets", e.player().bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated)

	e.do("PATCH", "/v1/admin/hooks/"+h.ID, admin, `{"failMode":"failClosed"}`).Want(http.StatusOK)
	r := e.do("POST", "/v1/matchmaking/tickets", e.player().bearer(), `{"configurationName":"duel"}`).Want(http.StatusServiceUnavailable)
	if d := r.Detail(); !strings.Contains(d, "timeout") {
		t.Fatalf("a timed-out fail-closed hook answers %q", d)
	}
	if n := counter(t, e, "muster_hook_timeouts_total", h.ID); n != 2 {
		t.Fatalf("%v time-outs counted, want 2", n)
	}
}

func TestABadAnswerIsCountedAndFollowsTheFailMode(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	e.duel("other")
	var mu sync.Mutex
	var answer any
	s := newStudio(t, func(_ *http.Request, body map[string]any) (int, any) {
		mu.Lock()
		defer mu.Unlock()
		if a, ok := answer.(int); ok {
			return a, `{"allow":true}`
		}
		return http.StatusOK, answer
	})
	h := e.hook(s, "beforeTicket", `"failMode":"failClosed"`)
	me := e.player()
	for i, tt := range []struct {
		name   string
		answer any
	}{
		{"an unknown member", `{"allow":true,"bonus":1}`},
		{"no allow", `{"reason":"x"}`},
		{"a repeated key", `{"allow":true,"allow":false}`},
		{"an attribute of the wrong type", `{"allow":true,"attributes":{"` + me.IdentityID + `":{"rank":{"S":"gold"}}}}`},
		{"an attribute the rule set does not declare", `{"allow":true,"attributes":{"` + me.IdentityID + `":{"level":{"N":3}}}}`},
		{"an attribute of a player not in the ticket", `{"allow":true,"attributes":{"someone-else":{"rank":{"N":3}}}}`},
		{"a refusal without a reason", `{"allow":false}`},
		{"a configuration players may not use", `{"allow":true,"configurationName":"closed"}`},
		{"not JSON", `allow`},
		{"a status other than 200", http.StatusInternalServerError},
	} {
		t.Run(tt.name+" refuses the ticket with 503", func(t *testing.T) {
			e.advancePastCooldown() // after five failures in a row the breaker is open
			mu.Lock()
			answer = tt.answer
			mu.Unlock()
			e.do("POST", "/v1/matchmaking/tickets", me.bearer(), `{"configurationName":"duel"}`).Want(http.StatusServiceUnavailable)
			want := float64(i + 1)
			if _, status := tt.answer.(int); status {
				want-- // a status is not a bad answer: there is no answer
			}
			if n := counter(t, e, "muster_hook_bad_answers_total", h.ID); n != want {
				t.Fatalf("%v bad answers counted, want %v", n, want)
			}
		})
	}
	t.Run("an answer moving the ticket to another player configuration is followed", func(t *testing.T) {
		e.advancePastCooldown()
		mu.Lock()
		answer = `{"allow":true,"configurationName":"other","attributes":{"` + me.IdentityID + `":{"rank":{"N":4}}}}`
		mu.Unlock()
		var tk struct{ ConfigurationName string }
		e.do("POST", "/v1/matchmaking/tickets", me.bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated).Decode(&tk)
		if tk.ConfigurationName != "other" {
			t.Fatalf("the ticket went to %s", tk.ConfigurationName)
		}
	})
}

// counter reads a hook's counter from /metrics (summed over its other
// labels).
func counter(t *testing.T, e *env, name, hookID string) float64 {
	t.Helper()
	total := 0.0
	for _, line := range strings.Split(string(e.do("GET", "/metrics", admin, "").Want(http.StatusOK).Body), "\n") {
		if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, `hook="`+hookID+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		total += v
	}
	return total
}
