package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/secret"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

const kindOperatorKey = "operatorkey"

// Operator key events written to the outbox.
const (
	EventOperatorKeyCreated = "OperatorKeyCreated"
	EventOperatorKeyRevoked = "OperatorKeyRevoked"
)

// OperatorKey is an operator's access key as stored. The secret is sealed.
type OperatorKey struct {
	AccessKeyID  string    `json:"accessKeyId"`
	Role         auth.Role `json:"role"`
	Description  string    `json:"description,omitempty"`
	SealedSecret string    `json:"sealedSecret"`
	CreatedAt    time.Time `json:"createdAt"`
	RevokedAt    time.Time `json:"revokedAt,omitzero"`
}

// Revoked reports whether the key was revoked.
func (k OperatorKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// KeysConfig configures OperatorKeys.
type KeysConfig struct {
	// Base gives the store, clock and logger.
	service.Base
	Box *secret.Box
	// CacheTTL bounds how long a looked-up key is trusted without asking
	// the store again; it is how soon another replica's revocation bites.
	CacheTTL time.Duration
}

// OperatorKeys manages operator access keys and answers SigV4 and bearer
// secret look-ups.
type OperatorKeys struct {
	cfg KeysConfig

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	secret  string
	role    auth.Role
	expires time.Time
}

// NewOperatorKeys returns the operator key service.
func NewOperatorKeys(cfg KeysConfig) *OperatorKeys {
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	return &OperatorKeys{cfg: cfg, cache: map[string]cachedKey{}}
}

var accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// NewAccessKeyID returns a fresh access key id in AWS's shape ("MKIA" + 16).
func NewAccessKeyID() string { return "MKIA" + strings.ToUpper(rand.Text()[:16]) }

// NewSecret returns a fresh 40-character secret access key.
func NewSecret() string { return (rand.Text() + rand.Text())[:40] }

// Create makes a new key with a generated id and secret.
func (k *OperatorKeys) Create(ctx context.Context, role auth.Role, description string) (OperatorKey, string, error) {
	id, sec := NewAccessKeyID(), NewSecret()
	key, err := k.CreateWithSecret(ctx, id, sec, role, description)
	return key, sec, err
}

// CreateWithSecret stores a key whose id and secret the operator chose
// (MUSTER_ADMIN_ACCESS_KEY_ID / MUSTER_ADMIN_SECRET_ACCESS_KEY).
func (k *OperatorKeys) CreateWithSecret(ctx context.Context, id, sec string, role auth.Role, description string) (OperatorKey, error) {
	key, err := k.newKey(id, sec, role, description)
	if err != nil {
		return OperatorKey{}, err
	}
	if err := k.cfg.Store.Update(ctx, func(w store.Writer) error { return k.insert(ctx, w, key) }); err != nil {
		return OperatorKey{}, fmt.Errorf("create access key: %w", err)
	}
	return key, nil
}

// newKey checks a key's fields and seals its secret.
func (k *OperatorKeys) newKey(id, sec string, role auth.Role, description string) (OperatorKey, error) {
	var v fault.Validator
	v.Check(accessKeyIDPattern.MatchString(id), "accessKeyId", "must be 16 to 128 upper-case letters or digits")
	v.Check(len(sec) >= 16 && len(sec) <= 128 && !strings.ContainsAny(sec, " \t\r\n:"), "secretAccessKey", "must be 16 to 128 characters without spaces or ':'")
	v.Check(auth.ValidRole(role), "role", "must be %q or %q", auth.RoleAdmin, auth.RoleReadOnly)
	v.Check(len(description) <= 1024, "description", "must be at most 1024 characters")
	if err := v.Err(); err != nil {
		return OperatorKey{}, err
	}
	return OperatorKey{AccessKeyID: id, Role: role, Description: description,
		SealedSecret: k.cfg.Box.Seal(sec, id), CreatedAt: k.cfg.Clock.Now().UTC()}, nil
}

// insert stores a new key and its event in w's transaction.
func (k *OperatorKeys) insert(ctx context.Context, w store.Writer, key OperatorKey) error {
	id := key.AccessKeyID
	if _, err := w.Put(ctx, store.Record{Kind: kindOperatorKey, ID: id, Doc: store.MustJSON(key)}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fault.New(fault.Conflict, "access key %s already exists", id)
		}
		return err
	}
	return w.Append(ctx, store.Event{Type: EventOperatorKeyCreated, Resource: id, Time: key.CreatedAt,
		Doc: store.MustJSON(map[string]string{"accessKeyId": id, "role": string(key.Role)})})
}

// List returns every key, revoked ones included, without secrets.
func (k *OperatorKeys) List(ctx context.Context) ([]OperatorKey, error) {
	out, err := service.Read(ctx, k.cfg.Store, func(r store.Reader) ([]OperatorKey, error) {
		return all[OperatorKey](ctx, r, kindOperatorKey)
	})
	for i := range out {
		out[i].SealedSecret = ""
	}
	return out, err
}

// Revoke disables a key at once on this replica (and within CacheTTL on
// others). It refuses to revoke the last active admin key (fault.Conflict,
// ErrLastAdminKey).
func (k *OperatorKeys) Revoke(ctx context.Context, id string) error {
	err := k.cfg.Store.Update(ctx, func(w store.Writer) error {
		key, version, err := service.Get[OperatorKey](ctx, w, kindOperatorKey, id, "access key %s not found", id)
		if err != nil {
			return err
		}
		if key.Revoked() {
			return nil
		}
		if err := k.keepAnAdmin(ctx, w, key); err != nil {
			return err
		}
		key.RevokedAt = k.cfg.Clock.Now().UTC()
		if _, err := w.Put(ctx, store.Record{Kind: kindOperatorKey, ID: id, Doc: store.MustJSON(key), Version: version}); err != nil {
			return err
		}
		return w.Append(ctx, store.Event{Type: EventOperatorKeyRevoked, Resource: id,
			Doc: store.MustJSON(map[string]string{"accessKeyId": id})})
	})
	k.mu.Lock()
	delete(k.cache, id)
	k.mu.Unlock()
	if err != nil {
		return fmt.Errorf("revoke access key: %w", err)
	}
	return nil
}

// ErrLastAdminKey is in the chain (errors.Is) of Revoke's refusal to
// revoke the last active admin key, which would lock every operator out.
var ErrLastAdminKey = errors.New("the last active admin key")

// keepAnAdmin refuses to revoke key if it is the last active admin key.
// It runs inside Revoke's transaction, so two revocations of the last two
// admin keys cannot both pass.
func (k *OperatorKeys) keepAnAdmin(ctx context.Context, r store.Reader, key OperatorKey) error {
	if key.Role != auth.RoleAdmin {
		return nil
	}
	keys, err := all[OperatorKey](ctx, r, kindOperatorKey)
	if err != nil {
		return err
	}
	for _, other := range keys {
		if other.AccessKeyID != key.AccessKeyID && other.Role == auth.RoleAdmin && !other.Revoked() {
			return nil
		}
	}
	return &fault.Error{Kind: fault.Conflict, Err: ErrLastAdminKey, Message: fmt.Sprintf(
		"access key %s is the last active admin key; revoking it would lock every operator out: create another admin key first (muster keys create --role admin, or POST /v1/admin/keys), then revoke this one", key.AccessKeyID)}
}

// Count reports how many keys exist, revoked ones included.
func (k *OperatorKeys) Count(ctx context.Context) (int, error) {
	keys, err := k.List(ctx)
	return len(keys), err
}

// OperatorSecret returns a live key's secret and the principal it stands
// for. An unknown or revoked key is fault.NotFound.
func (k *OperatorKeys) OperatorSecret(ctx context.Context, accessKeyID string) (string, auth.Principal, error) {
	now := k.cfg.Clock.Now()
	k.mu.Lock()
	c, ok := k.cache[accessKeyID]
	k.mu.Unlock()
	if !ok || now.After(c.expires) {
		key, err := service.Read(ctx, k.cfg.Store, func(r store.Reader) (OperatorKey, error) {
			key, _, err := store.GetJSON[OperatorKey](ctx, r, kindOperatorKey, accessKeyID)
			return key, err
		})
		if errors.Is(err, store.ErrNotFound) || (err == nil && key.Revoked()) {
			return "", auth.Principal{}, fault.New(fault.NotFound, "the access key %s is not known", accessKeyID)
		}
		if err != nil {
			return "", auth.Principal{}, fmt.Errorf("look up access key: %w", err)
		}
		sec, err := k.cfg.Box.Open(key.SealedSecret, key.AccessKeyID)
		if err != nil {
			return "", auth.Principal{}, fmt.Errorf("access key %s: %w", accessKeyID, err)
		}
		c = cachedKey{secret: sec, role: key.Role, expires: now.Add(k.cfg.CacheTTL)}
		k.mu.Lock()
		if len(k.cache) > 10_000 { // bound the cache; keys are few in practice
			clear(k.cache)
		}
		k.cache[accessKeyID] = c
		k.mu.Unlock()
	}
	return c.secret, auth.Principal{Kind: auth.Operator, AccessKeyID: accessKeyID, Role: c.role}, nil
}
