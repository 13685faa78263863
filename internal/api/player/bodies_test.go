package player_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/api/playermm"
)

// TestEveryV1BodyIsReadAlike drives each kind of /v1 route that takes a body
// (player API, player matchmaking, operator routes) through the real
// server: one strict decoder and one answer, 413, to a body over its
// route's limit.
func TestEveryV1BodyIsReadAlike(t *testing.T) {
	e := newAPI(t, nil)
	e.openConfiguration(t, "quad")
	p := e.player(t)
	over := func(limit int) string { return `{"configurationName":"` + strings.Repeat("x", limit) + `"}` }

	t.Run("a duplicate key on the ticket route is 400 naming it", func(t *testing.T) {
		code, fields := e.do(t, "POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"quad","configurationName":"quad"}`, nil).Want(400).Problem()
		if code != "Invalid" || len(fields) != 1 || fields[0] != "$.configurationName" {
			t.Fatalf("code %s fields %v", code, fields)
		}
	})
	t.Run("a wrongly typed member on the ticket route is 400 naming its path", func(t *testing.T) {
		_, fields := e.do(t, "POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"quad","latencyInMs":{"custom-a":"20"}}`, nil).Want(400).Problem()
		if len(fields) != 1 || fields[0] != `$.latencyInMs["custom-a"]` {
			t.Fatalf("fields %v", fields)
		}
	})
	t.Run("a missing member on the accept route is 400 naming it", func(t *testing.T) {
		_, fields := e.do(t, "POST", "/v1/matchmaking/tickets/none/accept", p.bearer(), `{}`, nil).Want(400).Problem()
		if len(fields) != 1 || fields[0] != "$.accept" {
			t.Fatalf("fields %v", fields)
		}
	})
	t.Run("a join without its invite code is 400 naming it, as the document says", func(t *testing.T) {
		_, fields := e.do(t, "POST", "/v1/parties/none/join", p.bearer(), `{}`, nil).Want(400).Problem()
		if len(fields) != 1 || fields[0] != "$.inviteCode" {
			t.Fatalf("fields %v", fields)
		}
	})
	t.Run("a body that is not JSON on the ticket route is 415", func(t *testing.T) {
		e.do(t, "POST", "/v1/matchmaking/tickets", p.bearer(), `configurationName=quad`, map[string]string{"Content-Type": "text/plain"}).Want(415).Problem()
	})
	for _, tt := range []struct{ name, method, path, authz, body string }{
		{"a player API route", "PATCH", "/v1/players/me", p.bearer(), `{"data":{"displayName":"` + strings.Repeat("x", httpx.MaxBody) + `"}}`},
		{"the ticket route", "POST", "/v1/matchmaking/tickets", p.bearer(), over(playermm.DefaultMaxBody)},
		{"a party route", "POST", "/v1/parties", p.bearer(), over(playermm.DefaultMaxBody)},
		{"an operator matchmaking route, over its own limit", "PUT", "/v1/admin/matchmaking/configurations/quad/player-access", admin, over(playermm.DefaultMaxBody)},
		{"an operator route", "POST", "/v1/admin/keys", admin, over(httpx.MaxBody)},
		{"the agent heartbeat route", "POST", "/v1/admin/fleets/f/computes/c/heartbeat", admin, over(httpx.MaxBody)},
	} {
		t.Run("a body over the limit of "+tt.name+" is 413", func(t *testing.T) {
			if code, _ := e.do(t, tt.method, tt.path, tt.authz, tt.body, nil).Want(413).Problem(); code != "TooLarge" {
				t.Fatalf("code %s", code)
			}
		})
	}
}

// TestAPlayerIsToldAboutItsOwnRequest checks that the matchmaking service's
// names for the GameLift ticket it builds (Players[0].PlayerId) never reach
// a player, who sent no such member.
func TestAPlayerIsToldAboutItsOwnRequest(t *testing.T) {
	e := newAPI(t, nil)
	e.openConfiguration(t, "quad")
	p := e.player(t)
	e.do(t, "POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"quad"}`, nil).Want(http.StatusCreated)

	r := e.do(t, "POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"quad"}`, nil).Want(http.StatusBadRequest)
	code, fields := r.Problem()
	var pr struct{ Detail string }
	r.Decode(&pr)
	if code != "Invalid" || len(fields) != 0 || !strings.Contains(pr.Detail, "is already in active ticket") || strings.Contains(string(r.Body), "Players") {
		t.Fatalf("a second ticket is answered %s", r.Body)
	}
	_, fields = e.do(t, "POST", "/v1/matchmaking/tickets", p.bearer(), `{"configurationName":"quad","latencyInMs":{"custom-a":0}}`, nil).Want(http.StatusBadRequest).Problem()
	if len(fields) != 1 || fields[0] != "$.latencyInMs.custom-a" {
		t.Fatalf("fields %v", fields)
	}

	// The control API names the same field by its GameLift member.
	start := `{"ConfigurationName":"quad","Players":[{"PlayerId":"op-1"}]}`
	if code, body := e.call(t, "StartMatchmaking", start); code != http.StatusOK {
		t.Fatalf("StartMatchmaking answered %d: %s", code, body)
	}
	status, body := e.call(t, "StartMatchmaking", start)
	var ge struct {
		Type    string `json:"__type"`
		Message string
	}
	json.Unmarshal(body, &ge)
	if status != http.StatusBadRequest || ge.Type != "InvalidRequestException" || !strings.Contains(ge.Message, "Players[0].PlayerId: player op-1 is already in active ticket") {
		t.Fatalf("a second operator ticket is answered %d %s", status, body)
	}
}

// openConfiguration makes a four-player matchmaking configuration, through
// the control API, and opens it to players.
func (e *apiEnv) openConfiguration(t *testing.T, name string) {
	t.Helper()
	// The tickets here send their latency to custom-a: a location Muster
	// must know, or the ticket is refused naming it.
	if code, out := e.call(t, "CreateLocation", `{"LocationName":"custom-a"}`); code != http.StatusOK && !strings.Contains(string(out), "already exists") {
		t.Fatalf("CreateLocation answered %d: %s", code, out)
	}
	ruleSet, _ := json.Marshal(`{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"skill","type":"number","default":10}],
		"teams":[{"name":"all","minPlayers":4,"maxPlayers":4}]}`)
	e.control(t, "CreateMatchmakingRuleSet", `{"Name":"`+name+`","RuleSetBody":`+string(ruleSet)+`}`)
	e.control(t, "CreateMatchmakingConfiguration", `{"Name":"`+name+`","RuleSetName":"`+name+`","RequestTimeoutSeconds":60,"AcceptanceRequired":false,"FlexMatchMode":"STANDALONE"}`)
	e.do(t, "PUT", "/v1/admin/matchmaking/configurations/"+name+"/player-access", admin, `{"allowed":true}`, nil).Want(http.StatusOK)
}

// call calls a GameLift control API operation (AWS JSON 1.1) as the admin.
func (e *apiEnv) call(t *testing.T, op, body string) (int, []byte) {
	t.Helper()
	return e.Call(t, admin, op, body)
}

// control calls an operation that must succeed.
func (e *apiEnv) control(t *testing.T, op, body string) {
	t.Helper()
	if code, out := e.call(t, op, body); code != http.StatusOK {
		t.Fatalf("%s answered %d: %s", op, code, out)
	}
}
