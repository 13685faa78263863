package fleet

import (
	"context"
	"errors"
	"sort"
	"time"

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
func (s *Service) recordBeacon(ctx context.Context, w store.Writer, c Compute, b *AgentBeacon, now time.Time) error {
	id := computeID(c.FleetID, c.Name)
	if b == nil || b.Domain == "" || b.Port <= 0 || c.Status != gamelift.ComputeActive {
		if err := w.Delete(ctx, KindBeacon, id, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}
	doc := Beacon{FleetID: c.FleetID, ComputeName: c.Name, Location: c.Location, Domain: b.Domain, Port: b.Port}
	_, err := w.Put(ctx, store.Record{Kind: KindBeacon, ID: id, Doc: store.MustJSON(doc), Keys: store.Keys{c.Location}, Upsert: true,
		ExpiresAt: now.Add(LostAfterHeartbeats * s.cfg.HeartbeatInterval)})
	return err
}

// LocationBeacons returns the live beacons of every location, by location
// name, each list without duplicates and sorted.
func (s *Service) LocationBeacons(ctx context.Context) (map[string][]gamelift.UDPEndpoint, error) {
	out := map[string][]gamelift.UDPEndpoint{}
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		after := ""
		for {
			items, err := r.Find(ctx, store.Query{Kind: KindBeacon, Prefix: true, After: after, Limit: 1000})
			if err != nil {
				return err
			}
			bs, err := store.Decode[Beacon](items)
			if err != nil {
				return err
			}
			for _, b := range bs {
				port := int32(b.Port)
				ep := gamelift.UDPEndpoint{Domain: b.Domain, Port: &port}
				dup := false
				for _, e := range out[b.Location] {
					dup = dup || (e.Domain == ep.Domain && *e.Port == *ep.Port)
				}
				if !dup {
					out[b.Location] = append(out[b.Location], ep)
				}
			}
			if len(items) < 1000 {
				return nil
			}
			after = items[len(items)-1].ID
		}
	})
	for _, eps := range out {
		sort.Slice(eps, func(i, j int) bool {
			if eps[i].Domain != eps[j].Domain {
				return eps[i].Domain < eps[j].Domain
			}
			return *eps[i].Port < *eps[j].Port
		})
	}
	return out, err
}
