package sdk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/session"
)

// Config configures the SDK endpoint.
type Config struct {
	// Listen is the address of the SDK port (plain and TLS on one port).
	Listen string
	// URL is the endpoint RegisterCompute advertises; empty means
	// ws://<bound address>.
	URL string
	// TLSCert and TLSKey are PEM files; empty means a self-signed ECDSA
	// certificate generated into DataDir (kept across restarts).
	TLSCert, TLSKey string
	DataDir         string
	// AddrFile, when set, receives the bound address once listening.
	AddrFile string
	// OnListening, when set, hears the bound address once listening (the
	// control plane keeps its own addresses from outbound calls).
	OnListening func(net.Addr)
	Fleets      *fleet.Service
	Sessions    *session.Service
	// Hub holds the processes' sockets; the fleet and session services
	// push through it. Nil means a hub of the Server's own.
	Hub *Hub
	// Backfill serves StartMatchBackfill/StopMatchBackfill (matchmaking);
	// nil means session.NoMatchmaking.
	Backfill session.Backfiller
	// Clock paces the ping rounds (PingInterval). It does not time the
	// pongs: see PingTimeout.
	Clock clock.Clock
	// PingTimeout is how long a socket has to answer a ping, in real time;
	// zero means DefaultPingTimeout.
	PingTimeout time.Duration
	Logger      *slog.Logger
	// Limiter applies the listener's connection and request limits, with
	// its per-client cap counted per compute (limits.go); nil means
	// DefaultLimiter.
	Limiter *httpx.Limiter
	// Replicas backs the pushes with the store, for sockets on other
	// replicas and pushes lost with a socket (replicas.go).
	Replicas Replicas
}

// Server is the SDK endpoint: it accepts the processes' sockets into its
// Hub and serves their requests.
type Server struct {
	*Hub
	cfg Config
	tls *tls.Config

	urlMu sync.Mutex
	url   string
	// pings counts pings awaiting their pong; pingRounds counts ticks
	// whose pings were all sent (both for tests).
	pings, pingRounds atomic.Int64
	// beforeActivationAnswer, when set, runs between ProcessReady and the
	// write of its answer (tests hold that window open with it).
	beforeActivationAnswer atomic.Pointer[func()]
	// replicas is the catch-up's state (replicas.go).
	replicas replicaState
	// bound is the listener Bind made, for Run to serve on.
	bound net.Listener
}

// New returns the SDK endpoint; it loads or generates its certificate.
func New(cfg Config) (*Server, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.PingTimeout = positive(cfg.PingTimeout, DefaultPingTimeout)
	if cfg.Backfill == nil {
		cfg.Backfill = session.NoMatchmaking{}
	}
	if cfg.Hub == nil {
		cfg.Hub = NewHub(cfg.Logger)
	}
	if cfg.Limiter == nil {
		cfg.Limiter = DefaultLimiter()
	}
	s := &Server{Hub: cfg.Hub, cfg: cfg, url: cfg.URL}
	s.Hub.deliverKept = func(processID string) {
		if pr := s.lookup(processID); pr != nil {
			s.deliverUpdates(context.Background(), pr)
		}
	}
	cert, err := s.certificate()
	if err != nil {
		return nil, err
	}
	s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	return s, nil
}

// URL is the endpoint RegisterCompute advertises ("" before listening
// when not configured).
func (s *Server) URL() string {
	s.urlMu.Lock()
	defer s.urlMu.Unlock()
	return s.url
}

// Bind binds the endpoint's address before Run, so that a server whose
// port is taken fails to start rather than run without the endpoint its
// game servers need.
func (s *Server) Bind() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	s.bound = ln
	return nil
}

// Unbind closes what Bind bound, for a server that will not run.
func (s *Server) Unbind() {
	if s.bound != nil {
		s.bound.Close()
		s.bound = nil
	}
}

// Run listens (unless Bind did) and serves until ctx ends, then drops
// every SDK connection without a close frame so the SDKs reconnect to the
// next server.
func (s *Server) Run(ctx context.Context) error {
	ln := s.bound
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.Listen); err != nil {
			return fmt.Errorf("sdk listen: %w", err)
		}
	}
	addr := ln.Addr().String()
	if s.cfg.OnListening != nil {
		s.cfg.OnListening(ln.Addr())
	}
	s.urlMu.Lock()
	if s.url == "" {
		s.url = "ws://" + addr
	}
	s.urlMu.Unlock()
	if s.cfg.AddrFile != "" {
		tmp := s.cfg.AddrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(addr), 0o600); err == nil {
			os.Rename(tmp, s.cfg.AddrFile)
		}
	}
	s.cfg.Logger.Info("server SDK endpoint listening (ws:// and wss:// on one port)", "addr", addr, "url", s.URL())
	sl := newSniffListener(s.cfg.Limiter.Listener(ln), s.tls)
	srv := &http.Server{Handler: s.limitPerCompute(http.HandlerFunc(s.serveHTTP)),
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug)}
	s.cfg.Limiter.Configure(srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(sl) }()
	pingCtx, stopPing := context.WithCancel(ctx)
	defer stopPing()
	go s.pingLoop(pingCtx)
	defer s.serveReplicas(pingCtx)()
	select {
	case err := <-errc:
		s.dropAll()
		return fmt.Errorf("sdk serve: %w", err)
	case <-ctx.Done():
	}
	srv.Close()
	<-errc
	s.dropAll()
	return nil
}

// PingInterval is how often the endpoint pings every SDK socket: the SDKs
// answer pings but never send any and set no read deadline, so a socket
// that died silently is found only this way. A socket that does not answer
// within the ping timeout (DefaultPingTimeout unless configured) is dropped
// (TCP only, no close frame); a live SDK reconnects at once.
//
// The interval runs on the injectable clock, the timeout on real time: a
// pong's delay is a fact about a real network peer, and a fake clock that
// jumps 60 s in a microsecond would otherwise expire pings a healthy SDK
// answers in a millisecond, cutting live processes off.
const PingInterval, DefaultPingTimeout = 30 * time.Second, 15 * time.Second

func (s *Server) pingLoop(ctx context.Context) {
	every(ctx, s.cfg.Clock, PingInterval, nil, func() {
		for _, pr := range s.connectedProcs() {
			c := pr.socket()
			if c == nil {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, s.cfg.PingTimeout)
			s.pings.Add(1)
			go func() {
				defer s.pings.Add(-1)
				defer cancel()
				if err := c.Ping(pctx); err != nil && ctx.Err() == nil {
					s.cfg.Logger.Info("sdk socket did not answer a ping: dropped", "err", err)
					c.CloseNow()
				}
			}()
		}
		s.pingRounds.Add(1)
	})
}

// every runs f every d on c, and again each time wake delivers (a nil wake
// never does), until ctx ends. f runs on the caller's goroutine, so a slow
// f delays the next round rather than overlapping it.
func every(ctx context.Context, c clock.Clock, d time.Duration, wake <-chan struct{}, f func()) {
	t := c.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-wake:
		}
		f()
	}
}

// sniffListener hands out plain connections and TLS connections from one
// port, deciding by the first byte.
type sniffListener struct {
	net.Listener
	tls   *tls.Config
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	err   error // set once, before done is closed
}

func newSniffListener(ln net.Listener, cfg *tls.Config) *sniffListener {
	l := &sniffListener{Listener: ln, tls: cfg, conns: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *sniffListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			l.once.Do(func() {
				l.err = err
				close(l.done)
			})
			return
		}
		go l.sniff(c)
	}
}

func (l *sniffListener) sniff(c net.Conn) {
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	var out net.Conn = &prefixConn{Conn: c, first: b[0], has: true}
	if b[0] == 0x16 { // TLS handshake record
		out = tls.Server(out, l.tls)
	}
	select {
	case l.conns <- out:
	case <-l.done:
		c.Close()
	}
}

func (l *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, l.err
	}
}

func (l *sniffListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() {
		l.err = net.ErrClosed
		close(l.done)
	})
	return err
}

// prefixConn gives back the sniffed byte before the rest of the stream.
type prefixConn struct {
	net.Conn
	first byte
	has   bool
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if c.has && len(p) > 0 {
		p[0], c.has = c.first, false
		return 1, nil
	}
	return c.Conn.Read(p)
}
