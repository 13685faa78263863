package gamelift

import (
	"time"

	"github.com/google/uuid"
)

// Envelope is a GameLift event as Amazon EventBridge carries it: one type
// for FlexMatch matchmaking events and game session queue placement
// events, whose details differ
// (https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/match-events.html,
// https://docs.aws.amazon.com/gamelift/latest/developerguide/queue-events.html).
type Envelope[D any] struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	Detail     D        `json:"detail"`
}

// Detail types of GameLift events.
const (
	DetailTypeMatchmaking    = "GameLift Matchmaking Event"
	DetailTypeQueuePlacement = "GameLift Queue Placement Event"
)

// NewEnvelope returns a new event (with a new id) about resource, in the
// account and region of arns; at is the envelope's time as the event type
// writes it (EventTimeMillis, or to the second).
func NewEnvelope[D any](arns ARNBuilder, detailType, at, resource string, detail D) Envelope[D] {
	return Envelope[D]{Version: "0", ID: uuid.NewString(), DetailType: detailType, Source: "aws.gamelift", Account: arns.Account,
		Time: at, Region: arns.Region, Resources: []string{resource}, Detail: detail}
}

// EventTimeMillis writes an event time in UTC to the millisecond, as
// GameLift's event details do.
func EventTimeMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
