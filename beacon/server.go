package beacon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
)

// Server answers pings on a packet connection.
type Server struct {
	conn net.PacketConn
	log  *slog.Logger
}

// Listen opens a UDP beacon on addr (host:port; port 0 picks a free one).
func Listen(ctx context.Context, addr string, log *slog.Logger) (*Server, error) {
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("beacon: listen on %s: %w", addr, err)
	}
	return NewServer(conn, log), nil
}

// NewServer returns a beacon serving conn. Serve reads from it; Close closes it.
func NewServer(conn net.PacketConn, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{conn: conn, log: log}
}

// Addr is the address the beacon is bound to.
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Serve answers pings until ctx is done or the connection is closed; it
// closes the connection when ctx is done and then returns nil.
func (s *Server) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		select {
		case <-ctx.Done():
			_ = s.conn.Close()
		case <-stop:
		}
	})
	defer wg.Wait()
	defer close(stop)
	buf := make([]byte, 512)
	out := make([]byte, 0, Size)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("beacon: read: %w", err)
		}
		m, err := Parse(buf[:n])
		if err != nil || m.Type != TypePing {
			continue // never answer anything but a ping
		}
		out = Message{Type: TypePong, Nonce: m.Nonce}.Append(out[:0])
		if _, err := s.conn.WriteTo(out, from); err != nil {
			s.log.Debug("beacon: cannot answer", "to", from.String(), "err", err)
		}
	}
}

// Close stops the beacon.
func (s *Server) Close() error { return s.conn.Close() }
