package push_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/sqlite"
)

// TestFigures holds MUSTER_FIGURES_SOCKETS (default 10,000) WebSockets open
// on a Hub, the clients in a child process so the server's memory is its
// own, and measures the server's memory per connection and the latency
// from an event's commit to its arrival on a socket while they are held
// and MUSTER_FIGURES_RATE events/s (default 500) are committed.
// It reports figures; it asserts nothing about them. Run with
// MUSTER_FIGURES=1 go test ./internal/push -run TestFigures -v.
func TestFigures(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES") != "1" {
		t.Skip("set MUSTER_FIGURES=1 to measure")
	}
	sockets := envInt("MUSTER_FIGURES_SOCKETS", 10_000)
	rate := envInt("MUSTER_FIGURES_RATE", 500) // events committed per second, for 10 s
	const players = 2000
	events := rate * 10
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: t.TempDir() + "/muster.db"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	box, _ := secret.NewBox([]byte(rand.Text() + rand.Text())[:32])
	base := service.Base{Store: db, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler)}
	ids, err := identity.Open(ctx, identity.Config{Base: base, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := push.New(push.Config{Base: base, Verifier: ids, QueueSize: 128})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	hub.Register(mux, func(h http.Handler) http.Handler { return h }, func(h http.Handler) http.Handler { return h })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go hub.Run(runCtx)

	var tokens []string
	var who []string
	for range players {
		tok, err := ids.Anonymous(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		tokens, who = append(tokens, tok.AccessToken), append(who, tok.IdentityID)
	}
	tokFile := t.TempDir() + "/tokens"
	os.WriteFile(tokFile, []byte(strings.Join(tokens, "\n")), 0o600)
	before := memNow()

	child := exec.Command(os.Args[0], "-test.run=^TestFiguresClients$", "-test.v")
	child.Env = append(os.Environ(), "MUSTER_FIGURES_CHILD=1", "MUSTER_FIGURES_URL="+srv.URL, "MUSTER_FIGURES_TOKENS="+tokFile,
		"MUSTER_FIGURES_SOCKETS="+strconv.Itoa(sockets), "MUSTER_FIGURES_EXPECT="+strconv.Itoa(events*sockets/players))
	out, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	lines := bufio.NewScanner(out)
	waitLine(t, lines, "READY")
	held := memNow()
	if path := os.Getenv("MUSTER_FIGURES_HEAPPROFILE"); path != "" {
		f, _ := os.Create(path)
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	t.Logf("sockets held: %d; server heap+stacks %.1f MiB (%.1f KiB per socket), RSS %.1f MiB (%.1f KiB per socket), goroutines %d",
		sockets, mib(held.heap-before.heap), perSocket(held.heap-before.heap, sockets),
		mib(held.rss-before.rss), perSocket(held.rss-before.rss, sockets), runtime.NumGoroutine())

	// rate events/s, each about one player, whose sockets receive it.
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	start := time.Now()
	for i := range events {
		<-tick.C
		player := who[i%players]
		if err := db.Update(ctx, func(w store.Writer) error {
			return w.Append(ctx, searchingAt(testARNs, fmt.Sprintf("t%d", i), []string{player}, time.Now()))
		}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("committed %d events in %s", events, time.Since(start).Round(time.Millisecond))
	t.Log(waitLine(t, lines, "LATENCY"))
}

type memFigures struct{ heap, rss uint64 }

func memNow() memFigures {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	f := memFigures{heap: m.HeapInuse + m.StackInuse}
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			f.rss = kb << 10
		}
	}
	return f
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
func kib(b uint64) float64 { return float64(b) / (1 << 10) }

// perSocket is b in KiB per socket of n (0 when there are none).
func perSocket(b uint64, n int) float64 {
	if n == 0 {
		return 0
	}
	return kib(b) / float64(n)
}

// envInt reads a positive count from the environment; anything else
// (unset, not a number, zero or less) is def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func waitLine(t *testing.T, sc *bufio.Scanner, prefix string) string {
	t.Helper()
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return sc.Text()
		}
	}
	t.Fatalf("the client process ended before %s", prefix)
	return ""
}

// TestFiguresClients is the client side of TestFigures and
// TestReplicaFigures, in a child process: it opens the sockets, says READY,
// then measures each message's delay from its event's time and says
// LATENCY. Socket j uses token (MUSTER_FIGURES_OFFSET + j) mod the tokens;
// MUSTER_FIGURES_SOURCE binds the sockets to one 127.0.0.x source address
// (one address has about 28,000 ports towards one server);
// MUSTER_FIGURES_EVENTS, when set, is how many events the parent commits,
// event i about token i mod the tokens, from which the child counts the
// messages to expect; MUSTER_FIGURES_DELAYS names a file that receives
// every message's event id and arrival time (Unix microseconds), one a
// line, for the parent to match with its commits.
func TestFiguresClients(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES_CHILD") != "1" {
		t.Skip("run by TestFigures")
	}
	b, _ := os.ReadFile(os.Getenv("MUSTER_FIGURES_TOKENS"))
	tokens := strings.Split(string(b), "\n")
	sockets, _ := strconv.Atoi(os.Getenv("MUSTER_FIGURES_SOCKETS"))
	offset, _ := strconv.Atoi(os.Getenv("MUSTER_FIGURES_OFFSET"))
	expect, _ := strconv.Atoi(os.Getenv("MUSTER_FIGURES_EXPECT"))
	if events, err := strconv.Atoi(os.Getenv("MUSTER_FIGURES_EVENTS")); err == nil {
		per := make([]int, len(tokens))
		for j := range sockets {
			per[(offset+j)%len(tokens)]++
		}
		expect = 0
		for i := range events {
			expect += per[i%len(tokens)]
		}
	}
	url := os.Getenv("MUSTER_FIGURES_URL")
	dial := dialerFrom(os.Getenv("MUSTER_FIGURES_SOURCE"))
	var mu sync.Mutex
	var delays []time.Duration
	var arrivals []arrival
	var got atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	jobs := make(chan int)
	var failed atomic.Int64
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				c, err := dial(url, tokens[(offset+i)%len(tokens)])
				for try := 0; err != nil && try < 3; try++ { // a full accept queue resets a few
					time.Sleep(time.Second)
					c, err = dial(url, tokens[(offset+i)%len(tokens)])
				}
				if err != nil {
					if failed.Add(1) == 1 {
						fmt.Fprintln(os.Stderr, "first failed dial:", err)
					}
					continue
				}
				c.Read(context.Background()) // authenticated
				go func() {
					for {
						_, b, err := c.Read(context.Background())
						if err != nil {
							return
						}
						var m push.Message
						json.Unmarshal(b, &m)
						now := time.Now()
						mu.Lock()
						delays = append(delays, now.Sub(m.Time))
						arrivals = append(arrivals, arrival{m.ID, now})
						mu.Unlock()
						if got.Add(1) == int64(expect) {
							close(done)
						}
					}
				}()
			}
		})
	}
	for i := range sockets {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Printf("READY %d sockets (%d failed)\n", sockets-int(failed.Load()), failed.Load())
	select {
	case <-done:
	case <-time.After(120 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	if path := os.Getenv("MUSTER_FIGURES_DELAYS"); path != "" {
		var sb strings.Builder
		for _, a := range arrivals {
			fmt.Fprintf(&sb, "%s %d\n", a.id, a.at.UnixMicro())
		}
		os.WriteFile(path, []byte(sb.String()), 0o600)
	}
	slices.Sort(delays)
	fmt.Printf("LATENCY commit-to-socket over %d messages (of %d expected): p50 %s p99 %s max %s\n",
		len(delays), expect, quantile(delays, .5), quantile(delays, .99), quantile(delays, 1))
}

// arrival is a message's event id and when it arrived.
type arrival struct {
	id string
	at time.Time
}

// quantile is the p quantile of sorted delays (0 when there are none).
func quantile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p)]
}

// dialerFrom returns a WebSocket dialer whose connections leave from the
// source address ip ("" for any).
func dialerFrom(ip string) func(base, token string) (*websocket.Conn, error) {
	if ip == "" {
		return func(base, token string) (*websocket.Conn, error) { return dialWS(base, token, "") }
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	return func(base, token string) (*websocket.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v1/ws",
			&websocket.DialOptions{HTTPClient: client, HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
		return c, err
	}
}
