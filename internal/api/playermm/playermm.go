package playermm

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
)

// DefaultMaxBody is the body limit of every route (Config.MaxBody).
const DefaultMaxBody = 64 << 10

// Config configures the API.
type Config struct {
	Service *matchmaking.Service
	// Protect wraps player routes: it must authenticate the bearer access
	// token and put the player's auth.Principal in the context.
	Protect func(http.Handler) http.Handler
	// Preflight answers CORS preflight requests (OPTIONS) to the player
	// routes, by the same origins as Protect (player.API.Preflight); nil
	// mounts no OPTIONS routes.
	Preflight http.Handler
	// Operator wraps operator routes.
	Operator func(http.Handler) http.Handler
	Logger   *slog.Logger
	// MaxBody caps request bodies in bytes (default DefaultMaxBody).
	MaxBody int64
	// Waiter, when set, lets GET /v1/matchmaking/tickets/{id}?waitSeconds=
	// wait for the ticket's status to change (a long poll).
	Waiter Waiter
}

// Waiter tells a ticket read when an event about the ticket was committed.
type Waiter interface {
	// WatchTicket watches a ticket of the player's for up to d: next
	// returns true when an event about it was committed since the watch
	// began or since next last returned true, false once d has passed.
	WatchTicket(playerID, ticketID string, d time.Duration) (next func(ctx context.Context) bool, stop func())
}

// MaxWaitSeconds bounds a long poll.
const MaxWaitSeconds = 20

// API is the player matchmaking API.
type API struct {
	cfg Config
	svc *matchmaking.Service
}

// New returns the API.
func New(cfg Config) *API { return &API{cfg: cfg, svc: cfg.Service} }

// Register mounts every route on mux.
func (a *API) Register(mux httpx.Mux) {
	p := httpx.NewRoutes(mux, a.cfg.Protect, a.cfg.Logger, a.cfg.MaxBody, DefaultMaxBody)
	o := p.Wrapped(a.cfg.Operator)
	httpx.Handle(p, "POST /v1/matchmaking/tickets", http.StatusCreated, false, a.startTicket)
	p.Without("GET /v1/matchmaking/tickets/{ticketId}", http.StatusOK, a.getTicket)
	p.Without("DELETE /v1/matchmaking/tickets/{ticketId}", http.StatusNoContent, a.cancelTicket)
	httpx.Handle(p, "POST /v1/matchmaking/tickets/{ticketId}/accept", http.StatusNoContent, false, a.accept)
	p.Without("GET /v1/matchmaking/tickets/{ticketId}/explain", http.StatusOK, a.explain)
	httpx.Handle(p, "POST /v1/parties", http.StatusCreated, true, a.createParty)
	p.Without("GET /v1/parties/{partyId}", http.StatusOK, a.getParty)
	httpx.Handle(p, "POST /v1/parties/{partyId}/join", http.StatusOK, false, a.joinParty)
	p.Without("POST /v1/parties/{partyId}/leave", http.StatusNoContent, a.leaveParty)
	o.Without("GET /v1/admin/matchmaking/tickets/{ticketId}/explain", http.StatusOK, a.adminExplain)
	httpx.Handle(o, "PUT /v1/admin/matchmaking/configurations/{name}/player-access", http.StatusOK, false, a.playerAccess)
	if a.cfg.Preflight != nil {
		// Browsers preflight every player route (they send Authorization);
		// the operators' routes are never opened to them.
		mux.Handle("OPTIONS /v1/matchmaking/", a.cfg.Preflight)
		mux.Handle("OPTIONS /v1/parties", a.cfg.Preflight)
		mux.Handle("OPTIONS /v1/parties/", a.cfg.Preflight)
	}
}

// playerLatency matches the latencies of one of the Players of a ticket.
var playerLatency = regexp.MustCompile(`^Players\[\d+\]\.(LatencyInMs(\..*)?)$`)

// ticketField renders the service's names for the ticket it builds as the
// members of the body a player sent. The players of a ticket are the caller
// and its party: their latencies are $.latencyInMs, and anything else about
// them (a player already in an active ticket, too many players) names no
// member and stays in the message.
func ticketField(path string) (string, bool) {
	if m := playerLatency.FindStringSubmatch(path); m != nil {
		return fault.JSONPath(m[1])
	}
	if strings.HasPrefix(path, "Players") {
		return "", false
	}
	return fault.JSONPath(path)
}

// Ticket is a matchmaking ticket as players see it.
type Ticket struct {
	TicketID          string `json:"ticketId"`
	ConfigurationName string `json:"configurationName"`
	Status            string `json:"status"`
	// MatchID names the match the ticket is in while it is
	// REQUIRES_ACCEPTANCE, PLACING or COMPLETED: a new id is a new
	// proposal.
	MatchID                   string          `json:"matchId,omitempty"`
	StatusReason              string          `json:"statusReason,omitempty"`
	StatusMessage             string          `json:"statusMessage,omitempty"`
	StartTime                 string          `json:"startTime,omitempty"`
	EndTime                   string          `json:"endTime,omitempty"`
	EstimatedWaitTime         *int32          `json:"estimatedWaitTime,omitempty"`
	Players                   []TicketPlayer  `json:"players"`
	GameSessionConnectionInfo *ConnectionInfo `json:"gameSessionConnectionInfo,omitempty"`
}

// TicketPlayer is one player of a ticket: its identity id and team.
type TicketPlayer struct {
	PlayerID string `json:"playerId"`
	Team     string `json:"team,omitempty"`
}

// ConnectionInfo says where the matched game runs.
type ConnectionInfo struct {
	GameSessionArn        string                 `json:"gameSessionArn,omitempty"`
	IPAddress             string                 `json:"ipAddress,omitempty"`
	DNSName               string                 `json:"dnsName,omitempty"`
	Port                  int32                  `json:"port,omitempty"`
	MatchedPlayerSessions []MatchedPlayerSession `json:"matchedPlayerSessions"`
}

// MatchedPlayerSession is a player's session in the matched game.
type MatchedPlayerSession struct {
	PlayerID        string `json:"playerId"`
	PlayerSessionID string `json:"playerSessionId"`
}

// FromGameLift renders a GameLift ticket for players: no attributes and no
// latencies of other players.
func FromGameLift(t gamelift.MatchmakingTicket) Ticket {
	out := Ticket{TicketID: t.TicketId, ConfigurationName: t.ConfigurationName, Status: t.Status, StatusReason: t.StatusReason,
		StatusMessage: t.StatusMessage, EstimatedWaitTime: t.EstimatedWaitTime, Players: []TicketPlayer{}}
	if t.StartTime != nil {
		out.StartTime = t.StartTime.String()
	}
	if t.EndTime != nil {
		out.EndTime = t.EndTime.String()
	}
	for _, p := range t.Players {
		out.Players = append(out.Players, TicketPlayer{PlayerID: p.PlayerId, Team: p.Team})
	}
	if ci := t.GameSessionConnectionInfo; ci != nil {
		c := &ConnectionInfo{GameSessionArn: ci.GameSessionArn, IPAddress: ci.IpAddress, DNSName: ci.DnsName, MatchedPlayerSessions: []MatchedPlayerSession{}}
		if ci.Port != nil {
			c.Port = *ci.Port
		}
		for _, m := range ci.MatchedPlayerSessions {
			c.MatchedPlayerSessions = append(c.MatchedPlayerSessions, MatchedPlayerSession{m.PlayerId, m.PlayerSessionId})
		}
		out.GameSessionConnectionInfo = c
	}
	return out
}

func (a *API) startTicket(r *http.Request, req matchmaking.PlayerTicketRequest) (any, error) {
	t, err := a.svc.StartForPlayer(r.Context(), req)
	return ticket(matchmaking.PlayerTicket{MatchmakingTicket: t}, fault.Render(err, ticketField))
}

// ticket renders a ticket the service answered for players.
func ticket(t matchmaking.PlayerTicket, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	out := FromGameLift(t.MatchmakingTicket)
	out.MatchID = t.MatchID
	return out, nil
}

// getTicket reads a ticket; with ?waitSeconds=N it answers as soon as the
// ticket's status differs from the one it had when asked (at once when it
// has finished), or after N s.
func (a *API) getTicket(r *http.Request) (any, error) {
	id := r.PathValue("ticketId")
	wait, err := waitSeconds(r)
	if err != nil {
		return nil, err
	}
	if wait == 0 || a.cfg.Waiter == nil {
		return ticket(a.svc.TicketForPlayer(r.Context(), id))
	}
	// The watch begins before the first read, so a change committed in
	// between is not missed.
	next, stop := a.cfg.Waiter.WatchTicket(auth.From(r.Context()).IdentityID, id, time.Duration(wait)*time.Second)
	defer stop()
	first, err := a.svc.TicketForPlayer(r.Context(), id)
	t := first
	for err == nil && t.Status == first.Status && !finished(t.Status) && next(r.Context()) {
		t, err = a.svc.TicketForPlayer(r.Context(), id)
	}
	return ticket(t, err)
}

// finished says a ticket's status will not change again.
func finished(status string) bool {
	switch status {
	case gamelift.TicketCompleted, gamelift.TicketFailed, gamelift.TicketCancelled, gamelift.TicketTimedOut:
		return true
	}
	return false
}

func waitSeconds(r *http.Request) (int, error) {
	s := r.URL.Query().Get("waitSeconds")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > MaxWaitSeconds {
		return 0, fault.BadField("waitSeconds", "must be a whole number of seconds from 0 to %d", MaxWaitSeconds)
	}
	return n, nil
}

func (a *API) cancelTicket(r *http.Request) (any, error) {
	return nil, a.svc.CancelForPlayer(r.Context(), r.PathValue("ticketId"))
}

type acceptRequest struct {
	Accept bool `json:"accept" muster:"required"`
}

func (a *API) accept(r *http.Request, req acceptRequest) (any, error) {
	return nil, a.svc.AcceptForPlayer(r.Context(), r.PathValue("ticketId"), req.Accept)
}

func (a *API) explain(r *http.Request) (any, error) {
	return a.svc.ExplainForPlayer(r.Context(), r.PathValue("ticketId"))
}

func (a *API) adminExplain(r *http.Request) (any, error) {
	return a.svc.Explain(r.Context(), r.PathValue("ticketId"))
}

type accessRequest struct {
	Allowed bool `json:"allowed" muster:"required"`
}

func (a *API) playerAccess(r *http.Request, req accessRequest) (any, error) {
	if err := a.svc.SetPlayerAccess(r.Context(), r.PathValue("name"), req.Allowed); err != nil {
		return nil, err
	}
	return map[string]any{"configurationName": r.PathValue("name"), "allowed": req.Allowed}, nil
}

type partyRequest struct {
	LatencyInMs map[string]int32 `json:"latencyInMs,omitempty"`
}

type joinRequest struct {
	InviteCode  string           `json:"inviteCode" muster:"required"`
	LatencyInMs map[string]int32 `json:"latencyInMs,omitempty"`
}

func (a *API) createParty(r *http.Request, req partyRequest) (any, error) {
	return a.svc.CreateParty(r.Context(), req.LatencyInMs)
}

func (a *API) getParty(r *http.Request) (any, error) {
	return a.svc.GetParty(r.Context(), r.PathValue("partyId"))
}

func (a *API) joinParty(r *http.Request, req joinRequest) (any, error) {
	return a.svc.JoinParty(r.Context(), r.PathValue("partyId"), req.InviteCode, req.LatencyInMs)
}

func (a *API) leaveParty(r *http.Request) (any, error) {
	return nil, a.svc.LeaveParty(r.Context(), r.PathValue("partyId"))
}
