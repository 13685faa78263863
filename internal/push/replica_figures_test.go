package push_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/postgres"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/testenv"
)

// TestReplicaFigures measures players' WebSockets held by `muster serve`
// replicas on one PostgreSQL database: MUSTER_FIGURES_REPLICAS replicas
// (default 3) hold MUSTER_FIGURES_SOCKETS sockets (default 50,000) opened
// by MUSTER_FIGURES_LOADERS load processes (default two per replica), each
// from its own 127.0.0.x source address and under its own open file limit,
// loader k connecting to replica k mod the replicas. It reports each
// replica's RSS, heap and stacks before and while the sockets are held, then
// commits MUSTER_FIGURES_RATE events/s (default 200) for 10 s into the
// outbox from this process (announced on the bus, as a replica's commit is)
// and reports the delay from each event's commit to its arrival on every
// socket of its player. It asserts nothing about the figures. Run with
//
//	MUSTER_FIGURES=1 MUSTER_TEST_POSTGRES=postgres://… go test ./internal/push -run TestReplicaFigures -v -timeout 30m
func TestReplicaFigures(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES") != "1" {
		t.Skip("set MUSTER_FIGURES=1 to measure")
	}
	replicas := envInt("MUSTER_FIGURES_REPLICAS", 3)
	sockets := envInt("MUSTER_FIGURES_SOCKETS", 50_000)
	loaders := envInt("MUSTER_FIGURES_LOADERS", 2*replicas)
	rate := envInt("MUSTER_FIGURES_RATE", 200)
	const players = 2000
	events := rate * 10
	storeURL := pgtest.NewDatabase(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	// This process mints the players' tokens with the replicas' master
	// key, and commits the events.
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	db, err := postgres.Open(ctx, postgres.Config{URL: storeURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	base := service.Base{Store: db, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler)}
	ids, err := identity.Open(ctx, identity.Config{Base: base, Box: box, AccessTokenLifetime: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var tokens, who []string
	for range players {
		tok, err := ids.Anonymous(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		tokens, who = append(tokens, tok.AccessToken), append(who, tok.IdentityID)
	}
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "tokens")
	os.WriteFile(tokFile, []byte(strings.Join(tokens, "\n")), 0o600)
	announce(ctx, t, storeURL, db)
	t.Logf("%d players signed in", players)

	var srvs []*testenv.Server
	for i := range replicas {
		srvs = append(srvs, testenv.Start(t, testenv.WithArgs("--store", storeURL, "--master-key", hex.EncodeToString(key),
			"--replica-id", fmt.Sprintf("r%d", i), "--sdk-listen", "127.0.0.1:0", "--player-ip-rate", "0")))
	}
	before := make([]replicaMem, replicas)
	for i, s := range srvs {
		before[i] = scrapeMem(t, s.URL())
	}

	lines, kill := startLoaders(t, loaders, sockets, events, tokFile, dir, srvs)
	defer kill()
	for range loaders {
		t.Log(waitLine(t, lines, "READY"))
	}
	var total replicaMem
	for i, s := range srvs {
		held := scrapeMem(t, s.URL())
		n := held.clients
		t.Logf("replica %d: %d sockets; RSS %.1f → %.1f MiB (%.1f KiB per socket); heap+stacks %.1f → %.1f MiB (%.1f KiB per socket); goroutines %d",
			i, n, mib(before[i].rss), mib(held.rss), perSocket(held.rss-before[i].rss, n),
			mib(before[i].heap), mib(held.heap), perSocket(held.heap-before[i].heap, n), held.goroutines)
		total.rss += held.rss
		total.heap += held.heap
		total.clients += n
	}
	t.Logf("all %d replicas: %d sockets, RSS %.1f MiB in all, heap+stacks %.1f MiB", replicas, total.clients, mib(total.rss), mib(total.heap))

	// Each event is committed at its rate; committed says when its commit
	// returned, which is when a replica may first read it.
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	committed := make(map[string]time.Time, events)
	var commits []time.Duration
	start := time.Now()
	for i := range events {
		<-tick.C
		ev := searchingAt(testARNs, fmt.Sprintf("t%d", i), []string{who[i%players]}, time.Now())
		if err := db.Update(ctx, func(w store.Writer) error { return w.Append(ctx, ev) }); err != nil {
			t.Fatal(err)
		}
		committed[ev.ID] = time.Now()
		commits = append(commits, time.Since(ev.Time))
	}
	slices.Sort(commits)
	t.Logf("committed %d events in %s; one commit took p50 %s p99 %s", events, time.Since(start).Round(time.Millisecond),
		quantile(commits, .5), quantile(commits, .99))
	for range loaders {
		t.Log(waitLine(t, lines, "LATENCY"))
	}
	var delays []time.Duration
	for k := range loaders {
		b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("delays-%d", k)))
		for l := range strings.Lines(string(b)) {
			id, us, _ := strings.Cut(strings.TrimSpace(l), " ")
			at, _ := strconv.ParseInt(us, 10, 64)
			if c, ok := committed[id]; ok {
				delays = append(delays, max(0, time.UnixMicro(at).Sub(c)))
			}
		}
	}
	slices.Sort(delays)
	t.Logf("from the commit's return to the socket, over all %d messages: p50 %s p99 %s max %s",
		len(delays), quantile(delays, .5), quantile(delays, .99), quantile(delays, 1))
}

// announce publishes this process's commits on the replicas' bus, as a
// replica does, so their outbox readers wake at once.
func announce(ctx context.Context, t *testing.T, storeURL string, db store.Store) {
	t.Helper()
	events := replicaEvents(ctx, t, storeURL, "figures")
	go events.Announce(ctx, db.(store.EventNotifier))
}

// startLoaders starts the load processes (TestFiguresClients) and returns
// their merged output lines and a function that kills them.
func startLoaders(t *testing.T, loaders, sockets, events int, tokFile, dir string, srvs []*testenv.Server) (*bufio.Scanner, func()) {
	t.Helper()
	pr, pw := io.Pipe()
	var cmds []*exec.Cmd
	var wg sync.WaitGroup
	for k := range loaders {
		n := sockets / loaders
		if k < sockets%loaders {
			n++
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestFiguresClients$", "-test.v")
		cmd.Env = append(os.Environ(), "MUSTER_FIGURES_CHILD=1", "MUSTER_FIGURES_URL="+srvs[k%len(srvs)].URL(),
			"MUSTER_FIGURES_TOKENS="+tokFile, "MUSTER_FIGURES_SOCKETS="+strconv.Itoa(n),
			"MUSTER_FIGURES_OFFSET="+strconv.Itoa(k*(sockets/loaders)), "MUSTER_FIGURES_EVENTS="+strconv.Itoa(events),
			fmt.Sprintf("MUSTER_FIGURES_SOURCE=127.0.0.%d", 10+k), "MUSTER_FIGURES_DELAYS="+filepath.Join(dir, fmt.Sprintf("delays-%d", k)),
			"GOGC=400")
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		wg.Go(func() { io.Copy(pw, out) })
	}
	go func() { wg.Wait(); pw.Close() }()
	return bufio.NewScanner(pr), func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}
}

// replicaMem is what a replica's /metrics says of its memory.
type replicaMem struct {
	rss, heap  uint64 // heap: heap in use plus stacks
	goroutines int
	clients    int // players' WebSockets open
}

func scrapeMem(t *testing.T, url string) replicaMem {
	t.Helper()
	// A heap profile with gc=1 collects first, so the heap figure is what
	// is live rather than what GOGC=400 lets wait for collection.
	req, _ := http.NewRequest("GET", url+"/debug/pprof/heap?gc=1", nil)
	req.Header.Set("Authorization", "Bearer "+testenv.AdminKeyID+":"+testenv.AdminSecret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("collecting the heap: %v, %v", resp, err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m replicaMem
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "process_resident_memory_bytes":
			m.rss = uint64(v)
		case "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes":
			m.heap += uint64(v)
		case "go_goroutines":
			m.goroutines = int(v)
		case `muster_push_clients{transport="websocket"}`:
			m.clients = int(v)
		}
	}
	return m
}
