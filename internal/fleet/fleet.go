package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

// Store kinds owned by the fleet service (besides KindLocation and
// KindFleetLocation in location.go). Secondary keys:
//
//	fleet:         id fleet-<uuid>;               K1 name
//	fleetlocation: id <fleetId>/<location>;        K1 location, K2 fleet id
//	fleetevent:    id <fleetId>/<ms, 16 digits>-<sequence>-<uuid>; K1 fleet id
//	alias:         id alias-<uuid>;               K1 name, K2 routing type
//	compute:       id <fleetId>/<computeName>;     K1 fleet id, K2 <fleetId>/<location>
//	computetoken:  id the token;                  K1 <fleetId>/<computeName>
//	process:       id the SDK pID;                K1 <fleetId>/<location>/<state>, K2 <fleetId>/<computeName>, K3 game session ARN
//	fleetcapacity: id <fleetId>/<location>;        K1 fleet id (desired.go: KindCapacity)
const (
	KindFleet        = "fleet"
	KindFleetEvent   = "fleetevent"
	KindAlias        = "alias"
	KindCompute      = "compute"
	KindComputeToken = "computetoken"
	KindProcess      = "process"
)

// Defaults, as GameLift has them where GameLift has one.
const (
	// DefaultActivationTimeout applies when the runtime configuration sets
	// no GameSessionActivationTimeoutSeconds (GameLift's default, 300 s).
	DefaultActivationTimeout = 300 * time.Second
	// DefaultHeartbeatInterval is how often agents heartbeat; a compute
	// that misses LostAfterHeartbeats of them is lost.
	DefaultHeartbeatInterval = 10 * time.Second
	LostAfterHeartbeats      = 3
	// DefaultMaxInstances is the most computes a fleet location may be
	// set to want (Config.MaxInstances). GameLift bounds a fleet's
	// desired instances by the account's instance limit; Muster bounds
	// them per location, where its provisioners act, so that one mistyped
	// UpdateFleetCapacity cannot have a provisioner asked for billions of
	// hosts.
	DefaultMaxInstances = 1000
	// DefaultTokenTTL is the life of a compute auth token (GameLift: ~3 h).
	DefaultTokenTTL = 3 * time.Hour
	// tokenGrace keeps an expired token valid for reconnects of processes
	// already attached with it: the Go SDK reconnects with the URL (and so
	// the token) it started with, for the whole life of the process.
	tokenGrace = 24 * time.Hour
)

// Fleet is a fleet as stored.
type Fleet struct {
	ID            string                                `json:"id"`
	ARN           string                                `json:"arn"`
	Name          string                                `json:"name"`
	Description   string                                `json:"description,omitempty"`
	Status        string                                `json:"status"`
	CreatedAt     time.Time                             `json:"createdAt"`
	Locations     []string                              `json:"locations"`
	Runtime       gamelift.RuntimeConfiguration         `json:"runtime"`
	Protection    string                                `json:"protection"`
	CreationLimit *gamelift.ResourceCreationLimitPolicy `json:"creationLimit,omitempty"`
	Cost          string                                `json:"cost,omitempty"`
}

// ActivationTimeout is how long a new game session may stay ACTIVATING.
func (f Fleet) ActivationTimeout() time.Duration {
	if t := f.Runtime.GameSessionActivationTimeoutSeconds; t != nil && *t > 0 {
		return time.Duration(*t) * time.Second
	}
	return DefaultActivationTimeout
}

// HasLocation reports whether the fleet has the location.
func (f Fleet) HasLocation(loc string) bool { return slices.Contains(f.Locations, loc) }

type fleetLocation struct {
	FleetID   string    `json:"fleetId"`
	Location  string    `json:"location"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
}

// Pusher delivers server-protocol pushes to connected processes (the SDK
// adapter implements it).
type Pusher interface {
	// TerminateProcess tells a process to end by at.
	TerminateProcess(processID string, at time.Time)
	// ProcessEnded says a process ended, so its connection state can go.
	ProcessEnded(processID string)
}

// Sessions is what the fleet service needs of the session service, which
// is built on the fleet service (see SetSessions).
type Sessions interface {
	// ProcessEnded runs inside the transaction that ends a process hosting a
	// live game session, so that the game session ends with it.
	ProcessEnded(ctx context.Context, w store.Writer, p Process, reason string) error
	// SessionCounts reports the current and maximum player sessions of a
	// fleet location's live game sessions, for DescribeFleetUtilization.
	SessionCounts(ctx context.Context, r store.Reader, fleetID, location string) (current, maximum int, err error)
}

// Config configures the fleet service.
type Config struct {
	service.Base
	// SDKEndpoint is the server-SDK WebSocket URL RegisterCompute advertises.
	SDKEndpoint func() string
	// Pusher sends TerminateProcess to processes of draining computes (the
	// SDK endpoint's hub, sdk.Hub); nil sends nothing.
	Pusher            Pusher
	HeartbeatInterval time.Duration
	TokenTTL          time.Duration
	// MaxInstances is the most computes a location's capacity may ask for
	// (default DefaultMaxInstances): UpdateFleetCapacity refuses more,
	// and scaling policies and reconciling never go above it.
	MaxInstances int
	// TerminateGrace is the TerminationTime given to processes told to end.
	TerminateGrace time.Duration
}

// Service owns fleets, aliases, computes and server processes.
type Service struct {
	cfg        Config
	sessions   Sessions
	onCapacity func(fleetID, location string)
	onDesired  func(fleetID, location string)
	eventSeq   atomic.Int64
}

// NewService returns the fleet service.
func NewService(cfg Config) *Service {
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.MaxInstances <= 0 {
		cfg.MaxInstances = DefaultMaxInstances
	}
	if cfg.TerminateGrace <= 0 {
		cfg.TerminateGrace = DefaultTerminateGrace
	}
	if cfg.SDKEndpoint == nil {
		cfg.SDKEndpoint = func() string { return "" }
	}
	return &Service{cfg: cfg}
}

// SetSessions connects the session service (session.New calls it). It is
// a setter, not a Config field, because the session service is built on
// this one: each needs the other, and the session service comes second.
func (s *Service) SetSessions(ss Sessions) { s.sessions = ss }

// OnCapacity sets the hook that runs after a process becomes able to take
// a game session (ProcessReady, or healthy again), so that placements
// waiting for capacity try at once. It is a setter, not a Config field,
// because placement is built on this service: it is set once placement
// exists, before serving.
func (s *Service) OnCapacity(h func(fleetID, location string)) { s.onCapacity = h }

// capacityAfterCommit calls the capacity hook once w commits.
func (s *Service) capacityAfterCommit(w store.Writer, p Process) {
	if h := s.onCapacity; h != nil {
		w.AfterCommit(func() { h(p.FleetID, p.Location) })
	}
}

// FleetID turns a FleetIdOrArn into a fleet id.
func (s *Service) FleetID(idOrArn string) string {
	if typ, id, ok := s.cfg.ARNs.Parse(idOrArn); ok && typ == gamelift.ResourceFleet {
		return id
	}
	return idOrArn
}

// GetFleet reads a fleet inside a transaction; fault.NotFound if absent.
func GetFleet(ctx context.Context, r store.Reader, id string) (Fleet, int64, error) {
	return service.Get[Fleet](ctx, r, KindFleet, id, "FleetId: fleet %s not found", id)
}

// GetActiveFleet reads a fleet that may take new work (game sessions,
// capacity, scaling policies): one that is not ACTIVE is refused with
// InvalidFleetStatus.
func GetActiveFleet(ctx context.Context, r store.Reader, id string) (Fleet, error) {
	f, _, err := GetFleet(ctx, r, id)
	if err == nil && f.Status != gamelift.FleetStatusActive {
		err = fault.New(fault.InvalidFleetStatus, "FleetId: fleet %s is %s", f.ID, f.Status)
	}
	return f, err
}

// Fleet returns a fleet by id or ARN.
func (s *Service) Fleet(ctx context.Context, idOrArn string) (Fleet, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (Fleet, error) {
		f, _, err := GetFleet(ctx, r, s.FleetID(idOrArn))
		return f, err
	})
}

func (s *Service) attributes(f Fleet) gamelift.FleetAttributes {
	a := gamelift.FleetAttributes{
		FleetId: f.ID, FleetArn: f.ARN, Name: f.Name, Description: f.Description,
		CreationTime: gamelift.At(f.CreatedAt), Status: f.Status,
		NewGameSessionProtectionPolicy: f.Protection, ResourceCreationLimitPolicy: f.CreationLimit,
		ComputeType: gamelift.ComputeTypeAnywhere,
	}
	if f.Cost != "" {
		a.AnywhereConfiguration = &gamelift.AnywhereConfiguration{Cost: f.Cost}
	}
	return a
}

func (s *Service) validateRuntime(v *fault.Validator, member string, rc *gamelift.RuntimeConfiguration) {
	if rc == nil {
		return
	}
	if rc.ServerProcesses != nil && (len(rc.ServerProcesses) < 1 || len(rc.ServerProcesses) > 50) {
		v.Add(member+".ServerProcesses", "must have 1 to 50 items")
	}
	total := 0
	for i, p := range rc.ServerProcesses {
		m := fmt.Sprintf("%s.ServerProcesses[%d]", member, i)
		s.cfg.Formats.Check(v, m+".LaunchPath", "LaunchPathStringModel", p.LaunchPath)
		if p.Parameters != "" {
			s.cfg.Formats.Check(v, m+".Parameters", "LaunchParametersStringModel", p.Parameters)
		}
		if p.ConcurrentExecutions == nil || *p.ConcurrentExecutions < 1 {
			v.Add(m+".ConcurrentExecutions", "is required and must be at least 1")
		} else {
			total += int(*p.ConcurrentExecutions)
		}
	}
	v.Check(total <= 50, member+".ServerProcesses", "ConcurrentExecutions must add up to at most 50 per compute")
	if m := rc.MaxConcurrentGameSessionActivations; m != nil {
		v.Check(*m >= 1, member+".MaxConcurrentGameSessionActivations", "must be 1 to 2147483647")
	}
	if t := rc.GameSessionActivationTimeoutSeconds; t != nil {
		v.Check(*t >= 1 && *t <= 600, member+".GameSessionActivationTimeoutSeconds", "must be 1 to 600")
	}
}

func validateProtection(v *fault.Validator, member, p string) {
	v.Check(p == "" || p == gamelift.ProtectionNone || p == gamelift.ProtectionFull, member, "must be NoProtection or FullProtection")
}

func validateLimitPolicy(v *fault.Validator, member string, p *gamelift.ResourceCreationLimitPolicy) {
	if p == nil {
		return
	}
	v.Check(p.NewGameSessionsPerCreator == nil || *p.NewGameSessionsPerCreator >= 0, member+".NewGameSessionsPerCreator", "must be at least 0")
	v.Check(p.PolicyPeriodInMinutes == nil || *p.PolicyPeriodInMinutes >= 0, member+".PolicyPeriodInMinutes", "must be at least 0")
}

// validateCreate names every bad member of a CreateFleet input.
func (s *Service) validateCreate(v *fault.Validator, in *gamelift.CreateFleetInput) {
	gamelift.CheckLength(v, "Name", in.Name, 1, 1024)
	gamelift.CheckLengthSet(v, "Description", in.Description, 1, 1024)
	v.Check(in.ComputeType == gamelift.ComputeTypeAnywhere, "ComputeType", "must be ANYWHERE: Muster hosts fleets on the studio's own computes")
	for member, set := range map[string]bool{
		"BuildId": in.BuildId != "", "ScriptId": in.ScriptId != "", "EC2InstanceType": in.EC2InstanceType != "",
		"EC2InboundPermissions": in.EC2InboundPermissions != nil, "FleetType": in.FleetType != "",
		"InstanceRoleArn": in.InstanceRoleArn != "", "InstanceRoleCredentialsProvider": in.InstanceRoleCredentialsProvider != "",
		"CertificateConfiguration": in.CertificateConfiguration != nil, "PeerVpcAwsAccountId": in.PeerVpcAwsAccountId != "",
		"PeerVpcId": in.PeerVpcId != "", "ServerLaunchPath": in.ServerLaunchPath != "", "ServerLaunchParameters": in.ServerLaunchParameters != "",
		"LogPaths": in.LogPaths != nil, "PlayerGatewayMode": in.PlayerGatewayMode != "", "PlayerGatewayConfiguration": in.PlayerGatewayConfiguration != nil,
	} {
		v.Check(!set, member, "is for managed EC2 fleets and is not supported for ANYWHERE fleets")
	}
	v.Check(len(in.Locations) >= 1 && len(in.Locations) <= 100, "Locations", "must name 1 to 100 custom locations")
	seen := map[string]bool{}
	for i, l := range in.Locations {
		m := fmt.Sprintf("Locations[%d].Location", i)
		s.cfg.Formats.Check(v, m, "LocationStringModel", l.Location)
		v.Check(!seen[l.Location], m, "repeats location %s", l.Location)
		seen[l.Location] = true
	}
	s.validateRuntime(v, "RuntimeConfiguration", in.RuntimeConfiguration)
	validateProtection(v, "NewGameSessionProtectionPolicy", in.NewGameSessionProtectionPolicy)
	validateLimitPolicy(v, "ResourceCreationLimitPolicy", in.ResourceCreationLimitPolicy)
	if in.AnywhereConfiguration != nil {
		s.cfg.Formats.Check(v, "AnywhereConfiguration.Cost", "NonNegativeLimitedLengthDouble", in.AnywhereConfiguration.Cost)
	}
	tagging.Validate(v, "Tags", in.Tags, 200)
}

// CreateFleet creates an Anywhere fleet. It is ACTIVE at once. An omitted
// ComputeType is refused (GameLift's default, EC2, does not exist here).
func (s *Service) CreateFleet(ctx context.Context, in *gamelift.CreateFleetInput) (*gamelift.CreateFleetOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) { s.validateCreate(v, in) }); err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now().UTC()
	id := "fleet-" + uuid.NewString()
	f := Fleet{ID: id, ARN: s.cfg.ARNs.Build(gamelift.ResourceFleet, id), Name: in.Name, Description: in.Description,
		Status: gamelift.FleetStatusActive, CreatedAt: now, Protection: in.NewGameSessionProtectionPolicy,
		CreationLimit: in.ResourceCreationLimitPolicy}
	if f.Protection == "" {
		f.Protection = gamelift.ProtectionNone
	}
	if in.RuntimeConfiguration != nil {
		f.Runtime = *in.RuntimeConfiguration
	}
	if in.AnywhereConfiguration != nil {
		f.Cost = in.AnywhereConfiguration.Cost
	}
	f.Locations = locationNames(in.Locations)
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := s.addLocations(ctx, w, f.ID, "Locations", f.Locations, now); err != nil {
			return err
		}
		if err := s.cfg.CreateTagged(ctx, w, store.Record{Kind: KindFleet, ID: f.ID, Doc: store.MustJSON(f), Keys: store.Keys{f.Name}}, f.ARN, in.Tags, nil); err != nil {
			return err
		}
		if err := s.AddEvent(ctx, w, f.ID, "FLEET_CREATED", "Fleet "+f.ID+" created"); err != nil {
			return err
		}
		return s.AddEvent(ctx, w, f.ID, "FLEET_STATE_ACTIVE", "Fleet "+f.ID+" is ACTIVE")
	})
	if err != nil {
		return nil, fmt.Errorf("create fleet: %w", err)
	}
	attrs := s.attributes(f)
	out := &gamelift.CreateFleetOutput{FleetAttributes: &attrs}
	for _, l := range f.Locations {
		out.LocationStates = append(out.LocationStates, gamelift.LocationState{Location: l, Status: gamelift.FleetStatusActive})
	}
	return out, nil
}

// locationNames returns the names of a request's locations.
func locationNames(ls []gamelift.LocationConfiguration) []string {
	var names []string
	for _, l := range ls {
		names = append(names, l.Location)
	}
	return names
}

// addLocations checks each location exists and records that the fleet
// uses it.
func (s *Service) addLocations(ctx context.Context, w store.Writer, fleetID, member string, locs []string, now time.Time) error {
	for i, l := range locs {
		if _, err := w.Get(ctx, KindLocation, l); errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound, "%s[%d]: custom location %s not found; create it with CreateLocation first", member, i, l)
		} else if err != nil {
			return err
		}
		fl := fleetLocation{FleetID: fleetID, Location: l, Status: gamelift.FleetStatusActive, CreatedAt: now}
		if _, err := w.Put(ctx, store.Record{Kind: KindFleetLocation, ID: fleetID + "/" + l, Doc: store.MustJSON(fl), Keys: store.Keys{l, fleetID}}); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fault.New(fault.Conflict, "%s[%d]: fleet %s already has location %s", member, i, fleetID, l)
			}
			return err
		}
	}
	return nil
}

// DescribeFleetAttributes lists fleets: the named ones (unknown ids are
// dropped), or all of them by page.
func (s *Service) DescribeFleetAttributes(ctx context.Context, in *gamelift.DescribeFleetAttributesInput) (*gamelift.DescribeFleetAttributesOutput, error) {
	fleets, next, err := s.listFleets(ctx, in.FleetIds, in.Limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeFleetAttributesOutput{FleetAttributes: []gamelift.FleetAttributes{}, NextToken: next}
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		for _, f := range fleets {
			a := s.attributes(f)
			if a.StoppedActions, err = stoppedActions(ctx, r, f); err != nil {
				return err
			}
			out.FleetAttributes = append(out.FleetAttributes, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("describe fleet attributes: %w", err)
	}
	return out, nil
}

func (s *Service) listFleets(ctx context.Context, ids []string, limit *int32, token string) ([]Fleet, string, error) {
	n, after, err := service.AuthorizeList(ctx, limit, 50, 0, token, func(v *fault.Validator) {
		for i, id := range ids {
			s.cfg.Formats.Check(v, fmt.Sprintf("FleetIds[%d]", i), "FleetIdOrArn", id)
		}
	})
	if err != nil {
		return nil, "", err
	}
	get := func(r store.Reader, id string) (Fleet, bool, error) {
		f, _, err := GetFleet(ctx, r, s.FleetID(id))
		return service.Dropped(f, err)
	}
	fleets, next, err := service.Describe(ctx, s.cfg.Store, ids, get, store.Query{Kind: KindFleet, Prefix: true, After: after}, n, func(f Fleet) Fleet { return f })
	if err != nil {
		return nil, "", fmt.Errorf("list fleets: %w", err)
	}
	return fleets, next, nil
}

// updateFleet runs change on the fleet inside one transaction and stores it.
func (s *Service) updateFleet(ctx context.Context, idOrArn string, change func(w store.Writer, f *Fleet) error) (Fleet, error) {
	var f Fleet
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		f, version, err = GetFleet(ctx, w, s.FleetID(idOrArn))
		if err != nil {
			return err
		}
		if err := change(w, &f); err != nil {
			return err
		}
		_, err = w.Put(ctx, store.Record{Kind: KindFleet, ID: f.ID, Doc: store.MustJSON(f), Keys: store.Keys{f.Name}, Version: version})
		return err
	})
	return f, err
}

// UpdateFleetAttributes changes the given members only.
func (s *Service) UpdateFleetAttributes(ctx context.Context, in *gamelift.UpdateFleetAttributesInput) (*gamelift.UpdateFleetAttributesOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		gamelift.CheckLengthSet(v, "Name", in.Name, 1, 1024)
		validateProtection(v, "NewGameSessionProtectionPolicy", in.NewGameSessionProtectionPolicy)
		validateLimitPolicy(v, "ResourceCreationLimitPolicy", in.ResourceCreationLimitPolicy)
		if in.AnywhereConfiguration != nil {
			s.cfg.Formats.Check(v, "AnywhereConfiguration.Cost", "NonNegativeLimitedLengthDouble", in.AnywhereConfiguration.Cost)
		}
	}); err != nil {
		return nil, err
	}
	f, err := s.updateFleet(ctx, in.FleetId, func(w store.Writer, f *Fleet) error {
		if in.Name != "" {
			f.Name = in.Name
		}
		if in.Description != "" {
			f.Description = in.Description
		}
		if p := in.NewGameSessionProtectionPolicy; p != "" && p != f.Protection {
			msg := fmt.Sprintf("NewGameSessionProtectionPolicy changed from %s to %s", f.Protection, p)
			f.Protection = p
			if err := s.AddEvent(ctx, w, f.ID, "FLEET_NEW_GAME_SESSION_PROTECTION_POLICY_UPDATED", msg); err != nil {
				return err
			}
		}
		if in.ResourceCreationLimitPolicy != nil {
			f.CreationLimit = in.ResourceCreationLimitPolicy
		}
		if in.AnywhereConfiguration != nil {
			f.Cost = in.AnywhereConfiguration.Cost
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update fleet attributes: %w", err)
	}
	return &gamelift.UpdateFleetAttributesOutput{FleetId: f.ID, FleetArn: f.ARN}, nil
}

// DescribeRuntimeConfiguration returns a fleet's runtime configuration.
func (s *Service) DescribeRuntimeConfiguration(ctx context.Context, in *gamelift.DescribeRuntimeConfigurationInput) (*gamelift.DescribeRuntimeConfigurationOutput, error) {
	if err := s.agentOp(ctx, false, in.FleetId, "", func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
	}); err != nil {
		return nil, err
	}
	f, err := s.Fleet(ctx, in.FleetId)
	if err != nil {
		return nil, fmt.Errorf("describe runtime configuration: %w", err)
	}
	rc := f.Runtime
	return &gamelift.DescribeRuntimeConfigurationOutput{RuntimeConfiguration: &rc}, nil
}

// UpdateRuntimeConfiguration replaces a fleet's runtime configuration;
// agents pick it up on their next heartbeat.
func (s *Service) UpdateRuntimeConfiguration(ctx context.Context, in *gamelift.UpdateRuntimeConfigurationInput) (*gamelift.UpdateRuntimeConfigurationOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		v.Check(in.RuntimeConfiguration != nil, "RuntimeConfiguration", "is required")
		s.validateRuntime(v, "RuntimeConfiguration", in.RuntimeConfiguration)
	}); err != nil {
		return nil, err
	}
	f, err := s.updateFleet(ctx, in.FleetId, func(w store.Writer, f *Fleet) error {
		f.Runtime = *in.RuntimeConfiguration
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update runtime configuration: %w", err)
	}
	rc := f.Runtime
	return &gamelift.UpdateRuntimeConfigurationOutput{RuntimeConfiguration: &rc}, nil
}

// CreateFleetLocations adds custom locations to a fleet (an extension:
// GameLift sets Anywhere locations at CreateFleet only).
func (s *Service) CreateFleetLocations(ctx context.Context, in *gamelift.CreateFleetLocationsInput) (*gamelift.CreateFleetLocationsOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		v.Check(len(in.Locations) >= 1 && len(in.Locations) <= 100, "Locations", "must have 1 to 100 items")
		for i, l := range in.Locations {
			s.cfg.Formats.Check(v, fmt.Sprintf("Locations[%d].Location", i), "LocationStringModel", l.Location)
		}
	}); err != nil {
		return nil, err
	}
	locs := locationNames(in.Locations)
	f, err := s.updateFleet(ctx, in.FleetId, func(w store.Writer, f *Fleet) error {
		if err := s.addLocations(ctx, w, f.ID, "Locations", locs, s.cfg.Clock.Now().UTC()); err != nil {
			return err
		}
		f.Locations = append(f.Locations, locs...)
		for _, l := range locs {
			if err := s.AddEvent(ctx, w, f.ID, "LOCATION_STATE_ACTIVE", "Location "+l+" is ACTIVE"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create fleet locations: %w", err)
	}
	out := &gamelift.CreateFleetLocationsOutput{FleetId: f.ID, FleetArn: f.ARN}
	for _, l := range locs {
		out.LocationStates = append(out.LocationStates, gamelift.LocationState{Location: l, Status: gamelift.FleetStatusActive})
	}
	return out, nil
}

// DeleteFleetLocations removes locations from a fleet. A location with
// registered computes or live game sessions is refused. A managed
// location's hosts asked of its provisioner stay in its capacity record
// until released, and its capacity is no longer set (RetireCapacity).
func (s *Service) DeleteFleetLocations(ctx context.Context, in *gamelift.DeleteFleetLocationsInput) (*gamelift.DeleteFleetLocationsOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		v.Check(len(in.Locations) >= 1 && len(in.Locations) <= 100, "Locations", "must have 1 to 100 items")
		for i, l := range in.Locations {
			s.cfg.Formats.Check(v, fmt.Sprintf("Locations[%d]", i), "LocationStringModel", l)
		}
	}); err != nil {
		return nil, err
	}
	f, err := s.updateFleet(ctx, in.FleetId, func(w store.Writer, f *Fleet) error {
		for i, l := range in.Locations {
			if !f.HasLocation(l) {
				return fault.New(fault.NotFound, "Locations[%d]: fleet %s has no location %s", i, f.ID, l)
			}
			err := service.RefuseInUse(ctx, w, store.Query{Kind: KindCompute, Key: 2, Value: f.ID + "/" + l}, func(string) error {
				return fault.New(fault.InvalidFleetStatus, "Locations[%d]: location %s still has registered computes; deregister them first", i, l)
			})
			if err != nil {
				return err
			}
			if err := store.Forget(ctx, w, KindFleetLocation, f.ID+"/"+l); err != nil {
				return err
			}
			if err := s.retireCapacity(ctx, w, f.ID, l); err != nil {
				return err
			}
			f.Locations = slices.DeleteFunc(f.Locations, func(x string) bool { return x == l })
			if err := s.AddEvent(ctx, w, f.ID, "LOCATION_STATE_DELETED", "Location "+l+" deleted"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete fleet locations: %w", err)
	}
	out := &gamelift.DeleteFleetLocationsOutput{FleetId: f.ID, FleetArn: f.ARN}
	for _, l := range in.Locations {
		out.LocationStates = append(out.LocationStates, gamelift.LocationState{Location: l, Status: gamelift.FleetStatusTerminated})
	}
	return out, nil
}

// DescribeFleetLocationAttributes lists a fleet's locations (all, or the
// named ones in request order).
func (s *Service) DescribeFleetLocationAttributes(ctx context.Context, in *gamelift.DescribeFleetLocationAttributesInput) (*gamelift.DescribeFleetLocationAttributesOutput, error) {
	if err := service.Authorize(ctx, false, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		for i, l := range in.Locations {
			s.cfg.Formats.Check(v, fmt.Sprintf("Locations[%d]", i), "LocationStringModel", l)
		}
	}); err != nil {
		return nil, err
	}
	f, err := s.Fleet(ctx, in.FleetId)
	if err != nil {
		return nil, fmt.Errorf("describe fleet location attributes: %w", err)
	}
	out := &gamelift.DescribeFleetLocationAttributesOutput{FleetId: f.ID, FleetArn: f.ARN, LocationAttributes: []gamelift.LocationAttributes{}}
	locs := in.Locations
	if len(locs) == 0 {
		locs = f.Locations
	}
	for _, l := range locs {
		st := gamelift.FleetStatusActive
		if !f.HasLocation(l) {
			st = "NOT_FOUND"
		}
		out.LocationAttributes = append(out.LocationAttributes, gamelift.LocationAttributes{LocationState: &gamelift.LocationState{Location: l, Status: st}})
	}
	return out, nil
}

// DeleteFleet deletes a fleet that hosts no live game session: its
// locations are released, its computes, tokens and ended processes dropped.
// The hosts of its managed locations stay in their capacity records until
// the capacity service has released them (RetireCapacity).
func (s *Service) DeleteFleet(ctx context.Context, in *gamelift.DeleteFleetInput) (*gamelift.DeleteFleetOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, true, "FleetId", "FleetIdOrArn", in.FleetId); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		f, version, err := GetFleet(ctx, w, s.FleetID(in.FleetId))
		if err != nil {
			return err
		}
		for _, l := range f.Locations {
			for _, st := range []string{stateActivating, stateBusy} {
				err := service.RefuseInUse(ctx, w, store.Query{Kind: KindProcess, Key: 1, Value: f.ID + "/" + l + "/" + st}, func(string) error {
					return fault.New(fault.InvalidFleetStatus, "FleetId: fleet %s still hosts game sessions in %s; terminate them first", f.ID, l)
				})
				if err != nil {
					return err
				}
			}
		}
		for _, l := range f.Locations {
			if err := store.Forget(ctx, w, KindFleetLocation, f.ID+"/"+l); err != nil {
				return err
			}
			// Before the computes go: the capacity record is the only place
			// left that names the hosts the provisioner still has to release.
			if err := s.retireCapacity(ctx, w, f.ID, l); err != nil {
				return err
			}
		}
		computes, err := w.Find(ctx, store.Query{Kind: KindCompute, Key: 1, Value: f.ID, Limit: 10000})
		if err != nil {
			return err
		}
		for _, c := range computes {
			if err := s.dropCompute(ctx, w, c); err != nil {
				return err
			}
		}
		if err := w.Delete(ctx, KindFleet, f.ID, version); err != nil {
			return err
		}
		if err := s.cfg.Tags.DeleteAll(ctx, w, f.ARN); err != nil {
			return err
		}
		return s.AddEvent(ctx, w, f.ID, "FLEET_DELETED", "Fleet "+f.ID+" deleted")
	})
	if err != nil {
		return nil, fmt.Errorf("delete fleet: %w", err)
	}
	return &gamelift.DeleteFleetOutput{}, nil
}

// retireCapacity is RetireCapacity for a location DeleteFleet or
// DeleteFleetLocations removes, and has the capacity service see it at once.
func (s *Service) retireCapacity(ctx context.Context, w store.Writer, fleetID, location string) error {
	kept, err := RetireCapacity(ctx, w, fleetID, location, s.cfg.Clock.Now().UTC())
	if err == nil && kept {
		s.capacityChangedAfterCommit(w, fleetID, location)
	}
	return err
}

// RetireCapacity ends the management of a location its fleet no longer has
// (or of a deleted fleet): the hosts asked of its provisioner, registered
// or not, are what is left to release. Its pending hosts and the computes
// whose host runs the agent move to Releasing with their Release due now
// (a Releasing host's NextAttempt is when its Release is due, zero once
// the provisioner released it), and the record is no longer set, with the
// counts of a location that has no compute, so that the location added
// again starts afresh instead of with its old desired count. The record is
// deleted once nothing is left to release; kept says it stays. Computes
// registered by other means are the studio's, not the provisioner's.
func RetireCapacity(ctx context.Context, w store.Writer, fleetID, location string, now time.Time) (kept bool, err error) {
	c, version, found, err := GetCapacity(ctx, w, fleetID, location)
	if err != nil || !found {
		return false, err
	}
	computes, err := store.FindAll[Compute](ctx, w, store.Query{Kind: KindCompute, Key: 2, Value: fleetID + "/" + location})
	if err != nil {
		return false, err
	}
	before := string(store.MustJSON(c))
	releasing := func(name string) bool {
		return slices.ContainsFunc(c.Releasing, func(h PendingHost) bool { return h.ComputeName == name })
	}
	release := func(name string) {
		if !releasing(name) {
			c.Releasing = append(c.Releasing, PendingHost{ComputeName: name, RequestedAt: now, NextAttempt: now})
		}
	}
	for _, h := range c.Pending {
		release(h.ComputeName)
	}
	for _, cp := range computes {
		if cp.Agent {
			release(cp.Name)
		}
	}
	c = Capacity{FleetID: fleetID, Location: location, Max: 1, Releasing: c.Releasing, UpdatedAt: c.UpdatedAt}
	if len(c.Releasing) == 0 {
		return false, w.Delete(ctx, KindCapacity, capacityID(fleetID, location), version)
	}
	if string(store.MustJSON(c)) == before {
		return true, nil
	}
	c.UpdatedAt = now
	return true, PutCapacity(ctx, w, c, version)
}
