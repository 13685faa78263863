package placement

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/relay"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// Outbox event types (docs/control-api.md, "Queue placement").
const (
	EventPlacementFulfilled = "PlacementFulfilled"
	EventPlacementCancelled = "PlacementCancelled"
	EventPlacementTimedOut  = "PlacementTimedOut"
	EventPlacementFailed    = "PlacementFailed"
)

// Config configures the placement service.
type Config struct {
	service.Base
	Fleets   *fleet.Service
	Sessions *session.Service
	// Listeners hear every placement end, in order (matchmaking is one).
	Listeners []Listener
	// Workers is how many attempts run at once (default 16).
	Workers int
	// Batch is how many queued placements one attempt takes, in one read
	// and one write transaction (default 8).
	Batch int
	// RetryInterval is how long a placement that found no free process
	// waits before trying again (default 1 s; 2 and then 4 times that
	// while it keeps finding none), unless a latency policy relaxes or its
	// deadline passes sooner.
	RetryInterval time.Duration
	// AdmitWaiting is how many placements a queue always takes from
	// StartIn while they wait for a server process (default 64); past it,
	// admission.go's rule decides.
	AdmitWaiting int
	// Bus, when the placer runs under a lease (RunLeased), carries wakes
	// from the replicas that do not run it to the one that does
	// (replicas.go; bus.Bus).
	Bus relay.Bus
}

// Service serves game session queues and placements.
type Service struct {
	cfg    Config
	placer *placer
	// relay carries wakes to the replica running the placer (nil without
	// Config.Bus).
	relay *relay.Relay
	admit *admission
	// noCapacity is the hook of OnNoCapacity (nocapacity.go).
	noCapacity atomic.Pointer[func()]
}

// New returns the placement service. Run starts its placer.
func New(cfg Config) *Service {
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.Workers <= 0 {
		cfg.Workers = 16
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 8
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = time.Second
	}
	if cfg.AdmitWaiting <= 0 {
		cfg.AdmitWaiting = 64
	}
	s := &Service{cfg: cfg, admit: newAdmission(cfg.AdmitWaiting)}
	if cfg.Bus != nil {
		s.relay = relay.New(cfg.Bus, relayTopic, cfg.Logger)
	}
	s.placer = newPlacer(s)
	if cfg.Sessions != nil {
		// A placement is fulfilled when its game session becomes ACTIVE.
		cfg.Sessions.OnSettled(s.GameSessionSettled)
	}
	return s
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// Request is one placement, as StartGameSessionPlacement takes it
// (docs/matchmaking-placement.md).
type Request struct {
	PlacementID               string // unique; matchmaking uses the match id
	QueueName                 string // name or ARN of the game session queue
	MaximumPlayerSessionCount int32
	GameSessionName           string
	GameProperties            []gamelift.GameProperty
	GameSessionData           string
	MatchmakerData            string // the MatchmakerData JSON (docs/flexmatch.md)
	PlayerLatencies           []gamelift.PlayerLatency
	DesiredPlayerSessions     []gamelift.DesiredPlayerSession
	// PriorityConfigurationOverride is StartGameSessionPlacement's member.
	PriorityConfigurationOverride *gamelift.PriorityConfigurationOverride
}

// Placement is a placement as stored, and what listeners hear.
type Placement struct {
	PlacementID               string                                  `json:"placementId"`
	QueueName                 string                                  `json:"queueName"`
	QueueARN                  string                                  `json:"queueArn"`
	Status                    string                                  `json:"status"`
	StatusReason              string                                  `json:"statusReason,omitempty"`
	MaximumPlayerSessionCount int32                                   `json:"maximumPlayerSessionCount"`
	GameSessionName           string                                  `json:"gameSessionName,omitempty"`
	GameProperties            []gamelift.GameProperty                 `json:"gameProperties,omitempty"`
	GameSessionData           string                                  `json:"gameSessionData,omitempty"`
	MatchmakerData            string                                  `json:"matchmakerData,omitempty"`
	PlayerLatencies           []gamelift.PlayerLatency                `json:"playerLatencies,omitempty"`
	DesiredPlayerSessions     []gamelift.DesiredPlayerSession         `json:"desiredPlayerSessions,omitempty"`
	Override                  *gamelift.PriorityConfigurationOverride `json:"override,omitempty"`
	StartTime                 time.Time                               `json:"startTime"`
	Deadline                  time.Time                               `json:"deadline"`
	EndTime                   time.Time                               `json:"endTime,omitzero"`
	// Set when its game session is created (the placement stays PENDING
	// until the session is ACTIVE); shown once FULFILLED.
	GameSessionArn       string                         `json:"gameSessionArn,omitempty"`
	FleetID              string                         `json:"fleetId,omitempty"`
	Location             string                         `json:"location,omitempty"`
	IpAddress            string                         `json:"ipAddress,omitempty"`
	DnsName              string                         `json:"dnsName,omitempty"`
	Port                 int32                          `json:"port,omitempty"`
	PlacedPlayerSessions []gamelift.PlacedPlayerSession `json:"placedPlayerSessions,omitempty"`
}

// Wire returns the control API shape.
func (p Placement) Wire() gamelift.GameSessionPlacement {
	if p.Status != gamelift.PlacementFulfilled {
		// Connection info is given only with FULFILLED, as in GameLift.
		p.GameSessionArn, p.Location, p.IpAddress, p.DnsName, p.Port, p.PlacedPlayerSessions = "", "", "", "", 0, nil
	}
	w := gamelift.GameSessionPlacement{PlacementId: p.PlacementID, GameSessionQueueName: p.QueueName, Status: p.Status,
		GameProperties: p.GameProperties, MaximumPlayerSessionCount: ptr(p.MaximumPlayerSessionCount), GameSessionName: p.GameSessionName,
		GameSessionId: p.GameSessionArn, GameSessionArn: p.GameSessionArn, GameSessionRegion: p.Location, PlayerLatencies: p.PlayerLatencies,
		StartTime: gamelift.At(p.StartTime), IpAddress: p.IpAddress, DnsName: p.DnsName, PlacedPlayerSessions: p.PlacedPlayerSessions,
		GameSessionData: p.GameSessionData, MatchmakerData: p.MatchmakerData, PriorityConfigurationOverride: p.Override}
	if !p.EndTime.IsZero() {
		w.EndTime = gamelift.At(p.EndTime)
	}
	if p.Port != 0 {
		w.Port = ptr(p.Port)
	}
	return w
}

func placementKeys(p Placement) store.Keys { return store.Keys{p.Status, p.QueueName} }

func putPlacement(ctx context.Context, w store.Writer, p Placement, version int64) error {
	_, err := w.Put(ctx, store.Record{Kind: KindPlacement, ID: p.PlacementID, Doc: store.MustJSON(p), Keys: placementKeys(p), Version: version})
	return err
}

// Listener hears a placement end (FULFILLED, CANCELLED, TIMED_OUT or FAILED)
// inside the transaction that records the end, so its own changes commit
// with it.
type Listener interface {
	PlacementEnded(ctx context.Context, w store.Writer, p Placement) error
}

// ListenerFunc is a function as a Listener.
type ListenerFunc func(ctx context.Context, w store.Writer, p Placement) error

// PlacementEnded calls f.
func (f ListenerFunc) PlacementEnded(ctx context.Context, w store.Writer, p Placement) error {
	return f(ctx, w, p)
}

// validate checks a request's members (control-API member names).
func (s *Service) validate(req Request) error {
	var v fault.Validator
	s.cfg.Formats.Check(&v, "PlacementId", "IdStringModel", req.PlacementID)
	gamelift.CheckLength(&v, "PlacementId", req.PlacementID, 1, 48)
	s.cfg.Formats.Check(&v, "GameSessionQueueName", "GameSessionQueueNameOrArn", req.QueueName)
	v.Check(req.MaximumPlayerSessionCount >= 0 && req.MaximumPlayerSessionCount <= session.MaxPlayersPerGameSession,
		"MaximumPlayerSessionCount", "must be between 0 and %d", session.MaxPlayersPerGameSession)
	gamelift.CheckLengthSet(&v, "GameSessionName", req.GameSessionName, 1, 1024)
	gamelift.CheckLengthSet(&v, "GameSessionData", req.GameSessionData, 1, 262144)
	gamelift.CheckLengthSet(&v, "MatchmakerData", req.MatchmakerData, 1, 390000)
	v.Check(len(req.GameProperties) <= 16, "GameProperties", "must have at most 16 items")
	for i, gp := range req.GameProperties {
		gamelift.CheckLength(&v, fmt.Sprintf("GameProperties[%d].Key", i), gp.Key, 0, 32)
		gamelift.CheckLength(&v, fmt.Sprintf("GameProperties[%d].Value", i), gp.Value, 0, 96)
	}
	for i, l := range req.PlayerLatencies {
		m := fmt.Sprintf("PlayerLatencies[%d]", i)
		gamelift.CheckLengthSet(&v, m+".PlayerId", l.PlayerId, 1, 1024)
		gamelift.CheckLength(&v, m+".RegionIdentifier", l.RegionIdentifier, 1, 1024)
		v.Check(l.LatencyInMilliseconds == nil || *l.LatencyInMilliseconds >= 0, m+".LatencyInMilliseconds", "must be at least 0")
	}
	v.Check(len(req.DesiredPlayerSessions) <= int(req.MaximumPlayerSessionCount), "DesiredPlayerSessions",
		"has %d players but MaximumPlayerSessionCount is %d", len(req.DesiredPlayerSessions), req.MaximumPlayerSessionCount)
	seen := map[string]bool{}
	for i, d := range req.DesiredPlayerSessions {
		m := fmt.Sprintf("DesiredPlayerSessions[%d]", i)
		gamelift.CheckLength(&v, m+".PlayerId", d.PlayerId, 1, 1024)
		v.Check(!seen[d.PlayerId], m+".PlayerId", "repeats player %s", d.PlayerId)
		seen[d.PlayerId] = true
		gamelift.CheckLengthSet(&v, m+".PlayerData", d.PlayerData, 1, 2048)
	}
	if o := req.PriorityConfigurationOverride; o != nil {
		v.Check(len(o.LocationOrder) >= 1 && len(o.LocationOrder) <= 10, "PriorityConfigurationOverride.LocationOrder", "must have 1 to 10 items")
		for i, l := range o.LocationOrder {
			s.cfg.Formats.Check(&v, fmt.Sprintf("PriorityConfigurationOverride.LocationOrder[%d]", i), "LocationStringModel", l)
		}
		switch o.PlacementFallbackStrategy {
		case "", gamelift.FallbackDefaultAfterSinglePass, gamelift.FallbackNone:
		default:
			v.Add("PriorityConfigurationOverride.PlacementFallbackStrategy", "must be DEFAULT_AFTER_SINGLE_PASS or NONE")
		}
		v.Check(len(req.PlayerLatencies) == 0, "PriorityConfigurationOverride", "cannot be combined with PlayerLatencies")
	}
	return v.Err()
}

// errExists says startIn found the placement id taken.
var errExists = errors.New("placement exists")

// startIn records a PENDING placement in w; if the id is taken it returns
// the placement that has it, as it is now, and errExists. admit applies
// admission control (admission.go).
func (s *Service) startIn(ctx context.Context, w store.Writer, req Request, admit bool) (Placement, error) {
	if err := s.validate(req); err != nil {
		return Placement{}, err
	}
	if old, _, err := s.getPlacement(ctx, w, req.PlacementID); err == nil {
		return old, errExists
	} else if !fault.Is(err, fault.NotFound) {
		return Placement{}, err
	}
	q, _, err := s.getQueue(ctx, w, req.QueueName)
	if err != nil {
		return Placement{}, err
	}
	if req.PriorityConfigurationOverride != nil && (len(q.PriorityOrder) == 0 || q.PriorityOrder[0] != gamelift.PriorityLocation) {
		return Placement{}, fault.New(fault.Invalid, "PriorityConfigurationOverride: queue %s's PriorityOrder does not start with LOCATION", q.Name)
	}
	now := s.now()
	if admit {
		if err := s.admit.check(q.Name, q.Timeout(), q.Timeout(), now); err != nil {
			return Placement{}, err
		}
	}
	p := Placement{PlacementID: req.PlacementID, QueueName: q.Name, QueueARN: q.ARN, Status: gamelift.PlacementPending,
		MaximumPlayerSessionCount: req.MaximumPlayerSessionCount, GameSessionName: req.GameSessionName, GameProperties: req.GameProperties,
		GameSessionData: req.GameSessionData, MatchmakerData: req.MatchmakerData, PlayerLatencies: req.PlayerLatencies,
		DesiredPlayerSessions: req.DesiredPlayerSessions, Override: req.PriorityConfigurationOverride,
		StartTime: now, Deadline: now.Add(q.Timeout())}
	if err := putPlacement(ctx, w, p, 0); err != nil {
		return Placement{}, err
	}
	w.AfterCommit(func() { s.placer.wake(p.PlacementID) })
	return p, nil
}

// StartIn records a PENDING placement inside the caller's transaction, so
// the caller's own state change (tickets → PLACING) and the placement
// commit together. The placer picks it up after commit. An existing
// PlacementID is a no-op (idempotent). Bad requests fail with a fault.Error
// naming the member (Invalid, or NotFound for an unknown queue); a queue far
// past its capacity refuses with FleetCapacityExceeded (admission.go).
func (s *Service) StartIn(ctx context.Context, w store.Writer, req Request) error {
	_, err := s.startIn(ctx, w, req, true)
	if errors.Is(err, errExists) {
		return nil
	}
	return err
}

// StartGameSessionPlacement is the control-API operation.
func (s *Service) StartGameSessionPlacement(ctx context.Context, in *gamelift.StartGameSessionPlacementInput) (*gamelift.StartGameSessionPlacementOutput, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	if in.MaximumPlayerSessionCount == nil {
		return nil, fault.New(fault.Invalid, "MaximumPlayerSessionCount: is required")
	}
	req := Request{PlacementID: in.PlacementId, QueueName: in.GameSessionQueueName, MaximumPlayerSessionCount: *in.MaximumPlayerSessionCount,
		GameSessionName: in.GameSessionName, GameProperties: in.GameProperties, GameSessionData: in.GameSessionData,
		PlayerLatencies: in.PlayerLatencies, DesiredPlayerSessions: in.DesiredPlayerSessions, PriorityConfigurationOverride: in.PriorityConfigurationOverride}
	var p Placement
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var err error
		p, err = s.startIn(ctx, w, req, false)
		if errors.Is(err, errExists) {
			// An SDK retries a call whose answer it lost (a 5xx, a broken
			// connection): the retry finds the placement its first try
			// started. Placement ids are never reused for another request.
			if s.sameRequest(p, req) {
				return nil
			}
			return fault.New(fault.Invalid, "PlacementId: placement %s already exists with other parameters; placement ids are never reused", req.PlacementID)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start game session placement: %w", err)
	}
	out := p.Wire()
	return &gamelift.StartGameSessionPlacementOutput{GameSessionPlacement: &out}, nil
}

// sameRequest reports whether req asks for what placement p was started
// with: the same queue (by name or ARN) and the same members. They are
// compared as p stores them, where an absent list and an empty one are
// the same.
func (s *Service) sameRequest(p Placement, req Request) bool {
	asked := Placement{QueueName: s.queueName(req.QueueName), MaximumPlayerSessionCount: req.MaximumPlayerSessionCount,
		GameSessionName: req.GameSessionName, GameProperties: req.GameProperties, GameSessionData: req.GameSessionData,
		MatchmakerData: req.MatchmakerData, PlayerLatencies: req.PlayerLatencies, DesiredPlayerSessions: req.DesiredPlayerSessions,
		Override: req.PriorityConfigurationOverride}
	return bytes.Equal(store.MustJSON(asked), store.MustJSON(p.request()))
}

// request keeps the members of p its start request set.
func (p Placement) request() Placement {
	return Placement{QueueName: p.QueueName, MaximumPlayerSessionCount: p.MaximumPlayerSessionCount, GameSessionName: p.GameSessionName,
		GameProperties: p.GameProperties, GameSessionData: p.GameSessionData, MatchmakerData: p.MatchmakerData,
		PlayerLatencies: p.PlayerLatencies, DesiredPlayerSessions: p.DesiredPlayerSessions, Override: p.Override}
}

func (s *Service) getPlacement(ctx context.Context, r store.Reader, id string) (Placement, int64, error) {
	return service.Get[Placement](ctx, r, KindPlacement, id, "PlacementId: placement %s not found", id)
}

// Placement returns a placement by id.
func (s *Service) Placement(ctx context.Context, id string) (Placement, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (Placement, error) {
		p, _, err := s.getPlacement(ctx, r, id)
		return p, err
	})
}

// DescribeGameSessionPlacement is the control-API operation.
func (s *Service) DescribeGameSessionPlacement(ctx context.Context, in *gamelift.DescribeGameSessionPlacementInput) (*gamelift.DescribeGameSessionPlacementOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, false, "PlacementId", "IdStringModel", in.PlacementId); err != nil {
		return nil, err
	}
	p, err := s.Placement(ctx, in.PlacementId)
	if err != nil {
		return nil, fmt.Errorf("describe game session placement: %w", err)
	}
	out := p.Wire()
	return &gamelift.DescribeGameSessionPlacementOutput{GameSessionPlacement: &out}, nil
}

// StopGameSessionPlacement cancels a PENDING placement whose game session
// is not created yet.
func (s *Service) StopGameSessionPlacement(ctx context.Context, in *gamelift.StopGameSessionPlacementInput) (*gamelift.StopGameSessionPlacementOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, true, "PlacementId", "IdStringModel", in.PlacementId); err != nil {
		return nil, err
	}
	var p Placement
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		p, version, err = s.getPlacement(ctx, w, in.PlacementId)
		if err != nil {
			return err
		}
		switch {
		case p.Status != gamelift.PlacementPending:
			return fault.New(fault.Invalid, "PlacementId: placement %s is %s; only a PENDING placement can be stopped", p.PlacementID, p.Status)
		case p.GameSessionArn != "":
			// Its process is taken and its game server is starting the
			// session: cancelling now would leave that session with
			// reserved players nobody sends (GameLift refuses it too).
			return fault.New(fault.Invalid, "PlacementId: placement %s has already created game session %s; it can no longer be stopped", p.PlacementID, p.GameSessionArn)
		}
		p, err = s.endIn(ctx, w, p, version, gamelift.PlacementCancelled, "", nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stop game session placement: %w", err)
	}
	out := p.Wire()
	return &gamelift.StopGameSessionPlacementOutput{GameSessionPlacement: &out}, nil
}

// StopIn cancels a PENDING placement inside the caller's transaction, as
// StopGameSessionPlacement does, with reason as its StatusReason; its
// listeners hear it in that transaction. A placement whose game session is
// already created is left to become FULFILLED: its process is taken and its
// server is activating the session. It reports whether it stopped the
// placement; one that does not exist or has ended is no error.
func (s *Service) StopIn(ctx context.Context, w store.Writer, id, reason string) (bool, error) {
	p, version, err := s.getPlacement(ctx, w, id)
	switch {
	case fault.Is(err, fault.NotFound):
		return false, nil
	case err != nil:
		return false, err
	case p.Status != gamelift.PlacementPending || p.GameSessionArn != "":
		return false, nil
	}
	if _, err := s.endIn(ctx, w, p, version, gamelift.PlacementCancelled, reason, nil); err != nil {
		return false, err
	}
	w.AfterCommit(func() { s.placer.forget(id) })
	return true, nil
}

// endIn moves a PENDING placement to a terminal status in w: the record,
// the event and the listeners commit together.
// q is the placement's queue if the caller has read it (nil: read here).
func (s *Service) endIn(ctx context.Context, w store.Writer, p Placement, version int64, status, reason string, q *Queue) (Placement, error) {
	p.Status, p.StatusReason, p.EndTime = status, reason, s.now()
	if err := putPlacement(ctx, w, p, version); err != nil {
		return p, err
	}
	if q == nil {
		q = s.endingQueue(ctx, w, p.QueueName)
	}
	if err := w.Append(ctx, s.event(p, q)); err != nil {
		return p, err
	}
	for _, l := range s.cfg.Listeners {
		if err := l.PlacementEnded(ctx, w, p); err != nil {
			return p, fmt.Errorf("placement listener: %w", err)
		}
	}
	return p, nil
}

// endingQueue reads the queue of a placement that ends, for its event: nil
// when it cannot be read, and an empty Queue when it was deleted, which
// has no CustomEventData and no NotificationTarget — recorded as none, so
// that a queue created later under its name does not take the event.
func (s *Service) endingQueue(ctx context.Context, r store.Reader, name string) *Queue {
	q, _, err := s.getQueue(ctx, r, name)
	switch {
	case err == nil:
		return &q
	case fault.Is(err, fault.NotFound):
		return &Queue{}
	}
	return nil
}

// eventTypes maps terminal statuses to event types.
var eventTypes = map[string]string{
	gamelift.PlacementFulfilled: EventPlacementFulfilled,
	gamelift.PlacementCancelled: EventPlacementCancelled,
	gamelift.PlacementTimedOut:  EventPlacementTimedOut,
	gamelift.PlacementFailed:    EventPlacementFailed,
}

// PlayerSessionEvent is one entry of detail.placedPlayerSessions.
type PlayerSessionEvent struct {
	PlayerID        string `json:"playerId"`
	PlayerSessionID string `json:"playerSessionId"`
}

// EventDetail is the detail of a placement event.
type EventDetail struct {
	Type                 string               `json:"type"`
	PlacementID          string               `json:"placementId"`
	Port                 string               `json:"port,omitempty"`
	GameSessionArn       string               `json:"gameSessionArn,omitempty"`
	IPAddress            string               `json:"ipAddress,omitempty"`
	DNSName              string               `json:"dnsName,omitempty"`
	StartTime            string               `json:"startTime"`
	EndTime              string               `json:"endTime"`
	GameSessionRegion    string               `json:"gameSessionRegion,omitempty"`
	PlacedPlayerSessions []PlayerSessionEvent `json:"placedPlayerSessions,omitempty"`
	CustomEventData      string               `json:"customEventData,omitempty"`
}

// EventDocument is a placement event as EventBridge carries it.
type EventDocument = gamelift.Envelope[EventDetail]

func (s *Service) event(p Placement, q *Queue) store.Event {
	typ := eventTypes[p.Status]
	d := EventDetail{Type: typ, PlacementID: p.PlacementID, StartTime: gamelift.EventTimeMillis(p.StartTime), EndTime: gamelift.EventTimeMillis(p.EndTime)}
	if p.Status == gamelift.PlacementFulfilled {
		d.Port, d.GameSessionArn, d.IPAddress, d.DNSName, d.GameSessionRegion = strconv.Itoa(int(p.Port)), p.GameSessionArn, p.IpAddress, p.DnsName, p.Location
		d.PlacedPlayerSessions = []PlayerSessionEvent{}
		for _, ps := range p.PlacedPlayerSessions {
			d.PlacedPlayerSessions = append(d.PlacedPlayerSessions, PlayerSessionEvent{PlayerID: ps.PlayerId, PlayerSessionID: ps.PlayerSessionId})
		}
	}
	var target *string
	if q != nil {
		// The queue's NotificationTarget now, not at delivery: GameLift
		// sends an event to the target configured when it was published.
		d.CustomEventData, target = q.CustomEventData, new(q.NotificationTarget)
	}
	// The envelope's time is to the second, as in GameLift's examples.
	doc := gamelift.NewEnvelope(s.cfg.ARNs, gamelift.DetailTypeQueuePlacement, p.EndTime.UTC().Format("2006-01-02T15:04:05Z"), p.QueueARN, d)
	return store.Event{ID: doc.ID, Time: p.EndTime, Type: typ, Resource: p.QueueARN, Doc: store.MustJSON(doc), Target: target}
}
