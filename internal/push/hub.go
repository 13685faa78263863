package push

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musterhq/muster/internal/api/player"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// Verifier checks a player access token (identity.Service does).
type Verifier interface {
	Verify(ctx context.Context, token string) (identity.Claims, error)
}

// Config configures a Hub.
type Config struct {
	service.Base
	// Outbox is the reader the Hub follows (default: one on Store, Clock
	// and Wake).
	Outbox *outbox.Reader
	// Wake, when set, returns a channel closed when another replica
	// committed events (the bus): the default Outbox then reads at once
	// instead of after its bounded poll.
	Wake     func() <-chan struct{}
	Verifier Verifier
	// CORSOrigins are the origins (scheme://host[:port] or "*") whose
	// pages may open a WebSocket, as for the player API.
	CORSOrigins []string
	Registerer  prometheus.Registerer
	// QueueSize is how many messages a client may have waiting before it
	// is disconnected as too slow (default 128).
	QueueSize int
	// ResumeWindow is how many of the outbox's newest events a client may
	// resume from (default 200,000); an older id gets a reset.
	ResumeWindow int
	// ReplayLimit is how many outbox events, anyone's, one resume may read
	// back (default 5,000); an id further back gets a reset.
	ReplayLimit int
	// ResumeBurst is how many resumes a WebSocket may ask for at once, the
	// ?after= it opened with included (default 4); it earns another every
	// ResumeEvery, on the injected clock (default 30 s). A socket asking
	// for more is closed with CloseTooManyResumes.
	ResumeBurst int
	ResumeEvery time.Duration
	// AuthTimeout is how long, in real time, a WebSocket has to send its
	// auth message (default 10 s).
	AuthTimeout time.Duration
	// PingInterval is how often, in real time, a client is pinged and its
	// token verified again for revocation (default 15 s).
	PingInterval time.Duration
	// WriteTimeout bounds, in real time, one write or ping (default 10 s).
	WriteTimeout time.Duration
}

// Hub fans the outbox out to players' streams and long polls.
type Hub struct {
	cfg     Config
	reader  *outbox.Reader
	m       *metrics
	origins []string
	anyOrig bool
	tokens  *streamTokens

	ready chan struct{} // closed once Run has loaded the resume index
	done  chan struct{} // closed when Run returns: streams close
	// life ends when Run returns, as done closes: WebSockets, which wait
	// on no channel, close on it (context.AfterFunc).
	life    context.Context
	endLife context.CancelFunc
	mu      sync.Mutex
	index   idIndex
	subs    map[string]map[*client]struct{} // identity id → clients
	waits   map[string]map[*watch]struct{}  // ticket id → long polls
}

// New returns a Hub; Run must be running for it to deliver.
func New(cfg Config) (*Hub, error) {
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.Store == nil || cfg.Verifier == nil {
		return nil, fmt.Errorf("push: Store and Verifier are required")
	}
	if cfg.Outbox == nil {
		cfg.Outbox = outbox.New(outbox.Config{Store: cfg.Store, Clock: cfg.Clock, Wake: cfg.Wake})
	}
	cfg.QueueSize = positive(cfg.QueueSize, 128)
	cfg.ResumeWindow = positive(cfg.ResumeWindow, 200_000)
	cfg.ReplayLimit = positive(cfg.ReplayLimit, 5_000)
	cfg.ResumeBurst = positive(cfg.ResumeBurst, 4)
	cfg.ResumeEvery = positive(cfg.ResumeEvery, 30*time.Second)
	cfg.AuthTimeout = positive(cfg.AuthTimeout, 10*time.Second)
	cfg.PingInterval = positive(cfg.PingInterval, 15*time.Second)
	cfg.WriteTimeout = positive(cfg.WriteTimeout, 10*time.Second)
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	h := &Hub{cfg: cfg, reader: cfg.Outbox, m: m, ready: make(chan struct{}), done: make(chan struct{}),
		index: newIDIndex(cfg.ResumeWindow), tokens: newStreamTokens(cfg.Clock),
		subs: map[string]map[*client]struct{}{}, waits: map[string]map[*watch]struct{}{}}
	h.origins, h.anyOrig = originPatterns(cfg.CORSOrigins)
	h.life, h.endLife = context.WithCancel(context.Background())
	return h, nil
}

func positive[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Run loads the resume index from the outbox's tail, then follows the
// outbox and fans each event out, until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	defer h.endLife()
	defer close(h.done)
	last, err := h.loadIndex(ctx)
	if err != nil {
		return fmt.Errorf("push: load the resume index: %w", err)
	}
	close(h.ready)
	return h.reader.Follow(ctx, last, func(ctx context.Context, evs []store.Event) error {
		for i := range evs {
			h.fanOut(evs, i)
		}
		return nil
	})
}

// Register mounts the player routes on mux; public wraps routes anyone may
// call (CORS, the per-IP limit), protect the ones needing an access token.
func (h *Hub) Register(mux interface{ Handle(string, http.Handler) }, public, protect func(http.Handler) http.Handler) {
	mux.Handle("GET /v1/ws", public(http.HandlerFunc(h.serveWebSocket)))
	mux.Handle("GET /v1/events", public(http.HandlerFunc(h.serveEvents)))
	mux.Handle("POST /v1/events/tokens", protect(http.HandlerFunc(h.issueStreamToken)))
	// A page asks before it sends the Authorization header cross-origin.
	preflight := player.NewCORS(h.cfg.CORSOrigins).Preflight()
	mux.Handle("OPTIONS /v1/events", preflight)
	mux.Handle("OPTIONS /v1/events/", preflight)
}

// lastSeq finds the newest sequence number in the outbox by bisection
// (the store reads events forward only).
func (h *Hub) lastSeq(ctx context.Context) (int64, error) {
	after := func(seq int64) (bool, error) {
		var evs []store.Event
		err := h.cfg.Store.View(ctx, func(r store.Reader) error {
			var err error
			evs, err = r.Events(ctx, store.EventQuery{After: seq, Limit: 1})
			return err
		})
		return len(evs) > 0, err
	}
	lo, hi := int64(0), int64(1)
	for {
		more, err := after(hi)
		if err != nil {
			return 0, err
		}
		if !more {
			break
		}
		lo, hi = hi, hi*2
	}
	// Some event lies after lo (or lo is 0) and none after hi.
	for lo < hi {
		mid := lo + (hi-lo)/2
		more, err := after(mid)
		if err != nil {
			return 0, err
		}
		if more {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return hi, nil
}

// loadIndex indexes the player events among the newest ResumeWindow
// events and returns the newest sequence number.
func (h *Hub) loadIndex(ctx context.Context) (int64, error) {
	last, err := h.lastSeq(ctx)
	if err != nil {
		return 0, err
	}
	from := max(0, last-int64(h.cfg.ResumeWindow))
	err = h.cfg.Store.View(ctx, func(r store.Reader) error {
		for from < last {
			evs, err := r.Events(ctx, store.EventQuery{After: from, Limit: 1000})
			if err != nil || len(evs) == 0 {
				return err
			}
			for _, ev := range evs {
				if ev.Seq > last {
					return nil
				}
				if isPlayerEvent(ev.Type) {
					h.index.add(ev.ID, ev.Seq)
				}
			}
			from = evs[len(evs)-1].Seq
		}
		return nil
	})
	return last, err
}

func isPlayerEvent(typ string) bool {
	return ticketStatus[typ] != "" || placementStatus[typ] != "" || playerSessionEvent[typ]
}

// fanOut hands event i of a batch to the clients and long polls it
// concerns. It never blocks: a client whose queue is full is dropped.
func (h *Hub) fanOut(evs []store.Event, i int) {
	ev := evs[i]
	if !isPlayerEvent(ev.Type) {
		return
	}
	h.mu.Lock()
	h.index.add(ev.ID, ev.Seq) // resumable from, even when not sent
	wanted := h.wantedLocked(ev.Doc)
	h.mu.Unlock()
	// An event no socket or long poll can want is not decoded: one that
	// subscribes after this check connected after the event committed,
	// and its resume (or its long poll's read of the ticket) sees it.
	if !wanted || completedAtOnce(evs, i) {
		return
	}
	v, ok := decode(ev)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	done := map[string]bool{}
	for _, p := range v.players {
		cs := h.subs[p]
		if done[p] || len(cs) == 0 {
			continue
		}
		done[p] = true
		d := &delivery{seq: ev.Seq, id: ev.ID, typ: ev.Type, data: v.encode(p), at: ev.Time}
		for c := range cs {
			if !c.offer(d) {
				h.m.dropped.Inc()
			}
		}
	}
	for _, t := range v.tickets {
		for w := range h.waits[t] {
			w.notify()
		}
	}
}

// subscribe registers a client for player's events.
func (h *Hub) subscribe(player string, wake func()) *client {
	c := &client{player: player, queue: make(chan *delivery, h.cfg.QueueSize), gone: make(chan struct{}), wake: wake}
	h.mu.Lock()
	addTo(h.subs, player, c)
	h.mu.Unlock()
	return c
}

func (h *Hub) unsubscribe(c *client) {
	h.mu.Lock()
	removeFrom(h.subs, c.player, c)
	h.mu.Unlock()
}

// addTo adds v to the set m[k], making the set when it is the first.
func addTo[K, V comparable](m map[K]map[V]struct{}, k K, v V) {
	set := m[k]
	if set == nil {
		set = map[V]struct{}{}
		m[k] = set
	}
	set[v] = struct{}{}
}

// removeFrom removes v from the set m[k], and the set once it is empty.
func removeFrom[K, V comparable](m map[K]map[V]struct{}, k K, v V) {
	if set := m[k]; set != nil {
		delete(set, v)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// waitReady waits for Run to have loaded the resume index; false when
// ctx ended or Run stopped first.
func (h *Hub) waitReady(ctx context.Context) bool {
	select {
	case <-h.ready:
		return true
	case <-h.done:
		return false
	case <-ctx.Done():
		return false
	}
}

// seqOf maps an event id a client was sent to the event's sequence number.
func (h *Hub) seqOf(id string) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.index.get(id)
}

// delivery is one event encoded for one player, shared by its clients.
type delivery struct {
	seq     int64
	id, typ string
	data    []byte
	at      time.Time // the event's commit time, for the latency histogram
}

// client is one open stream's queue.
type client struct {
	player string
	queue  chan *delivery
	gone   chan struct{} // closed when the client is dropped as too slow
	once   sync.Once
	// wake, when set, is told of each delivery queued and of the drop.
	wake func()
}

// offer queues d, or drops the client when its queue is full; false when
// this call dropped it.
func (c *client) offer(d *delivery) bool {
	select {
	case <-c.gone:
		return true
	default:
	}
	dropped := false
	select {
	case c.queue <- d:
	default:
		c.once.Do(func() { close(c.gone) })
		dropped = true
	}
	if c.wake != nil {
		c.wake()
	}
	return !dropped
}

// idIndex maps the ids of the newest player events to their sequence
// numbers, forgetting the oldest beyond its size (a ring of ids).
type idIndex struct {
	size int
	seqs map[string]int64
	ring []string
	next int // the oldest id's place once the ring is full
}

func newIDIndex(size int) idIndex {
	return idIndex{size: size, seqs: map[string]int64{}}
}

func (x *idIndex) add(id string, seq int64) {
	if _, ok := x.seqs[id]; ok {
		return
	}
	if len(x.ring) < x.size {
		x.ring = append(x.ring, id)
	} else {
		delete(x.seqs, x.ring[x.next])
		x.ring[x.next] = id
		x.next = (x.next + 1) % x.size
	}
	x.seqs[id] = seq
}

func (x *idIndex) get(id string) (int64, bool) {
	s, ok := x.seqs[id]
	return s, ok
}
