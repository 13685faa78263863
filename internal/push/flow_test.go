package push_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/api/playermm"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/testenv"
)

const (
	adminID     = "AKIAPUSHTEST00000001"
	adminSecret = "push-test-secret-push-test-secret-0001"
)

// oneVOne is a rule set of one red and one blue player.
const oneVOne = `{
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}]
}`

// muster is a whole control plane in process, over real HTTP.
type muster struct {
	t   *testing.T
	url string
}

func newMuster(t *testing.T) *muster {
	t.Helper()
	srv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), SDKListen: "127.0.0.1:0",
		AdminAccessKeyID: adminID, AdminSecretAccessKey: adminSecret}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	stop := srv.StartBackground()
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		stop()
		srv.Close()
	})
	return &muster{t: t, url: hs.URL}
}

// do sends a JSON request with the bearer credential and decodes the answer.
func (m *muster) do(method, path, bearer, body string, out any) int {
	m.t.Helper()
	req, _ := http.NewRequest(method, m.url+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			m.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// standalone1v1 makes a STANDALONE 1v1 configuration open to players.
func (m *muster) standalone1v1(name string) {
	m.t.Helper()
	ctx := context.Background()
	gl := gamelift.NewFromConfig(aws.Config{Region: "mu-local-1", Credentials: credentials.NewStaticCredentialsProvider(adminID, adminSecret, ""), RetryMaxAttempts: 1},
		func(o *gamelift.Options) { o.BaseEndpoint = aws.String(m.url) })
	if err := testenv.CreateMatchmaking(ctx, gl, testenv.Matchmaking{Name: name, Rules: oneVOne}); err != nil {
		m.t.Fatal(err)
	}
	if code := m.do("PUT", "/v1/admin/matchmaking/configurations/"+name+"/player-access", adminID+":"+adminSecret, `{"allowed":true}`, nil); code != 200 {
		m.t.Fatalf("player-access: %d", code)
	}
}

type signedIn struct {
	IdentityID  string `json:"identityId"`
	AccessToken string `json:"accessToken"`
}

func (m *muster) signIn() signedIn {
	m.t.Helper()
	var p signedIn
	if code := m.do("POST", "/v1/identity/anonymous", "", "", &p); code != 201 {
		m.t.Fatalf("sign-in: %d", code)
	}
	return p
}

func (m *muster) startTicket(p signedIn, config string) playermm.Ticket {
	m.t.Helper()
	var tk playermm.Ticket
	if code := m.do("POST", "/v1/matchmaking/tickets", p.AccessToken, `{"configurationName":"`+config+`"}`, &tk); code != 201 {
		m.t.Fatalf("start ticket: %d", code)
	}
	return tk
}

// The seed's flow with push: two players sign in, open /v1/ws, start
// tickets on a STANDALONE 1v1 configuration, and each receives
// MatchmakingSucceeded about its own ticket; the first player's long poll,
// waiting while its ticket searches, answers as soon as it is matched.
func TestSeedFlowWithPush(t *testing.T) {
	m := newMuster(t)
	m.standalone1v1("duel")
	a, b := m.signIn(), m.signIn()
	ca, err := dialWS(m.url, a.AccessToken, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ca.CloseNow()
	cb, err := dialWS(m.url, b.AccessToken, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cb.CloseNow()
	hello(t, ca)
	hello(t, cb)
	ta := m.startTicket(a, "duel")
	if msg := next(t, ca); msg.Type != matchmaking.EventSearching || msg.Ticket.TicketID != ta.TicketID {
		t.Fatalf("a received %+v, want its ticket SEARCHING", msg)
	}
	polled := make(chan playermm.Ticket, 1)
	go func() {
		var tk playermm.Ticket
		m.do("GET", "/v1/matchmaking/tickets/"+ta.TicketID+"?waitSeconds=20", a.AccessToken, "", &tk)
		polled <- tk
	}()
	m.waitMetric("muster_push_long_polls 1")
	tb := m.startTicket(b, "duel")
	for _, c := range []struct {
		me, ticket string
		conn       *websocket.Conn
	}{{a.IdentityID, ta.TicketID, ca}, {b.IdentityID, tb.TicketID, cb}} {
		for {
			msg := next(t, c.conn)
			if msg.Ticket == nil || msg.Ticket.TicketID != c.ticket {
				t.Fatalf("%s received %+v, not about its ticket %s", c.me, msg, c.ticket)
			}
			if msg.Type != matchmaking.EventSucceeded {
				continue
			}
			if msg.Ticket.Status != "COMPLETED" || len(msg.Ticket.Players) != 1 || msg.Ticket.Players[0].PlayerID != c.me {
				t.Fatalf("%s: MatchmakingSucceeded %+v, want its own COMPLETED ticket", c.me, msg.Ticket)
			}
			break
		}
	}
	select {
	case tk := <-polled:
		if tk.TicketID != ta.TicketID || tk.Status == "SEARCHING" || tk.Status == "" {
			t.Fatalf("long poll answered %+v, want the ticket past SEARCHING", tk)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the long poll did not answer when the ticket changed")
	}
	if code := m.do("GET", "/v1/matchmaking/tickets/"+ta.TicketID+"?waitSeconds=21", a.AccessToken, "", nil); code != 400 {
		t.Fatalf("waitSeconds=21: %d, want 400", code)
	}
	var done playermm.Ticket
	if code := m.do("GET", "/v1/matchmaking/tickets/"+ta.TicketID+"?waitSeconds=20", a.AccessToken, "", &done); code != 200 || done.Status != "COMPLETED" {
		t.Fatalf("a finished ticket's long poll: %d %s, want COMPLETED at once", code, done.Status)
	}
}

// waitMetric polls GET /metrics until it has the line.
func (m *muster) waitMetric(line string) {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(m.url + "/metrics")
		if err != nil {
			m.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "\n"+line+"\n") {
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("/metrics never had %q", line)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An operator's GET /v1/admin/events with Accept: text/event-stream is a
// stream of the outbox after the cursor; without it, the JSON page.
func TestAdminEventsStream(t *testing.T) {
	m := newMuster(t)
	req, _ := http.NewRequest("GET", m.url+"/v1/admin/events?type=MatchmakingSearching", nil)
	req.Header.Set("Authorization", "Bearer "+adminID+":"+adminSecret)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	m.standalone1v1("duel")
	p := m.signIn()
	tk := m.startTicket(p, "duel")
	ev := sseReader{bufio.NewScanner(resp.Body)}.next(t)
	if ev.event != matchmaking.EventSearching || !strings.Contains(ev.data, tk.TicketID) {
		t.Fatalf("got %+v, want the ticket's MatchmakingSearching", ev)
	}
	var page struct {
		Events []json.RawMessage `json:"events"`
	}
	if code := m.do("GET", "/v1/admin/events?type=MatchmakingSearching", adminID+":"+adminSecret, "", &page); code != 200 || len(page.Events) != 1 {
		t.Fatalf("JSON page: %d, %d events", code, len(page.Events))
	}
}
