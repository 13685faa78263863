package hook

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// Store kinds (see the package comment).
const (
	KindHook       = "hook"
	KindSignInData = "hooksignin"
)

// Points a hook runs at.
const (
	BeforeTicket  = "beforeTicket"
	BeforeSignIn  = "beforeSignIn"
	MatchProposed = "matchProposed"
)

// Fail modes: what a hook that times out, cannot be reached, answers
// badly or is short-circuited by its breaker means.
const (
	FailOpen   = "failOpen"
	FailClosed = "failClosed"
)

// Limits of a hook.
const (
	DefaultTimeoutMs = 300
	MaxTimeoutMs     = 5000
	maxConfigs       = 50
	maxOrder         = 1000
)

var configPattern = regexp.MustCompile(`^[a-zA-Z0-9-\.]{1,128}$`)

// Hook is a registration as operators see it.
type Hook struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Point string `json:"point"`
	// TimeoutMs bounds one call (default 300, at most 5000).
	TimeoutMs int    `json:"timeoutMs"`
	FailMode  string `json:"failMode"`
	// Order sorts the hooks of one point (lower first, then by id).
	Order int `json:"order"`
	// Configurations limits the hook to tickets and matches of these
	// matchmaking configurations (empty: all, for beforeTicket). A
	// matchProposed hook must name at least one: a configuration asks for
	// match vetoes by being named.
	Configurations []string  `json:"configurations"`
	Enabled        bool      `json:"enabled"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Created is the answer to a creation or a rotation: the only time the
// secret is shown.
type Created struct {
	Hook
	Secret string `json:"secret"`
}

// record is what the store keeps: the current secret, and the secrets
// rotated out that still sign beside it (rotate.go).
type record struct {
	Hook
	secret.Stored
	Retiring []retiring `json:"retiring,omitempty"`
}

// CreateInput registers a hook.
type CreateInput struct {
	URL            string   `json:"url" muster:"required"`
	Point          string   `json:"point" muster:"required"`
	TimeoutMs      *int     `json:"timeoutMs"`
	FailMode       string   `json:"failMode" muster:"required"`
	Order          *int     `json:"order"`
	Configurations []string `json:"configurations"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled"`
}

// UpdateInput changes the members that are set; the point is fixed.
type UpdateInput struct {
	URL            *string   `json:"url"`
	TimeoutMs      *int      `json:"timeoutMs"`
	FailMode       *string   `json:"failMode"`
	Order          *int      `json:"order"`
	Configurations *[]string `json:"configurations"`
	Enabled        *bool     `json:"enabled"`
}

// Create registers a hook and returns it with its signing secret.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Created, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	now := s.now()
	h := Hook{ID: "hook-" + uuid.NewString(), URL: in.URL, Point: in.Point, TimeoutMs: DefaultTimeoutMs, FailMode: in.FailMode,
		Configurations: []string{}, Enabled: in.Enabled == nil || *in.Enabled, CreatedAt: now, UpdatedAt: now}
	if in.TimeoutMs != nil {
		h.TimeoutMs = *in.TimeoutMs
	}
	if in.Order != nil {
		h.Order = *in.Order
	}
	if in.Configurations != nil {
		h.Configurations = slices.Clone(in.Configurations)
	}
	plain := sign.NewSecret()
	rec := record{Hook: h, Stored: secret.Keep(s.cfg.Box, plain, consumer(h.ID))}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		// Checked in the transaction that writes, so two registrations at
		// once cannot both pass the duplicate check.
		var v fault.Validator
		v.Check(h.Point == BeforeTicket || h.Point == BeforeSignIn || h.Point == MatchProposed, "Point",
			"must be beforeTicket, beforeSignIn or matchProposed")
		s.check(&v, h, true)
		if err := s.checkStored(ctx, w, &v, h, true); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		w.AfterCommit(s.invalidate)
		_, err := w.Put(ctx, store.Record{Kind: KindHook, ID: h.ID, Doc: store.MustJSON(rec)})
		return err
	})
	if err != nil {
		if fault.KindOf(err) != fault.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("create hook: %w", err)
	}
	return &Created{Hook: h, Secret: plain}, nil
}

// check validates the settings Create and Update share. The URL is
// checked when url: an Update that does not set it leaves a URL the policy
// in force refuses as it is (such a hook is not called; see entry), so the
// operator can still disable it or change its other settings.
func (s *Service) check(v *fault.Validator, h Hook, url bool) {
	if err := s.refusedURL(h.URL); url && err != nil {
		v.Add("Url", "%v", err)
	}
	v.Check(h.TimeoutMs >= 1 && h.TimeoutMs <= MaxTimeoutMs, "TimeoutMs", "must be 1 to %d", MaxTimeoutMs)
	v.Check(h.FailMode == FailOpen || h.FailMode == FailClosed, "FailMode", "must be failOpen or failClosed")
	v.Check(h.Order >= 0 && h.Order <= maxOrder, "Order", "must be 0 to %d", maxOrder)
	v.Check(len(h.Configurations) <= maxConfigs, "Configurations", "must have at most %d entries", maxConfigs)
	v.Check(h.Point != BeforeSignIn || len(h.Configurations) == 0, "Configurations", "must be empty for beforeSignIn: a sign-in has no configuration")
	v.Check(h.Point != MatchProposed || len(h.Configurations) > 0, "Configurations", "must name the configurations whose matches the hook may veto")
	for i, c := range h.Configurations {
		field := fmt.Sprintf("Configurations[%d]", i)
		v.Check(configPattern.MatchString(c), field, "must be a matchmaking configuration name")
		v.Check(!slices.Contains(h.Configurations[:i], c), field, "names %s more than once", c)
	}
}

// checkStored checks a registration against the store, in the transaction
// that writes it: the configurations it names (when configs) must exist,
// and no other hook may have the same point, URL and configurations (in
// any order), which would call the studio twice for one request. A change
// is checked only for what it sets (Update): a configuration deleted
// since, or a duplicate registered before duplicates were refused, must
// not keep the operator from disabling the hook.
func (s *Service) checkStored(ctx context.Context, r store.Reader, v *fault.Validator, h Hook, configs bool) error {
	for i, c := range h.Configurations {
		if !configs || !configPattern.MatchString(c) {
			continue
		}
		_, err := r.Get(ctx, matchmaking.KindConfig, c)
		switch {
		case errors.Is(err, store.ErrNotFound):
			v.Add(fmt.Sprintf("Configurations[%d]", i), "names no matchmaking configuration: %s does not exist", c)
		case err != nil:
			return fmt.Errorf("read matchmaking configuration %s: %w", c, err)
		}
	}
	scope := sortedSet(h.Configurations)
	return store.Walk(ctx, r, store.Query{Kind: KindHook, Prefix: true}, func(it store.Item) error {
		recs, err := store.Decode[record]([]store.Item{it})
		if err != nil {
			return err
		}
		o := recs[0].Hook
		if o.ID != h.ID && o.Point == h.Point && o.URL == h.URL && slices.Equal(sortedSet(o.Configurations), scope) {
			v.Add("Url", "is already registered at %s for the same configurations, by hook %s; change that one instead", h.Point, o.ID)
		}
		return nil
	})
}

func sortedSet(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// refusedURL says why the destination policy in force refuses a hook's
// URL, or nil. Registrations are checked against it, and so are the ones
// read from the store (see entry): the server may have been restarted
// without --webhook-allow-private since a hook was registered.
func (s *Service) refusedURL(raw string) error {
	if err := s.cfg.Destinations.CheckURL(raw); err != nil {
		return err
	}
	if !s.cfg.Destinations.AllowPrivate && !hasScheme(raw, "https") {
		return errors.New("must be an https:// URL (http:// only with --webhook-allow-private), so no one on the way can forge an answer")
	}
	return nil
}

func hasScheme(raw, scheme string) bool {
	return len(raw) > len(scheme)+3 && raw[:len(scheme)+3] == scheme+"://"
}

// Get returns a hook.
func (s *Service) Get(ctx context.Context, id string) (*Hook, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	rec, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (record, error) {
		rec, _, err := read(ctx, r, id)
		return rec, err
	})
	if err != nil {
		return nil, err
	}
	return &rec.Hook, nil
}

func read(ctx context.Context, r store.Reader, id string) (record, int64, error) {
	return service.Get[record](ctx, r, KindHook, id, "hook %s not found", id)
}

// Page is one page of a listing.
type Page = service.Listing[Hook]

// List pages through the hooks by id.
func (s *Service) List(ctx context.Context, limit int, token string) (*Page, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	after, err := service.ListArgs(limit, token)
	if err != nil {
		return nil, err
	}
	out, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (*Page, error) {
		return service.ListPage(ctx, r, store.Query{Kind: KindHook, Prefix: true, After: after}, limit, func(rec record) Hook { return rec.Hook })
	})
	if err != nil {
		return nil, fmt.Errorf("list hooks: %w", err)
	}
	return out, nil
}

// Update changes a hook.
func (s *Service) Update(ctx context.Context, id string, in UpdateInput) (*Hook, error) {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return nil, err
	}
	rec, err := s.change(ctx, id, "update", func(w store.Writer, rec *record) error {
		set(&rec.URL, in.URL)
		set(&rec.TimeoutMs, in.TimeoutMs)
		set(&rec.FailMode, in.FailMode)
		set(&rec.Order, in.Order)
		set(&rec.Enabled, in.Enabled)
		if in.Configurations != nil {
			rec.Configurations = slices.Clone(*in.Configurations)
			if rec.Configurations == nil {
				rec.Configurations = []string{}
			}
		}
		var v fault.Validator
		s.check(&v, rec.Hook, in.URL != nil)
		if in.URL != nil || in.Configurations != nil {
			if err := s.checkStored(ctx, w, &v, rec.Hook, in.Configurations != nil); err != nil {
				return err
			}
		}
		return v.Err()
	})
	if err != nil {
		return nil, err
	}
	return &rec.Hook, nil
}

// change reads hook id, lets edit change it (or refuse), and writes it back
// in one transaction; the registrations are read again after the commit.
// what names the change in an unexpected error.
func (s *Service) change(ctx context.Context, id, what string, edit func(store.Writer, *record) error) (record, error) {
	var rec record
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var ver int64
		var err error
		if rec, ver, err = read(ctx, w, id); err != nil {
			return err
		}
		if err := edit(w, &rec); err != nil {
			return err
		}
		rec.UpdatedAt = s.now()
		w.AfterCommit(s.invalidate)
		_, err = w.Put(ctx, store.Record{Kind: KindHook, ID: id, Doc: store.MustJSON(rec), Version: ver})
		return err
	})
	if err != nil {
		if fault.KindOf(err) != fault.Internal {
			return record{}, err
		}
		return record{}, fmt.Errorf("%s hook %s: %w", what, id, err)
	}
	return rec, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Delete removes a hook.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if _, _, err := read(ctx, w, id); err != nil {
			return err
		}
		w.AfterCommit(s.invalidate)
		return w.Delete(ctx, KindHook, id, 0)
	})
	if err != nil {
		if fault.KindOf(err) != fault.Internal {
			return err
		}
		return fmt.Errorf("delete hook %s: %w", id, err)
	}
	s.metrics.forget(id)
	return nil
}

// consumer binds a hook's sealed secret to the hook.
func consumer(id string) string { return "hook/" + id }
