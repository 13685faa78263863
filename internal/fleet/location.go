package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

// Store kinds owned by this file.
const (
	KindLocation = "location"
	// KindFleetLocation records that a fleet uses a location; its first
	// secondary key is the location name. A location in use by a fleet
	// cannot be deleted.
	KindFleetLocation = "fleetlocation"
)

// Location events written to the outbox.
const (
	EventLocationCreated = "LocationCreated"
	EventLocationDeleted = "LocationDeleted"
)

// Location is a custom location as stored.
type Location struct {
	Name      string    `json:"name"`
	ARN       string    `json:"arn"`
	CreatedAt time.Time `json:"createdAt"`
}

// LocationsConfig configures Locations.
type LocationsConfig struct {
	service.Base
}

// Locations manages custom locations (GameLift Anywhere).
type Locations struct {
	cfg LocationsConfig

	mu           sync.Mutex
	beaconCache  map[string][]gamelift.UDPEndpoint
	beaconExpiry time.Time
}

// beaconCacheTTL is how long ListLocations reuses the beacon table: agents
// report beacons every heartbeat (10 s), so a second of staleness is
// invisible, and it spares a query per listed page.
const beaconCacheTTL = time.Second

// NewLocations returns the location service.
func NewLocations(cfg LocationsConfig) *Locations {
	cfg.Base = cfg.Base.WithDefaults()
	return &Locations{cfg: cfg}
}

func (s *Locations) model(l Location, beacons map[string][]gamelift.UDPEndpoint) gamelift.LocationModel {
	m := gamelift.LocationModel{LocationName: l.Name, LocationArn: l.ARN}
	if eps := beacons[l.Name]; len(eps) > 0 {
		ep := eps[0]
		m.PingBeacon = &gamelift.PingBeacon{UDPEndpoint: &ep}
	}
	return m
}

// beacons looks up the ping beacons of every location (one look-up per
// listed page, not per location).
func (s *Locations) beacons(ctx context.Context, r store.Reader) (map[string][]gamelift.UDPEndpoint, error) {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	if s.beaconCache != nil && now.Before(s.beaconExpiry) {
		b := s.beaconCache
		s.mu.Unlock()
		return b, nil
	}
	s.mu.Unlock()
	b, err := locationBeacons(ctx, r)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.beaconCache, s.beaconExpiry = b, now.Add(beaconCacheTTL)
	s.mu.Unlock()
	return b, nil
}

// CreateLocation creates a custom location.
func (s *Locations) CreateLocation(ctx context.Context, in *gamelift.CreateLocationInput) (*gamelift.CreateLocationOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "LocationName", "CustomInputLocationStringModel", in.LocationName)
		tagging.Validate(v, "Tags", in.Tags, 200)
	}); err != nil {
		return nil, err
	}
	loc := Location{Name: in.LocationName, ARN: s.cfg.ARNs.Build(gamelift.ResourceLocation, in.LocationName), CreatedAt: s.cfg.Clock.Now().UTC()}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		err := s.cfg.CreateTagged(ctx, w, store.Record{Kind: KindLocation, ID: loc.Name, Doc: store.MustJSON(loc)}, loc.ARN, in.Tags,
			fault.New(fault.Conflict, "LocationName: a location named %s already exists", loc.Name))
		if err != nil {
			return err
		}
		return w.Append(ctx, store.Event{Type: EventLocationCreated, Resource: loc.ARN, Time: loc.CreatedAt,
			Doc: store.MustJSON(map[string]string{"locationName": loc.Name, "locationArn": loc.ARN})})
	})
	if err != nil {
		return nil, fmt.Errorf("create location: %w", err)
	}
	m := s.model(loc, nil) // a new location has no agent, so no beacon yet
	return &gamelift.CreateLocationOutput{Location: &m}, nil
}

// ListLocations pages through custom locations by name.
func (s *Locations) ListLocations(ctx context.Context, in *gamelift.ListLocationsInput) (*gamelift.ListLocationsOutput, error) {
	wantCustom := len(in.Filters) == 0
	limit, after, err := service.AuthorizeList(ctx, in.Limit, 100, 200, in.NextToken, func(v *fault.Validator) {
		v.Check(in.Filters == nil || (len(in.Filters) >= 1 && len(in.Filters) <= 2), "Filters", "must have 1 to 2 items")
		for i, f := range in.Filters {
			switch f {
			case gamelift.LocationFilterCustom:
				wantCustom = true
			case gamelift.LocationFilterAWS:
			default:
				v.Add(fmt.Sprintf("Filters[%d]", i), "must be AWS or CUSTOM")
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out := &gamelift.ListLocationsOutput{Locations: []gamelift.LocationModel{}}
	if !wantCustom { // Muster has no AWS locations
		return out, nil
	}
	// A listing needs only names (the record ids) and ARNs (built from
	// them), so it decodes no documents: JSON decoding was an eighth of
	// the cost of a listed page.
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		items, next, err := store.FindPage(ctx, r, store.Query{Kind: KindLocation, Prefix: true, After: after, NoDocs: true}, limit)
		if err != nil {
			return err
		}
		beacons, err := s.beacons(ctx, r)
		if err != nil {
			return err
		}
		out.NextToken = next
		for _, it := range items {
			l := Location{Name: it.ID, ARN: s.cfg.ARNs.Build(gamelift.ResourceLocation, it.ID)}
			out.Locations = append(out.Locations, s.model(l, beacons))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list locations: %w", err)
	}
	return out, nil
}

// DeleteLocation deletes a custom location no fleet uses.
func (s *Locations) DeleteLocation(ctx context.Context, in *gamelift.DeleteLocationInput) (*gamelift.DeleteLocationOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, true, "LocationName", "CustomLocationNameOrArnModel", in.LocationName); err != nil {
		return nil, err
	}
	name := in.LocationName
	if typ, id, ok := s.cfg.ARNs.Parse(name); ok {
		if typ != gamelift.ResourceLocation {
			return nil, fault.BadField("LocationName", "%s is not a location ARN", name)
		}
		name = id
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		loc, version, err := service.Get[Location](ctx, w, KindLocation, name, "LocationName: location %s not found", name)
		if err != nil {
			return err
		}
		err = service.RefuseInUse(ctx, w, store.Query{Kind: KindFleetLocation, Key: 1, Value: name}, func(string) error {
			return fault.BadField("LocationName", "location %s is still used by a fleet; delete the fleet location first", name)
		})
		if err != nil {
			return err
		}
		if err := w.Delete(ctx, KindLocation, name, version); err != nil {
			return err
		}
		if err := s.cfg.Tags.DeleteAll(ctx, w, loc.ARN); err != nil {
			return err
		}
		return w.Append(ctx, store.Event{Type: EventLocationDeleted, Resource: loc.ARN,
			Doc: store.MustJSON(map[string]string{"locationName": loc.Name, "locationArn": loc.ARN})})
	})
	if err != nil {
		return nil, fmt.Errorf("delete location: %w", err)
	}
	return &gamelift.DeleteLocationOutput{}, nil
}

// LocationExists reports whether a custom location exists.
func (s *Locations) LocationExists(ctx context.Context, r store.Reader, name string) (bool, error) {
	_, err := r.Get(ctx, KindLocation, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// KnownLocations returns every location Muster knows: the custom
// locations and the locations of every fleet.
func KnownLocations(ctx context.Context, r store.Reader) (map[string]bool, error) {
	known := map[string]bool{}
	err := store.Walk(ctx, r, store.Query{Kind: KindLocation, Prefix: true, NoDocs: true}, func(it store.Item) error {
		known[it.ID] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = store.Walk(ctx, r, store.Query{Kind: KindFleetLocation, Prefix: true}, func(it store.Item) error {
		known[it.Keys[0]] = true
		return nil
	})
	return known, err
}
