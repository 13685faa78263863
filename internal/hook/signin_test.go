package hook_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestARefusalAtRefreshEndsABannedPlayersSession(t *testing.T) {
	e := newEnv(t)
	e.duel("duel")
	var banned sync.Map
	signIns := newStudio(t, func(_ *http.Request, body map[string]any) (int, any) {
		if _, ok := banned.Load(body["playerId"]); ok {
			return http.StatusOK, map[string]any{"allow": false, "reason": "banned for cheating"}
		}
		return http.StatusOK, map[string]any{"allow": true, "data": map[string]any{"tier": "gold"}}
	})
	e.hook(signIns, "beforeSignIn", `"failMode":"failClosed"`)
	tickets := newStudio(t, func(*http.Request, map[string]any) (int, any) {
		return http.StatusOK, map[string]any{"allow": true}
	})
	e.hook(tickets, "beforeTicket", `"failMode":"failClosed"`)

	p := e.player()
	if call := signIns.lastBody(); call["playerId"] != p.IdentityID || call["refresh"] != false || call["created"] != true {
		t.Fatalf("the sign-in hook was asked %v", call)
	}
	e.do("GET", "/v1/players/me", p.bearer(), "").Want(http.StatusOK)
	e.do("POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"duel"}`).Want(http.StatusCreated)
	sent := tickets.lastBody()["players"].([]any)[0].(map[string]any)
	if data, _ := sent["signInData"].(map[string]any); data["tier"] != "gold" {
		t.Fatalf("the ticket hook did not get the sign-in data: %v", sent)
	}

	banned.Store(p.IdentityID, true)
	r := e.do("POST", "/v1/identity/token", "", `{"refreshToken":"`+p.RefreshToken+`"}`).Want(http.StatusForbidden)
	if d := r.Detail(); d != "banned for cheating" {
		t.Fatalf("the refresh is refused with %q", d)
	}
	if call := signIns.lastBody(); call["refresh"] != true {
		t.Fatalf("the refresh was not asked about: %v", call)
	}
	// The session is over: its refresh token and its access token no
	// longer work, whatever the hook says next.
	banned.Delete(p.IdentityID)
	e.do("POST", "/v1/identity/token", "", `{"refreshToken":"`+p.RefreshToken+`"}`).Want(http.StatusUnauthorized)
	e.do("GET", "/v1/players/me", p.bearer(), "").Want(http.StatusUnauthorized)
}

func TestARefusedSignInGetsNoTokens(t *testing.T) {
	e := newEnv(t)
	var refuse atomic.Bool
	refuse.Store(true)
	e.hook(newStudio(t, func(*http.Request, map[string]any) (int, any) {
		if refuse.Load() {
			return http.StatusOK, map[string]any{"allow": false, "reason": "down for maintenance"}
		}
		return http.StatusOK, map[string]any{"allow": true}
	}), "beforeSignIn", `"failMode":"failOpen"`)
	body := `{"deviceId":"device-1","deviceSecret":"a-long-enough-device-secret"}`
	r := e.do("POST", "/v1/identity/anonymous", "", body).Want(http.StatusForbidden)
	if d := r.Detail(); d != "down for maintenance" || strings.Contains(string(r.Body), "accessToken") {
		t.Fatalf("a refused sign-in answers %s", r.Body)
	}
	refuse.Store(false)
	e.do("POST", "/v1/identity/anonymous", "", body).Want(http.StatusOK)
}

func TestAnUndecidedRefreshKeepsTheSession(t *testing.T) {
	e := newEnv(t)
	var down atomic.Bool
	h := e.hook(newStudio(t, func(r *http.Request, body map[string]any) (int, any) {
		if down.Load() {
			return hang(r, body)
		}
		return http.StatusOK, map[string]any{"allow": true}
	}), "beforeSignIn", `"failMode":"failClosed","timeoutMs":5000`)
	// Only the call that hangs has a short time-out: the answered ones have
	// all the time a busy machine may need.
	timeout := func(ms string) {
		e.do("PATCH", "/v1/admin/hooks/"+h.ID, admin, `{"timeoutMs":`+ms+`}`).Want(http.StatusOK)
	}
	p := e.player()
	down.Store(true)
	timeout("30")
	e.do("POST", "/v1/identity/token", "", `{"refreshToken":"`+p.RefreshToken+`"}`).Want(http.StatusServiceUnavailable)
	down.Store(false)
	timeout("5000")
	e.advancePastCooldown()
	var next tokens
	e.do("POST", "/v1/identity/token", "", `{"refreshToken":"`+p.RefreshToken+`"}`).Want(http.StatusOK).Decode(&next)
	e.do("GET", "/v1/players/me", next.bearer(), "").Want(http.StatusOK)
	if n := counter(t, e, "muster_hook_timeouts_total", h.ID); n != 1 {
		t.Fatalf("%v time-outs counted", n)
	}
}
