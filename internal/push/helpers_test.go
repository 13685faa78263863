package push_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/api/player"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// env is a Hub on a real SQLite store and real player identities, served
// over real HTTP.
type env struct {
	t     *testing.T
	store store.Store
	clock *clock.Fake
	ids   *identity.Service
	hub   *push.Hub
	reg   *prometheus.Registry
	url   string // http://host:port
	arns  gamelift.ARNBuilder
}

var testARNs = gamelift.ARNBuilder{Region: "mu-local-1", Account: "000000000000"}

var testStart = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, mutate func(*push.Config)) *env {
	t.Helper()
	fake := clock.NewFake(testStart)
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: t.TempDir() + "/muster.db", Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return serveHub(t, db, fake, func(cfg *push.Config) {
		cfg.CORSOrigins = []string{"https://game.example"}
		if mutate != nil {
			mutate(cfg)
		}
	})
}

// serveHub builds a Hub whose players sign in with identities kept in db,
// serves its player and operator routes over HTTP, and runs it until the
// test ends; mutate completes its Config. The env commits to db on clk.
func serveHub(t *testing.T, db store.Store, clk *clock.Fake, mutate func(*push.Config)) *env {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	box, err := secret.NewBox([]byte(rand.Text() + rand.Text())[:32])
	if err != nil {
		t.Fatal(err)
	}
	base := service.Base{Store: db, Clock: clk, Logger: slog.New(slog.DiscardHandler)}
	ids, err := identity.Open(ctx, identity.Config{Base: base, Box: box, AccessTokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := push.Config{Base: base, Verifier: ids, Registerer: reg}
	if mutate != nil {
		mutate(&cfg)
	}
	hub, err := push.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	pass := func(h http.Handler) http.Handler { return h }
	hub.Register(mux, pass, player.Authenticate(ids, base.Logger))
	mux.Handle("GET /v1/admin/events", hub.OperatorStream())
	srv := httptest.NewServer(mux)
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		<-done
		srv.CloseClientConnections()
		srv.Close()
	})
	return &env{t: t, store: db, clock: clk, ids: ids, hub: hub, reg: reg, url: srv.URL, arns: testARNs}
}

// signIn makes a player.
func (e *env) signIn() identity.Tokens {
	e.t.Helper()
	tok, err := e.ids.Anonymous(context.Background(), "", "")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// ticketEvent commits a FlexMatch event about tickets (ticket id → its
// players) and returns its id.
func (e *env) ticketEvent(typ string, sessions map[string]string, tickets ...matchmaking.EventTicket) string {
	e.t.Helper()
	ev := e.ticketEventOf(typ, sessions, tickets...)
	e.append(ev)
	return ev.ID
}

// ticketEventOf is ticketEvent's event, not yet committed.
func (e *env) ticketEventOf(typ string, sessions map[string]string, tickets ...matchmaking.EventTicket) store.Event {
	d := matchmaking.Detail{Type: typ, Tickets: tickets, GameSessionInfo: matchmaking.GameSessionInfo{Players: []matchmaking.EventPlayer{}}}
	if typ != matchmaking.EventSearching {
		d.MatchID = "m-1"
	}
	if typ == matchmaking.EventSucceeded {
		d.GameSessionInfo = matchmaking.GameSessionInfo{GameSessionArn: "arn:aws:gamelift:mu-local-1::gamesession/fleet-1/gs-1", IPAddress: "10.0.0.7", DNSName: "game.example", Port: 7777}
		for _, t := range tickets {
			for _, p := range t.Players {
				d.GameSessionInfo.Players = append(d.GameSessionInfo.Players, matchmaking.EventPlayer{PlayerID: p.PlayerID, Team: p.Team, PlayerSessionID: sessions[p.PlayerID]})
			}
		}
	}
	now := e.clock.Now()
	env := gamelift.NewEnvelope(e.arns, gamelift.DetailTypeMatchmaking, gamelift.EventTimeMillis(now), e.arns.Build("matchmakingconfiguration", "duel"), d)
	return store.Event{ID: env.ID, Time: now, Type: typ, Resource: env.Resources[0], Doc: store.MustJSON(env)}
}

// placementEvent commits a fulfilled placement seating players.
func (e *env) placementEvent(id string, sessions map[string]string) string {
	e.t.Helper()
	d := placement.EventDetail{Type: placement.EventPlacementFulfilled, PlacementID: id, Port: "7777", IPAddress: "10.0.0.8",
		StartTime: gamelift.EventTimeMillis(e.clock.Now()), EndTime: gamelift.EventTimeMillis(e.clock.Now())}
	for p, s := range sessions {
		d.PlacedPlayerSessions = append(d.PlacedPlayerSessions, placement.PlayerSessionEvent{PlayerID: p, PlayerSessionID: s})
	}
	env := gamelift.NewEnvelope(e.arns, gamelift.DetailTypeQueuePlacement, "2026-12-04T12:00:00Z", e.arns.Build("gamesessionqueue", "q"), d)
	e.append(store.Event{ID: env.ID, Time: e.clock.Now(), Type: d.Type, Resource: env.Resources[0], Doc: store.MustJSON(env)})
	return env.ID
}

// searchingEvent is a MatchmakingSearching event of one ticket, not yet
// committed.
func (e *env) searchingEvent(ticketID string, players []string) store.Event {
	return searchingAt(e.arns, ticketID, players, e.clock.Now())
}

func searchingAt(arns gamelift.ARNBuilder, ticketID string, players []string, at time.Time) store.Event {
	d := matchmaking.Detail{Type: matchmaking.EventSearching, Tickets: []matchmaking.EventTicket{ticket(ticketID, players...)},
		GameSessionInfo: matchmaking.GameSessionInfo{Players: []matchmaking.EventPlayer{}}}
	env := gamelift.NewEnvelope(arns, gamelift.DetailTypeMatchmaking, gamelift.EventTimeMillis(at), arns.Build("matchmakingconfiguration", "duel"), d)
	return store.Event{ID: env.ID, Time: at, Type: d.Type, Resource: env.Resources[0], Doc: store.MustJSON(env)}
}

// hubBase is the base the env's Hub runs on.
func (e *env) hubBase() service.Base {
	return service.Base{Store: e.store, Clock: e.clock, Logger: slog.New(slog.DiscardHandler)}
}

func (e *env) append(evs ...store.Event) {
	e.t.Helper()
	err := e.store.Update(context.Background(), func(w store.Writer) error {
		for _, ev := range evs {
			if err := w.Append(context.Background(), ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func ticket(id string, players ...string) matchmaking.EventTicket {
	t := matchmaking.EventTicket{TicketID: id, StartTime: gamelift.EventTimeMillis(testStart)}
	for _, p := range players {
		t.Players = append(t.Players, matchmaking.EventPlayer{PlayerID: p})
	}
	return t
}

// dial opens /v1/ws with the token in the Authorization header ("" for
// none) and query (e.g. "?after=…").
func (e *env) dial(token, query string) *websocket.Conn {
	e.t.Helper()
	c, err := dialWS(e.url, token, query)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.CloseNow() })
	return c
}

func dialWS(base, token, query string) (*websocket.Conn, error) {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/ws"+query, &websocket.DialOptions{HTTPHeader: h})
	if c != nil {
		c.SetReadLimit(1 << 20)
	}
	return c, err
}

// wsMessage is any server message.
type wsMessage struct {
	push.Message
	IdentityID string `json:"identityId"`
	Reason     string `json:"reason"`
}

// next reads the next message (bounded in real time: a missing message
// fails the test instead of hanging it).
func next(t *testing.T, c *websocket.Conn) wsMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// hello reads the authenticated message every socket starts with.
func hello(t *testing.T, c *websocket.Conn) wsMessage {
	t.Helper()
	m := next(t, c)
	if m.Type != "authenticated" {
		t.Fatalf("first message %+v, want authenticated", m)
	}
	return m
}

// closeStatus reads until the socket closes and returns its close code.
func closeStatus(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		t.Fatalf("socket ended without a close frame: %v", err)
	}
}

func writeJSON(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, _ := json.Marshal(v)
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// metric gathers one metric's value from the registry (summed over labels).
func (e *env) metric(name string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	id, event, data string
}

// sseReader reads events from a stream.
type sseReader struct{ sc *bufio.Scanner }

func (r sseReader) next(t *testing.T) sseEvent {
	t.Helper()
	var ev sseEvent
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if ev.event != "" {
				return ev
			}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
	t.Fatalf("stream ended: %v", r.sc.Err())
	return ev
}

// openSSE opens GET path with headers; it fails the test unless 200.
func (e *env) openSSE(path string, header map[string]string) (sseReader, func()) {
	e.t.Helper()
	resp := e.get(path, header)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return sseReader{bufio.NewScanner(resp.Body)}, func() { resp.Body.Close() }
}

func (e *env) get(path string, header map[string]string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// The bound is a safety net for an event that never comes (the
	// stream then ends and the test fails), not a timing check.
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// metricLabel gathers one metric's value for one label's value.
func (e *env) metricLabel(name, label, value string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}
