package sdk

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/bus"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// An UpdateGameSession (a backfill's new matchmaker data, or its end) for
// a process with no socket on the replica that commits it is kept in the
// store as a pending update (kind sdkupdate, secondary key 1 = process id)
// before its wake goes on the bus. The replica holding the process's
// socket sends it and deletes it; what a lost wake or a socket that died
// on the way did not deliver, the catch-up sends: when the process
// connects, and every CatchUpInterval. A pending update lives for
// updateTTL, long after an SDK has given up reconnecting.

const (
	kindUpdate = "sdkupdate"
	updateTTL  = time.Hour
	// updatesPerRound caps the pending updates one catch-up round reads.
	updatesPerRound = 1000
)

// pendingUpdate is an UpdateGameSession waiting for its process's socket.
type pendingUpdate struct {
	Process     string    `json:"process"`
	GameSession string    `json:"gameSession"`
	Reason      string    `json:"reason"`
	Ticket      string    `json:"ticket,omitempty"`
	At          time.Time `json:"at"`
}

// NewReplicaHub returns an empty hub that reaches the processes connected
// to other replicas through b, and keeps the UpdateGameSession pushes for
// them in st until their socket's replica has sent them (see Hub).
func NewReplicaHub(b bus.Bus, st store.Store, clk clock.Clock, log *slog.Logger) *Hub {
	h := NewHubOn(b, log)
	h.store = st
	h.clock = clk
	if h.clock == nil {
		h.clock = clock.Real{}
	}
	return h
}

// keepUpdate stores an UpdateGameSession for a process whose socket is not
// here; false when the hub keeps none (no store) or the write failed.
func (h *Hub) keepUpdate(processID, gameSession, reason, ticketID string) bool {
	if h.store == nil || h.bus == nil {
		return false
	}
	u := pendingUpdate{Process: processID, GameSession: gameSession, Reason: reason, Ticket: ticketID, At: h.clock.Now().UTC()}
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	err := h.store.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: kindUpdate, ID: rand.Text(), Doc: store.MustJSON(u),
			Keys: store.Keys{processID}, ExpiresAt: u.At.Add(updateTTL)})
		return err
	})
	if err != nil {
		h.log.Warn("sdk push: keeping an UpdateGameSession in the store failed", "pID", processID, "game_session", gameSession, "err", err)
		return false
	}
	return true
}

// deliverUpdates sends a process connected here its pending updates, in
// the order they were made, deleting each once its socket took it. One
// the socket did not take stays for the next catch-up.
func (s *Server) deliverUpdates(ctx context.Context, pr *proc) {
	if s.cfg.Replicas.Store == nil {
		return
	}
	// Read under the lock: what another sender sent meanwhile is deleted.
	pr.sendingUpdates.Lock()
	defer pr.sendingUpdates.Unlock()
	items, err := findItems(ctx, s.cfg.Replicas.Store, store.Query{Kind: kindUpdate, Key: 1, Value: pr.id})
	if err != nil {
		s.cfg.Logger.Warn("sdk catch-up: reading pending updates failed", "pID", pr.id, "err", err)
		return
	}
	s.sendUpdates(ctx, pr, items)
}

// catchUpUpdates sends every process connected here its pending updates:
// one read per round finds them, whatever the number of sockets, and each
// process with some reads its own again as it sends (deliverUpdates).
func (s *Server) catchUpUpdates(ctx context.Context) {
	if s.cfg.Replicas.Store == nil {
		return
	}
	items, err := findItems(ctx, s.cfg.Replicas.Store, store.Query{Kind: kindUpdate, Prefix: true, Limit: updatesPerRound})
	if err != nil {
		s.cfg.Logger.Warn("sdk catch-up: reading pending updates failed", "err", err)
		return
	}
	seen := map[string]bool{}
	for _, it := range items {
		id := it.Keys[0]
		if seen[id] {
			continue
		}
		seen[id] = true
		if pr := s.lookup(id); pr != nil && s.connected(id) {
			s.deliverUpdates(ctx, pr)
		}
	}
}

func findItems(ctx context.Context, st store.Store, q store.Query) ([]store.Item, error) {
	var items []store.Item
	err := st.View(ctx, func(r store.Reader) error {
		var err error
		items, err = r.Find(ctx, q)
		return err
	})
	return items, err
}

// sendUpdates sends pr the pending updates items, in order, deleting each
// once its socket took it; the caller holds pr.sendingUpdates.
func (s *Server) sendUpdates(ctx context.Context, pr *proc, items []store.Item) {
	type kept struct {
		u  pendingUpdate
		id string
	}
	ups := make([]kept, 0, len(items))
	for _, it := range items {
		var u pendingUpdate
		if err := json.Unmarshal(it.Doc, &u); err != nil {
			s.cfg.Logger.Warn("sdk catch-up: a malformed pending update was dropped", "id", it.ID, "err", err)
			s.dropUpdate(ctx, it.ID)
			continue
		}
		ups = append(ups, kept{u, it.ID})
	}
	slices.SortStableFunc(ups, func(a, b kept) int { return a.u.At.Compare(b.u.At) })
	for _, k := range ups {
		g, err := s.cfg.Sessions.GameSession(ctx, k.u.GameSession)
		if err != nil || g.ProcessID != pr.id || (g.Status != gamelift.GameSessionActive && g.Status != gamelift.GameSessionActivating) {
			s.dropUpdate(ctx, k.id) // the game session ended or moved: nothing to tell
			continue
		}
		b, _ := json.Marshal(updatePush(g, k.u.Reason, k.u.Ticket))
		if !s.write(ctx, pr, b) {
			return // the rest waits for the next socket, in order
		}
		s.dropUpdate(ctx, k.id)
	}
}

// write writes b to pr's socket now; false when it has none, holds its
// pushes (activating) or the write failed.
func (s *Server) write(ctx context.Context, pr *proc, b []byte) bool {
	pr.mu.Lock()
	c, holding := pr.conn, pr.holding
	pr.mu.Unlock()
	if c == nil || holding {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, b) == nil
}

func (s *Server) dropUpdate(ctx context.Context, id string) {
	err := s.cfg.Replicas.Store.Update(ctx, func(w store.Writer) error { return w.Delete(ctx, kindUpdate, id, 0) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.cfg.Logger.Warn("sdk catch-up: deleting a sent update failed", "id", id, "err", err)
	}
}
