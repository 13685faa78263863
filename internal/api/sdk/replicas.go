package sdk

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// A game server's socket may be on any replica, and the commit that gives
// it work on any other. The replica that commits pushes directly when the
// socket is its own; otherwise it announces a wake (bus.TopicSDK, after the
// commit, ids only), and the replica holding the socket reads the state
// from the store and pushes. Wakes may be lost, and a socket may die with a
// push in it, so the store backs them: when a process that is ready
// connects, after the bus reconnects, and every CatchUpInterval, the
// endpoint compares what the store says a process must know — a game
// session ACTIVATING on it, a TERMINATING game session or a draining
// compute — with what it sent on this replica, and sends what is missing. After a move to another replica
// that may repeat a push the process had already read before its old
// replica died: the SDK then calls onStartGameSession again for a game
// session it has not activated yet, and activating twice changes nothing.

// DefaultCatchUpInterval is how often the endpoint compares its connected
// processes with the store, for wakes that were lost.
const DefaultCatchUpInterval = 5 * time.Second

// Replicas configures the catch-up from the store.
type Replicas struct {
	// Store is read when a process connects and, on a bus between
	// replicas (not bus.Local), every CatchUpInterval (default
	// DefaultCatchUpInterval, on Config.Clock) and after Resync, for what a
	// process connected here must know and this replica has not sent it.
	// Nil turns the catch-up off.
	Store           store.Store
	CatchUpInterval time.Duration
}

// replicaState is the catch-up's state: resync asks the loop for a round
// (Resync), catchUps counts the rounds done (for tests).
type replicaState struct {
	once     sync.Once
	resync   chan struct{}
	catchUps atomic.Int64
}

func (r *replicaState) resyncs() chan struct{} {
	r.once.Do(func() { r.resync = make(chan struct{}, 1) })
	return r.resync
}

// serveReplicas receives the bus's wakes and runs the catch-up loop until
// ctx ends; the returned function stops receiving.
func (s *Server) serveReplicas(ctx context.Context) (stop func()) {
	stop = func() {}
	if s.bus != nil {
		stop = s.bus.Subscribe(bus.TopicSDK, func(payload string) { s.onWake(ctx, payload) })
	}
	// Wakes on an in-process bus are never lost: one replica needs only
	// the catch-up when a process connects.
	if _, alone := s.bus.(*bus.Local); s.cfg.Replicas.Store != nil && s.bus != nil && !alone {
		go s.catchUpLoop(ctx)
	}
	return stop
}

// Wake actions.
const (
	wakeCreate    = "create"    // a game session was placed on the process
	wakeUpdate    = "update"    // its game session's matchmaker data changed
	wakeTerminate = "terminate" // it must end by At
	wakeEnded     = "ended"     // it ended
	wakeRefresh   = "refresh"   // it must reconnect to URL with Token
)

// wake is a TopicSDK message.
type wake struct {
	Action      string `json:"a"`
	Process     string `json:"p"`
	GameSession string `json:"g,omitempty"`
	Reason      string `json:"r,omitempty"`
	Ticket      string `json:"t,omitempty"`
	At          int64  `json:"at,omitempty"` // Unix ms
	// URL and Token are a RefreshConnection's: the one push that carries
	// its data, which is kept nowhere else.
	URL   string `json:"u,omitempty"`
	Token string `json:"k,omitempty"`
	// Kept says the update waits in the store (updates.go).
	Kept bool `json:"s,omitempty"`
}

// announce publishes w for the replica holding the process's socket.
func (h *Hub) announce(w wake) {
	if h.bus == nil {
		return
	}
	b, _ := json.Marshal(w)
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	if err := h.bus.Publish(ctx, bus.TopicSDK, string(b)); err != nil {
		// The catch-up from the store delivers it, later.
		h.log.Warn("sdk push: announcing to the other replicas failed", "pID", w.Process, "action", w.Action, "err", err)
	}
}

// connected says whether a process has a socket on this replica.
func (h *Hub) connected(processID string) bool {
	pr := h.lookup(processID)
	return pr != nil && pr.socket() != nil
}

// deliverCreate sends g's CreateGameSession to its process's socket here
// and reports whether the process has one. again=false sends it only if
// this replica has not already.
func (h *Hub) deliverCreate(processID string, g session.GameSession, again bool) bool {
	pr := h.lookup(processID)
	if pr == nil {
		return false
	}
	pr.mu.Lock()
	if pr.conn == nil {
		pr.mu.Unlock()
		return false
	}
	if !again && pr.createdFor == g.ID {
		pr.mu.Unlock()
		return true
	}
	pr.createdFor = g.ID
	pr.mu.Unlock()
	b, err := json.Marshal(createPush(g))
	if err != nil {
		h.log.Error("sdk push encode", "err", err)
		return true
	}
	h.send(pr, b)
	return true
}

// deliverTerminate sends TerminateProcess to a process's socket here; when
// it has none, keep says to keep it for its next socket here. Unless again,
// it is sent only if this replica has not sent one.
func (h *Hub) deliverTerminate(processID string, at time.Time, keep, again bool) {
	var pr *proc
	if keep {
		pr = h.entry(processID)
	} else if pr = h.lookup(processID); pr == nil {
		return
	}
	pr.mu.Lock()
	if (!keep && pr.conn == nil) || (!again && pr.terminating) {
		pr.mu.Unlock()
		return
	}
	pr.terminating = true
	pr.mu.Unlock()
	b, _ := json.Marshal(terminateProcessPush{Action: PushTerminateProcess, StatusCode: http.StatusOK, TerminationTime: at.UnixMilli()})
	h.send(pr, b)
}

// onWake serves a TopicSDK message on the bus's goroutine: a process
// with a socket here gets its push from a goroutine of its own.
func (s *Server) onWake(ctx context.Context, payload string) {
	var w wake
	if err := json.Unmarshal([]byte(payload), &w); err != nil || w.Process == "" {
		s.cfg.Logger.Warn("sdk: a malformed wake on the bus was ignored", "payload", payload)
		return
	}
	if w.Action == wakeEnded {
		s.processEnded(w.Process)
		return
	}
	if !s.connected(w.Process) {
		return
	}
	go func() {
		switch w.Action {
		case wakeCreate:
			if pr := s.lookup(w.Process); pr != nil {
				s.catchUp(ctx, pr)
			}
		case wakeTerminate:
			s.deliverTerminate(w.Process, time.UnixMilli(w.At), false, true)
		case wakeRefresh:
			if pr := s.lookup(w.Process); pr != nil {
				b, _ := json.Marshal(refreshPush(w.URL, w.Token))
				s.send(pr, b)
			}
		case wakeUpdate:
			if w.Kept {
				if pr := s.lookup(w.Process); pr != nil {
					s.deliverUpdates(ctx, pr)
				}
				return
			}
			g, err := s.cfg.Sessions.GameSession(ctx, w.GameSession)
			if err != nil || g.ProcessID != w.Process {
				return
			}
			b, _ := json.Marshal(updatePush(g, w.Reason, w.Ticket))
			if pr := s.lookup(w.Process); pr != nil {
				s.send(pr, b)
			}
		}
	}()
}

// catchUp sends a process connected here what the store says it must know
// and this replica has not sent it: its ACTIVATING game session, or
// TerminateProcess when its game session is TERMINATING or its compute
// drains.
func (s *Server) catchUp(ctx context.Context, pr *proc) {
	if s.cfg.Replicas.Store == nil {
		return
	}
	var p fleet.Process
	err := s.cfg.Replicas.Store.View(ctx, func(r store.Reader) (err error) {
		p, _, err = fleet.GetProcess(ctx, r, pr.id)
		return err
	})
	if err != nil || p.Status != fleet.ProcessActive {
		return
	}
	terminate := p.Draining
	if p.SessionLive {
		g, err := s.cfg.Sessions.GameSession(ctx, p.GameSessionID)
		if err != nil || g.ProcessID != p.ID {
			return
		}
		switch g.Status {
		case gamelift.GameSessionActivating:
			s.deliverCreate(p.ID, g, false)
		case gamelift.GameSessionTerminating:
			terminate = true
		}
	}
	if terminate {
		s.deliverTerminate(p.ID, s.terminationTime(ctx, p), false, false)
	}
}

// terminationTime is the TerminationTime to push to process p. It reads
// p's compute, so catchUp, which runs for every process several times in
// its life and almost always finds nothing to end, asks only when it
// pushes a TerminateProcess.
func (s *Server) terminationTime(ctx context.Context, p fleet.Process) time.Time {
	at := s.cfg.Clock.Now().Add(fleet.DefaultTerminateGrace)
	if s.cfg.Fleets == nil {
		return at
	}
	s.cfg.Replicas.Store.View(ctx, func(r store.Reader) error {
		at = s.cfg.Fleets.ProcessTerminationTime(ctx, r, p)
		return nil
	})
	return at
}

// Resync asks for a catch-up of every process connected here: the bus
// calls it after it reconnected, when wakes may have been lost.
func (s *Server) Resync() {
	select {
	case s.replicas.resyncs() <- struct{}{}:
	default: // one is pending already
	}
}

// catchUpLoop catches every connected process up every CatchUpInterval and
// on Resync, until ctx ends.
func (s *Server) catchUpLoop(ctx context.Context) {
	every(ctx, s.cfg.Clock, positive(s.cfg.Replicas.CatchUpInterval, DefaultCatchUpInterval), s.replicas.resyncs(), func() {
		for _, pr := range s.connectedProcs() {
			if ctx.Err() != nil {
				return
			}
			s.catchUp(ctx, pr)
		}
		s.catchUpUpdates(ctx)
		s.replicas.catchUps.Add(1)
	})
}

// positive is d, or def when d is zero or negative: a duration left unset.
func positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
