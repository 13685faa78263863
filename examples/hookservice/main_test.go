package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/server/servertest"
	"github.com/musterhq/muster/internal/webhook/sign"
)

func TestUnsignedAndTamperedCallsAreRefused(t *testing.T) {
	secret := sign.NewSecret()
	v, _ := sign.NewVerifier(secret)
	srv := httptest.NewServer(handler([]*sign.Verifier{v}, studio{}))
	defer srv.Close()
	body := `{"point":"beforeSignIn","playerId":"p-1"}`
	post := func(b string, h http.Header) int {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(b))
		for k, vs := range h {
			req.Header[k] = vs
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	signer, _ := sign.NewSigner(secret)
	h := http.Header{}
	signer.Sign(h, "msg_1", time.Now(), []byte(body))
	if got := post(body, nil); got != http.StatusUnauthorized {
		t.Fatalf("an unsigned call is answered %d", got)
	}
	if got := post(strings.Replace(body, "p-1", "p-2", 1), h); got != http.StatusUnauthorized {
		t.Fatalf("a tampered call is answered %d", got)
	}
	if got := post(body, h); got != http.StatusOK {
		t.Fatalf("a signed call is answered %d", got)
	}
}

const admin = "Bearer MKIATESTADMIN0000001:test-admin-secret-0123456789"

// muster is a whole Muster server (server.New) that may call hooks on
// loopback.
type muster struct {
	t *testing.T
	*servertest.Env
}

// do calls a /v1 route, or with path "/" the control API operation method.
func (m muster) do(method, path, authz, body string) (int, map[string]any) {
	m.t.Helper()
	var status int
	var data []byte
	if path == "/" {
		status, data = m.Call(m.t, authz, method, body)
	} else {
		r := m.Do(m.t, method, path, authz, body, nil)
		status, data = r.Status, r.Body
	}
	var out map[string]any
	json.Unmarshal(data, &out)
	return status, out
}

func (m muster) must(want int, method, path, authz, body string) map[string]any {
	m.t.Helper()
	got, out := m.do(method, path, authz, body)
	if got != want {
		m.t.Fatalf("%s %s answered %d, want %d: %v", method, path, got, want, out)
	}
	return out
}

func TestTheExampleBansRanksAndVetoes(t *testing.T) {
	m := muster{t: t, Env: &servertest.Env{T: t, Cfg: server.Config{DataDir: t.TempDir(), FakeClock: true, SDKListen: "127.0.0.1:0",
		AdminAccessKeyID: "MKIATESTADMIN0000001", AdminSecretAccessKey: "test-admin-secret-0123456789", WebhookAllowPrivate: true}}}
	m.Start()
	rs, _ := json.Marshal(`{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"rank","type":"number","default":0}],
		"teams":[{"name":"duel","minPlayers":2,"maxPlayers":2}]}`)
	m.must(200, "CreateMatchmakingRuleSet", "/", admin, `{"Name":"duel","RuleSetBody":`+string(rs)+`}`)
	m.must(200, "CreateMatchmakingConfiguration", "/", admin, `{"Name":"duel","RuleSetName":"duel","RequestTimeoutSeconds":600,"AcceptanceRequired":false,"FlexMatchMode":"STANDALONE"}`)
	m.must(200, "PUT", "/v1/admin/matchmaking/configurations/duel/player-access", admin, `{"allowed":true}`)

	// The players sign in before the studio knows them.
	p := map[string]map[string]any{}
	for _, n := range []string{"banned", "alice", "bob", "carol"} {
		p[n] = m.must(201, "POST", "/v1/identity/anonymous", "", "")
	}
	id := func(n string) string { return p[n]["identityId"].(string) }
	bearer := func(n string) string { return "Bearer " + p[n]["accessToken"].(string) }
	s := studio{banned: map[string]bool{id("banned"): true}, ranks: map[string]float64{id("alice"): 12},
		blocked: map[[2]string]bool{{id("alice"), id("bob")}: true, {id("bob"), id("alice")}: true}}
	var verifiers []*sign.Verifier
	calls := newHookCalls()
	hooks := httptest.NewServer(calls.count(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler(verifiers, s).ServeHTTP(w, r) })))
	defer hooks.Close()
	// The hooks wait for the studio as long as a hook may (timeoutMs, in
	// real time): on a machine busy with the race detector an answer can
	// take longer than the default 300 ms, and failClosed would then
	// refuse the matches and tickets this test follows.
	for _, h := range []string{`"point":"beforeSignIn"`, `"point":"beforeTicket"`, `"point":"matchProposed","configurations":["duel"]`} {
		created := m.must(201, "POST", "/v1/admin/hooks", admin, `{"url":"`+hooks.URL+`","failMode":"failClosed","timeoutMs":5000,`+h+`}`)
		v, _ := sign.NewVerifier(created["secret"].(string))
		verifiers = append(verifiers, v)
	}

	// A ban ends the banned player's session at its next refresh.
	m.must(403, "POST", "/v1/identity/token", "", `{"refreshToken":"`+p["banned"]["refreshToken"].(string)+`"}`)
	m.must(401, "POST", "/v1/matchmaking/tickets", bearer("banned"), `{"configurationName":"duel"}`)

	// alice gets her rank from the studio's table; alice and bob blocked
	// each other, so their match is vetoed and each matches carol or waits.
	tickets := map[string]string{}
	for _, n := range []string{"alice", "bob", "carol"} {
		tickets[n] = m.must(201, "POST", "/v1/matchmaking/tickets", bearer(n), `{"configurationName":"duel"}`)["ticketId"].(string)
	}
	d := m.must(200, "DescribeMatchmaking", "/", admin, `{"TicketIds":["`+tickets["alice"]+`"]}`)
	players := d["TicketList"].([]any)[0].(map[string]any)["Players"].([]any)
	if rank := players[0].(map[string]any)["PlayerAttributes"].(map[string]any)["rank"].(map[string]any)["N"]; rank != 12.0 {
		t.Fatalf("alice's ticket has rank %v", rank)
	}
	// The gate answers outside the pool's passes, and a vetoed pair goes
	// back to the pool at its next periodic pass, which on the fake clock
	// comes only as the clock moves. Carol's ticket may have arrived while
	// alice and bob were held, so the clock moves a cycle at a time, each
	// once the hooks called so far have answered, until she is matched.
	for cycles := 0; status(m, tickets["carol"]) != "COMPLETED"; cycles++ {
		if cycles == 200 {
			t.Fatalf("carol's ticket is %s after 200 matchmaking cycles", status(m, tickets["carol"]))
		}
		calls.settle()
		m.must(200, "POST", "/v1/admin/clock/advance", admin, `{"seconds":0.25}`)
	}
	var done []string
	for _, n := range []string{"alice", "bob", "carol"} {
		if m.must(200, "GET", "/v1/matchmaking/tickets/"+tickets[n], bearer(n), "")["status"] == "COMPLETED" {
			done = append(done, n)
		}
	}
	if len(done) != 2 || done[len(done)-1] != "carol" {
		t.Fatalf("completed: %v; carol must match alice or bob, who must not match each other", done)
	}
}

// During a rotation's overlap Muster signs each call with the old and the
// new secret, so the service accepts calls whether it has been given the
// new secret yet or still has the old one.
func TestTheExampleAcceptsCallsWithEitherSecretDuringARotation(t *testing.T) {
	m := muster{t: t, Env: &servertest.Env{T: t, Cfg: server.Config{DataDir: t.TempDir(), FakeClock: true, SDKListen: "127.0.0.1:0",
		AdminAccessKeyID: "MKIATESTADMIN0000001", AdminSecretAccessKey: "test-admin-secret-0123456789", WebhookAllowPrivate: true}}}
	m.Start()
	// The secrets the service knows, changed between calls as a redeploy
	// would.
	var verifiers atomic.Pointer[[]*sign.Verifier]
	knows := func(secret string) {
		v, err := sign.NewVerifier(secret)
		if err != nil {
			t.Fatal(err)
		}
		verifiers.Store(&[]*sign.Verifier{v})
	}
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(*verifiers.Load(), studio{}).ServeHTTP(w, r)
	}))
	defer hooks.Close()
	created := m.must(201, "POST", "/v1/admin/hooks", admin, `{"url":"`+hooks.URL+`","failMode":"failClosed","point":"beforeSignIn"}`)
	old := created["secret"].(string)
	knows(sign.NewSecret())
	m.must(503, "POST", "/v1/identity/anonymous", "", "") // the service refuses calls it cannot verify

	rotated := m.must(200, "POST", "/v1/admin/hooks/"+created["id"].(string)+"/secret/rotate", admin, "")
	for _, secret := range []string{old, rotated["secret"].(string)} {
		knows(secret)
		m.must(201, "POST", "/v1/identity/anonymous", "", "")
	}
}

// status reads a ticket's status through the control API, which limits
// no operator's rate.
func status(m muster, ticketID string) string {
	m.t.Helper()
	d := m.must(200, "DescribeMatchmaking", "/", admin, `{"TicketIds":["`+ticketID+`"]}`)
	return d["TicketList"].([]any)[0].(map[string]any)["Status"].(string)
}

// hookCalls counts the hook calls being answered, so a test can wait for
// the answers the hooks owe before it moves the clock.
type hookCalls struct {
	mu      sync.Mutex
	settled *sync.Cond
	open    int
}

func newHookCalls() *hookCalls {
	c := &hookCalls{}
	c.settled = sync.NewCond(&c.mu)
	return c
}

func (c *hookCalls) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.open++
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.open--
			c.settled.Broadcast()
			c.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

// settle returns once no hook call is being answered.
func (c *hookCalls) settle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.open > 0 {
		c.settled.Wait()
	}
}
