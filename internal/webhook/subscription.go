package webhook

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// Store kinds (see the package comment).
const (
	KindSubscription = "subscription"
	KindDeadLetter   = "webhookdeadletter"
	KindRedrive      = "webhookredrive"
	KindDeliveries   = "webhookdeliveries"
)

// maxFilters caps a subscription's EventTypes and Resources.
const maxFilters = 50

// namePattern is an SNS topic name's: a NotificationTarget names it.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Subscription is a webhook subscription as operators see it.
type Subscription struct {
	ID string `json:"id"`
	// Name is unique; Arn, arn:aws:sns:<region>:<account>:<name>, is what a
	// NotificationTarget names.
	Name string `json:"name"`
	Arn  string `json:"arn"`
	URL  string `json:"url"`
	// EventTypes and Resources filter the events (empty: all); each of
	// EventTypes is one of the package's EventTypes.
	EventTypes []string `json:"eventTypes"`
	Resources  []string `json:"resources"`
	Enabled    bool     `json:"enabled"`
	// DisabledReason says why delivery disabled the subscription (410 Gone).
	DisabledReason string    `json:"disabledReason,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Created is the answer to a creation or a rotation: the only time the
// secret is shown.
type Created struct {
	Subscription
	Secret string `json:"secret"`
}

// record is what the store keeps.
type record struct {
	Subscription
	// StartSeq is the outbox position at creation: earlier events are not
	// delivered.
	StartSeq int64          `json:"startSeq"`
	Secrets  []storedSecret `json:"secrets"`
}

// storedSecret is a signing secret, sealed when the service has a Box.
type storedSecret struct {
	secret.Stored
	// Until, when set, is when a rotated-out secret stops signing.
	Until time.Time `json:"until,omitzero"`
}

// CreateInput creates a subscription.
type CreateInput struct {
	Name       string   `json:"name"`
	URL        string   `json:"url"`
	EventTypes []string `json:"eventTypes"`
	Resources  []string `json:"resources"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled"`
}

// UpdateInput changes the members that are set.
type UpdateInput struct {
	URL        *string   `json:"url"`
	EventTypes *[]string `json:"eventTypes"`
	Resources  *[]string `json:"resources"`
	Enabled    *bool     `json:"enabled"`
}

// Create makes a subscription and returns it with its secret.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Created, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	v.Check(namePattern.MatchString(in.Name), "Name", "must be 1 to 256 letters, digits, hyphens or underscores (an SNS topic name)")
	s.checkSettings(&v, &in.URL, &in.EventTypes, &in.Resources)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	plain := sign.NewSecret()
	rec := record{Subscription: Subscription{ID: "sub-" + uuid.NewString(), Name: in.Name, Arn: s.topicARN(in.Name), URL: in.URL,
		EventTypes: orEmpty(in.EventTypes), Resources: orEmpty(in.Resources), Enabled: in.Enabled == nil || *in.Enabled,
		CreatedAt: now, UpdatedAt: now}}
	rec.Secrets = []storedSecret{s.seal(rec.ID, plain)}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		taken, err := w.Find(ctx, store.Query{Kind: KindSubscription, Key: 1, Value: in.Name, Limit: 1, NoDocs: true})
		if err != nil {
			return err
		}
		if len(taken) > 0 {
			return &fault.Error{Kind: fault.Conflict, Message: fmt.Sprintf("a subscription named %s exists", in.Name),
				Fields: []fault.FieldError{{Field: "Name", Reason: "is taken"}}}
		}
		if rec.StartSeq, err = head(ctx, w); err != nil {
			return err
		}
		w.AfterCommit(s.changed.Fire)
		_, err = w.Put(ctx, store.Record{Kind: KindSubscription, ID: rec.ID, Doc: store.MustJSON(rec), Keys: store.Keys{rec.Name}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create subscription: %w", err)
	}
	return &Created{Subscription: rec.Subscription, Secret: plain}, nil
}

// head returns the outbox's last sequence number (0 when it is empty),
// probing with one-event reads: outward in doubling steps, then halving
// the range, so a long outbox costs tens of reads, not a walk through it.
func head(ctx context.Context, r store.Reader) (int64, error) {
	next := func(after int64) (int64, error) {
		evs, err := r.Events(ctx, store.EventQuery{After: after, Limit: 1})
		if err != nil || len(evs) == 0 {
			return 0, err
		}
		return evs[0].Seq, nil
	}
	var lo, hi int64 // lo is 0 or an event's seq; no event lies after hi
	for step := int64(1); ; step *= 2 {
		n, err := next(lo + step)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			hi = lo + step
			break
		}
		lo = n
	}
	for {
		n, err := next(lo)
		if err != nil || n == 0 {
			return lo, err
		}
		mid := n + (hi-n)/2
		m, err := next(mid)
		switch {
		case err != nil:
			return 0, err
		case m == 0:
			lo, hi = n, mid
		default:
			lo = m
		}
	}
}

// checkSettings validates the members Create and Update share; nil
// pointers are members an update leaves alone.
func (s *Service) checkSettings(v *fault.Validator, url *string, types, resources *[]string) {
	if url != nil {
		if err := s.cfg.Destinations.CheckURL(*url); err != nil {
			v.Add("Url", "%v", err)
		}
	}
	if types != nil {
		v.Check(len(*types) <= maxFilters, "EventTypes", "must have at most %d entries", maxFilters)
		for i, t := range *types {
			if reason := checkEventType(t); reason != "" {
				v.Add(fmt.Sprintf("EventTypes[%d]", i), "%s", reason)
			}
		}
	}
	if resources != nil {
		v.Check(len(*resources) <= maxFilters, "Resources", "must have at most %d entries", maxFilters)
		for i, r := range *resources {
			typ, _, ok := s.cfg.ARNs.Parse(r)
			v.Check(ok && (typ == gamelift.ResourceMatchmakingConfiguration || typ == gamelift.ResourceGameSessionQueue || typ == gamelift.ResourceFleet),
				fmt.Sprintf("Resources[%d]", i), "must be the ARN of a matchmaking configuration, game session queue or fleet of this installation")
		}
	}
}

// Get returns a subscription.
func (s *Service) Get(ctx context.Context, id string) (*Subscription, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	rec, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (record, error) {
		rec, _, err := s.read(ctx, r, id)
		return rec, err
	})
	if err != nil {
		return nil, err
	}
	return &rec.Subscription, nil
}

// read returns a subscription's record and version, or a NotFound fault.
func (s *Service) read(ctx context.Context, r store.Reader, id string) (record, int64, error) {
	return service.Get[record](ctx, r, KindSubscription, id, "subscription %s not found", id)
}

// Page is one page of a listing.
type Page[T any] = service.Listing[T]

// List pages through the subscriptions by id.
func (s *Service) List(ctx context.Context, limit int, token string) (*Page[Subscription], error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	after, err := service.ListArgs(limit, token)
	if err != nil {
		return nil, err
	}
	out, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (*Page[Subscription], error) {
		return service.ListPage(ctx, r, store.Query{Kind: KindSubscription, Prefix: true, After: after}, limit,
			func(rec record) Subscription { return rec.Subscription })
	})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// Update changes a subscription. Enabling it clears DisabledReason.
func (s *Service) Update(ctx context.Context, id string, in UpdateInput) (*Subscription, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	var v fault.Validator
	s.checkSettings(&v, in.URL, in.EventTypes, in.Resources)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.change(ctx, id, func(rec *record) {
		if in.URL != nil {
			rec.URL = *in.URL
		}
		if in.EventTypes != nil {
			rec.EventTypes = orEmpty(*in.EventTypes)
		}
		if in.Resources != nil {
			rec.Resources = orEmpty(*in.Resources)
		}
		if in.Enabled != nil {
			rec.Enabled = *in.Enabled
			if rec.Enabled {
				rec.DisabledReason = ""
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return &rec.Subscription, nil
}

// change reads, edits and writes a subscription in one transaction.
func (s *Service) change(ctx context.Context, id string, edit func(*record)) (record, error) {
	var rec record
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var ver int64
		var err error
		if rec, ver, err = s.read(ctx, w, id); err != nil {
			return err
		}
		edit(&rec)
		rec.UpdatedAt = s.now()
		w.AfterCommit(s.changed.Fire)
		_, err = w.Put(ctx, store.Record{Kind: KindSubscription, ID: id, Doc: store.MustJSON(rec), Keys: store.Keys{rec.Name}, Version: ver})
		return err
	})
	if err != nil {
		return rec, fmt.Errorf("update subscription %s: %w", id, err)
	}
	return rec, nil
}

// RotateSecret gives a subscription a new secret, returned once; the
// previous one keeps signing beside it for Config.RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, id string) (*Created, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	plain := sign.NewSecret()
	now := s.now()
	rec, err := s.change(ctx, id, func(rec *record) {
		kept := []storedSecret{s.seal(id, plain)}
		for _, old := range rec.Secrets {
			if old.Until.IsZero() {
				old.Until = now.Add(s.cfg.RotationOverlap)
			}
			if old.Until.After(now) {
				kept = append(kept, old)
			}
		}
		rec.Secrets = kept
	})
	if err != nil {
		return nil, err
	}
	return &Created{Subscription: rec.Subscription, Secret: plain}, nil
}

// Delete removes a subscription with its dead letters, redrives, recent
// attempts and cursor.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if _, _, err := s.read(ctx, w, id); err != nil {
			return err
		}
		if err := deleteAll(ctx, w, id); err != nil {
			return err
		}
		w.AfterCommit(s.changed.Fire)
		return w.Delete(ctx, KindSubscription, id, 0)
	})
	if err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	s.metrics.forget(id)
	return nil
}

// deleteAll deletes what belongs to a subscription but its record: dead
// letters, redrives, recent attempts and cursor.
func deleteAll(ctx context.Context, w store.Writer, id string) error {
	for _, kind := range []string{KindDeadLetter, KindRedrive} {
		var ids []string
		if err := store.Walk(ctx, w, store.Query{Kind: kind, Key: 1, Value: id, NoDocs: true}, func(it store.Item) error {
			ids = append(ids, it.ID)
			return nil
		}); err != nil {
			return err
		}
		for _, dl := range ids {
			if err := w.Delete(ctx, kind, dl, 0); err != nil {
				return err
			}
		}
	}
	for _, rec := range []struct{ kind, id string }{{KindDeliveries, id}, {outbox.KindCursor, consumer(id)}} {
		if err := store.Forget(ctx, w, rec.kind, rec.id); err != nil {
			return err
		}
	}
	return nil
}

// consumer is a subscription's outbox consumer name.
func consumer(id string) string { return "webhook/" + id }

// seal keeps a secret sealed under the Box, bound to the subscription.
func (s *Service) seal(id, plain string) storedSecret {
	return storedSecret{Stored: secret.Keep(s.cfg.Box, plain, consumer(id))}
}

// signer returns a Signer over the secrets of rec in force at now, the
// newest first.
func (s *Service) signer(rec record, now time.Time) (*sign.Signer, error) {
	var secrets []string
	for _, sec := range rec.Secrets {
		if !sec.Until.IsZero() && !sec.Until.After(now) {
			continue
		}
		plain, err := sec.Reveal(s.cfg.Box, consumer(rec.ID))
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, plain)
	}
	return sign.NewSigner(secrets...)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}
