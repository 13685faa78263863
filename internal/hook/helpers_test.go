package hook_test

import (
	"encoding/json"
	"io"
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

const (
	adminID     = "MKIATESTADMIN0000001"
	adminSecret = "test-admin-secret-0123456789"
	admin       = "Bearer " + adminID + ":" + adminSecret
)

// env is a whole Muster server (server.New, fake clock) on a loopback
// listener, allowed to reach private destinations so hooks can be local.
type env struct{ *servertest.Env }

type resp = servertest.Response

func newEnv(t testing.TB) *env {
	t.Helper()
	cfg := server.Config{DataDir: t.TempDir(), AdminAccessKeyID: adminID, AdminSecretAccessKey: adminSecret, FakeClock: true,
		SDKListen: "127.0.0.1:0", WebhookAllowPrivate: true}
	cfg.Player.IPRate, cfg.Player.IdentityRate = -1, -1
	e := &env{&servertest.Env{T: t, Cfg: cfg}}
	e.Start()
	return e
}

func (e *env) do(method, path, authz, body string) resp {
	e.T.Helper()
	return e.Do(e.T, method, path, authz, body, nil)
}

// control calls a GameLift control API operation as the admin; it must
// succeed.
func (e *env) control(op, body string) []byte {
	e.T.Helper()
	status, out := e.Call(e.T, admin, op, body)
	if status != http.StatusOK && !strings.Contains(string(out), "already exists") {
		e.T.Fatalf("%s answered %d: %s", op, status, out)
	}
	return out
}

// duel makes a two-player STANDALONE configuration open to players whose
// players must have the same rank (0 by default).
func (e *env) duel(name string) {
	e.T.Helper()
	rs, _ := json.Marshal(`{"ruleLanguageVersion":"1.0","playerAttributes":[{"name":"rank","type":"number","default":0}],
		"teams":[{"name":"duel","minPlayers":2,"maxPlayers":2}],
		"rules":[{"name":"sameRank","type":"comparison","measurements":["flatten(teams[*].players.attributes[rank])"],"operation":"="}]}`)
	e.control("CreateMatchmakingRuleSet", `{"Name":"`+name+`","RuleSetBody":`+string(rs)+`}`)
	e.control("CreateMatchmakingConfiguration", `{"Name":"`+name+`","RuleSetName":"`+name+`","RequestTimeoutSeconds":600,"AcceptanceRequired":false,"FlexMatchMode":"STANDALONE"}`)
	e.do("PUT", "/v1/admin/matchmaking/configurations/"+name+"/player-access", admin, `{"allowed":true}`).Want(http.StatusOK)
}

type tokens struct {
	IdentityID   string `json:"identityId"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

func (tk tokens) bearer() string { return "Bearer " + tk.AccessToken }

// player signs in a new anonymous player.
func (e *env) player() tokens {
	e.T.Helper()
	var tk tokens
	e.do("POST", "/v1/identity/anonymous", "", "").Want(http.StatusCreated).Decode(&tk)
	return tk
}

type ticket struct {
	TicketID string `json:"ticketId"`
	Status   string `json:"status"`
}

// finished waits (a long poll) until a ticket leaves SEARCHING.
func (e *env) finished(tk tokens, id string) map[string]any {
	e.T.Helper()
	for range 50 {
		var out map[string]any
		e.do("GET", "/v1/matchmaking/tickets/"+id+"?waitSeconds=20", tk.bearer(), "").Want(http.StatusOK).Decode(&out)
		if s := out["status"]; s != "SEARCHING" && s != "QUEUED" {
			return out
		}
	}
	e.T.Fatalf("ticket %s never left SEARCHING", id)
	return nil
}

// hookCreated is what POST /v1/admin/hooks answers.
type hookCreated struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
}

// register registers a hook at url and returns it.
func (e *env) register(body string) hookCreated {
	e.T.Helper()
	var h hookCreated
	e.do("POST", "/v1/admin/hooks", admin, body).Want(http.StatusCreated).Decode(&h)
	return h
}

// studio is a real local hook service: it checks every call's signature
// and answers with answer.
type studio struct {
	t        testing.TB
	srv      *httptest.Server
	calls    atomic.Int64
	mu       sync.Mutex
	verifier *sign.Verifier
	answer   func(r *http.Request, body map[string]any) (int, any)
	bodies   []map[string]any
	// open counts the calls being answered; settled is signalled as
	// each ends, for settle.
	open    int
	settled *sync.Cond
}

func newStudio(t testing.TB, answer func(r *http.Request, body map[string]any) (int, any)) *studio {
	s := &studio{t: t, answer: answer}
	s.settled = sync.NewCond(&s.mu)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *studio) trust(secret string) {
	v, err := sign.NewVerifier(secret)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.verifier = v
	s.mu.Unlock()
}

func (s *studio) serve(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	data, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	v := s.verifier
	s.open++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.open--
		s.settled.Broadcast()
		s.mu.Unlock()
	}()
	if v == nil || v.Verify(r.Header, data, time.Now()) != nil {
		s.t.Errorf("a hook call is not signed with the hook's secret")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		s.t.Errorf("a hook call is not JSON: %v", err)
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	status, ans := s.answer(r, body)
	if raw, ok := ans.(string); ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, raw)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(ans)
}

// settle returns once no call to s is being answered.
func (s *studio) settle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.open > 0 {
		s.settled.Wait()
	}
}

func (s *studio) lastBody() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) == 0 {
		s.t.Fatal("the hook was not called")
	}
	return s.bodies[len(s.bodies)-1]
}

// hook registers s at point with extra members ("failMode":… included).
func (e *env) hook(s *studio, point, extra string) hookCreated {
	e.T.Helper()
	h := e.register(`{"url":"` + s.srv.URL + `","point":"` + point + `",` + extra + `}`)
	s.trust(h.Secret)
	return h
}

// advancePastCooldown moves the server's clock past a breaker's cool-down
// (hook.Config's default, 10 s).
func (e *env) advancePastCooldown() {
	e.T.Helper()
	e.do("POST", "/v1/admin/clock/advance", admin, `{"seconds":11}`).Want(http.StatusOK)
}

// backInPool moves the server's clock one matchmaking cycle at a time
// until every ticket of ids is in its pool (the engine explains it), for
// at most 200 cycles.
func (e *env) backInPool(ids ...string) {
	e.T.Helper()
	for cycles := 0; ; cycles++ {
		back := 0
		for _, id := range ids {
			var x struct{ Engine any }
			e.do("GET", "/v1/admin/matchmaking/tickets/"+id+"/explain", admin, "").Want(http.StatusOK).Decode(&x)
			if x.Engine != nil {
				back++
			}
		}
		if back == len(ids) {
			return
		}
		if cycles == 200 {
			e.T.Fatalf("%d of tickets %v are in the pool after 200 matchmaking cycles", back, ids)
		}
		e.do("POST", "/v1/admin/clock/advance", admin, `{"seconds":0.25}`).Want(http.StatusOK)
	}
}
