package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Relay is the core of a TCP load balancer, for tests of replicas whose
// game servers reconnect to one URL: it accepts connections on a free
// local port and joins each to the backend that pick names at that
// moment; "" or a backend that does not answer closes the connection, and
// the client tries again. When either side of a joined pair ends, both
// end, as through a balancer. Which backend is picked is the test's
// policy.
type Relay struct {
	ln   net.Listener
	pick func() string

	mu   sync.Mutex
	open map[string]map[net.Conn]net.Conn // backend → client side → backend side
}

// NewRelay listens on a free local port until the test ends, when it
// closes every connection it joined.
func NewRelay(t testing.TB, pick func() string) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{ln: ln, pick: pick, open: map[string]map[net.Conn]net.Conn{}}
	go r.serve()
	t.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, pairs := range r.open {
			for c, up := range pairs {
				c.Close()
				up.Close()
			}
		}
	})
	return r
}

// Addr is the address clients connect to.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Cut closes every connection joined to backend, as a balancer does with
// a backend its health check marked down.
func (r *Relay) Cut(backend string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, up := range r.open[backend] {
		c.Close()
		up.Close()
	}
}

// Open counts the connections joined to each backend.
func (r *Relay) Open() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for be, pairs := range r.open {
		out[be] = len(pairs)
	}
	return out
}

func (r *Relay) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		go r.join(c)
	}
}

func (r *Relay) join(c net.Conn) {
	be := r.pick()
	if be == "" {
		c.Close()
		return
	}
	up, err := net.Dial("tcp", be)
	if err != nil {
		c.Close()
		return
	}
	r.mu.Lock()
	if r.open[be] == nil {
		r.open[be] = map[net.Conn]net.Conn{}
	}
	r.open[be][c] = up
	r.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	r.mu.Lock()
	delete(r.open[be], c)
	r.mu.Unlock()
}
