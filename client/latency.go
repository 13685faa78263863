package client

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/musterhq/muster/beacon"
)

// MaxLatencyMs is the largest latency a ticket may carry.
const MaxLatencyMs = 60000

// Location is a place game servers run, with the UDP ping beacons of its
// live hosts.
type Location struct {
	Name    string   `json:"locationName"`
	Beacons []Beacon `json:"pingBeacons"`
}

// Beacon is a UDP ping beacon (docs/beacon-protocol.md).
type Beacon struct {
	Domain string `json:"domain"`
	Port   int    `json:"port"`
}

// Addr is the beacon's host:port.
func (b Beacon) Addr() string { return net.JoinHostPort(b.Domain, strconv.Itoa(b.Port)) }

// Locations lists every location with its beacons (no sign-in needed). A
// location with no live host has no beacon.
func (c *Client) Locations(ctx context.Context) ([]Location, error) {
	var l struct {
		Locations []Location `json:"locations"`
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/locations", out: &l}); err != nil {
		return nil, err
	}
	return l.Locations, nil
}

// MeasureLatencies measures the round trip to every location that has a
// beacon, all locations at once: a few pings (WithPings) to the first of
// its beacons that answers, the median kept (beacon.Measure). The result
// maps location names to milliseconds, the shape a ticket takes
// (StartMatchmaking): a round trip under a millisecond counts as 1, since
// the API refuses 0, and one over a minute as MaxLatencyMs. Locations
// without a beacon, or whose beacons do not answer, are left out: only
// failing to list the locations is an error, or ctx ending (with what was
// measured by then).
func (c *Client) MeasureLatencies(ctx context.Context) (map[string]int, error) {
	locs, err := c.Locations(ctx)
	if err != nil {
		return nil, err
	}
	pinger := beacon.Pinger{Timeout: c.pingWait}
	out := make(map[string]int, len(locs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, loc := range locs {
		wg.Go(func() {
			for _, b := range loc.Beacons {
				rtt, err := pinger.Measure(ctx, b.Addr(), c.pings)
				if err != nil {
					continue
				}
				mu.Lock()
				out[loc.Name] = Milliseconds(rtt)
				mu.Unlock()
				return
			}
		})
	}
	wg.Wait()
	return out, ctx.Err()
}

// Milliseconds renders a round trip as a ticket's latency: whole
// milliseconds rounded up, at least 1 and at most MaxLatencyMs.
func Milliseconds(rtt time.Duration) int {
	ms := (rtt + time.Millisecond - 1) / time.Millisecond
	return int(min(max(ms, 1), MaxLatencyMs))
}
