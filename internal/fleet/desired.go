package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// KindCapacity is a fleet location's capacity settings: id
// <fleetId>/<location>; K1 fleet id. A location without one was never set
// (UpdateFleetCapacity) and is not managed: Muster neither adds nor removes
// its computes.
const KindCapacity = "fleetcapacity"

// Capacity is one fleet location's capacity as stored: what
// UpdateFleetCapacity and scaling policies set, whether auto-scaling is
// stopped there, and the hosts asked of its provisioner that have not
// registered yet.
type Capacity struct {
	FleetID  string                                 `json:"fleetId"`
	Location string                                 `json:"location"`
	Desired  int                                    `json:"desired"`
	Min      int                                    `json:"min"`
	Max      int                                    `json:"max"`
	Managed  *gamelift.ManagedCapacityConfiguration `json:"managed,omitempty"`
	// Set says the capacity was set (UpdateFleetCapacity, a scaling
	// policy): only then does Muster add and remove computes.
	Set bool `json:"set,omitempty"`
	// ScalingStopped is set by StopFleetActions(AUTO_SCALING).
	ScalingStopped bool `json:"scalingStopped,omitempty"`
	// Pending lists hosts asked of the provisioner, not registered yet;
	// Releasing, drained hosts given back to it, not deregistered yet.
	Pending   []PendingHost `json:"pending,omitempty"`
	Releasing []PendingHost `json:"releasing,omitempty"`
	// ScaledOut and ScaledIn are when a scaling policy last raised or
	// lowered the desired count (cool-downs are measured from them).
	ScaledOut time.Time `json:"scaledOut,omitzero"`
	ScaledIn  time.Time `json:"scaledIn,omitzero"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// PendingHost is a host asked of a provisioner. Attempts counts the asks;
// a failed or late host is asked again at NextAttempt, with backoff.
type PendingHost struct {
	ComputeName string    `json:"computeName"`
	RequestedAt time.Time `json:"requestedAt"`
	// Deadline is when the host must have registered by.
	Deadline    time.Time `json:"deadline"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
	// Failures counts the attempts that failed (the provisioner's error,
	// or no registration by the deadline).
	Failures int `json:"failures,omitempty"`
}

func capacityID(fleetID, location string) string { return fleetID + "/" + location }

// GetCapacity reads a location's capacity record; found is false for a
// location whose capacity was never set.
func GetCapacity(ctx context.Context, r store.Reader, fleetID, location string) (c Capacity, version int64, found bool, err error) {
	c, version, err = store.GetJSON[Capacity](ctx, r, KindCapacity, capacityID(fleetID, location))
	if errors.Is(err, store.ErrNotFound) {
		return Capacity{FleetID: fleetID, Location: location}, 0, false, nil
	}
	return c, version, err == nil, err
}

// PutCapacity writes a location's capacity record (version as read).
func PutCapacity(ctx context.Context, w store.Writer, c Capacity, version int64) error {
	_, err := w.Put(ctx, store.Record{Kind: KindCapacity, ID: capacityID(c.FleetID, c.Location), Doc: store.MustJSON(c), Keys: store.Keys{c.FleetID}, Version: version})
	return err
}

// ManagedCapacities lists every location whose capacity was set.
func ManagedCapacities(ctx context.Context, r store.Reader) ([]Capacity, error) {
	return store.FindAll[Capacity](ctx, r, store.Query{Kind: KindCapacity, Prefix: true})
}

// capacityOrDefaults is a location's stored capacity or, when it was never
// set (found false), the defaults of unsetCapacity from what it has now.
func (s *Service) capacityOrDefaults(ctx context.Context, r store.Reader, f Fleet, loc string) (c Capacity, version int64, found bool, err error) {
	c, version, found, err = GetCapacity(ctx, r, f.ID, loc)
	if err != nil || found {
		return c, version, found, err
	}
	u, err := s.usage(ctx, r, f, loc)
	if err != nil {
		return Capacity{}, 0, false, err
	}
	return unsetCapacity(f.ID, loc, u), 0, false, nil
}

// defaults are the capacity of a location never set: what it has. Desired
// is its active computes, minimum 0, maximum at least 1 (GameLift's
// defaults for MinSize and MaxSize) and at least the computes it has.
func unsetCapacity(fleetID, location string, u usage) Capacity {
	return Capacity{FleetID: fleetID, Location: location, Desired: u.computesActive, Min: 0,
		Max: max(1, u.computesActive+u.computesTerminating)}
}

// homeLocation is the location an operation without Location means: the
// fleet's only location (an Anywhere fleet has no home Region).
func homeLocation(f Fleet, loc string) (string, error) {
	switch {
	case loc != "":
		if !f.HasLocation(loc) {
			return "", fault.New(fault.NotFound, "Location: fleet %s has no location %s", f.ID, loc)
		}
		return loc, nil
	case len(f.Locations) == 1:
		return f.Locations[0], nil
	}
	return "", fault.BadField("Location", "is required: fleet %s has %d locations and no home Region", f.ID, len(f.Locations))
}

func validateManaged(v *fault.Validator, in *gamelift.UpdateFleetCapacityInput) {
	m := in.ManagedCapacityConfiguration
	if m == nil {
		return
	}
	v.Check(m.ZeroCapacityStrategy == "" || m.ZeroCapacityStrategy == gamelift.ZeroCapacityManual || m.ZeroCapacityStrategy == gamelift.ZeroCapacityScaleToAndFromZero,
		"ManagedCapacityConfiguration.ZeroCapacityStrategy", "must be MANUAL or SCALE_TO_AND_FROM_ZERO")
	if n := m.ScaleInAfterInactivityMinutes; n != nil {
		v.Check(*n >= 5 && *n <= 1440, "ManagedCapacityConfiguration.ScaleInAfterInactivityMinutes", "must be 5 to 1440")
	}
	v.Check(!(m.ZeroCapacityStrategy == gamelift.ZeroCapacityScaleToAndFromZero && in.MinSize != nil), "MinSize",
		"cannot be set with ZeroCapacityStrategy SCALE_TO_AND_FROM_ZERO, which manages the minimum")
}

// UpdateFleetCapacity sets a fleet location's desired, minimum and maximum
// number of computes (GameLift's instances) — a Muster extension for its
// own fleets: the capacity service asks the location's provisioner for
// hosts, or drains and releases them, until the location has the desired
// number. Members left out keep their value (for a location never set, the
// defaults of unsetCapacity). A count above MaxInstances is refused with
// LimitExceeded, changing nothing. Each change is a FLEET_SCALING_EVENT.
func (s *Service) UpdateFleetCapacity(ctx context.Context, in *gamelift.UpdateFleetCapacityInput) (*gamelift.UpdateFleetCapacityOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		s.cfg.Formats.CheckSet(v, "Location", "LocationStringModel", in.Location)
		for member, n := range map[string]*int32{"DesiredInstances": in.DesiredInstances, "MinSize": in.MinSize, "MaxSize": in.MaxSize} {
			v.Check(n == nil || *n >= 0, member, "must be at least 0")
		}
		v.Check(in.DesiredInstances != nil || in.MinSize != nil || in.MaxSize != nil || in.ManagedCapacityConfiguration != nil,
			"DesiredInstances", "one of DesiredInstances, MinSize, MaxSize or ManagedCapacityConfiguration is required")
		validateManaged(v, in)
	}); err != nil {
		return nil, err
	}
	if err := s.checkInstanceLimit(in); err != nil {
		return nil, err
	}
	var out gamelift.UpdateFleetCapacityOutput
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		f, err := GetActiveFleet(ctx, w, s.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		loc, err := homeLocation(f, in.Location)
		if err != nil {
			return err
		}
		c, version, found, err := s.capacityOrDefaults(ctx, w, f, loc)
		if err != nil {
			return err
		}
		old := c
		c.Set = true
		if err := applyCapacity(&c, in); err != nil {
			return err
		}
		c.UpdatedAt = s.cfg.Clock.Now().UTC()
		if err := PutCapacity(ctx, w, c, version); err != nil {
			return err
		}
		out = gamelift.UpdateFleetCapacityOutput{FleetId: f.ID, FleetArn: f.ARN, Location: loc, ManagedCapacityConfiguration: c.Managed}
		if found && old.Desired == c.Desired && old.Min == c.Min && old.Max == c.Max {
			return nil
		}
		s.capacityChangedAfterCommit(w, f.ID, loc)
		return s.AddEvent(ctx, w, f.ID, "FLEET_SCALING_EVENT", fmt.Sprintf("Capacity of %s set to desired %d (minimum %d, maximum %d); was desired %d (minimum %d, maximum %d)",
			loc, c.Desired, c.Min, c.Max, old.Desired, old.Min, old.Max))
	})
	if err != nil {
		return nil, fmt.Errorf("update fleet capacity: %w", err)
	}
	return &out, nil
}

// Target is how many computes reconciling brings a location to when it has
// have of them (ACTIVE, or asked of its provisioner): its desired count,
// but no more than MaxInstances or have, whichever is larger. A desired
// count stored above the limit (before the limit existed, or before it was
// lowered) thus asks for no host beyond the limit, and drains none for
// being above it.
func (s *Service) Target(c Capacity, have int) int {
	return min(c.Desired, max(s.cfg.MaxInstances, have))
}

// checkInstanceLimit refuses, as GameLift refuses desired instances above
// the account's instance limit, any count given above MaxInstances. It
// checks the members given, not the record they would change: a location
// set above the limit before the limit existed, or before it was lowered,
// can still be changed in its other members, and is held to the limit
// where its counts are acted on (SetDesired, the capacity service's
// reconciling).
func (s *Service) checkInstanceLimit(in *gamelift.UpdateFleetCapacityInput) error {
	var over []string
	for _, m := range []struct {
		name string
		n    *int32
	}{{"DesiredInstances", in.DesiredInstances}, {"MinSize", in.MinSize}, {"MaxSize", in.MaxSize}} {
		if m.n != nil && int(*m.n) > s.cfg.MaxInstances {
			over = append(over, fmt.Sprintf("%s: %d is above the limit of %d instances per fleet location", m.name, *m.n, s.cfg.MaxInstances))
		}
	}
	if len(over) == 0 {
		return nil
	}
	return fault.New(fault.LimitExceeded, "%s (muster serve --capacity-max-instances)", strings.Join(over, "; "))
}

// applyCapacity applies the members given and checks the result as GameLift
// does: MinSize ≤ DesiredInstances ≤ MaxSize.
func applyCapacity(c *Capacity, in *gamelift.UpdateFleetCapacityInput) error {
	if in.MinSize != nil {
		c.Min = int(*in.MinSize)
	}
	if in.MaxSize != nil {
		c.Max = int(*in.MaxSize)
	}
	if in.DesiredInstances != nil {
		c.Desired = int(*in.DesiredInstances)
	}
	if m := in.ManagedCapacityConfiguration; m != nil {
		mc := *m
		if mc.ZeroCapacityStrategy == "" {
			mc.ZeroCapacityStrategy = gamelift.ZeroCapacityManual
		}
		if mc.ScaleInAfterInactivityMinutes == nil {
			d := int32(30)
			mc.ScaleInAfterInactivityMinutes = &d
		}
		c.Managed = &mc
	}
	var v fault.Validator
	if c.Min > c.Max {
		member := "MinSize"
		if in.MinSize == nil {
			member = "MaxSize"
		}
		v.Add(member, fmt.Sprintf("MinSize (%d) must not exceed MaxSize (%d)", c.Min, c.Max))
	} else if c.Desired < c.Min || c.Desired > c.Max {
		v.Add("DesiredInstances", fmt.Sprintf("must be between MinSize (%d) and MaxSize (%d), and is %d", c.Min, c.Max, c.Desired))
	}
	return v.Err()
}

// SetDesired changes a managed location's desired capacity inside w's
// transaction, clamped to its minimum and maximum, with a
// FLEET_SCALING_EVENT saying why. It returns the new desired count.
// MaxInstances holds back raising, not lowering: a location set above it
// before the limit existed, or before it was lowered, may be scaled in
// but is not raised, and is not lowered for being above it.
func (s *Service) SetDesired(ctx context.Context, w store.Writer, f Fleet, location string, desired int, why string) (int, error) {
	fleetID := f.ID
	c, version, found, err := GetCapacity(ctx, w, fleetID, location)
	if err != nil {
		return c.Desired, err
	}
	if !found {
		u, err := s.usage(ctx, w, f, location)
		if err != nil {
			return 0, err
		}
		c = unsetCapacity(fleetID, location, u)
	}
	c.Set = true
	desired = min(max(desired, c.Min), max(min(c.Max, s.cfg.MaxInstances), c.Desired))
	if desired == c.Desired {
		return desired, nil
	}
	old := c.Desired
	c.Desired, c.UpdatedAt = desired, s.cfg.Clock.Now().UTC()
	if desired > old {
		c.ScaledOut = c.UpdatedAt
	} else {
		c.ScaledIn = c.UpdatedAt
	}
	if err := PutCapacity(ctx, w, c, version); err != nil {
		return old, err
	}
	s.capacityChangedAfterCommit(w, fleetID, location)
	return desired, s.AddEvent(ctx, w, fleetID, "FLEET_SCALING_EVENT", fmt.Sprintf("Desired capacity of %s changed from %d to %d: %s", location, old, desired, why))
}

// OnCapacityChange sets the hook run after a location's desired capacity
// changes, so that the capacity service reconciles it at once. It is a
// setter because the capacity service is built on this one.
func (s *Service) OnCapacityChange(h func(fleetID, location string)) { s.onDesired = h }

func (s *Service) capacityChangedAfterCommit(w store.Writer, fleetID, location string) {
	if h := s.onDesired; h != nil {
		w.AfterCommit(func() { h(fleetID, location) })
	}
}

// StartFleetActions resumes auto-scaling in a location (or, without
// Location, in every location of the fleet).
func (s *Service) StartFleetActions(ctx context.Context, in *gamelift.StartFleetActionsInput) (*gamelift.StartFleetActionsOutput, error) {
	return s.fleetActions(ctx, in, false)
}

// StopFleetActions suspends auto-scaling: scaling policies keep their
// status but are not evaluated until StartFleetActions.
func (s *Service) StopFleetActions(ctx context.Context, in *gamelift.StopFleetActionsInput) (*gamelift.StopFleetActionsOutput, error) {
	return s.fleetActions(ctx, in, true)
}

func (s *Service) fleetActions(ctx context.Context, in *gamelift.StartFleetActionsInput, stop bool) (*gamelift.StartFleetActionsOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		s.cfg.Formats.CheckSet(v, "Location", "LocationStringModel", in.Location)
		v.Check(len(in.Actions) == 1, "Actions", "must have 1 item")
		for i, a := range in.Actions {
			v.Check(a == gamelift.FleetActionAutoScaling, fmt.Sprintf("Actions[%d]", i), "must be AUTO_SCALING")
		}
	}); err != nil {
		return nil, err
	}
	var out gamelift.StartFleetActionsOutput
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		f, _, err := GetFleet(ctx, w, s.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		out = gamelift.StartFleetActionsOutput{FleetId: f.ID, FleetArn: f.ARN}
		locs := f.Locations
		if in.Location != "" {
			if !f.HasLocation(in.Location) {
				return fault.New(fault.NotFound, "Location: fleet %s has no location %s", f.ID, in.Location)
			}
			locs = []string{in.Location}
		}
		for _, l := range locs {
			if err := s.setScalingStopped(ctx, w, f, l, stop); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fleet actions: %w", err)
	}
	return &out, nil
}

func (s *Service) setScalingStopped(ctx context.Context, w store.Writer, f Fleet, loc string, stop bool) error {
	c, version, found, err := s.capacityOrDefaults(ctx, w, f, loc)
	if err != nil {
		return err
	}
	if found && c.ScalingStopped == stop {
		return nil
	}
	c.ScalingStopped, c.UpdatedAt = stop, s.cfg.Clock.Now().UTC()
	if err := PutCapacity(ctx, w, c, version); err != nil {
		return err
	}
	verb := "resumed"
	if stop {
		verb = "stopped"
	}
	return s.AddEvent(ctx, w, f.ID, "FLEET_SCALING_EVENT", fmt.Sprintf("Auto-scaling %s in %s", verb, loc))
}

// stoppedActions lists the actions stopped in any of a fleet's locations.
func stoppedActions(ctx context.Context, r store.Reader, f Fleet) ([]string, error) {
	cs, err := store.FindAll[Capacity](ctx, r, store.Query{Kind: KindCapacity, Key: 1, Value: f.ID})
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(cs, func(c Capacity) bool { return c.ScalingStopped }) {
		return []string{gamelift.FleetActionAutoScaling}, nil
	}
	return nil, nil
}
