package matchmaking

import (
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/store"
)

// FlexMatch event types (flexmatch.md §8.3).
const (
	EventSearching            = "MatchmakingSearching"
	EventPotentialMatch       = "PotentialMatchCreated"
	EventAcceptMatch          = "AcceptMatch"
	EventAcceptMatchCompleted = "AcceptMatchCompleted"
	EventSucceeded            = "MatchmakingSucceeded"
	EventTimedOut             = "MatchmakingTimedOut"
	EventCancelled            = "MatchmakingCancelled"
	EventFailed               = "MatchmakingFailed"
)

// Envelope is a FlexMatch event as EventBridge carries it (§8.1).
type Envelope struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     Detail   `json:"detail"`
}

// Detail is an event's detail (§8.2).
type Detail struct {
	Type                  string          `json:"type"`
	Tickets               []EventTicket   `json:"tickets"`
	EstimatedWaitMillis   any             `json:"estimatedWaitMillis,omitempty"`
	MatchID               string          `json:"matchId,omitempty"`
	GameSessionInfo       GameSessionInfo `json:"gameSessionInfo"`
	CustomEventData       string          `json:"customEventData,omitempty"`
	AcceptanceRequired    *bool           `json:"acceptanceRequired,omitempty"`
	AcceptanceTimeout     *int32          `json:"acceptanceTimeout,omitempty"`
	Acceptance            string          `json:"acceptance,omitempty"`
	RuleEvaluationMetrics []RuleMetric    `json:"ruleEvaluationMetrics,omitempty"`
	Reason                string          `json:"reason,omitempty"`
	Message               string          `json:"message,omitempty"`
}

// EventTicket is one ticket of an event.
type EventTicket struct {
	TicketID  string        `json:"ticketId"`
	StartTime string        `json:"startTime"`
	Players   []EventPlayer `json:"players"`
}

// EventPlayer is one player of an event.
type EventPlayer struct {
	PlayerID        string `json:"playerId"`
	Team            string `json:"team,omitempty"`
	PlayerSessionID string `json:"playerSessionId,omitempty"`
	Accepted        *bool  `json:"accepted,omitempty"`
}

// GameSessionInfo is an event's gameSessionInfo.
type GameSessionInfo struct {
	GameSessionArn      string        `json:"gameSessionArn,omitempty"`
	IPAddress           string        `json:"ipAddress,omitempty"`
	DNSName             string        `json:"dnsName,omitempty"`
	Port                int32         `json:"port,omitempty"`
	PlayerGatewayStatus string        `json:"playerGatewayStatus,omitempty"`
	Players             []EventPlayer `json:"players"`
}

// RuleMetric counts a rule's passes and failures.
type RuleMetric struct {
	RuleName    string `json:"ruleName"`
	PassedCount int    `json:"passedCount"`
	FailedCount int    `json:"failedCount"`
}

func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// eventTickets renders tickets; accepted, when set, adds players' answers.
func eventTickets(ts []*ticketRec, withTeam bool, accepted map[string]bool, sessions map[string]string) ([]EventTicket, []EventPlayer) {
	out := make([]EventTicket, 0, len(ts))
	var all []EventPlayer
	for _, t := range ts {
		et := EventTicket{TicketID: t.ID, StartTime: isoMillis(t.Start)}
		for _, p := range t.Players {
			ep := EventPlayer{PlayerID: p.ID}
			if withTeam {
				ep.Team = p.Team
			}
			if a, ok := accepted[p.ID]; ok {
				ep.Accepted = &a
			}
			ep.PlayerSessionID = sessions[p.ID]
			et.Players = append(et.Players, ep)
			all = append(all, ep)
		}
		out = append(out, et)
	}
	return out, all
}

// appendEvent writes one FlexMatch event to the outbox.
func (t *txn) event(c configRec, d Detail) error {
	d.CustomEventData = c.CustomEventData
	if d.Tickets == nil {
		d.Tickets = []EventTicket{}
	}
	if d.GameSessionInfo.Players == nil {
		d.GameSessionInfo.Players = []EventPlayer{}
	}
	env := Envelope{Version: "0", ID: uuid.NewString(), DetailType: "GameLift Matchmaking Event", Source: "aws.gamelift",
		Account: t.s.cfg.ARNs.Account, Time: isoMillis(t.now), Region: t.s.cfg.ARNs.Region, Resources: []string{c.ARN}, Detail: d}
	return t.w.Append(t.ctx, store.Event{ID: env.ID, Time: t.now, Type: d.Type, Resource: c.ARN, Doc: store.MustJSON(env)})
}
