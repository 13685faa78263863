package session

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

// PlayerSession is a player session as stored.
type PlayerSession struct {
	ID            string `json:"id"`
	PlayerID      string `json:"playerId"`
	GameSessionID string `json:"gameSessionId"`
	FleetID       string `json:"fleetId"`
	FleetARN      string `json:"fleetArn"`
	Status        string `json:"status"`
	IPAddress     string `json:"ipAddress,omitempty"`
	DNSName       string `json:"dnsName,omitempty"`
	Port          int32  `json:"port,omitempty"`
	PlayerData    string `json:"playerData,omitempty"`
	// ProcessID hosts the game session, so the server's calls are checked
	// without reading the game session.
	ProcessID    string    `json:"processId,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	TerminatedAt time.Time `json:"terminatedAt,omitzero"`
	// AwaitsActivation marks a reservation made with its game session (by
	// a placement), while that session is ACTIVATING: no player can join
	// before it is ACTIVE, so the reservation's time-out counts from then
	// (ReservedFrom), however long the game server takes to load.
	AwaitsActivation bool      `json:"awaitsActivation,omitempty"`
	ReservedFrom     time.Time `json:"reservedFrom,omitzero"`
	// ChangedBy is the RequestId of the server SDK call that last changed
	// the status (accept, remove), so a call the SDK re-sends after a
	// restart of the control plane is answered as the first one was.
	ChangedBy string `json:"changedBy,omitempty"`
}

func (s *Service) effectivePlayer(p PlayerSession) PlayerSession {
	if p.Status == gamelift.PlayerSessionReserved {
		if deadline, ok := s.reservationDeadline(p); ok && !s.now().Before(deadline) {
			p.Status, p.TerminatedAt = gamelift.PlayerSessionTimedOut, deadline
		}
	}
	return p
}

// reservationDeadline is when a RESERVED player session times out; ok is
// false while its game session activates (its time-out has not started).
func (s *Service) reservationDeadline(p PlayerSession) (deadline time.Time, ok bool) {
	if p.AwaitsActivation {
		return time.Time{}, false
	}
	from := p.CreatedAt
	if !p.ReservedFrom.IsZero() {
		from = p.ReservedFrom
	}
	return from.Add(s.cfg.ReservationTimeout), true
}

func playerKeys(p PlayerSession) store.Keys {
	return store.Keys{p.GameSessionID + "|" + p.Status, p.PlayerID, p.Status}
}

// putPlayerSession writes a player session, whose status is new (every
// caller changes it), and its event (playerevents.go); an ended one is
// kept for fleet.Retention.
func putPlayerSession(ctx context.Context, w store.Writer, p PlayerSession, version int64) error {
	if err := putSession(ctx, w, store.Record{Kind: KindPlayerSession, ID: p.ID, Doc: store.MustJSON(p), Keys: playerKeys(p), Version: version}, p.TerminatedAt); err != nil {
		return err
	}
	return appendPlayerSessionEvent(ctx, w, p)
}

// Wire returns the control API shape.
func (p PlayerSession) Wire() gamelift.PlayerSession {
	w := gamelift.PlayerSession{PlayerSessionId: p.ID, PlayerId: p.PlayerID, GameSessionId: p.GameSessionID, FleetId: p.FleetID,
		FleetArn: p.FleetARN, CreationTime: gamelift.At(p.CreatedAt), Status: p.Status, IpAddress: p.IPAddress, DnsName: p.DNSName,
		PlayerData: p.PlayerData}
	if p.Port != 0 {
		w.Port = i32(int(p.Port))
	}
	if !p.TerminatedAt.IsZero() {
		w.TerminationTime = gamelift.At(p.TerminatedAt)
	}
	return w
}

// playersIn lists a game session's player sessions in a stored status.
func (s *Service) playersIn(ctx context.Context, r store.Reader, gameSessionID, status string) ([]PlayerSession, []store.Item, error) {
	items, err := r.Find(ctx, store.Query{Kind: KindPlayerSession, Key: 1, Value: gameSessionID + "|" + status, Limit: 10000})
	if err != nil {
		return nil, nil, err
	}
	ps, err := store.Decode[PlayerSession](items)
	return ps, items, err
}

// livePlayers counts RESERVED (not timed out) and ACTIVE player sessions.
func (s *Service) livePlayers(ctx context.Context, r store.Reader, gameSessionID string) (int, error) {
	n := 0
	for _, st := range []string{gamelift.PlayerSessionReserved, gamelift.PlayerSessionActive} {
		ps, _, err := s.playersIn(ctx, r, gameSessionID, st)
		if err != nil {
			return 0, err
		}
		for _, p := range ps {
			if s.effectivePlayer(p).Status == st {
				n++
			}
		}
	}
	return n, nil
}

// completePlayers ends a finished game session's player sessions.
func (s *Service) completePlayers(ctx context.Context, w store.Writer, gameSessionID string) error {
	for _, st := range []string{gamelift.PlayerSessionReserved, gamelift.PlayerSessionActive} {
		ps, items, err := s.playersIn(ctx, w, gameSessionID, st)
		if err != nil {
			return err
		}
		for i, p := range ps {
			p = s.effectivePlayer(p)
			if p.Status != gamelift.PlayerSessionTimedOut {
				p.Status, p.TerminatedAt = gamelift.PlayerSessionCompleted, s.now()
			}
			if err := putPlayerSession(ctx, w, p, items[i].Version); err != nil {
				return err
			}
		}
	}
	return nil
}

// reserve creates RESERVED player sessions in g, all or none, in w's
// transaction; live is how many of g's slots are taken.
func (s *Service) reserve(ctx context.Context, w store.Writer, g GameSession, players []DesiredPlayer, live int) ([]PlayerSession, error) {
	if live+len(players) > int(g.MaxPlayers) {
		return nil, fault.New(fault.GameSessionFull, "game session %s has %d of %d player slots taken; %d players do not fit", g.ID, live, g.MaxPlayers, len(players))
	}
	out := make([]PlayerSession, 0, len(players))
	now := s.now()
	for _, dp := range players {
		p := newReservation(g, dp, now)
		if err := putPlayerSession(ctx, w, p, 0); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	s.armTimeouts(w, out)
	return out, nil
}

// newReservation returns a new RESERVED player session in g (every
// reservation should be made by it: it records the hosting process, which
// AcceptPlayerSession's hot path relies on).
func newReservation(g GameSession, dp DesiredPlayer, now time.Time) PlayerSession {
	return PlayerSession{ID: newPlayerSessionID(), PlayerID: dp.PlayerID, GameSessionID: g.ID, FleetID: g.FleetID, FleetARN: g.FleetARN,
		Status: gamelift.PlayerSessionReserved, IPAddress: g.IPAddress, DNSName: g.DNSName, Port: g.Port, PlayerData: dp.PlayerData,
		ProcessID: g.ProcessID, CreatedAt: now, AwaitsActivation: g.Status == gamelift.GameSessionActivating}
}

// startReservations starts the time-outs of the reservations that waited
// for g to be ACTIVE, in w's transaction (g has just been activated).
func (s *Service) startReservations(ctx context.Context, w store.Writer, g GameSession) error {
	ps, items, err := s.playersIn(ctx, w, g.ID, gamelift.PlayerSessionReserved)
	if err != nil {
		return err
	}
	started := ps[:0]
	for i, p := range ps {
		if !p.AwaitsActivation {
			continue
		}
		p.AwaitsActivation, p.ReservedFrom = false, s.now()
		// The status is unchanged, so no event: a plain write.
		if err := putSession(ctx, w, store.Record{Kind: KindPlayerSession, ID: p.ID, Doc: store.MustJSON(p), Keys: playerKeys(p), Version: items[i].Version}, p.TerminatedAt); err != nil {
			return err
		}
		started = append(started, p)
	}
	s.armTimeouts(w, started)
	return nil
}

// joinable reads a game session that new player sessions may join: ACTIVE
// and accepting players.
func (s *Service) joinable(ctx context.Context, r store.Reader, gameSessionID string) (GameSession, error) {
	g, _, err := s.getGameSession(ctx, r, gameSessionID)
	if err != nil {
		return g, err
	}
	if g.Status != gamelift.GameSessionActive {
		return g, fault.New(fault.InvalidGameSessionStatus, "GameSessionId: game session %s is %s; player sessions need an ACTIVE game session", g.ID, g.Status)
	}
	if g.PlayerPolicy != gamelift.AcceptAll {
		return g, fault.New(fault.InvalidGameSessionStatus, "GameSessionId: game session %s does not accept new players (PlayerSessionCreationPolicy %s)", g.ID, g.PlayerPolicy)
	}
	return g, nil
}

// SeatIn gives each of players a live player session in the ACTIVE game
// session gameSessionID, in w's transaction: a player holding a RESERVED
// or ACTIVE one there keeps it, the others are reserved, all or none. It
// returns every live player session of the game session. Backfill seats
// its new players in the transaction that completes their match, so no
// retry and no second replica seats anyone twice.
func (s *Service) SeatIn(ctx context.Context, w store.Writer, gameSessionID string, players []DesiredPlayer) ([]PlayerSession, error) {
	g, err := s.joinable(ctx, w, gameSessionID)
	if err != nil {
		return nil, err
	}
	var seated []PlayerSession
	held := map[string]bool{}
	for _, st := range []string{gamelift.PlayerSessionReserved, gamelift.PlayerSessionActive} {
		ps, _, err := s.playersIn(ctx, w, g.ID, st)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if s.effectivePlayer(p).Status == st {
				seated = append(seated, p)
				held[p.PlayerID] = true
			}
		}
	}
	var want []DesiredPlayer
	for _, dp := range players {
		if !held[dp.PlayerID] {
			want = append(want, dp)
		}
	}
	if len(want) == 0 {
		return seated, nil
	}
	made, err := s.reserve(ctx, w, g, want, len(seated))
	if err != nil {
		return nil, err
	}
	return append(seated, made...), nil
}

// ReservePlayerSessions reserves slots in an ACTIVE game session that
// accepts players, all or none.
func (s *Service) ReservePlayerSessions(ctx context.Context, gameSessionID string, players []DesiredPlayer) ([]PlayerSession, error) {
	var out []PlayerSession
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		g, err := s.joinable(ctx, w, gameSessionID)
		if err != nil {
			return err
		}
		if len(players) == 0 {
			out = []PlayerSession{}
			return nil
		}
		live, err := s.livePlayers(ctx, w, g.ID)
		if err != nil {
			return err
		}
		out, err = s.reserve(ctx, w, g, players, live)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create player sessions: %w", err)
	}
	return out, nil
}

// CreatePlayerSession is the control-API operation.
func (s *Service) CreatePlayerSession(ctx context.Context, in *gamelift.CreatePlayerSessionInput) (*gamelift.CreatePlayerSessionOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "GameSessionId", "ArnStringModel", in.GameSessionId)
		gamelift.CheckLength(v, "PlayerId", in.PlayerId, 1, 1024)
		gamelift.CheckLengthSet(v, "PlayerData", in.PlayerData, 1, 2048)
	}); err != nil {
		return nil, err
	}
	ps, err := s.ReservePlayerSessions(ctx, in.GameSessionId, []DesiredPlayer{{PlayerID: in.PlayerId, PlayerData: in.PlayerData}})
	if err != nil {
		return nil, err
	}
	w := ps[0].Wire()
	return &gamelift.CreatePlayerSessionOutput{PlayerSession: &w}, nil
}

// CreatePlayerSessions is the control-API operation (1..25 players).
func (s *Service) CreatePlayerSessions(ctx context.Context, in *gamelift.CreatePlayerSessionsInput) (*gamelift.CreatePlayerSessionsOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "GameSessionId", "ArnStringModel", in.GameSessionId)
		v.Check(len(in.PlayerIds) >= 1 && len(in.PlayerIds) <= 25, "PlayerIds", "must have 1 to 25 items")
		for i, id := range in.PlayerIds {
			gamelift.CheckLength(v, fmt.Sprintf("PlayerIds[%d]", i), id, 1, 1024)
		}
		for k, d := range in.PlayerDataMap {
			gamelift.CheckLengthSet(v, "PlayerDataMap."+k, d, 1, 2048)
		}
	}); err != nil {
		return nil, err
	}
	players := make([]DesiredPlayer, 0, len(in.PlayerIds))
	for _, id := range in.PlayerIds {
		players = append(players, DesiredPlayer{PlayerID: id, PlayerData: in.PlayerDataMap[id]})
	}
	ps, err := s.ReservePlayerSessions(ctx, in.GameSessionId, players)
	if err != nil {
		return nil, err
	}
	out := &gamelift.CreatePlayerSessionsOutput{PlayerSessions: make([]gamelift.PlayerSession, 0, len(ps))}
	for _, p := range ps {
		out.PlayerSessions = append(out.PlayerSessions, p.Wire())
	}
	return out, nil
}

// processSession checks that the game session is hosted by the process.
func (s *Service) processSession(ctx context.Context, r store.Reader, processID, gameSessionID string) (GameSession, int64, error) {
	g, version, err := s.getGameSession(ctx, r, gameSessionID)
	if err != nil {
		return g, 0, err
	}
	if g.ProcessID != processID {
		return g, 0, fault.New(fault.Forbidden, "game session %s is not hosted by this process", gameSessionID)
	}
	return g, version, nil
}

// AcceptPlayerSession is the server's AcceptPlayerSession: a RESERVED
// player session of this process's game session becomes ACTIVE. It is
// refused for an unknown id, another game session or process, or a player
// session that is not RESERVED any more (accepted before, timed out,
// completed). A RESERVED player session always belongs to a live game
// session (ending a game session completes its player sessions), so the
// hot path reads only the player session. requestID, the SDK call's
// RequestId, makes the call idempotent: the same call again succeeds.
func (s *Service) AcceptPlayerSession(ctx context.Context, processID, gameSessionID, playerSessionID, requestID string) error {
	return s.moveOwnPlayerSession(ctx, processID, gameSessionID, playerSessionID, requestID, gamelift.PlayerSessionActive, gamelift.PlayerSessionReserved)
}

// ownPlayerSession reads a player session (as of now) that must belong to
// gameSessionID, hosted by processID.
func (s *Service) ownPlayerSession(ctx context.Context, r store.Reader, processID, gameSessionID, playerSessionID string) (PlayerSession, int64, error) {
	p, version, err := store.GetJSON[PlayerSession](ctx, r, KindPlayerSession, playerSessionID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.GameSessionID != gameSessionID) {
		return p, 0, fault.New(fault.NotFound, "player session %s is not a player session of game session %s", playerSessionID, gameSessionID)
	}
	if err != nil {
		return p, 0, err
	}
	if p.ProcessID != processID {
		if _, _, err := s.processSession(ctx, r, processID, gameSessionID); err != nil {
			return p, 0, err
		}
	}
	return s.effectivePlayer(p), version, nil
}

// RemovePlayerSession is the server's RemovePlayerSession: a RESERVED or
// ACTIVE player session becomes COMPLETED and frees its slot. requestID is
// as for AcceptPlayerSession.
func (s *Service) RemovePlayerSession(ctx context.Context, processID, gameSessionID, playerSessionID, requestID string) error {
	return s.moveOwnPlayerSession(ctx, processID, gameSessionID, playerSessionID, requestID, gamelift.PlayerSessionCompleted,
		gamelift.PlayerSessionReserved, gamelift.PlayerSessionActive)
}

// moveOwnPlayerSession is what a game server process does to one of its
// player sessions: the player session, of the process's game session,
// goes from one of the statuses from to to (COMPLETED also ends it now)
// and its reservation time-out is disarmed. The same call again
// (requestID) succeeds without a change.
func (s *Service) moveOwnPlayerSession(ctx context.Context, processID, gameSessionID, playerSessionID, requestID, to string, from ...string) error {
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		p, version, err := s.ownPlayerSession(ctx, w, processID, gameSessionID, playerSessionID)
		if err != nil {
			return err
		}
		if p.Status == to && requestID != "" && p.ChangedBy == requestID {
			return nil // a re-sent call that succeeded before
		}
		if !slices.Contains(from, p.Status) {
			return fault.New(fault.InvalidGameSessionStatus, "player session %s is %s, not %s", playerSessionID, p.Status, strings.Join(from, " or "))
		}
		p.Status, p.ChangedBy = to, requestID
		if to == gamelift.PlayerSessionCompleted {
			p.TerminatedAt = s.now()
		}
		s.disarmTimeout(w, p.ID)
		return putPlayerSession(ctx, w, p, version)
	})
}

// SetPlayerSessionCreationPolicy is the server's
// UpdatePlayerSessionCreationPolicy.
func (s *Service) SetPlayerSessionCreationPolicy(ctx context.Context, processID, gameSessionID, policy string) error {
	if policy != gamelift.AcceptAll && policy != gamelift.DenyAll {
		return fault.BadField("PlayerSessionPolicy", "must be ACCEPT_ALL or DENY_ALL")
	}
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		g, version, err := s.processSession(ctx, w, processID, gameSessionID)
		if err != nil {
			return err
		}
		g.PlayerPolicy = policy
		return putGameSession(ctx, w, g, version)
	})
}

// PlayerQuery selects player sessions: exactly one of PlayerSessionID,
// GameSessionID and PlayerID; StatusFilter only with GameSessionID.
type PlayerQuery struct {
	GameSessionID, PlayerID, PlayerSessionID, StatusFilter string
	Limit                                                  int
	NextToken                                              string
	// FleetID, when set, restricts results to one fleet (server processes
	// see only their own fleet's player sessions).
	FleetID string
}

// DescribePlayerSessions serves both the control API and the server SDK.
func (s *Service) DescribePlayerSessions(ctx context.Context, q PlayerQuery) ([]PlayerSession, string, error) {
	var v fault.Validator
	set := 0
	for _, x := range []string{q.GameSessionID, q.PlayerID, q.PlayerSessionID} {
		if x != "" {
			set++
		}
	}
	v.Check(set == 1, "GameSessionId", "exactly one of GameSessionId, PlayerId and PlayerSessionId is required")
	switch q.StatusFilter {
	case "", gamelift.PlayerSessionReserved, gamelift.PlayerSessionActive, gamelift.PlayerSessionCompleted, gamelift.PlayerSessionTimedOut:
	default:
		v.Add("PlayerSessionStatusFilter", "must be RESERVED, ACTIVE, COMPLETED or TIMEDOUT")
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	v.Check(q.Limit >= 1, "Limit", "must be at least 1")
	after, terr := store.DecodePageToken(q.NextToken)
	v.Check(terr == nil, "NextToken", "is not a token this API returned")
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	keep := func(p *PlayerSession) bool {
		*p = s.effectivePlayer(*p)
		return (q.StatusFilter == "" || p.Status == q.StatusFilter) && (q.FleetID == "" || p.FleetID == q.FleetID)
	}
	var out []PlayerSession
	var next string
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		if q.PlayerSessionID != "" {
			p, _, err := store.GetJSON[PlayerSession](ctx, r, KindPlayerSession, q.PlayerSessionID)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err == nil && (q.FleetID == "" || p.FleetID == q.FleetID) {
				out = append(out, s.effectivePlayer(p))
			}
			return err
		}
		sq := store.Query{Kind: KindPlayerSession, Key: 2, Value: q.PlayerID, After: after}
		if q.GameSessionID != "" {
			sq = store.Query{Kind: KindPlayerSession, Key: 1, Value: q.GameSessionID + "|", Prefix: true, After: after}
		}
		var err error
		out, next, err = store.FilterPage(ctx, r, sq, q.Limit, keep)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("describe player sessions: %w", err)
	}
	return out, next, nil
}

// DescribePlayerSessionsOp is the control-API operation DescribePlayerSessions.
func (s *Service) DescribePlayerSessionsOp(ctx context.Context, in *gamelift.DescribePlayerSessionsInput) (*gamelift.DescribePlayerSessionsOutput, error) {
	if err := service.Authorize(ctx, false, func(v *fault.Validator) {
		s.cfg.Formats.CheckSet(v, "GameSessionId", "ArnStringModel", in.GameSessionId)
		s.cfg.Formats.CheckSet(v, "PlayerSessionId", "PlayerSessionId", in.PlayerSessionId)
	}); err != nil {
		return nil, err
	}
	q := PlayerQuery{GameSessionID: in.GameSessionId, PlayerID: in.PlayerId, PlayerSessionID: in.PlayerSessionId,
		StatusFilter: in.PlayerSessionStatusFilter, NextToken: in.NextToken}
	if in.Limit != nil {
		q.Limit = int(*in.Limit)
		if q.Limit < 1 {
			q.Limit = -1
		}
	}
	ps, next, err := s.DescribePlayerSessions(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribePlayerSessionsOutput{PlayerSessions: make([]gamelift.PlayerSession, 0, len(ps)), NextToken: next}
	for _, p := range ps {
		out.PlayerSessions = append(out.PlayerSessions, p.Wire())
	}
	return out, nil
}
