package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/store"
)

// TargetLookup returns the NotificationTarget of the resource an event is
// about, given its ARN ("" when it has none or is not a resource that has
// one). Delivery asks it only for events without a recorded target
// (RecordedTarget), such as those written before the store kept targets.
type TargetLookup func(ctx context.Context, resourceArn string) (string, error)

// RecordedTarget returns the NotificationTarget that resourceArn had when
// e was written, as the writer recorded it with the event ("" when it had
// none); ok is false when none was recorded for that resource, and routing
// then falls back to TargetLookup. A target is recorded for the event's own
// resource (store.Event.Resource): the configuration or queue whose ARN
// the document names.
func RecordedTarget(e store.Event, resourceArn string) (target string, ok bool) {
	if e.Target == nil || resourceArn != e.Resource {
		return "", false
	}
	return *e.Target, true
}

// The store kinds of the resources that have a NotificationTarget, as
// internal/matchmaking and internal/placement document them (id the name);
// both keep it as the document's notificationTarget.
var targetKinds = map[string]string{
	gamelift.ResourceMatchmakingConfiguration: "mmconfig",
	gamelift.ResourceGameSessionQueue:         "gamesessionqueue",
}

type targetDoc struct {
	NotificationTarget string `json:"notificationTarget"`
}

// StoreTargets reads NotificationTarget from the matchmaking configuration
// or game session queue record an ARN names: the target now, which is the
// one the event was published under only if it has not changed since, so
// it serves events written without a recorded target.
func StoreTargets(st store.Store, arns gamelift.ARNBuilder) TargetLookup {
	return func(ctx context.Context, resourceArn string) (string, error) {
		typ, id, ok := arns.Parse(resourceArn)
		kind := targetKinds[typ]
		if !ok || kind == "" {
			return "", nil
		}
		var doc targetDoc
		err := st.View(ctx, func(r store.Reader) error {
			var err error
			doc, _, err = store.GetJSON[targetDoc](ctx, r, kind, id)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return "", nil // deleted since: its events go by the filters alone
		}
		return doc.NotificationTarget, err
	}
}

// TopicName returns the subscription name a NotificationTarget names:
// arn:<partition>:sns:<region>:<account>:<name> in the region and account
// of arns. ok is false for anything else (an SNS topic elsewhere).
func TopicName(arns gamelift.ARNBuilder, target string) (name string, ok bool) {
	parts := strings.Split(target, ":")
	partition := arns.Partition
	if partition == "" {
		partition = gamelift.DefaultPartition
	}
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != partition || parts[2] != "sns" ||
		parts[3] != arns.Region || parts[4] != arns.Account || parts[5] == "" {
		return "", false
	}
	return parts[5], true
}

// Event is what routing needs of an outbox event's document.
type Event struct {
	// Resources are the ARNs the event is about.
	Resources []string
}

// Deliverable reads an outbox event: ok is false for events that webhooks
// do not carry (Muster's internal ones). EventBridge documents name their
// resources; a fleet event names its fleet by id.
func Deliverable(arns gamelift.ARNBuilder, e store.Event) (Event, bool) {
	var doc struct {
		Source     string   `json:"source"`
		Resources  []string `json:"resources"`
		EventCode  string   `json:"EventCode"`
		ResourceID string   `json:"ResourceId"`
	}
	if len(e.Doc) == 0 || json.Unmarshal(e.Doc, &doc) != nil {
		return Event{}, false
	}
	switch {
	case doc.Source == "aws.gamelift" && len(doc.Resources) > 0:
		return Event{Resources: doc.Resources}, true
	case doc.EventCode != "" && doc.ResourceID != "":
		return Event{Resources: []string{arns.Build(gamelift.ResourceFleet, doc.ResourceID)}}, true
	}
	return Event{}, false
}

// Routes reports whether an event of type typ about ev's resources goes
// to sub, given targetOf, which returns a resource's NotificationTarget as
// it was when the event was written (asked only when the resource filter
// alone does not decide).
func Routes(arns gamelift.ARNBuilder, sub Subscription, typ string, ev Event, targetOf func(resourceArn string) string) bool {
	if len(sub.EventTypes) > 0 && !slices.Contains(sub.EventTypes, typ) {
		return false
	}
	if len(sub.Resources) == 0 {
		return true
	}
	for _, r := range ev.Resources {
		if slices.Contains(sub.Resources, r) {
			return true
		}
	}
	for _, r := range ev.Resources {
		if name, ok := TopicName(arns, targetOf(r)); ok && name == sub.Name {
			return true
		}
	}
	return false
}
