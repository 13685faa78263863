package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// FleetEventRetention is how long DescribeFleetEvents can read an event.
// Events are a troubleshooting log, not a record: without an end, a
// crash-looping process would add tens of thousands of them a day for as
// long as its fleet lives, and a deleted fleet's would stay for ever.
// Thirty days covers the span one looks back over to debug a fleet.
const FleetEventRetention = 30 * 24 * time.Hour

// AddEvent records a fleet event (DescribeFleetEvents), readable for
// FleetEventRetention, and puts it in the outbox with the event code as its
// type, in w's transaction.
func (s *Service) AddEvent(ctx context.Context, w store.Writer, fleetID, code, message string) error {
	now := s.cfg.Clock.Now().UTC()
	id := uuid.NewString()
	e := gamelift.Event{EventId: id, ResourceId: fleetID, EventCode: code, Message: message, EventTime: gamelift.At(now)}
	// Events of one millisecond keep their order by a process-wide counter.
	key := fleetID + "/" + fmt.Sprintf("%016d-%012d-", now.UnixMilli(), s.eventSeq.Add(1)) + id
	if _, err := w.Put(ctx, store.Record{Kind: KindFleetEvent, ID: key, Doc: store.MustJSON(e), Keys: store.Keys{fleetID},
		ExpiresAt: now.Add(FleetEventRetention)}); err != nil {
		return err
	}
	return w.Append(ctx, store.Event{ID: id, Time: now, Type: code, Resource: fleetID, Doc: store.MustJSON(e)})
}

// DescribeFleetEvents pages through a fleet's events, oldest first, within
// [StartTime, EndTime]. Events of a deleted fleet stay readable for as long
// as any event (FleetEventRetention).
func (s *Service) DescribeFleetEvents(ctx context.Context, in *gamelift.DescribeFleetEventsInput) (*gamelift.DescribeFleetEventsOutput, error) {
	n, after, err := service.AuthorizeList(ctx, in.Limit, 100, 0, in.NextToken, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
	})
	if err != nil {
		return nil, err
	}
	fleetID := s.FleetID(in.FleetId)
	q := store.Query{Kind: KindFleetEvent, Prefix: true, Value: fleetID + "/", After: after}
	if in.StartTime != nil && after == "" {
		q.After = fleetID + "/" + fmt.Sprintf("%016d", in.StartTime.UnixMilli()-1) + "~"
	}
	out := &gamelift.DescribeFleetEventsOutput{Events: []gamelift.Event{}}
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		q.Limit = n + 1
		items, err := r.Find(ctx, q)
		if err != nil {
			return err
		}
		if len(items) == 0 && after == "" {
			if _, err := r.Get(ctx, KindFleet, fleetID); errors.Is(err, store.ErrNotFound) {
				return fault.New(fault.NotFound, "FleetId: fleet %s not found", fleetID)
			}
		}
		events, err := store.Decode[gamelift.Event](items)
		if err != nil {
			return err
		}
		for i, e := range events {
			if in.EndTime != nil && e.EventTime.UnixMilli() > in.EndTime.UnixMilli() {
				return nil
			}
			if i == n {
				out.NextToken = store.EncodePageToken(items[n-1].ID)
				return nil
			}
			out.Events = append(out.Events, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("describe fleet events: %w", err)
	}
	return out, nil
}
