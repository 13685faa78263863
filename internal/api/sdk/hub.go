package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// Hub holds the server processes' sockets, by process id, and pushes to
// them: it is the Pusher of the fleet and session services. It is built
// before them and handed to them in their Config; the Server that accepts
// the sockets is built on it after them (Config.Hub), so no service is
// completed by a setter.
//
// A hub built with NewHubOn shares its replica's bus: a push for a process
// with no socket here is announced on the bus (bus.TopicSDK, ids only), and
// the replica holding the process's socket delivers it (replicas.go).
type Hub struct {
	log *slog.Logger
	bus bus.Bus
	// store keeps UpdateGameSession pushes for sockets elsewhere until
	// they are sent (NewReplicaHub, updates.go); clock dates them.
	store store.Store
	clock clock.Clock
	// deliverKept sends a process connected here its kept updates (the
	// SDK endpoint sets it: Server.deliverUpdates).
	deliverKept func(processID string)

	mu    sync.Mutex
	procs map[string]*proc
}

// NewHub returns an empty hub; log receives its failures (discarded when
// nil).
func NewHub(log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{log: log, procs: map[string]*proc{}}
}

// NewHubOn returns an empty hub that reaches the processes connected to
// other replicas through b (see Hub).
func NewHubOn(b bus.Bus, log *slog.Logger) *Hub {
	h := NewHub(log)
	h.bus = b
	return h
}

func (h *Hub) proc(p fleet.Process) *proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	pr := h.procs[p.ID]
	if pr == nil {
		pr = &proc{id: p.ID, fleetID: p.FleetID, computeName: p.ComputeName, answers: map[string]*answer{}}
		h.procs[p.ID] = pr
	}
	pr.fleetID, pr.computeName = p.FleetID, p.ComputeName
	return pr
}

func (h *Hub) lookup(id string) *proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.procs[id]
}

// all is a snapshot of the processes the hub knows.
func (h *Hub) all() []*proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Collect(maps.Values(h.procs))
}

// connectedProcs are the processes with a socket here.
func (h *Hub) connectedProcs() []*proc {
	return slices.DeleteFunc(h.all(), func(pr *proc) bool { return pr.socket() == nil })
}

// dropAll drops every SDK connection's TCP stream without a close frame.
func (h *Hub) dropAll() {
	for _, p := range h.all() {
		p.mu.Lock()
		c := p.conn
		p.conn = nil
		p.mu.Unlock()
		if c != nil {
			c.CloseNow()
		}
	}
}

// ProcessEnded drops what the endpoint keeps for an ended process once it
// has no socket (fleet.Service calls it after the process's end commits),
// here and on the other replicas.
func (h *Hub) ProcessEnded(processID string) {
	h.processEnded(processID)
	h.announce(wake{Action: wakeEnded, Process: processID})
}

func (h *Hub) processEnded(processID string) {
	pr := h.lookup(processID)
	if pr == nil {
		return
	}
	pr.mu.Lock()
	pr.ended = true
	gone := pr.conn == nil
	pr.mu.Unlock()
	if gone {
		h.forget(pr)
	}
}

func (h *Hub) forget(pr *proc) {
	h.mu.Lock()
	if h.procs[pr.id] == pr {
		delete(h.procs, pr.id)
	}
	h.mu.Unlock()
}

// push writes a push to a process's current socket, or keeps it for the
// next socket when there is none or the write fails.
func (h *Hub) push(processID string, msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		h.log.Error("sdk push encode", "err", err)
		return
	}
	h.send(h.entry(processID), b)
}

// entry returns the process's entry, made when it has none.
func (h *Hub) entry(processID string) *proc {
	h.mu.Lock()
	defer h.mu.Unlock()
	pr := h.procs[processID]
	if pr == nil {
		pr = &proc{id: processID, answers: map[string]*answer{}}
		h.procs[processID] = pr
	}
	return pr
}

// send writes b to pr's current socket, or keeps it for the next socket
// when there is none, pushes are held, or the write fails.
func (h *Hub) send(pr *proc, b []byte) {
	pr.mu.Lock()
	c := pr.conn
	if c == nil || pr.holding {
		pr.pending = append(pr.pending, b)
		pr.mu.Unlock()
		return
	}
	pr.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		pr.mu.Lock()
		pr.pending = append(pr.pending, b)
		pr.mu.Unlock()
	}
}

// CreateGameSession pushes a new game session to its process. A process
// with no socket here gets it from the replica holding its socket (the
// bus), or when it next connects (Server.catchUp reads it from the store).
func (h *Hub) CreateGameSession(processID string, g session.GameSession) {
	if h.deliverCreate(processID, g, true) {
		return
	}
	if h.bus == nil { // one process: kept for its next socket
		pr := h.entry(processID)
		pr.mu.Lock()
		pr.createdFor = g.ID
		pr.mu.Unlock()
		h.push(processID, createPush(g))
		return
	}
	h.announce(wake{Action: wakeCreate, Process: processID})
}

func createPush(g session.GameSession) createGameSessionPush {
	return createGameSessionPush{Action: PushCreateGameSession, StatusCode: http.StatusOK, GameSessionId: g.ID,
		GameSessionName: g.Name, GameSessionData: g.Data, MatchmakerData: g.MatchmakerData, MaximumPlayerSessionCount: int(g.MaxPlayers),
		Port: int(g.Port), IpAddress: g.IPAddress, DnsName: g.DNSName, GameProperties: properties(g)}
}

// UpdateGameSession pushes changed matchmaker data to a process, as part
// of w's transaction. A hub with a store keeps the update there in w
// (updates.go) until the process's socket has received it: the update
// commits with the data it announces, so neither a crash after the commit
// nor a lost wake or a socket that died loses it; the catch-up sends it
// wherever the process reconnects. The push and the wake go once w has
// committed; a process with no socket here gets it from the replica
// holding its socket.
func (h *Hub) UpdateGameSession(ctx context.Context, w store.Writer, processID string, g session.GameSession, reason, ticketID string) error {
	kept := h.store != nil && h.bus != nil
	if kept {
		if err := putUpdate(ctx, w, pendingUpdate{Process: processID, GameSession: g.ID, Reason: reason, Ticket: ticketID, At: h.clock.Now().UTC()}); err != nil {
			return fmt.Errorf("keep UpdateGameSession for process %s: %w", processID, err)
		}
	}
	w.AfterCommit(func() { h.sendUpdate(processID, g, reason, ticketID, kept) })
	return nil
}

// sendUpdate sends a committed update: from the store when it was kept
// there, from memory otherwise, and wakes the replica holding the
// process's socket when it is not here.
func (h *Hub) sendUpdate(processID string, g session.GameSession, reason, ticketID string, kept bool) {
	local := h.connected(processID)
	switch {
	case !kept:
		h.push(processID, updatePush(g, reason, ticketID))
	case local && h.deliverKept != nil:
		h.deliverKept(processID)
	}
	if !local {
		h.announce(wake{Action: wakeUpdate, Process: processID, GameSession: g.ID, Reason: reason, Ticket: ticketID, Kept: kept})
	}
}

func updatePush(g session.GameSession, reason, ticketID string) updateGameSessionPush {
	return updateGameSessionPush{Action: PushUpdateGameSession, StatusCode: http.StatusOK, GameSession: sdkGameSession(g),
		UpdateReason: reason, BackfillTicketId: ticketID}
}

// RefreshConnection tells a process to reconnect to url (its query string
// is replaced by the SDK) with a new auth token, e.g. to rotate tokens or to
// move it to another front end.
//
// A process with no socket here gets it from the replica holding its
// socket, through the bus; this replica also keeps it for the process's
// next socket here, as for any push. A process with no socket anywhere
// when it is sent gets it only if it reconnects here.
func (h *Hub) RefreshConnection(processID, url, authToken string) {
	local := h.connected(processID)
	h.push(processID, refreshPush(url, authToken))
	if !local {
		h.announce(wake{Action: wakeRefresh, Process: processID, URL: url, Token: authToken})
	}
}

func refreshPush(url, authToken string) refreshConnectionPush {
	return refreshConnectionPush{Action: PushRefreshConnection, StatusCode: http.StatusOK, RefreshConnectionEndpoint: url, AuthToken: authToken}
}

// TerminateProcess tells a process to end by at.
func (h *Hub) TerminateProcess(processID string, at time.Time) {
	local := h.connected(processID)
	h.deliverTerminate(processID, at, true, true)
	if !local {
		h.announce(wake{Action: wakeTerminate, Process: processID, At: at.UnixMilli()})
	}
}
