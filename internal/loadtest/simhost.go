package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/gamelift"
)

// SimHost is a compute whose game servers are simulated at the protocol
// level: each slot speaks the Server SDK 5 WebSocket protocol as the
// official SDK does (ActivateServerProcess, ActivateGameSession,
// AcceptPlayerSession, RemovePlayerSession, TerminateServerProcess) and
// the example arena's player protocol on its own TCP port (JOIN, WELCOME,
// QUIT). A slot hosts one game session as a fresh process — a new process
// id — and ends it, as the arena does, once its players have all left;
// then it starts again as another process. It measures the control plane
// and the flow without the cost of starting an operating-system process
// per match, which bounds a real fleet on a small machine.
type SimHost struct {
	control   *ControlClient
	fleetID   string
	computes  []simCompute
	log       *slog.Logger
	sessions  atomic.Int64 // game sessions hosted so far
	slotCount int
	began     time.Time // when every slot was ready
	cycle     slotCycle
	stop      context.CancelFunc
	slots     sync.WaitGroup
}

// simDials is how many simulated processes of one compute may be opening
// their SDK socket at once: the endpoint counts a compute's sockets, the
// closing ones included, and refuses a burst of upgrades past its cap with
// 503. Each process start waits for the control plane to record it, so
// the bound also caps how fast slots come back, and it is per compute so
// that it grows with the slots: one bound of 32 for the whole host, with
// 2-player matches at 500 players/s on 1,200 slots (250 process starts a
// second), let a moment of slower starts queue the next ones behind it
// until a start took a second and placements waited for game servers
// (1,832 of 150,000 players refused in five minutes, p99 19 s, where the
// same run had passed with p99 536 ms). With 8 for the whole host, the
// same happened at 450 players/s.
const simDials = 32

// simCompute is one registered compute of a SimHost.
type simCompute struct {
	name, sdkURL, token string
	// dials bounds the compute's SDK sockets being opened at once (simDials).
	dials chan struct{}
}

// slotsPerCompute keeps each compute's sockets under the SDK endpoint's
// per-compute cap (256), with room for reconnects.
const slotsPerCompute = 200

// StartSimHost registers computes named compute-0, compute-1, … in the
// fleet's location (one per 200 slots) and runs slots simulated processes
// until Close; it returns once every slot has announced itself ready.
func StartSimHost(ctx context.Context, c *ControlClient, fleetID, location, compute string, slots int, log *slog.Logger) (*SimHost, error) {
	h := &SimHost{control: c, fleetID: fleetID, log: log}
	for i := 0; i*slotsPerCompute < slots; i++ {
		name := fmt.Sprintf("%s-%d", compute, i)
		var reg gamelift.RegisterComputeOutput
		if err := c.Do(ctx, "RegisterCompute", gamelift.RegisterComputeInput{FleetId: fleetID, ComputeName: name, IpAddress: "127.0.0.1", Location: location}, &reg); err != nil {
			return nil, fmt.Errorf("register the simulated compute: %w", err)
		}
		h.computes = append(h.computes, simCompute{name: name, sdkURL: reg.Compute.GameLiftServiceSdkEndpoint, dials: make(chan struct{}, simDials)})
		var tok gamelift.GetComputeAuthTokenOutput
		if err := c.Do(ctx, "GetComputeAuthToken", gamelift.GetComputeAuthTokenInput{FleetId: fleetID, ComputeName: name}, &tok); err != nil {
			h.deregister(ctx)
			return nil, fmt.Errorf("the simulated compute's token: %w", err)
		}
		h.computes[i].token = tok.AuthToken
	}
	ctx, h.stop = context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan error, slots)
	for i := range slots {
		sc := h.computes[i/slotsPerCompute]
		h.slots.Go(func() { h.slot(ctx, sc, ready) })
	}
	for range slots {
		if err := <-ready; err != nil {
			h.Close(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	h.slotCount, h.began = slots, time.Now()
	return h, nil
}

// Close stops the simulated processes and deregisters the compute, so the
// control plane does not take its processes for ready ones.
func (h *SimHost) Close(ctx context.Context) error {
	h.stop()
	h.slots.Wait()
	return h.deregister(ctx)
}

func (h *SimHost) deregister(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var errs []error
	for _, sc := range h.computes {
		errs = append(errs, h.control.Do(ctx, "DeregisterCompute", gamelift.DeregisterComputeInput{FleetId: h.fleetID, ComputeName: sc.name}, nil))
	}
	return errors.Join(errs...)
}

// Report sums up what the slots did since the host started: the game
// sessions hosted, a slot's cycle split into its phases (each the mean over
// the processes that went through it: Start, from dialling the SDK
// endpoint to the answer of the first heartbeat; Wait, from ready to the
// control plane's CreateGameSession; Activate, the ActivateGameSession
// round trip; Play, from active to the process ending), how many slots
// were busy on average, and the game sessions that ended because no
// player came within a minute (each held its slot for that minute).
func (h *SimHost) Report() SimReport {
	c := &h.cycle
	mean := func(total, n *atomic.Int64) float64 {
		if k := n.Load(); k > 0 {
			return float64(total.Load()) / float64(k) / float64(time.Millisecond)
		}
		return 0
	}
	r := SimReport{Slots: h.slotCount, GameSessions: h.sessions.Load(), Processes: c.started.Load(),
		StartMs: mean(&c.start, &c.started), WaitMs: mean(&c.wait, &c.waited), ActivateMs: mean(&c.activate, &c.activated),
		PlayMs: mean(&c.play, &c.played), Unjoined: c.unjoined.Load()}
	if since := time.Since(h.began); since > 0 {
		busy := c.start.Load() - c.firstStarts.Load() + c.activate.Load() + c.play.Load()
		r.BusySlots = float64(busy) / float64(since)
	}
	return r
}

// SimReport is what the simulated game servers of a run did (SimHost.Report).
type SimReport struct {
	Slots        int   `json:"slots"`
	GameSessions int64 `json:"gameSessions"`
	Processes    int64 `json:"processes"`
	// BusySlots is how many slots were busy on average (starting a
	// process, activating or playing a game session, rather than waiting
	// for one), by Little's law: the time the slots spent busy over the
	// time since the host started.
	BusySlots  float64 `json:"busySlots"`
	StartMs    float64 `json:"startMs"`
	WaitMs     float64 `json:"waitMs"`
	ActivateMs float64 `json:"activateMs"`
	PlayMs     float64 `json:"playMs"`
	Unjoined   int64   `json:"unjoined"`
}

// Saturated reports whether the slots were busy nine tenths of the time or
// more: placements then waited for a free game server, and a run measured
// the slots rather than the control plane.
func (r SimReport) Saturated() bool { return r.Slots > 0 && r.BusySlots >= 0.9*float64(r.Slots) }

// slotCycle sums the phases of a slot's cycle as the slots report them.
type slotCycle struct {
	started, waited, activated, played atomic.Int64 // processes through each phase
	start, wait, activate, play        atomic.Int64 // nanoseconds
	unjoined                           atomic.Int64
	firstStarts                        atomic.Int64 // nanoseconds of the starts before the host was ready
}

// add counts one phase of d in total and n.
func (*slotCycle) add(total, n *atomic.Int64, d time.Duration) {
	total.Add(int64(d))
	n.Add(1)
}

// slot listens for players on one port and runs one simulated process
// after another on it until ctx ends.
func (h *SimHost) slot(ctx context.Context, sc simCompute, ready chan<- error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ready <- err
		return
	}
	context.AfterFunc(ctx, func() { ln.Close() })
	players := make(chan net.Conn)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case players <- conn:
			case <-ctx.Done():
				conn.Close()
				return
			}
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	first, failures := true, 0
	for ctx.Err() == nil {
		began := time.Now()
		p, err := h.newProcess(ctx, sc, port)
		if err != nil {
			if failures++; first && failures == 5 {
				ready <- err
				return
			}
			if ctx.Err() == nil {
				h.log.Debug("simulated process failed to start", "err", err)
				time.Sleep(time.Duration(failures) * 200 * time.Millisecond) // real time: retrying a network peer
			}
			continue
		}
		took := time.Since(began)
		if first {
			h.cycle.firstStarts.Add(int64(took)) // before the host's start: not busy time of the run
			ready <- nil
			first = false
		}
		failures = 0
		h.cycle.add(&h.cycle.start, &h.cycle.started, took)
		p.host(ctx, players)
	}
}

// simProcess is one simulated game server process.
type simProcess struct {
	h       *SimHost
	id      string
	ws      *websocket.Conn
	mu      sync.Mutex
	waiting map[string]chan simAnswer
	created chan simCreate
	dead    chan struct{}
}

type simAnswer struct {
	StatusCode   int    `json:"StatusCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

type simCreate struct {
	GameSessionID string `json:"GameSessionId"`
	MaxPlayers    int    `json:"MaximumPlayerSessionCount"`
}

func (h *SimHost) newProcess(ctx context.Context, sc simCompute, port int) (*simProcess, error) {
	p := &simProcess{h: h, id: uuid.NewString(), waiting: map[string]chan simAnswer{}, created: make(chan simCreate, 1), dead: make(chan struct{})}
	q := url.Values{"pID": {p.id}, "sdkVersion": {"5.4.0"}, "sdkLanguage": {"Go"}, "ComputeId": {sc.name}, "FleetId": {h.fleetID},
		"IdempotencyToken": {uuid.NewString()}, "Authorization": {sc.token}}
	sc.dials <- struct{}{}
	ws, _, err := websocket.Dial(ctx, strings.TrimRight(sc.sdkURL, "/")+"/?"+q.Encode(), nil)
	<-sc.dials
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	p.ws = ws
	go p.read(ctx)
	if err := p.call(ctx, map[string]any{"Action": "ActivateServerProcess", "SdkVersion": "5.4.0", "SdkLanguage": "Go", "Port": port, "LogPaths": []string{}}); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("ActivateServerProcess: %w", err)
	}
	// The SDK heartbeats at once when it knows itself active: Muster holds
	// pushes to a process until then.
	if err := p.call(ctx, map[string]any{"Action": "HeartbeatServerProcess", "HealthStatus": true}); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("HeartbeatServerProcess: %w", err)
	}
	return p, nil
}

func (p *simProcess) read(ctx context.Context) {
	defer close(p.dead)
	for {
		_, b, err := p.ws.Read(ctx)
		if err != nil {
			return
		}
		var m struct {
			Action    string `json:"Action"`
			RequestID string `json:"RequestId"`
			simAnswer
			simCreate
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Action {
		case "CreateGameSession":
			select {
			case p.created <- m.simCreate:
			default:
			}
			continue
		case "TerminateProcess", "RefreshConnection":
			continue
		}
		p.mu.Lock()
		ch := p.waiting[m.RequestID]
		delete(p.waiting, m.RequestID)
		p.mu.Unlock()
		if ch != nil {
			ch <- m.simAnswer
		}
	}
}

// call sends a request and waits for its answer.
func (p *simProcess) call(ctx context.Context, msg map[string]any) error {
	id := uuid.NewString()
	msg["RequestId"] = id
	ch := make(chan simAnswer, 1)
	p.mu.Lock()
	p.waiting[id] = ch
	p.mu.Unlock()
	b, _ := json.Marshal(msg)
	if err := p.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return err
	}
	select {
	case a := <-ch:
		if a.StatusCode != 200 {
			return fmt.Errorf("%s: %d %s", msg["Action"], a.StatusCode, a.ErrorMessage)
		}
		return nil
	case <-p.dead:
		return errors.New("the SDK connection closed")
	case <-time.After(20 * time.Second): // the SDK's own request time-out
		return fmt.Errorf("%s: no answer in 20 s", msg["Action"])
	}
}

// host waits for a game session, activates it, lets its players in and
// ends the process once they have all left (or nobody came for a minute).
func (p *simProcess) host(ctx context.Context, players <-chan net.Conn) {
	defer p.ws.CloseNow()
	cycle := &p.h.cycle
	ready := time.Now()
	var gs simCreate
	select {
	case gs = <-p.created:
	case <-p.dead:
		return
	case <-ctx.Done():
		return
	}
	p.h.sessions.Add(1)
	created := time.Now()
	cycle.add(&cycle.wait, &cycle.waited, created.Sub(ready))
	if err := p.call(ctx, map[string]any{"Action": "ActivateGameSession", "GameSessionId": gs.GameSessionID}); err != nil {
		p.h.log.Warn("simulated ActivateGameSession failed", "err", err)
		return
	}
	active := time.Now()
	cycle.add(&cycle.activate, &cycle.activated, active.Sub(created))
	defer func() { cycle.add(&cycle.play, &cycle.played, time.Since(active)) }()
	var joined, left atomic.Int64
	gone := make(chan struct{}, 64)
	idle := time.NewTimer(time.Minute)
	defer idle.Stop()
	for {
		select {
		case conn := <-players:
			joined.Add(1)
			go func() {
				p.player(ctx, gs.GameSessionID, conn)
				left.Add(1)
				gone <- struct{}{}
			}()
		case <-gone:
			if left.Load() == joined.Load() {
				p.end(ctx)
				return
			}
		case <-idle.C:
			if joined.Load() == 0 {
				cycle.unjoined.Add(1)
				p.end(ctx)
				return
			}
		case <-p.dead:
			return
		case <-ctx.Done():
			return
		}
	}
}

// player serves one arena player connection: JOIN is checked with
// AcceptPlayerSession; QUIT or a hang-up removes the player session.
func (p *simProcess) player(ctx context.Context, gameSessionID string, conn net.Conn) {
	defer conn.Close()
	in := bufio.NewScanner(conn)
	if !in.Scan() {
		return
	}
	psess, ok := strings.CutPrefix(in.Text(), "JOIN ")
	if !ok {
		fmt.Fprintln(conn, "ERR send JOIN <player session id> first")
		return
	}
	if err := p.call(ctx, map[string]any{"Action": "AcceptPlayerSession", "GameSessionId": gameSessionID, "PlayerSessionId": psess}); err != nil {
		fmt.Fprintf(conn, "ERR %s\n", oneLineText(err.Error()))
		return
	}
	fmt.Fprintln(conn, "WELCOME p1 20 20")
	for in.Scan() {
		if in.Text() == "QUIT" {
			break
		}
	}
	_ = p.call(ctx, map[string]any{"Action": "RemovePlayerSession", "GameSessionId": gameSessionID, "PlayerSessionId": psess})
}

func (p *simProcess) end(ctx context.Context) {
	_ = p.call(ctx, map[string]any{"Action": "TerminateServerProcess"})
}

func oneLineText(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
