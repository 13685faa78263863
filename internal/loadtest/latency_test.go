package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/client"
)

// droppingConn is a beacon's socket that loses the first pings it gets,
// as a beacon on a busy machine misses a bot's wait.
type droppingConn struct {
	net.PacketConn
	drop atomic.Int32
}

func (d *droppingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := d.PacketConn.ReadFrom(b)
		if err != nil || d.drop.Add(-1) < 0 {
			return n, from, err
		}
	}
}

// A run measures latencies once for all its bots; a location whose beacon
// did not answer is measured again rather than left out, which would send
// every bot of a rule set with a latency rule to fail UNMATCHABLE.
func TestMeasureLatenciesRetriesALocationWhoseBeaconDidNotAnswer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn := &droppingConn{PacketConn: pc}
	conn.drop.Store(1)
	srv := beacon.NewServer(conn, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"locations":[{"locationName":"custom-busy","pingBeacons":[{"domain":"127.0.0.1","port":%d}]},{"locationName":"custom-none","pingBeacons":[]}]}`, port)
	}))
	defer api.Close()
	// One ping a measurement, waited for up to a second: the first is lost.
	got, err := measureLatencies(ctx, client.New(api.URL, client.WithPings(1, time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["custom-busy"]; !ok || len(got) != 1 {
		t.Fatalf("latencies %v, want custom-busy measured on a second attempt and nothing for the location without beacons", got)
	}
}
