package fleet

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// KindBeacon records the latency beacon an agent reported in its last
// heartbeat (docs/beacon-protocol.md): id <fleetId>/<computeName>, K1 the
// location. It expires when the compute would be declared lost
// (LostAfterHeartbeats intervals), so a silent agent's beacon disappears
// by itself; a draining compute's beacon is removed at once.
const KindBeacon = "beacon"

// Beacon is a stored beacon.
type Beacon struct {
	FleetID     string `json:"fleetId"`
	ComputeName string `json:"computeName"`
	Location    string `json:"location"`
	Domain      string `json:"domain"`
	Port        int    `json:"port"`
}

// recordBeacon keeps (or drops) a compute's beacon, in the heartbeat's
// transaction.
func (s *Service) recordBeacon(ctx context.Context, w store.Writer, c Compute, b *agentwire.Beacon, now time.Time) error {
	id := computeID(c.FleetID, c.Name)
	if b == nil || b.Domain == "" || b.Port <= 0 || c.Status != gamelift.ComputeActive {
		if err := store.Forget(ctx, w, KindBeacon, id); err != nil {
			return err
		}
		return nil
	}
	doc := Beacon{FleetID: c.FleetID, ComputeName: c.Name, Location: c.Location, Domain: b.Domain, Port: b.Port}
	_, err := w.Put(ctx, store.Record{Kind: KindBeacon, ID: id, Doc: store.MustJSON(doc), Keys: store.Keys{c.Location}, Upsert: true,
		ExpiresAt: now.Add(LostAfterHeartbeats * s.cfg.HeartbeatInterval)})
	return err
}

// locationBeacons returns the live beacons of every location, by location
// name, each list without duplicates and sorted.
func locationBeacons(ctx context.Context, r store.Reader) (map[string][]gamelift.UDPEndpoint, error) {
	out := map[string][]gamelift.UDPEndpoint{}
	bs, err := store.FindAll[Beacon](ctx, r, store.Query{Kind: KindBeacon, Prefix: true})
	for _, b := range bs {
		port := int32(b.Port)
		ep := gamelift.UDPEndpoint{Domain: b.Domain, Port: &port}
		if !slices.ContainsFunc(out[b.Location], func(e gamelift.UDPEndpoint) bool { return e.Domain == ep.Domain && *e.Port == *ep.Port }) {
			out[b.Location] = append(out[b.Location], ep)
		}
	}
	for _, eps := range out {
		slices.SortFunc(eps, func(a, b gamelift.UDPEndpoint) int {
			if c := cmp.Compare(a.Domain, b.Domain); c != 0 {
				return c
			}
			return cmp.Compare(*a.Port, *b.Port)
		})
	}
	return out, err
}

// LocationPingBeacons is one location and the ping beacons of its live
// agents (possibly none).
type LocationPingBeacons struct {
	Location string
	Beacons  []gamelift.UDPEndpoint
}

// PingBeacons lists every custom location, by name, with the beacons of
// its live agents: what a game client pings before asking for a match
// (GET /v1/locations, docs/beacon-protocol.md).
func (s *Service) PingBeacons(ctx context.Context) ([]LocationPingBeacons, error) {
	var names []string
	var beacons map[string][]gamelift.UDPEndpoint
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		err := store.Walk(ctx, r, store.Query{Kind: KindLocation, Prefix: true, NoDocs: true}, func(it store.Item) error {
			names = append(names, it.ID)
			return nil
		})
		if err != nil {
			return err
		}
		beacons, err = locationBeacons(ctx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list location beacons: %w", err)
	}
	for name := range beacons {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := make([]LocationPingBeacons, 0, len(names))
	for _, n := range names {
		out = append(out, LocationPingBeacons{Location: n, Beacons: beacons[n]})
	}
	return out, nil
}
