package beacon

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/clock"
)

// DefaultTimeout is how long a Pinger waits for each pong.
const DefaultTimeout = time.Second

// Pinger measures round-trip times to beacons. The zero value uses the wall
// clock and DefaultTimeout.
type Pinger struct {
	// Clock measures the round trips; nil means the wall clock.
	Clock clock.Clock
	// Timeout bounds the wait for each pong; zero means DefaultTimeout.
	Timeout time.Duration
}

// Measure sends n pings (one at a time) to the beacon at addr (host:port) and
// returns the median round-trip time of those answered. It fails only when
// none is answered.
func Measure(ctx context.Context, addr string, n int) (time.Duration, error) {
	return Pinger{}.Measure(ctx, addr, n)
}

// Measure is the package-level Measure with p's clock and timeout.
func (p Pinger) Measure(ctx context.Context, addr string, n int) (time.Duration, error) {
	rtts, err := p.Samples(ctx, addr, n)
	if err != nil {
		return 0, err
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2], nil
}

// Samples sends n pings and returns the round-trip time of each one
// answered, in order. Lost pings are skipped; no answer at all is an error.
func (p Pinger) Samples(ctx context.Context, addr string, n int) ([]time.Duration, error) {
	if n < 1 {
		return nil, fmt.Errorf("beacon: measure %s: n must be at least 1, got %d", addr, n)
	}
	clk, timeout := p.Clock, p.Timeout
	if clk == nil {
		clk = clock.Real{}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("beacon: measure %s: %w", addr, err)
	}
	defer conn.Close()
	w := &waker{conn: conn}
	stop := context.AfterFunc(ctx, w.cancel)
	defer stop()

	var seed [8]byte
	_, _ = rand.Read(seed[:])
	base := binary.BigEndian.Uint64(seed[:])
	out := make([]byte, 0, Size)
	in := make([]byte, 512)
	var rtts []time.Duration
	var lastErr error
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		nonce := base + uint64(i)
		out = Message{Type: TypePing, Nonce: nonce}.Append(out[:0])
		gen := w.arm()
		timer := clk.AfterFunc(timeout, func() { w.expire(gen) })
		start := clk.Now()
		rtt, err := ping(conn, out, in, nonce)
		if err == nil {
			rtt = clk.Now().Sub(start)
		}
		timer.Stop()
		if err != nil {
			lastErr = err
			continue
		}
		rtts = append(rtts, rtt)
	}
	if len(rtts) == 0 {
		if err := ctx.Err(); err != nil {
			lastErr = err
		}
		return nil, fmt.Errorf("beacon: measure %s: no answer to %d pings: %w", addr, n, lastErr)
	}
	return rtts, nil
}

// errTimeout reports a ping without a pong in time.
var errTimeout = errors.New("beacon: no pong before the timeout")

// ping sends one ping and reads until its pong arrives (stale pongs of
// earlier, timed-out pings are skipped) or the waker interrupts the read.
func ping(conn net.Conn, out, buf []byte, nonce uint64) (time.Duration, error) {
	if _, err := conn.Write(out); err != nil {
		return 0, err
	}
	for {
		n, err := conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return 0, errTimeout
			}
			return 0, err
		}
		m, err := Parse(buf[:n])
		if err == nil && m.Type == TypePong && m.Nonce == nonce {
			return 0, nil
		}
	}
}

// waker interrupts a blocked Read when a ping's timer (from the injected
// clock) fires or the context ends, by moving the socket's read deadline
// into the past. Generations keep a late timer of an earlier ping from
// interrupting the next one.
type waker struct {
	conn net.Conn

	mu        sync.Mutex
	gen       uint64
	cancelled bool
}

// arm starts a new ping generation and clears the read deadline.
func (w *waker) arm() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gen++
	if !w.cancelled {
		_ = w.conn.SetReadDeadline(time.Time{})
	}
	return w.gen
}

func (w *waker) expire(gen uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if gen == w.gen {
		_ = w.conn.SetReadDeadline(time.Unix(1, 0)) // already passed
	}
}

func (w *waker) cancel() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancelled = true
	_ = w.conn.SetReadDeadline(time.Unix(1, 0)) // already passed
}
