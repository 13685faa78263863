package webhook

import (
	"fmt"
	"slices"
	"strings"
)

// EventTypes are the event types webhooks deliver, the only ones a
// subscription's event-type filter may name: a type that is never
// delivered (a misspelling such as MatchmakingSucceded) would leave the
// subscription silently receiving nothing. They are FlexMatch's
// (internal/matchmaking), queue placement's (internal/placement) and the
// fleet event codes Muster records (DescribeFleetEvents' EventCode; the
// outbox event's type is its code). Muster writes only some of GameLift's
// EventCode values, and a filter on one it never writes is refused too.
var EventTypes = []string{
	// FlexMatch (docs/flexmatch.md, "Events").
	"MatchmakingSearching",
	"PotentialMatchCreated",
	"AcceptMatch",
	"AcceptMatchCompleted",
	"MatchmakingSucceeded",
	"MatchmakingTimedOut",
	"MatchmakingCancelled",
	"MatchmakingFailed",
	// Queue placement (docs/control-api.md, "Queue placement").
	"PlacementFulfilled",
	"PlacementCancelled",
	"PlacementTimedOut",
	"PlacementFailed",
	// Fleet events.
	"FLEET_CREATED",
	"FLEET_STATE_ACTIVE",
	"FLEET_DELETED",
	"FLEET_SCALING_EVENT",
	"FLEET_NEW_GAME_SESSION_PROTECTION_POLICY_UPDATED",
	"LOCATION_STATE_ACTIVE",
	"LOCATION_STATE_DELETED",
	"GENERIC_EVENT",
	"SERVER_PROCESS_CRASHED",
	"SERVER_PROCESS_TERMINATED_UNHEALTHY",
	"SERVER_PROCESS_FORCE_TERMINATED",
	"GAME_SESSION_ACTIVATION_TIMEOUT",
}

// checkEventType names, in the reason for refusing an entry of a
// subscription's event-type filter, the value and what it may be instead
// ("" when the entry is a delivered type).
func checkEventType(t string) string {
	if slices.Contains(EventTypes, t) {
		return ""
	}
	shown := fmt.Sprintf("%q", t)
	if len(t) > 128 { // no type is this long: echo only its start
		shown = fmt.Sprintf("%q…", t[:128])
	}
	return shown + " is not an event type webhooks deliver; it must be one of " + strings.Join(EventTypes, ", ")
}
