package matchmaking

import (
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// FlexMatch event types (docs/flexmatch.md, "Events").
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

// Envelope is a FlexMatch event as EventBridge carries it.
type Envelope = gamelift.Envelope[Detail]

// Detail is an event's detail.
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
	RuleEvaluationMetrics []RuleMetric    `json:"ruleEvaluationMetrics,omitzero"` // nil is left out, an empty array kept
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

// eventTickets renders tickets; accepted, when set, adds players' answers.
func eventTickets(ts []*ticketRec, withTeam bool, accepted map[string]bool, sessions map[string]string) ([]EventTicket, []EventPlayer) {
	out := make([]EventTicket, 0, len(ts))
	var all []EventPlayer
	for _, t := range ts {
		et := EventTicket{TicketID: t.ID, StartTime: gamelift.EventTimeMillis(t.Start)}
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

// event writes one FlexMatch event to the outbox.
func (t *txn) event(c configRec, d Detail) error {
	d.CustomEventData = c.CustomEventData
	if d.Tickets == nil {
		d.Tickets = []EventTicket{}
	}
	if d.GameSessionInfo.Players == nil {
		d.GameSessionInfo.Players = []EventPlayer{}
	}
	if d.RuleEvaluationMetrics == nil && (d.Type == EventCancelled || d.Type == EventTimedOut) {
		// GameLift's MatchmakingCancelled and MatchmakingTimedOut always
		// carry the array, so consumers read it without a check.
		d.RuleEvaluationMetrics = []RuleMetric{}
		if rs, err := t.s.parsedRuleSet(t.ctx, t.w, c); err == nil {
			d.RuleEvaluationMetrics = ruleMetrics(rs)
		}
	}
	env := gamelift.NewEnvelope(t.s.cfg.ARNs, gamelift.DetailTypeMatchmaking, gamelift.EventTimeMillis(t.now), c.ARN, d)
	// The configuration's NotificationTarget now, not at delivery: GameLift
	// sends an event to the target configured when it was published.
	return t.w.Append(t.ctx, store.Event{ID: env.ID, Time: t.now, Type: d.Type, Resource: c.ARN, Doc: store.MustJSON(env),
		Target: new(c.NotificationTarget)})
}
