package hook

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
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

// Created is the answer to a creation: the only time the secret is shown.
type Created struct {
	Hook
	Secret string `json:"secret"`
}

// record is what the store keeps.
type record struct {
	Hook
	secret.Stored
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
	var v fault.Validator
	v.Check(h.Point == BeforeTicket || h.Point == BeforeSignIn || h.Point == MatchProposed, "Point",
		"must be beforeTicket, beforeSignIn or matchProposed")
	s.check(&v, h)
	if err := v.Err(); err != nil {
		return nil, err
	}
	plain := sign.NewSecret()
	rec := record{Hook: h, Stored: secret.Keep(s.cfg.Box, plain, consumer(h.ID))}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		w.AfterCommit(s.invalidate)
		_, err := w.Put(ctx, store.Record{Kind: KindHook, ID: h.ID, Doc: store.MustJSON(rec)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create hook: %w", err)
	}
	return &Created{Hook: h, Secret: plain}, nil
}

// check validates the settings Create and Update share.
func (s *Service) check(v *fault.Validator, h Hook) {
	switch err := s.cfg.Destinations.CheckURL(h.URL); {
	case err != nil:
		v.Add("Url", "%v", err)
	case !s.cfg.Destinations.AllowPrivate && !hasScheme(h.URL, "https"):
		v.Add("Url", "must be an https:// URL (http:// only with --webhook-allow-private), so no one on the way can forge an answer")
	}
	v.Check(h.TimeoutMs >= 1 && h.TimeoutMs <= MaxTimeoutMs, "TimeoutMs", "must be 1 to %d", MaxTimeoutMs)
	v.Check(h.FailMode == FailOpen || h.FailMode == FailClosed, "FailMode", "must be failOpen or failClosed")
	v.Check(h.Order >= 0 && h.Order <= maxOrder, "Order", "must be 0 to %d", maxOrder)
	v.Check(len(h.Configurations) <= maxConfigs, "Configurations", "must have at most %d entries", maxConfigs)
	v.Check(h.Point != BeforeSignIn || len(h.Configurations) == 0, "Configurations", "must be empty for beforeSignIn: a sign-in has no configuration")
	v.Check(h.Point != MatchProposed || len(h.Configurations) > 0, "Configurations", "must name the configurations whose matches the hook may veto")
	for i, c := range h.Configurations {
		v.Check(configPattern.MatchString(c), fmt.Sprintf("Configurations[%d]", i), "must be a matchmaking configuration name")
	}
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
	var rec record
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var ver int64
		var err error
		if rec, ver, err = read(ctx, w, id); err != nil {
			return err
		}
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
		s.check(&v, rec.Hook)
		if err := v.Err(); err != nil {
			return err
		}
		rec.UpdatedAt = s.now()
		w.AfterCommit(s.invalidate)
		_, err = w.Put(ctx, store.Record{Kind: KindHook, ID: id, Doc: store.MustJSON(rec), Version: ver})
		return err
	})
	if err != nil {
		if fault.KindOf(err) != fault.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("update hook %s: %w", id, err)
	}
	return &rec.Hook, nil
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
