package playermm

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/musterhq/muster/internal/api/httpx"
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
	// Operator wraps operator routes.
	Operator func(http.Handler) http.Handler
	Logger   *slog.Logger
	// MaxBody caps request bodies in bytes (default DefaultMaxBody).
	MaxBody int64
}

// API is the player matchmaking API.
type API struct {
	cfg Config
	svc *matchmaking.Service
	log *slog.Logger
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	return &API{cfg: cfg, svc: cfg.Service, log: cfg.Logger}
}

// Mux is where routes are registered (*http.ServeMux).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register mounts every route on mux.
func (a *API) Register(mux Mux) {
	p := func(f http.HandlerFunc) http.Handler { return a.cfg.Protect(f) }
	o := func(f http.HandlerFunc) http.Handler { return a.cfg.Operator(f) }
	mux.Handle("POST /v1/matchmaking/tickets", p(a.startTicket))
	mux.Handle("GET /v1/matchmaking/tickets/{ticketId}", p(a.getTicket))
	mux.Handle("DELETE /v1/matchmaking/tickets/{ticketId}", p(a.cancelTicket))
	mux.Handle("POST /v1/matchmaking/tickets/{ticketId}/accept", p(a.accept))
	mux.Handle("GET /v1/matchmaking/tickets/{ticketId}/explain", p(a.explain))
	mux.Handle("POST /v1/parties", p(a.createParty))
	mux.Handle("GET /v1/parties/{partyId}", p(a.getParty))
	mux.Handle("POST /v1/parties/{partyId}/join", p(a.joinParty))
	mux.Handle("POST /v1/parties/{partyId}/leave", p(a.leaveParty))
	mux.Handle("GET /v1/admin/matchmaking/tickets/{ticketId}/explain", o(a.adminExplain))
	mux.Handle("PUT /v1/admin/matchmaking/configurations/{name}/player-access", o(a.playerAccess))
}

// decode reads the request's body into v; on failure it has answered.
func (a *API) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	if err := (httpx.Body{Limit: a.cfg.MaxBody, Optional: optional}).Decode(w, r, v); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return false
	}
	return true
}

func (a *API) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	httpx.WriteJSON(w, status, v)
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
	TicketID                  string          `json:"ticketId"`
	ConfigurationName         string          `json:"configurationName"`
	Status                    string          `json:"status"`
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

func (a *API) startTicket(w http.ResponseWriter, r *http.Request) {
	var req matchmaking.PlayerTicketRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	t, err := a.svc.StartForPlayer(r.Context(), req)
	a.answer(w, r, http.StatusCreated, ticketOr(t, err), fault.Render(err, ticketField))
}

func ticketOr(t gamelift.MatchmakingTicket, err error) any {
	if err != nil {
		return nil
	}
	return FromGameLift(t)
}

func (a *API) getTicket(w http.ResponseWriter, r *http.Request) {
	t, err := a.svc.TicketForPlayer(r.Context(), r.PathValue("ticketId"))
	a.answer(w, r, http.StatusOK, ticketOr(t, err), err)
}

func (a *API) cancelTicket(w http.ResponseWriter, r *http.Request) {
	err := a.svc.CancelForPlayer(r.Context(), r.PathValue("ticketId"))
	a.answer(w, r, http.StatusNoContent, nil, err)
}

type acceptRequest struct {
	Accept bool `json:"accept" muster:"required"`
}

func (a *API) accept(w http.ResponseWriter, r *http.Request) {
	var req acceptRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	err := a.svc.AcceptForPlayer(r.Context(), r.PathValue("ticketId"), req.Accept)
	a.answer(w, r, http.StatusNoContent, nil, err)
}

func (a *API) explain(w http.ResponseWriter, r *http.Request) {
	x, err := a.svc.ExplainForPlayer(r.Context(), r.PathValue("ticketId"))
	a.answer(w, r, http.StatusOK, x, err)
}

func (a *API) adminExplain(w http.ResponseWriter, r *http.Request) {
	x, err := a.svc.Explain(r.Context(), r.PathValue("ticketId"))
	a.answer(w, r, http.StatusOK, x, err)
}

type accessRequest struct {
	Allowed bool `json:"allowed" muster:"required"`
}

func (a *API) playerAccess(w http.ResponseWriter, r *http.Request) {
	var req accessRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	err := a.svc.SetPlayerAccess(r.Context(), r.PathValue("name"), req.Allowed)
	a.answer(w, r, http.StatusOK, map[string]any{"configurationName": r.PathValue("name"), "allowed": req.Allowed}, err)
}

type partyRequest struct {
	LatencyInMs map[string]int32 `json:"latencyInMs,omitempty"`
}

type joinRequest struct {
	InviteCode  string           `json:"inviteCode"`
	LatencyInMs map[string]int32 `json:"latencyInMs,omitempty"`
}

func (a *API) createParty(w http.ResponseWriter, r *http.Request) {
	var req partyRequest
	if !a.decode(w, r, &req, true) {
		return
	}
	p, err := a.svc.CreateParty(r.Context(), req.LatencyInMs)
	a.answer(w, r, http.StatusCreated, p, err)
}

func (a *API) getParty(w http.ResponseWriter, r *http.Request) {
	p, err := a.svc.GetParty(r.Context(), r.PathValue("partyId"))
	a.answer(w, r, http.StatusOK, p, err)
}

func (a *API) joinParty(w http.ResponseWriter, r *http.Request) {
	var req joinRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	p, err := a.svc.JoinParty(r.Context(), r.PathValue("partyId"), req.InviteCode, req.LatencyInMs)
	a.answer(w, r, http.StatusOK, p, err)
}

func (a *API) leaveParty(w http.ResponseWriter, r *http.Request) {
	err := a.svc.LeaveParty(r.Context(), r.PathValue("partyId"))
	a.answer(w, r, http.StatusNoContent, nil, err)
}
