package client_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/client"
)

// flaky stands between a client and the server: of the first fail reads
// of tickets, it drops the first one's connection and answers the others
// with a proxy's 502; it refuses the event stream when refuse is set,
// answers the next failStreams openings of it with a 502, and else
// carries it until cut, or until freeze makes it a connection whose peer
// is gone without a word; it passes everything else on.
type flaky struct {
	// upstream is the server's host:port; the shared server's when empty.
	upstream    string
	proxy       http.Handler
	fail        int
	refuse      bool
	mu          sync.Mutex
	failStreams int
	reads       int
	streams     int
	open        []net.Conn     // both ends of each event stream
	frozen      []*atomic.Bool // one per event stream
	// hellos counts the server's greetings on event streams (each
	// "authenticated" message: the first, and one per renewed token);
	// sent counts the bytes clients sent on them after the handshake.
	hellos, sent int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	read := r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/matchmaking/tickets/")
	if read {
		f.reads++
	}
	failStream := false
	if r.URL.Path == "/v1/ws" {
		f.streams++
		failStream = f.failStreams > 0
		f.failStreams--
	}
	n := f.reads
	f.mu.Unlock()
	switch {
	case read && n == 1 && n <= f.fail:
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	case read && n <= f.fail:
		http.Error(w, "bad gateway", http.StatusBadGateway)
	case r.URL.Path == "/v1/ws" && f.refuse:
		http.NotFound(w, r)
	case r.URL.Path == "/v1/ws" && failStream:
		http.Error(w, "bad gateway", http.StatusBadGateway)
	case r.URL.Path == "/v1/ws":
		f.tunnel(w, r)
	default:
		f.proxy.ServeHTTP(w, r)
	}
}

// server is the address of the server behind f.
func (f *flaky) server() string {
	if f.upstream != "" {
		return f.upstream
	}
	return strings.TrimPrefix(endpoint, "http://")
}

// tunnel carries an event stream byte for byte, so that cut and freeze
// can end it or silence it as a network would.
func (f *flaky) tunnel(w http.ResponseWriter, r *http.Request) {
	up, err := net.Dial("tcp", f.server())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	down, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	frozen := &atomic.Bool{}
	f.mu.Lock()
	f.open = append(f.open, up, down)
	f.frozen = append(f.frozen, frozen)
	f.mu.Unlock()
	r.Write(up)
	hellos := &counter{pattern: []byte(`"authenticated"`)}
	go f.pump(down, up, frozen, func(b []byte) { f.hellos += hellos.add(b) })
	go f.pump(up, down, frozen, func(b []byte) { f.sent += len(b) })
}

// pump copies src to dst, showing each chunk to seen (with mu held), until
// either end closes, and then closes both. While frozen it drops what it
// reads, as a path to a peer that is gone does.
func (f *flaky) pump(dst, src net.Conn, frozen *atomic.Bool, seen func([]byte)) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !frozen.Load() {
			f.mu.Lock()
			seen(buf[:n])
			f.mu.Unlock()
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut ends every event stream.
func (f *flaky) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.open {
		c.Close()
	}
	f.open = nil
}

// freeze silences every event stream open now, leaving its connections
// open: what either end sends is lost, as when the server's host is gone
// without closing them.
func (f *flaky) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fr := range f.frozen {
		fr.Store(true)
	}
}

// count returns how many ticket reads and event streams were asked for.
func (f *flaky) count() (reads, streams int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads, f.streams
}

// traffic returns how many greetings the server sent on event streams and
// how many bytes clients sent on them.
func (f *flaky) traffic() (hellos, sent int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hellos, f.sent
}

// counter counts a pattern in a byte stream that arrives in chunks.
type counter struct {
	pattern, tail []byte
}

// add returns how many times the pattern ends in b.
func (c *counter) add(b []byte) int {
	buf := append(c.tail, b...)
	n := bytes.Count(buf, c.pattern)
	keep := min(len(buf), len(c.pattern)-1)
	c.tail = append([]byte(nil), buf[len(buf)-keep:]...)
	return n
}

// behindFlaky is a signed-in client with opts whose requests go through
// f, with a ticket of its own in "lonely".
func behindFlaky(t *testing.T, f *flaky, opts ...client.Option) (*client.Client, *client.Ticket) {
	t.Helper()
	c := flakyClient(t, f, opts...)
	return c, start(t, c, "lonely")
}

// flakyClient is a signed-in client whose requests go through f. It
// polls every 10 ms and backs off from 1 to 20 ms unless opts say
// otherwise.
func flakyClient(t *testing.T, f *flaky, opts ...client.Option) *client.Client {
	t.Helper()
	target, err := url.Parse("http://" + f.server())
	if err != nil {
		t.Fatal(err)
	}
	f.proxy = httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(f)
	t.Cleanup(front.Close)
	t.Cleanup(f.cut)
	// A new connection for each request: Go's transport itself retries a
	// GET whose kept-alive connection was dropped.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	opts = append([]client.Option{client.WithPollInterval(10 * time.Millisecond), client.WithHTTPClient(fresh),
		client.WithRetryBackoff(time.Millisecond, 20*time.Millisecond)}, opts...)
	c := client.New(front.URL, opts...)
	if _, err := c.SignInAnonymous(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}
