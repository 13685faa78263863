package session

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/ids"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// Store kinds.
const (
	KindGameSession   = "gamesession"
	KindPlayerSession = "playersession"
)

// Outbox event types written by this package (besides fleet events).
const (
	EventGameSessionActivated  = "GameSessionActivated"
	EventGameSessionTerminated = "GameSessionTerminated"
)

// GameLift's limits: a player session stays RESERVED for 60 s unless the
// game server accepts it, and a game session holds at most 200 players
// (https://docs.aws.amazon.com/gamelift/latest/developerguide/gamelift-limits.html).
const (
	DefaultReservationTimeout = 60 * time.Second
	MaxPlayersPerGameSession  = 200
)

// GameSession is a game session as stored.
type GameSession struct {
	ID               string                  `json:"id"` // the ARN
	FleetID          string                  `json:"fleetId"`
	FleetARN         string                  `json:"fleetArn"`
	Location         string                  `json:"location"`
	Name             string                  `json:"name,omitempty"`
	CreatorID        string                  `json:"creatorId,omitempty"`
	MaxPlayers       int32                   `json:"maxPlayers"`
	Properties       []gamelift.GameProperty `json:"properties,omitempty"`
	Data             string                  `json:"data,omitempty"`
	MatchmakerData   string                  `json:"matchmakerData,omitempty"`
	Status           string                  `json:"status"`
	StatusReason     string                  `json:"statusReason,omitempty"`
	PlayerPolicy     string                  `json:"playerPolicy"`
	Protection       string                  `json:"protection"`
	IPAddress        string                  `json:"ipAddress,omitempty"`
	DNSName          string                  `json:"dnsName,omitempty"`
	Port             int32                   `json:"port,omitempty"`
	ComputeName      string                  `json:"computeName"`
	ProcessID        string                  `json:"processId"`
	CreatedAt        time.Time               `json:"createdAt"`
	ActivateBy       time.Time               `json:"activateBy"`
	TerminatedAt     time.Time               `json:"terminatedAt,omitzero"`
	IdempotencyToken string                  `json:"idempotencyToken,omitempty"`
}

// effective applies the activation deadline as of now.
func (g GameSession) effective(now time.Time) GameSession {
	if g.Status == gamelift.GameSessionActivating && !now.Before(g.ActivateBy) {
		g.Status = gamelift.GameSessionError
	}
	return g
}

// liveStatuses are the statuses of a game session that has not ended.
var liveStatuses = []string{gamelift.GameSessionActivating, gamelift.GameSessionActive, gamelift.GameSessionTerminating}

// Live reports whether the session has not ended.
func (g GameSession) Live() bool { return slices.Contains(liveStatuses, g.Status) }

func gameSessionKeys(g GameSession) store.Keys {
	k3 := ""
	if g.CreatorID != "" {
		k3 = g.FleetID + "/" + g.CreatorID
	}
	return store.Keys{g.FleetID + "/" + g.Location, g.Status, k3}
}

// putGameSession writes a game session; an ended one is kept for
// fleet.Retention (its idempotency token stays taken as long).
func putGameSession(ctx context.Context, w store.Writer, g GameSession, version int64) error {
	return putSession(ctx, w, store.Record{Kind: KindGameSession, ID: g.ID, Doc: store.MustJSON(g), Keys: gameSessionKeys(g), Version: version}, g.TerminatedAt)
}

// putSession writes a game or player session record; one that has ended
// (at terminatedAt) expires fleet.Retention later, as GameLift keeps ended
// sessions readable for that long.
func putSession(ctx context.Context, w store.Writer, r store.Record, terminatedAt time.Time) error {
	if !terminatedAt.IsZero() {
		r.ExpiresAt = terminatedAt.Add(fleet.Retention)
	}
	_, err := w.Put(ctx, r)
	return err
}

// Pusher delivers server-protocol pushes to connected processes (the SDK
// adapter implements it). Pushes are fire-and-forget, as in the protocol.
type Pusher interface {
	CreateGameSession(processID string, gs GameSession)
	// UpdateGameSession pushes gs's new matchmaker data as part of w's
	// transaction: what it keeps to deliver commits with the data, and it
	// sends once w has committed.
	UpdateGameSession(ctx context.Context, w store.Writer, processID string, gs GameSession, reason, backfillTicketID string) error
	TerminateProcess(processID string, at time.Time)
}

// Config configures the session service.
type Config struct {
	service.Base
	Fleets *fleet.Service
	// Pusher pushes to the game sessions' processes (the SDK endpoint's
	// hub, sdk.Hub); nil pushes nothing.
	Pusher Pusher
	// ReservationTimeout is how long a player session stays RESERVED (60 s).
	ReservationTimeout time.Duration
}

// Service serves game and player sessions.
type Service struct {
	cfg Config
	// settled hears a game session become ACTIVE or end (see OnSettled).
	settled func(ctx context.Context, w store.Writer, g GameSession) error
	// timers time out reservations at their deadline (timeout.go).
	timers reservationTimers
}

// OnSettled sets the hook that runs, inside the transaction, when a game
// session becomes ACTIVE or ends, so that the placement that created it is
// fulfilled only once the game server has the session (or fails if it
// never does). It is a setter, not a Config field, because placement is
// built on this service: it is set once placement exists, before serving.
func (s *Service) OnSettled(h func(ctx context.Context, w store.Writer, g GameSession) error) {
	s.settled = h
}

// settle runs the OnSettled hook for g in w.
func (s *Service) settle(ctx context.Context, w store.Writer, g GameSession) error {
	if s.settled == nil {
		return nil
	}
	return s.settled(ctx, w, g)
}

// New returns the session service and connects it to the fleet service
// (fleet.Service.SetSessions), so that a process that ends takes its game
// session with it and fleet utilization counts player sessions.
func New(cfg Config) *Service {
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.ReservationTimeout <= 0 {
		cfg.ReservationTimeout = DefaultReservationTimeout
	}
	s := &Service{cfg: cfg}
	cfg.Fleets.SetSessions(s)
	return s
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// getGameSession reads a game session (as of now) inside a transaction.
func (s *Service) getGameSession(ctx context.Context, r store.Reader, id string) (GameSession, int64, error) {
	g, v, err := service.Get[GameSession](ctx, r, KindGameSession, id, "GameSessionId: game session %s not found", id)
	return g.effective(s.now()), v, err
}

// CreateGameSession is the control-API operation.
func (s *Service) CreateGameSession(ctx context.Context, in *gamelift.CreateGameSessionInput) (*gamelift.CreateGameSessionOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.checkFleetRef(v, in.FleetId, in.AliasId)
		if in.MaximumPlayerSessionCount == nil {
			v.Add("MaximumPlayerSessionCount", "is required")
		} else {
			v.Check(*in.MaximumPlayerSessionCount >= 0 && *in.MaximumPlayerSessionCount <= MaxPlayersPerGameSession, "MaximumPlayerSessionCount", "must be 0 to %d", MaxPlayersPerGameSession)
		}
		gamelift.CheckLengthSet(v, "Name", in.Name, 1, 1024)
		gamelift.CheckLengthSet(v, "CreatorId", in.CreatorId, 1, 1024)
		gamelift.CheckLengthSet(v, "GameSessionData", in.GameSessionData, 1, 262144)
		checkProperties(v, "GameProperties", in.GameProperties)
		s.cfg.Formats.CheckSet(v, "Location", "LocationStringModel", in.Location)
		s.cfg.Formats.CheckSet(v, "IdempotencyToken", "IdStringModel", in.IdempotencyToken)
		s.cfg.Formats.CheckSet(v, "GameSessionId", "IdStringModel", in.GameSessionId)
	}); err != nil {
		return nil, err
	}
	req := PlaceRequest{Location: in.Location, MaxPlayers: *in.MaximumPlayerSessionCount, Name: in.Name, Properties: in.GameProperties,
		Data: in.GameSessionData, CreatorID: in.CreatorId, IdempotencyToken: in.IdempotencyToken}
	if req.IdempotencyToken == "" {
		req.IdempotencyToken = in.GameSessionId
	}
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		id, err := s.cfg.Fleets.Resolve(ctx, r, in.FleetId, in.AliasId)
		if err != nil {
			return err
		}
		f, _, err := fleet.GetFleet(ctx, r, id)
		if err != nil {
			return err
		}
		req.FleetID = f.ID
		if req.Location == "" {
			if len(f.Locations) != 1 {
				return fault.BadField("Location", "is required: fleet %s has %d locations", f.ID, len(f.Locations))
			}
			req.Location = f.Locations[0]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create game session: %w", err)
	}
	g, _, err := s.CreateGameSessionOn(ctx, req)
	if err != nil {
		return nil, err
	}
	var out *gamelift.GameSession
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		w, err := s.wire(ctx, r, g)
		out = &w
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create game session: %w", err)
	}
	return &gamelift.CreateGameSessionOutput{GameSession: out}, nil
}

// checkFleetRef checks the FleetId and AliasId members of a call that
// takes exactly one of them.
func (s *Service) checkFleetRef(v *fault.Validator, fleetID, aliasID string) {
	v.Check((fleetID == "") != (aliasID == ""), "FleetId", "exactly one of FleetId and AliasId is required")
	s.cfg.Formats.CheckSet(v, "FleetId", "FleetIdOrArn", fleetID)
	s.cfg.Formats.CheckSet(v, "AliasId", "AliasIdOrArn", aliasID)
}

func checkProperties(v *fault.Validator, member string, props []gamelift.GameProperty) {
	v.Check(len(props) <= 16, member, "must have at most 16 items")
	for i, p := range props {
		gamelift.CheckLength(v, fmt.Sprintf("%s[%d].Key", member, i), p.Key, 0, 32)
		gamelift.CheckLength(v, fmt.Sprintf("%s[%d].Value", member, i), p.Value, 0, 96)
	}
}

// wire converts a stored game session to the control API shape, counting
// its player sessions.
func (s *Service) wire(ctx context.Context, r store.Reader, g GameSession) (gamelift.GameSession, error) {
	n := 0
	if g.Live() {
		var err error
		if n, err = s.livePlayers(ctx, r, g.ID); err != nil {
			return gamelift.GameSession{}, err
		}
	}
	w := gamelift.GameSession{GameSessionId: g.ID, Name: g.Name, FleetId: g.FleetID, FleetArn: g.FleetARN, CreationTime: gamelift.At(g.CreatedAt),
		CurrentPlayerSessionCount: i32(n), MaximumPlayerSessionCount: i32(int(g.MaxPlayers)), Status: g.Status, StatusReason: g.StatusReason,
		GameProperties: g.Properties, IpAddress: g.IPAddress, DnsName: g.DNSName, PlayerSessionCreationPolicy: g.PlayerPolicy,
		CreatorId: g.CreatorID, GameSessionData: g.Data, MatchmakerData: g.MatchmakerData, Location: g.Location, ComputeName: g.ComputeName}
	if g.Port != 0 {
		w.Port = i32(int(g.Port))
	}
	if !g.TerminatedAt.IsZero() {
		w.TerminationTime = gamelift.At(g.TerminatedAt)
	}
	return w, nil
}

func i32(n int) *int32 { v := int32(n); return &v }

// ActivateGameSession is the server's ActivateGameSession: the game
// session becomes ACTIVE. Activating it again is harmless; activating after
// the deadline fails.
func (s *Service) ActivateGameSession(ctx context.Context, processID, gameSessionID string) error {
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		g, version, err := s.processSession(ctx, w, processID, gameSessionID)
		if err != nil {
			return err
		}
		switch g.Status {
		case gamelift.GameSessionActive:
			return nil
		case gamelift.GameSessionActivating:
		default:
			return fault.New(fault.InvalidGameSessionStatus, "game session %s is %s and cannot be activated", gameSessionID, g.Status)
		}
		g.Status = gamelift.GameSessionActive
		if err := putGameSession(ctx, w, g, version); err != nil {
			return err
		}
		if err := fleet.SessionActivated(ctx, w, processID); err != nil {
			return err
		}
		if err := s.startReservations(ctx, w, g); err != nil {
			return err
		}
		if err := s.settle(ctx, w, g); err != nil {
			return err
		}
		return w.Append(ctx, store.Event{Type: EventGameSessionActivated, Resource: g.ID, Time: s.now(),
			Doc: store.MustJSON(map[string]string{"gameSessionArn": g.ID, "fleetId": g.FleetID, "location": g.Location})})
	})
	if err != nil {
		return fmt.Errorf("activate game session: %w", err)
	}
	return nil
}

// endGameSession moves a live game session to TERMINATED (or keeps ERROR),
// completing its player sessions, in w's transaction.
func (s *Service) endGameSession(ctx context.Context, w store.Writer, g GameSession, version int64, status, reason string) error {
	g.Status, g.TerminatedAt = status, s.now()
	if reason != "" {
		g.StatusReason = reason
	}
	if err := putGameSession(ctx, w, g, version); err != nil {
		return err
	}
	if err := s.completePlayers(ctx, w, g.ID); err != nil {
		return err
	}
	if err := s.settle(ctx, w, g); err != nil {
		return err
	}
	return w.Append(ctx, store.Event{Type: EventGameSessionTerminated, Resource: g.ID, Time: g.TerminatedAt,
		Doc: store.MustJSON(map[string]string{"gameSessionArn": g.ID, "fleetId": g.FleetID, "status": g.Status, "statusReason": g.StatusReason})})
}

// ProcessEnded ends the game session of a process that ended, in the
// transaction that ends the process (fleet.Sessions). A lost compute
// interrupts its sessions.
func (s *Service) ProcessEnded(ctx context.Context, w store.Writer, p fleet.Process, reason string) error {
	g, version, err := s.getGameSession(ctx, w, p.GameSessionID)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return nil
		}
		return err
	}
	if !g.Live() {
		return nil
	}
	why := ""
	if reason != fleet.EndProcessEnding {
		why = gamelift.ReasonInterrupted
	}
	return s.endGameSession(ctx, w, g, version, gamelift.GameSessionTerminated, why)
}

// TerminateGameSession ends a game session: TRIGGER_ON_PROCESS_TERMINATE
// tells the process (TerminateProcess) and the session is TERMINATING until
// the process calls ProcessEnding; FORCE_TERMINATE ends it and its process
// at once, and the process's agent kills it at its next heartbeat.
func (s *Service) TerminateGameSession(ctx context.Context, in *gamelift.TerminateGameSessionInput) (*gamelift.TerminateGameSessionOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "GameSessionId", "ArnStringModel", in.GameSessionId)
		v.Check(in.TerminationMode == gamelift.TerminationTriggerOnProcessTerminate || in.TerminationMode == gamelift.TerminationForce,
			"TerminationMode", "must be TRIGGER_ON_PROCESS_TERMINATE or FORCE_TERMINATE")
	}); err != nil {
		return nil, err
	}
	var g GameSession
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		g, version, err = s.gameSessionIn(ctx, w, in.GameSessionId, liveStatuses...)
		if err != nil {
			return err
		}
		if in.TerminationMode == gamelift.TerminationForce {
			if err := s.endGameSession(ctx, w, g, version, gamelift.GameSessionTerminated, gamelift.ReasonForceTerminated); err != nil {
				return err
			}
			if err := s.cfg.Fleets.ForceTerminate(ctx, w, g.ProcessID); err != nil {
				return err
			}
			g, _, err = s.getGameSession(ctx, w, g.ID)
			return err
		}
		g.Status, g.StatusReason = gamelift.GameSessionTerminating, gamelift.ReasonTriggeredOnProcessTerminate
		if err := putGameSession(ctx, w, g, version); err != nil {
			return err
		}
		pid := g.ProcessID
		at, err := s.cfg.Fleets.TellToEnd(ctx, w, pid)
		if err != nil {
			return err
		}
		w.AfterCommit(func() {
			if s.cfg.Pusher != nil {
				s.cfg.Pusher.TerminateProcess(pid, at)
			}
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("terminate game session: %w", err)
	}
	out, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (gamelift.GameSession, error) {
		return s.wire(ctx, r, g)
	})
	return &gamelift.TerminateGameSessionOutput{GameSession: &out}, err
}

// GetGameSessionLogUrl answers as GameLift does for fleets whose logs it
// does not hold (NotFoundException), saying where the log is: muster agent
// writes each process's output on its host.
func (s *Service) GetGameSessionLogUrl(ctx context.Context, in *gamelift.GetGameSessionLogUrlInput) (*gamelift.GetGameSessionLogUrlOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, false, "GameSessionId", "ArnStringModel", in.GameSessionId); err != nil {
		return nil, err
	}
	g, err := s.GameSession(ctx, in.GameSessionId)
	if err != nil {
		return nil, err
	}
	return nil, fault.New(fault.NotFound, "GameSessionId: Muster keeps no game session logs; the log of game session %s is on compute %s, where muster agent writes the output of process %s to %s.log in its --log-dir",
		g.ID, g.ComputeName, g.ProcessID, g.ProcessID)
}

// UpdateGameSession changes a live game session's mutable members; game
// properties are merged (added or overwritten, never removed).
func (s *Service) UpdateGameSession(ctx context.Context, in *gamelift.UpdateGameSessionInput) (*gamelift.UpdateGameSessionOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "GameSessionId", "ArnStringModel", in.GameSessionId)
		if in.MaximumPlayerSessionCount != nil {
			v.Check(*in.MaximumPlayerSessionCount >= 0 && *in.MaximumPlayerSessionCount <= MaxPlayersPerGameSession, "MaximumPlayerSessionCount", "must be 0 to %d", MaxPlayersPerGameSession)
		}
		gamelift.CheckLengthSet(v, "Name", in.Name, 1, 1024)
		v.Check(in.PlayerSessionCreationPolicy == "" || in.PlayerSessionCreationPolicy == gamelift.AcceptAll || in.PlayerSessionCreationPolicy == gamelift.DenyAll,
			"PlayerSessionCreationPolicy", "must be ACCEPT_ALL or DENY_ALL")
		v.Check(in.ProtectionPolicy == "" || in.ProtectionPolicy == gamelift.ProtectionNone || in.ProtectionPolicy == gamelift.ProtectionFull,
			"ProtectionPolicy", "must be NoProtection or FullProtection")
		checkProperties(v, "GameProperties", in.GameProperties)
	}); err != nil {
		return nil, err
	}
	var out gamelift.GameSession
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		g, version, err := s.gameSessionIn(ctx, w, in.GameSessionId, gamelift.GameSessionActive, gamelift.GameSessionActivating)
		if err != nil {
			return err
		}
		if in.MaximumPlayerSessionCount != nil {
			g.MaxPlayers = *in.MaximumPlayerSessionCount
		}
		if in.Name != "" {
			g.Name = in.Name
		}
		if in.PlayerSessionCreationPolicy != "" {
			g.PlayerPolicy = in.PlayerSessionCreationPolicy
		}
		if in.ProtectionPolicy != "" {
			g.Protection = in.ProtectionPolicy
		}
		for _, p := range in.GameProperties {
			g.Properties = setProperty(g.Properties, p)
		}
		if len(g.Properties) > 16 {
			return fault.BadField("GameProperties", "the game session would have %d properties; at most 16 are allowed", len(g.Properties))
		}
		if err := putGameSession(ctx, w, g, version); err != nil {
			return err
		}
		out, err = s.wire(ctx, w, g)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update game session: %w", err)
	}
	return &gamelift.UpdateGameSessionOutput{GameSession: &out}, nil
}

func setProperty(props []gamelift.GameProperty, p gamelift.GameProperty) []gamelift.GameProperty {
	for i := range props {
		if props[i].Key == p.Key {
			props[i].Value = p.Value
			return props
		}
	}
	return append(props, p)
}

// UpdateMatchmakerData replaces a live game session's matchmaker data and
// pushes UpdateGameSession to its process (for backfill: reason
// MATCHMAKING_DATA_UPDATED, BACKFILL_FAILED, BACKFILL_TIMED_OUT or
// BACKFILL_CANCELLED).
func (s *Service) UpdateMatchmakerData(ctx context.Context, gameSessionID, matchmakerData, reason, ticketID string) error {
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		return s.UpdateMatchmakerDataIn(ctx, w, gameSessionID, matchmakerData, reason, ticketID)
	})
	if err != nil {
		return fmt.Errorf("update matchmaker data: %w", err)
	}
	return nil
}

// UpdateMatchmakerDataIn is UpdateMatchmakerData in w's transaction: the
// data and the pending push to the game server commit with the caller's
// writes (a backfill match's completion), and the push goes once they have.
func (s *Service) UpdateMatchmakerDataIn(ctx context.Context, w store.Writer, gameSessionID, matchmakerData, reason, ticketID string) error {
	g, version, err := s.gameSessionIn(ctx, w, gameSessionID, liveStatuses...)
	if err != nil {
		return err
	}
	if matchmakerData != "" {
		g.MatchmakerData = matchmakerData
		if err := putGameSession(ctx, w, g, version); err != nil {
			return err
		}
	}
	if s.cfg.Pusher != nil {
		return s.cfg.Pusher.UpdateGameSession(ctx, w, g.ProcessID, g, reason, ticketID)
	}
	return nil
}

// gameSessionIn reads a game session (as of now) inside a transaction and
// refuses it unless its status is one of statuses.
func (s *Service) gameSessionIn(ctx context.Context, r store.Reader, id string, statuses ...string) (GameSession, int64, error) {
	g, version, err := s.getGameSession(ctx, r, id)
	if err == nil && !slices.Contains(statuses, g.Status) {
		err = fault.New(fault.InvalidGameSessionStatus, "GameSessionId: game session %s is %s", g.ID, g.Status)
	}
	return g, version, err
}

// GameSession returns a game session by ARN, as of now.
func (s *Service) GameSession(ctx context.Context, id string) (GameSession, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (GameSession, error) {
		g, _, err := s.getGameSession(ctx, r, id)
		return g, err
	})
}

// SessionCounts reports the current and maximum player sessions of a fleet
// location's live game sessions, for fleet utilization (fleet.Sessions).
func (s *Service) SessionCounts(ctx context.Context, r store.Reader, fleetID, location string) (int, int, error) {
	gs, err := store.FindAll[GameSession](ctx, r, store.Query{Kind: KindGameSession, Key: 1, Value: fleetID + "/" + location})
	if err != nil {
		return 0, 0, err
	}
	cur, max := 0, 0
	now := s.now()
	for _, g := range gs {
		g = g.effective(now)
		if g.Status != gamelift.GameSessionActive && g.Status != gamelift.GameSessionActivating {
			continue
		}
		n, err := s.livePlayers(ctx, r, g.ID)
		if err != nil {
			return 0, 0, err
		}
		cur += n
		max += int(g.MaxPlayers)
	}
	return cur, max, nil
}

// newPlayerSessionID returns psess- and 32 hex digits: the creation time
// and 80 random bits (a player presents it to the game server as proof).
func newPlayerSessionID() string {
	return "psess-" + ids.Hex()
}
