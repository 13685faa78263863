package push

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/api/playermm"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/session"
	"github.com/musterhq/muster/internal/store"
)

// Message is what a player receives: the outbox event's id, type and time,
// and the ticket or placement in the shapes the player API returns, or
// the player's own player session.
type Message struct {
	ID            string                      `json:"id"`
	Type          string                      `json:"type"`
	Time          time.Time                   `json:"time"`
	Ticket        *playermm.Ticket            `json:"ticket,omitempty"`
	Placement     *Placement                  `json:"placement,omitempty"`
	PlayerSession *session.PlayerSessionEvent `json:"playerSession,omitempty"`
}

// Placement is a fulfilled, failed or cancelled game session placement as
// one of its players sees it: where the game runs and its own player
// session, no other player's.
type Placement struct {
	PlacementID     string `json:"placementId"`
	Status          string `json:"status"`
	GameSessionArn  string `json:"gameSessionArn,omitempty"`
	IPAddress       string `json:"ipAddress,omitempty"`
	DNSName         string `json:"dnsName,omitempty"`
	Port            int32  `json:"port,omitempty"`
	Location        string `json:"location,omitempty"`
	PlayerSessionID string `json:"playerSessionId,omitempty"`
	StartTime       string `json:"startTime,omitempty"`
	EndTime         string `json:"endTime,omitempty"`
}

// ticketStatus is the status a FlexMatch event leaves its tickets in.
var ticketStatus = map[string]string{
	matchmaking.EventSearching:      gamelift.TicketSearching,
	matchmaking.EventAcceptMatch:    gamelift.TicketRequiresAcceptance,
	matchmaking.EventSucceeded:      gamelift.TicketCompleted,
	matchmaking.EventTimedOut:       gamelift.TicketTimedOut,
	matchmaking.EventCancelled:      gamelift.TicketCancelled,
	matchmaking.EventFailed:         gamelift.TicketFailed,
	matchmaking.EventPotentialMatch: gamelift.TicketPlacing,
	// An answered acceptance leaves the tickets placing when everyone
	// accepted; otherwise each ticket's own Searching or Cancelled event
	// follows in the same transaction.
	matchmaking.EventAcceptMatchCompleted: gamelift.TicketRequiresAcceptance,
}

var placementStatus = map[string]string{
	placement.EventPlacementFulfilled: gamelift.PlacementFulfilled,
	placement.EventPlacementCancelled: gamelift.PlacementCancelled,
	placement.EventPlacementTimedOut:  gamelift.PlacementTimedOut,
	placement.EventPlacementFailed:    gamelift.PlacementFailed,
}

// view is an outbox event decoded once, from which each concerned player's
// message is rendered.
type view struct {
	ev      store.Event
	mm      *matchmaking.Detail
	pl      *placement.EventDetail
	ps      *session.PlayerSessionEvent
	players []string // identity ids the event concerns
	tickets []string // ticket ids the event is about
}

// decode reads an outbox event that concerns players; false for any other.
func decode(ev store.Event) (*view, bool) {
	v := &view{ev: ev}
	switch {
	case ticketStatus[ev.Type] != "":
		var env matchmaking.Envelope
		if json.Unmarshal(ev.Doc, &env) != nil {
			return nil, false
		}
		v.mm = &env.Detail
		for _, t := range env.Detail.Tickets {
			v.tickets = append(v.tickets, t.TicketID)
			for _, p := range t.Players {
				v.players = append(v.players, p.PlayerID)
			}
		}
	case placementStatus[ev.Type] != "":
		var env placement.EventDocument
		if json.Unmarshal(ev.Doc, &env) != nil {
			return nil, false
		}
		v.pl = &env.Detail
		for _, p := range env.Detail.PlacedPlayerSessions {
			v.players = append(v.players, p.PlayerID)
		}
	case playerSessionEvent[ev.Type]:
		if !decodePlayerSession(ev, v) {
			return nil, false
		}
	default:
		return nil, false
	}
	return v, len(v.players) > 0
}

// concerns says whether the event is about player.
func (v *view) concerns(player string) bool {
	for _, p := range v.players {
		if p == player {
			return true
		}
	}
	return false
}

// message renders the event for player (who must be one it concerns).
func (v *view) message(player string) Message {
	m := Message{ID: v.ev.ID, Type: v.ev.Type, Time: v.ev.Time.UTC()}
	switch {
	case v.mm != nil:
		m.Ticket = v.ticket(player)
	case v.ps != nil:
		m.PlayerSession = v.ps
	default:
		m.Placement = v.placement(player)
	}
	return m
}

// encode renders and encodes the event for player.
func (v *view) encode(player string) []byte {
	b, _ := json.Marshal(v.message(player))
	return b
}

func (v *view) ticket(player string) *playermm.Ticket {
	d := v.mm
	out := &playermm.Ticket{ConfigurationName: configName(v.ev.Resource), Status: ticketStatus[v.ev.Type],
		StatusReason: d.Reason, StatusMessage: d.Message, Players: []playermm.TicketPlayer{}}
	if v.ev.Type == matchmaking.EventPotentialMatch && d.AcceptanceRequired != nil && *d.AcceptanceRequired {
		out.Status = gamelift.TicketRequiresAcceptance
	}
	if v.ev.Type == matchmaking.EventAcceptMatchCompleted && strings.EqualFold(d.Acceptance, "Accepted") {
		out.Status = gamelift.TicketPlacing
	}
	for _, t := range d.Tickets {
		if !hasPlayer(t.Players, player) {
			continue
		}
		out.TicketID, out.StartTime = t.TicketID, timestamp(t.StartTime)
		for _, p := range t.Players {
			out.Players = append(out.Players, playermm.TicketPlayer{PlayerID: p.PlayerID, Team: p.Team})
		}
		break
	}
	switch out.Status {
	case gamelift.TicketCompleted, gamelift.TicketTimedOut, gamelift.TicketCancelled, gamelift.TicketFailed:
		out.EndTime = gamelift.At(v.ev.Time).String()
	}
	switch out.Status {
	case gamelift.TicketRequiresAcceptance, gamelift.TicketPlacing, gamelift.TicketCompleted:
		out.MatchID = d.MatchID // as a read of the ticket gives it
	}
	if v.ev.Type == matchmaking.EventSucceeded {
		gs := d.GameSessionInfo
		ci := &playermm.ConnectionInfo{GameSessionArn: gs.GameSessionArn, IPAddress: gs.IPAddress, DNSName: gs.DNSName, Port: gs.Port,
			MatchedPlayerSessions: []playermm.MatchedPlayerSession{}}
		for _, p := range gs.Players {
			if p.PlayerID == player && p.PlayerSessionID != "" {
				ci.MatchedPlayerSessions = append(ci.MatchedPlayerSessions, playermm.MatchedPlayerSession{PlayerID: player, PlayerSessionID: p.PlayerSessionID})
			}
		}
		out.GameSessionConnectionInfo = ci
	}
	return out
}

func (v *view) placement(player string) *Placement {
	d := v.pl
	out := &Placement{PlacementID: d.PlacementID, Status: placementStatus[v.ev.Type], GameSessionArn: d.GameSessionArn,
		IPAddress: d.IPAddress, DNSName: d.DNSName, Location: d.GameSessionRegion, StartTime: timestamp(d.StartTime), EndTime: timestamp(d.EndTime)}
	if port, err := strconv.Atoi(d.Port); err == nil {
		out.Port = int32(port)
	}
	for _, p := range d.PlacedPlayerSessions {
		if p.PlayerID == player {
			out.PlayerSessionID = p.PlayerSessionID
		}
	}
	return out
}

func hasPlayer(ps []matchmaking.EventPlayer, id string) bool {
	for _, p := range ps {
		if p.PlayerID == id {
			return true
		}
	}
	return false
}

// configName is the name in a matchmaking configuration's ARN.
func configName(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// timestamp renders an event's time (to the millisecond, UTC) as the
// player API renders a ticket's times.
func timestamp(s string) string {
	t, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	if err != nil {
		return s
	}
	return gamelift.At(t).String()
}

// completedAtOnce says whether evs[i] is a match's step that its tickets
// never showed: a PotentialMatchCreated, or an AcceptMatchCompleted, whose
// MatchmakingSucceeded for the same match follows at once in the outbox
// (the same transaction). That is a STANDALONE match, which GameLift
// completes without the tickets ever being PLACING, so its players are not
// pushed PLACING for an instant before COMPLETED. A match whose events a
// batch boundary splits is pushed as before.
func completedAtOnce(evs []store.Event, i int) bool {
	ev := evs[i]
	if ev.Type != matchmaking.EventPotentialMatch && ev.Type != matchmaking.EventAcceptMatchCompleted {
		return false
	}
	if i+1 >= len(evs) || evs[i+1].Type != matchmaking.EventSucceeded || evs[i+1].Resource != ev.Resource {
		return false
	}
	m := matchIDOf(ev.Doc)
	return m != "" && m == matchIDOf(evs[i+1].Doc)
}

// matchIDOf reads the matchId of a FlexMatch event's detail ("" if none).
func matchIDOf(doc []byte) string {
	var env struct {
		Detail struct {
			MatchID string `json:"matchId"`
		} `json:"detail"`
	}
	if json.Unmarshal(doc, &env) != nil {
		return ""
	}
	return env.Detail.MatchID
}
