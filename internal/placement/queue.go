package placement

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

// Store kinds.
const (
	KindQueue     = "gamesessionqueue"
	KindPlacement = "placement"
)

// DefaultQueueTimeout applies when a queue sets no TimeoutInSeconds
// (600 s, as in GameLift).
const DefaultQueueTimeout = 600 * time.Second

// Queue is a game session queue as stored.
type Queue struct {
	Name               string                         `json:"name"`
	ARN                string                         `json:"arn"`
	TimeoutSeconds     int32                          `json:"timeoutSeconds"`
	Policies           []gamelift.PlayerLatencyPolicy `json:"policies,omitempty"`
	Destinations       []string                       `json:"destinations,omitempty"`
	AllowedLocations   []string                       `json:"allowedLocations,omitempty"`
	PriorityOrder      []string                       `json:"priorityOrder,omitempty"`
	LocationOrder      []string                       `json:"locationOrder,omitempty"`
	CustomEventData    string                         `json:"customEventData,omitempty"`
	NotificationTarget string                         `json:"notificationTarget,omitempty"`
	CreatedAt          time.Time                      `json:"createdAt"`
}

// Timeout is how long a placement on the queue may stay PENDING.
func (q Queue) Timeout() time.Duration {
	if q.TimeoutSeconds <= 0 {
		return DefaultQueueTimeout
	}
	return time.Duration(q.TimeoutSeconds) * time.Second
}

func (q Queue) wire() gamelift.GameSessionQueue {
	out := gamelift.GameSessionQueue{Name: q.Name, GameSessionQueueArn: q.ARN, TimeoutInSeconds: ptr(int32(q.Timeout() / time.Second)),
		PlayerLatencyPolicies: q.Policies, CustomEventData: q.CustomEventData, NotificationTarget: q.NotificationTarget}
	for _, d := range q.Destinations {
		out.Destinations = append(out.Destinations, gamelift.GameSessionQueueDestination{DestinationArn: d})
	}
	if len(q.AllowedLocations) > 0 {
		out.FilterConfiguration = &gamelift.FilterConfiguration{AllowedLocations: q.AllowedLocations}
	}
	if len(q.PriorityOrder) > 0 || len(q.LocationOrder) > 0 {
		out.PriorityConfiguration = &gamelift.PriorityConfiguration{PriorityOrder: q.PriorityOrder, LocationOrder: q.LocationOrder}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// queueName turns a GameSessionQueueNameOrArn into a name.
func (s *Service) queueName(nameOrArn string) string {
	if typ, id, ok := s.cfg.ARNs.Parse(nameOrArn); ok && typ == gamelift.ResourceGameSessionQueue {
		return id
	}
	return nameOrArn
}

func (s *Service) getQueue(ctx context.Context, r store.Reader, nameOrArn string) (Queue, int64, error) {
	name := s.queueName(nameOrArn)
	return service.Get[Queue](ctx, r, KindQueue, name, "GameSessionQueueName: game session queue %s not found", name)
}

// queueSettings are the members shared by Create and Update.
type queueSettings struct {
	timeout      *int32
	policies     []gamelift.PlayerLatencyPolicy
	destinations []gamelift.GameSessionQueueDestination
	filter       *gamelift.FilterConfiguration
	priority     *gamelift.PriorityConfiguration
	custom       *string
	target       *string
	// update: an empty FilterConfiguration or PriorityConfiguration removes
	// the stored one, as UpdateGameSessionQueue documents ("pass in an
	// empty set"); CreateGameSessionQueue has nothing to remove.
	update bool
}

// removesFilter reports whether in removes the queue's filter.
func (in queueSettings) removesFilter() bool {
	return in.update && in.filter != nil && len(in.filter.AllowedLocations) == 0
}

// removesPriority reports whether in removes the queue's priority
// configuration.
func (in queueSettings) removesPriority() bool {
	return in.update && in.priority != nil && len(in.priority.PriorityOrder) == 0 && len(in.priority.LocationOrder) == 0
}

func (s *Service) validateSettings(v *fault.Validator, in queueSettings) {
	if in.timeout != nil {
		v.Check(*in.timeout >= 0, "TimeoutInSeconds", "must be at least 0")
	}
	for i, p := range in.policies {
		m := fmt.Sprintf("PlayerLatencyPolicies[%d]", i)
		if p.MaximumIndividualPlayerLatencyMilliseconds == nil {
			v.Add(m+".MaximumIndividualPlayerLatencyMilliseconds", "is required")
		} else {
			v.Check(*p.MaximumIndividualPlayerLatencyMilliseconds >= 0, m+".MaximumIndividualPlayerLatencyMilliseconds", "must be at least 0")
		}
		if p.PolicyDurationSeconds != nil {
			v.Check(*p.PolicyDurationSeconds >= 0, m+".PolicyDurationSeconds", "must be at least 0")
		}
	}
	for i, d := range in.destinations {
		m := fmt.Sprintf("Destinations[%d].DestinationArn", i)
		s.cfg.Formats.Check(v, m, "ArnStringModel", d.DestinationArn)
		if typ, _, ok := s.cfg.ARNs.Parse(d.DestinationArn); !ok || (typ != gamelift.ResourceFleet && typ != gamelift.ResourceAlias) {
			v.Add(m, "must be the ARN of a fleet or an alias of this Muster installation")
		}
	}
	if f := in.filter; f != nil && !in.removesFilter() {
		v.Check(len(f.AllowedLocations) >= 1 && len(f.AllowedLocations) <= 100, "FilterConfiguration.AllowedLocations", "must have 1 to 100 items")
		for i, l := range f.AllowedLocations {
			s.cfg.Formats.Check(v, fmt.Sprintf("FilterConfiguration.AllowedLocations[%d]", i), "LocationStringModel", l)
		}
	}
	if p := in.priority; p != nil && !in.removesPriority() {
		if p.PriorityOrder != nil {
			v.Check(len(p.PriorityOrder) >= 1 && len(p.PriorityOrder) <= 4, "PriorityConfiguration.PriorityOrder", "must have 1 to 4 items")
		}
		for i, t := range p.PriorityOrder {
			m := fmt.Sprintf("PriorityConfiguration.PriorityOrder[%d]", i)
			switch t {
			case gamelift.PriorityLatency, gamelift.PriorityCost, gamelift.PriorityDestination, gamelift.PriorityLocation:
				v.Check(!slices.Contains(p.PriorityOrder[:i], t), m, "repeats %s", t)
			default:
				v.Add(m, "must be LATENCY, COST, DESTINATION or LOCATION")
			}
		}
		if p.LocationOrder != nil {
			v.Check(len(p.LocationOrder) >= 1 && len(p.LocationOrder) <= 100, "PriorityConfiguration.LocationOrder", "must have 1 to 100 items")
		}
		for i, l := range p.LocationOrder {
			m := fmt.Sprintf("PriorityConfiguration.LocationOrder[%d]", i)
			s.cfg.Formats.Check(v, m, "LocationStringModel", l)
			v.Check(!slices.Contains(p.LocationOrder[:i], l), m, "repeats %s", l)
		}
	}
	if in.custom != nil {
		s.cfg.Formats.Check(v, "CustomEventData", "QueueCustomEventData", *in.custom)
	}
	if in.target != nil {
		s.cfg.Formats.Check(v, "NotificationTarget", "QueueSnsArnStringModel", *in.target)
	}
}

// apply copies the given settings onto q (given lists replace stored ones).
func (s *Service) apply(q *Queue, in queueSettings) {
	if in.timeout != nil {
		q.TimeoutSeconds = *in.timeout
	}
	if in.policies != nil {
		q.Policies = in.policies
	}
	if in.destinations != nil {
		q.Destinations = q.Destinations[:0:0]
		for _, d := range in.destinations {
			q.Destinations = append(q.Destinations, d.DestinationArn)
		}
	}
	switch {
	case in.removesFilter():
		q.AllowedLocations = nil
	case in.filter != nil:
		q.AllowedLocations = in.filter.AllowedLocations
	}
	switch {
	case in.removesPriority():
		q.PriorityOrder, q.LocationOrder = nil, nil
	case in.priority != nil:
		q.PriorityOrder, q.LocationOrder = in.priority.PriorityOrder, in.priority.LocationOrder
	}
	if in.custom != nil {
		q.CustomEventData = *in.custom
	}
	if in.target != nil {
		q.NotificationTarget = *in.target
	}
}

// checkDestinations fails with NotFound when a destination does not exist.
func (s *Service) checkDestinations(ctx context.Context, r store.Reader, q Queue) error {
	for i, d := range q.Destinations {
		typ, id, _ := s.cfg.ARNs.Parse(d)
		kind := fleet.KindFleet
		if typ == gamelift.ResourceAlias {
			kind = fleet.KindAlias
		}
		if _, err := r.Get(ctx, kind, id); errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound, "Destinations[%d].DestinationArn: %s %s not found", i, typ, id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CreateGameSessionQueue creates a queue.
func (s *Service) CreateGameSessionQueue(ctx context.Context, in *gamelift.CreateGameSessionQueueInput) (*gamelift.CreateGameSessionQueueOutput, error) {
	settings := queueSettings{in.TimeoutInSeconds, in.PlayerLatencyPolicies, in.Destinations, in.FilterConfiguration, in.PriorityConfiguration, in.CustomEventData, in.NotificationTarget, false}
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "Name", "GameSessionQueueName", in.Name)
		s.validateSettings(v, settings)
		tagging.Validate(v, "Tags", in.Tags, 200)
	}); err != nil {
		return nil, err
	}
	q := Queue{Name: in.Name, ARN: s.cfg.ARNs.Build(gamelift.ResourceGameSessionQueue, in.Name), CreatedAt: s.now()}
	s.apply(&q, settings)
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := s.checkDestinations(ctx, w, q); err != nil {
			return err
		}
		return s.cfg.CreateTagged(ctx, w, store.Record{Kind: KindQueue, ID: q.Name, Doc: store.MustJSON(q)}, q.ARN, in.Tags,
			fault.New(fault.Invalid, "Name: a game session queue named %s already exists", q.Name))
	})
	if err != nil {
		return nil, fmt.Errorf("create game session queue: %w", err)
	}
	out := q.wire()
	return &gamelift.CreateGameSessionQueueOutput{GameSessionQueue: &out}, nil
}

// DescribeGameSessionQueues lists queues by name or ARN, or all of them.
func (s *Service) DescribeGameSessionQueues(ctx context.Context, in *gamelift.DescribeGameSessionQueuesInput) (*gamelift.DescribeGameSessionQueuesOutput, error) {
	limit, after, err := service.AuthorizeList(ctx, in.Limit, 50, 50, in.NextToken, func(v *fault.Validator) {
		for i, n := range in.Names {
			s.cfg.Formats.Check(v, fmt.Sprintf("Names[%d]", i), "GameSessionQueueNameOrArn", n)
		}
	})
	if err != nil {
		return nil, err
	}
	get := func(r store.Reader, name string) (Queue, bool, error) {
		q, _, err := s.getQueue(ctx, r, name)
		return service.Dropped(q, err)
	}
	queues, next, err := service.Describe(ctx, s.cfg.Store, in.Names, get, store.Query{Kind: KindQueue, Prefix: true, After: after}, limit, Queue.wire)
	if err != nil {
		return nil, fmt.Errorf("describe game session queues: %w", err)
	}
	return &gamelift.DescribeGameSessionQueuesOutput{GameSessionQueues: queues, NextToken: next}, nil
}

// UpdateGameSessionQueue changes a queue; given lists replace stored ones,
// and an empty FilterConfiguration or PriorityConfiguration removes it.
func (s *Service) UpdateGameSessionQueue(ctx context.Context, in *gamelift.UpdateGameSessionQueueInput) (*gamelift.UpdateGameSessionQueueOutput, error) {
	settings := queueSettings{in.TimeoutInSeconds, in.PlayerLatencyPolicies, in.Destinations, in.FilterConfiguration, in.PriorityConfiguration, in.CustomEventData, in.NotificationTarget, true}
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "Name", "GameSessionQueueNameOrArn", in.Name)
		s.validateSettings(v, settings)
	}); err != nil {
		return nil, err
	}
	var q Queue
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		q, version, err = s.getQueue(ctx, w, in.Name)
		if err != nil {
			return err
		}
		s.apply(&q, settings)
		if err := s.checkDestinations(ctx, w, q); err != nil {
			return err
		}
		_, err = w.Put(ctx, store.Record{Kind: KindQueue, ID: q.Name, Doc: store.MustJSON(q), Version: version})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update game session queue: %w", err)
	}
	out := q.wire()
	return &gamelift.UpdateGameSessionQueueOutput{GameSessionQueue: &out}, nil
}

// DeleteGameSessionQueue deletes a queue. Its PENDING placements without a
// game session fail in the same transaction, so that their events still
// carry the queue's CustomEventData; those whose game session exists have
// left the queue and wait for it (GameSessionSettled).
func (s *Service) DeleteGameSessionQueue(ctx context.Context, in *gamelift.DeleteGameSessionQueueInput) (*gamelift.DeleteGameSessionQueueOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, true, "Name", "GameSessionQueueNameOrArn", in.Name); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		q, version, err := s.getQueue(ctx, w, in.Name)
		if err != nil {
			return err
		}
		if err := s.failWaitingIn(ctx, w, q, "the game session queue was deleted"); err != nil {
			return err
		}
		if err := w.Delete(ctx, KindQueue, q.Name, version); err != nil {
			return err
		}
		return s.cfg.Tags.DeleteAll(ctx, w, q.ARN)
	})
	if err != nil {
		return nil, fmt.Errorf("delete game session queue: %w", err)
	}
	return &gamelift.DeleteGameSessionQueueOutput{}, nil
}

// failWaitingIn fails, in w, the PENDING placements of q that have no game
// session yet, with reason; the placer forgets them after commit. They are
// found by status (K1), not by queue (K2): no key holds both, a placement
// stays PENDING for a bounded time (its timeout, or its game session's
// activation), and a queue's placements of all time are kept and only grow.
func (s *Service) failWaitingIn(ctx context.Context, w store.Writer, q Queue, reason string) error {
	var ids []string
	err := store.Walk(ctx, w, store.Query{Kind: KindPlacement, Key: 1, Value: gamelift.PlacementPending, NoDocs: true}, func(it store.Item) error {
		if it.Keys[1] == q.Name {
			ids = append(ids, it.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		p, version, err := s.getPlacement(ctx, w, id)
		if err != nil {
			return err
		}
		if p.GameSessionArn != "" {
			continue
		}
		if _, err := s.endIn(ctx, w, p, version, gamelift.PlacementFailed, reason, &q); err != nil {
			return err
		}
		w.AfterCommit(func() { s.placer.forget(id) })
	}
	return nil
}
