package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// DeadLetter is an event whose last attempt failed.
type DeadLetter struct {
	EventID   string    `json:"eventId"`
	EventType string    `json:"eventType"`
	Seq       int64     `json:"seq"`
	Resource  string    `json:"resource"`
	EventTime time.Time `json:"eventTime"`
	Attempts  int       `json:"attempts"`
	// LastStatus is the last answer's HTTP status (0 when there was none),
	// LastError what went wrong.
	LastStatus int       `json:"lastStatus,omitempty"`
	LastError  string    `json:"lastError,omitempty"`
	DeadAt     time.Time `json:"deadAt"`
	// Event is the document that was being delivered.
	Event json.RawMessage `json:"event"`
}

func (d DeadLetter) event() store.Event {
	return store.Event{Seq: d.Seq, ID: d.EventID, Type: d.EventType, Resource: d.Resource, Time: d.EventTime, Doc: d.Event}
}

// letterID orders a subscription's dead letters by outbox position.
func letterID(sub string, seq int64) string { return fmt.Sprintf("%s/%020d", sub, seq) }

// deadLetter keeps e in the subscription's dead letters (and takes it off
// the redrive list if it came from there).
func (s *Service) deadLetter(ctx context.Context, id string, e store.Event, attempts int, res result) error {
	d := DeadLetter{EventID: eventID(e), EventType: e.Type, Seq: e.Seq, Resource: e.Resource, EventTime: e.Time.UTC(),
		Attempts: attempts, LastStatus: res.status, DeadAt: s.now(), Event: e.Doc}
	if res.err != nil {
		d.LastError = res.err.Error()
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := fenced(ctx, w); err != nil {
			return err
		}
		if _, err := w.Get(ctx, KindSubscription, id); err != nil {
			return err
		}
		key := letterID(id, e.Seq)
		if err := store.Forget(ctx, w, KindRedrive, key); err != nil {
			return err
		}
		_, err := w.Put(ctx, store.Record{Kind: KindDeadLetter, ID: key, Doc: store.MustJSON(d), Keys: store.Keys{id}, Upsert: true})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errStopped
	}
	if err != nil {
		return fmt.Errorf("dead letter %s of %s: %w", d.EventID, id, err)
	}
	s.metrics.deadLetters.WithLabelValues(id).Inc()
	s.cfg.Logger.Warn("webhook: event dead-lettered", "subscription", id, "event", d.EventID, "attempts", attempts, "err", d.LastError)
	return s.flush(ctx, id)
}

// disable turns a subscription off for reason (its receiver said 410
// Gone) and stops its worker.
func (s *Service) disable(ctx context.Context, id, reason string) error {
	_, err := s.change(ctx, id, func(rec *record) {
		rec.Enabled, rec.DisabledReason = false, reason
	})
	if err != nil && !fault.Is(err, fault.NotFound) {
		return err
	}
	s.cfg.Logger.Warn("webhook: subscription disabled", "subscription", id, "reason", reason)
	if err := s.flush(ctx, id); err != nil {
		return err
	}
	return errStopped
}

// DeadLetters pages through a subscription's dead letters, oldest event
// first.
func (s *Service) DeadLetters(ctx context.Context, id string, limit int, token string) (*Page[DeadLetter], error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	after, err := service.ListArgs(limit, token)
	if err != nil {
		return nil, err
	}
	var out *Page[DeadLetter]
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		if _, _, err := s.read(ctx, r, id); err != nil {
			return err
		}
		q := store.Query{Kind: KindDeadLetter, Key: 1, Value: id, After: after}
		out, err = service.ListPage(ctx, r, q, limit, func(d DeadLetter) DeadLetter { return d })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dead letters of %s: %w", id, err)
	}
	return out, nil
}

// RedriveInput selects dead letters by event id; none selects them all.
type RedriveInput struct {
	EventIDs []string `json:"eventIds"`
}

// Redriven is the answer to a redrive.
type Redriven struct {
	Redriven int `json:"redriven"`
}

// Redrive sends dead letters back for delivery, with a fresh retry period.
func (s *Service) Redrive(ctx context.Context, id string, in RedriveInput) (*Redriven, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	v.Check(len(in.EventIDs) <= 1000, "EventIds", "must have at most 1000 entries")
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &Redriven{}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if _, _, err := s.read(ctx, w, id); err != nil {
			return err
		}
		var moved []store.Item
		err := store.Walk(ctx, w, store.Query{Kind: KindDeadLetter, Key: 1, Value: id}, func(it store.Item) error {
			if len(in.EventIDs) > 0 {
				d, err := store.Decode[DeadLetter]([]store.Item{it})
				if err != nil || !slices.Contains(in.EventIDs, d[0].EventID) {
					return err
				}
			}
			moved = append(moved, it)
			return nil
		})
		if err != nil {
			return err
		}
		for _, it := range moved {
			if err := w.Delete(ctx, KindDeadLetter, it.ID, 0); err != nil {
				return err
			}
			if _, err := w.Put(ctx, store.Record{Kind: KindRedrive, ID: it.ID, Doc: it.Doc, Keys: it.Keys, Upsert: true}); err != nil {
				return err
			}
		}
		out.Redriven = len(moved)
		w.AfterCommit(s.redriven.Fire)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redrive dead letters of %s: %w", id, err)
	}
	return out, nil
}

// redrive delivers a subscription's redriven dead letters, oldest first,
// beside its stream.
func (s *Service) redrive(ctx context.Context, id string) error {
	for {
		wake := s.redriven.Wait()
		var items []store.Item
		err := s.cfg.Store.View(ctx, func(r store.Reader) error {
			var err error
			items, err = r.Find(ctx, store.Query{Kind: KindRedrive, Key: 1, Value: id, Limit: 100})
			return err
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := s.redriveOne(ctx, id, it); err != nil {
				return err
			}
		}
		if len(items) == 0 && !s.wait(ctx, wake) {
			return nil
		}
	}
}

// redriveOne delivers one redriven dead letter and takes it off the list
// (deliver puts it back among the dead letters if it fails again).
func (s *Service) redriveOne(ctx context.Context, id string, it store.Item) error {
	d, err := store.Decode[DeadLetter]([]store.Item{it})
	if err != nil {
		return err
	}
	sub, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if err := s.deliver(ctx, &sub, d[0].event(), nil); err != nil {
		return err
	}
	if err := s.flush(ctx, id); err != nil {
		return err
	}
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := fenced(ctx, w); err != nil {
			return err
		}
		cur, err := w.Get(ctx, KindRedrive, it.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && cur.Version != it.Version {
			return nil // dead-lettered again, or redriven anew meanwhile
		}
		if err != nil {
			return err
		}
		return w.Delete(ctx, KindRedrive, it.ID, it.Version)
	})
}
