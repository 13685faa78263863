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

// An UpdateGameSession (a backfill's new matchmaker data, or its end) is
// kept in the store as a pending update (kind sdkupdate, secondary key 1 =
// process id) before it is sent, and its wake goes on the bus when the
// process's socket is on another replica. The replica holding the socket
// sends it, then pings the socket: the pong, which follows the update on
// the same TCP stream, proves the SDK's side received it, and only then is
// the update deleted. A socket that died silently (the write succeeded
// into a buffer nobody reads) answers no ping and is dropped; the SDK's
// next socket, here or on another replica, gets the update from the store.
// So do those a lost wake did not deliver: the catch-up sends them when
// the process connects, and every CatchUpInterval. A pending update lives
// for updateTTL, long after an SDK has given up reconnecting.

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

// putUpdate keeps an UpdateGameSession for a process in w until its
// socket has received it.
func putUpdate(ctx context.Context, w store.Writer, u pendingUpdate) error {
	_, err := w.Put(ctx, store.Record{Kind: kindUpdate, ID: rand.Text(), Doc: store.MustJSON(u),
		Keys: store.Keys{u.Process}, ExpiresAt: u.At.Add(updateTTL)})
	return err
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

// sendUpdates sends pr's current socket the pending updates items, in
// order, except those it was sent already and whose ping is still out; a
// ping then confirms them (confirmSent). The caller holds
// pr.sendingUpdates.
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
	c := pr.socket()
	var sent []string
	for _, k := range ups {
		if pr.awaitsPong(c, k.id) {
			continue
		}
		g, err := s.cfg.Sessions.GameSession(ctx, k.u.GameSession)
		if err != nil || g.ProcessID != pr.id || (g.Status != gamelift.GameSessionActive && g.Status != gamelift.GameSessionActivating) {
			s.dropUpdate(ctx, k.id) // the game session ended or moved: nothing to tell
			continue
		}
		b, _ := json.Marshal(updatePush(g, k.u.Reason, k.u.Ticket))
		if !s.write(ctx, pr, c, b) {
			break // the rest waits for the next socket, in order
		}
		sent = append(sent, k.id)
	}
	if len(sent) > 0 {
		s.confirmSent(pr, c, sent)
	}
}

// awaitsPong says whether update id was written to socket c already (its
// ping may still be out, or it came back and the update is being deleted).
func (pr *proc) awaitsPong(c *websocket.Conn, id string) bool {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return c != nil && pr.unconfirmedOn == c && pr.unconfirmed[id]
}

// confirmSent pings socket c after updates ids were written to it: its
// pong comes after them on the same stream, so it proves they reached the
// SDK's side, and they are deleted. A socket that does not answer in time
// is dropped, as the periodic ping drops it, and the updates stay for the
// process's next socket.
func (s *Server) confirmSent(pr *proc, c *websocket.Conn, ids []string) {
	pr.mu.Lock()
	if pr.unconfirmedOn != c {
		pr.unconfirmedOn, pr.unconfirmed = c, map[string]bool{}
	}
	for _, id := range ids {
		pr.unconfirmed[id] = true
	}
	pr.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.PingTimeout)
		defer cancel()
		if err := c.Ping(ctx); err != nil {
			s.cfg.Logger.Info("sdk socket did not answer the ping after an update: dropped", "pID", pr.id, "err", err)
			c.CloseNow()
			return
		}
		// They stay marked as sent on c: a sender that read them before
		// this deletion must not send them again.
		for _, id := range ids {
			s.dropUpdate(context.Background(), id)
		}
	}()
}

// write writes b to socket c, pr's socket; false when c is no longer its
// socket, pr holds its pushes (activating) or the write failed.
func (s *Server) write(ctx context.Context, pr *proc, c *websocket.Conn, b []byte) bool {
	pr.mu.Lock()
	current, holding := pr.conn, pr.holding
	pr.mu.Unlock()
	if c == nil || c != current || holding {
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
