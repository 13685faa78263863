package locations

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/fleet"
)

// Beacon is one UDP ping beacon.
type Beacon struct {
	Domain string `json:"domain"`
	Port   int    `json:"port"`
}

// Location is one entry of the list.
type Location struct {
	LocationName string   `json:"locationName"`
	PingBeacons  []Beacon `json:"pingBeacons"`
}

// List is the body of GET /v1/locations.
type List struct {
	Locations []Location `json:"locations"`
}

// Beacons is what the handler needs of the fleet service.
type Beacons interface {
	PingBeacons(ctx context.Context) ([]fleet.LocationPingBeacons, error)
}

// Handler serves GET /v1/locations: every custom location, by name, with
// the beacons of its live agents (possibly none). The fleet service
// decides what is listed; the handler only renders it.
func Handler(beacons Beacons, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		locs, err := beacons.PingBeacons(r.Context())
		if err != nil {
			httpx.WriteError(w, r, log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		httpx.WriteJSON(w, http.StatusOK, render(locs))
	})
}

func render(locs []fleet.LocationPingBeacons) List {
	out := List{Locations: make([]Location, 0, len(locs))}
	for _, l := range locs {
		loc := Location{LocationName: l.Location, PingBeacons: []Beacon{}}
		for _, ep := range l.Beacons {
			if ep.Port != nil {
				loc.PingBeacons = append(loc.PingBeacons, Beacon{Domain: ep.Domain, Port: int(*ep.Port)})
			}
		}
		out.Locations = append(out.Locations, loc)
	}
	return out
}

// Fetch reads GET /v1/locations from a Muster server (baseURL such as
// "http://127.0.0.1:8080").
func Fetch(ctx context.Context, client *http.Client, baseURL string) (List, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/v1/locations", nil)
	if err != nil {
		return List{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return List{}, fmt.Errorf("fetch locations: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return List{}, fmt.Errorf("fetch locations: %s", resp.Status)
	}
	var l List
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return List{}, fmt.Errorf("fetch locations: %w", err)
	}
	return l, nil
}

// MeasureAll fetches the locations and measures the round-trip time to
// each, in parallel: n pings to its first beacon that answers, median
// kept (beacon.Measure). Locations with no beacon, or none answering, are
// left out. The result maps location names to milliseconds, rounded up to
// at least 1 — the shape of a ticket's LatencyInMs.
func MeasureAll(ctx context.Context, client *http.Client, baseURL string, n int) (map[string]int, error) {
	l, err := Fetch(ctx, client, baseURL)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, loc := range l.Locations {
		wg.Go(func() {
			for _, b := range loc.PingBeacons {
				rtt, err := beacon.Measure(ctx, net.JoinHostPort(b.Domain, strconv.Itoa(b.Port)), n)
				if err != nil {
					continue
				}
				ms := int((rtt + time.Millisecond - 1) / time.Millisecond)
				mu.Lock()
				out[loc.LocationName] = max(ms, 1)
				mu.Unlock()
				return
			}
		})
	}
	wg.Wait()
	return out, ctx.Err()
}
