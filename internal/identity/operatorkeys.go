package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
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
	// Transient marks a key made for one run of the server (TransientKey):
	// it works only until ExpiresAt, which the run that made it keeps
	// pushing forward while it runs.
	Transient bool      `json:"transient,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// FleetID and ComputeName bind an agent key (auth.RoleAgent): the
	// fleet it may run computes of, and the compute name or "prefix*" it
	// may run ("" for any compute of the fleet).
	FleetID     string `json:"fleetId,omitempty"`
	ComputeName string `json:"computeName,omitempty"`
}

// KeySpec is what a new key may do.
type KeySpec struct {
	Role        auth.Role
	Description string
	// FleetID and ComputeName bind an agent key (see OperatorKey); other
	// roles take neither.
	FleetID     string
	ComputeName string
}

// Revoked reports whether the key was revoked.
func (k OperatorKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Active reports whether the key works at now: not revoked and, for a
// transient key, not lapsed.
func (k OperatorKey) Active(now time.Time) bool {
	return !k.Revoked() && !(k.Transient && !now.Before(k.ExpiresAt))
}

// KeysConfig configures OperatorKeys.
type KeysConfig struct {
	// Base gives the store, clock and logger.
	service.Base
	Box *secret.Box
	// CacheTTL bounds how long a looked-up key is trusted without asking
	// the store again; it is how soon another replica's revocation bites,
	// and how soon a key another replica made is found (knownIDs).
	CacheTTL time.Duration
}

// OperatorKeys manages operator access keys and answers SigV4 and bearer
// secret look-ups.
type OperatorKeys struct {
	cfg KeysConfig

	mu    sync.Mutex
	cache map[string]cachedKey
	known knownIDs
}

type cachedKey struct {
	secret         string
	role           auth.Role
	fleet, compute string
	expires        time.Time
}

// NewOperatorKeys returns the operator key service.
func NewOperatorKeys(cfg KeysConfig) *OperatorKeys {
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	return &OperatorKeys{cfg: cfg, cache: map[string]cachedKey{}, known: knownIDs{loading: make(chan struct{}, 1)}}
}

var accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// NewAccessKeyID returns a fresh access key id in AWS's shape ("MKIA" + 16).
func NewAccessKeyID() string { return "MKIA" + strings.ToUpper(rand.Text()[:16]) }

// NewSecret returns a fresh 40-character secret access key.
func NewSecret() string { return (rand.Text() + rand.Text())[:40] }

// Create makes a new key with a generated id and secret.
func (k *OperatorKeys) Create(ctx context.Context, role auth.Role, description string) (OperatorKey, string, error) {
	return k.CreateKey(ctx, KeySpec{Role: role, Description: description})
}

// CreateKey makes a new key as spec says, with a generated id and secret.
func (k *OperatorKeys) CreateKey(ctx context.Context, spec KeySpec) (OperatorKey, string, error) {
	id, sec := NewAccessKeyID(), NewSecret()
	key, err := k.createWithSecret(ctx, id, sec, spec)
	return key, sec, err
}

// CreateWithSecret stores a key whose id and secret the operator chose
// (MUSTER_ADMIN_ACCESS_KEY_ID / MUSTER_ADMIN_SECRET_ACCESS_KEY).
func (k *OperatorKeys) CreateWithSecret(ctx context.Context, id, sec string, role auth.Role, description string) (OperatorKey, error) {
	return k.createWithSecret(ctx, id, sec, KeySpec{Role: role, Description: description})
}

func (k *OperatorKeys) createWithSecret(ctx context.Context, id, sec string, spec KeySpec) (OperatorKey, error) {
	key, err := k.newKey(id, sec, spec)
	if err != nil {
		return OperatorKey{}, err
	}
	if err := k.cfg.Store.Update(ctx, func(w store.Writer) error { return k.insert(ctx, w, key) }); err != nil {
		return OperatorKey{}, fmt.Errorf("create access key: %w", err)
	}
	return key, nil
}

// newKey checks a key's fields and seals its secret.
func (k *OperatorKeys) newKey(id, sec string, spec KeySpec) (OperatorKey, error) {
	var v fault.Validator
	v.Check(accessKeyIDPattern.MatchString(id), "accessKeyId", "must be 16 to 128 upper-case letters or digits")
	v.Check(len(sec) >= 16 && len(sec) <= 128 && !strings.ContainsAny(sec, " \t\r\n:"), "secretAccessKey", "must be 16 to 128 characters without spaces or ':'")
	v.Check(auth.ValidRole(spec.Role), "role", "must be %q, %q or %q", auth.RoleAdmin, auth.RoleReadOnly, auth.RoleAgent)
	v.Check(len(spec.Description) <= 1024, "description", "must be at most 1024 characters")
	checkBinding(&v, spec)
	if err := v.Err(); err != nil {
		return OperatorKey{}, err
	}
	return OperatorKey{AccessKeyID: id, Role: spec.Role, Description: spec.Description, FleetID: spec.FleetID, ComputeName: spec.ComputeName,
		SealedSecret: k.cfg.Box.Seal(sec, id), CreatedAt: k.cfg.Clock.Now().UTC()}, nil
}

// bindingPattern is a fleet id or compute name as a key binds it: GameLift
// ids and compute names are letters, digits, '-', '_' and '.'.
var bindingPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// checkBinding holds an agent key to one fleet (and at most one compute
// name or prefix) and refuses a binding on any other role, which would
// read as a restriction it does not have.
func checkBinding(v *fault.Validator, spec KeySpec) {
	if spec.Role != auth.RoleAgent {
		v.Check(spec.FleetID == "", "fleetId", "is only for role %q", auth.RoleAgent)
		v.Check(spec.ComputeName == "", "computeName", "is only for role %q", auth.RoleAgent)
		return
	}
	v.Check(spec.FleetID != "", "fleetId", "is required for role %q: the fleet whose computes the key may run", auth.RoleAgent)
	v.Check(spec.FleetID == "" || bindingPattern.MatchString(spec.FleetID), "fleetId", "must be a fleet id (letters, digits, '-', '_', '.'), not an ARN")
	name := strings.TrimSuffix(spec.ComputeName, "*")
	v.Check(spec.ComputeName == "" || spec.ComputeName == "*" || bindingPattern.MatchString(name), "computeName",
		"must be a compute name, or a prefix ending in '*' (letters, digits, '-', '_', '.')")
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
	// The key is known here as soon as it commits, whatever knownIDs read
	// before.
	w.AfterCommit(func() { k.known.add(id) })
	doc := map[string]string{"accessKeyId": id, "role": string(key.Role)}
	if key.Role == auth.RoleAgent {
		doc["fleetId"], doc["computeName"] = key.FleetID, key.ComputeName
	}
	return w.Append(ctx, store.Event{Type: EventOperatorKeyCreated, Resource: id, Time: key.CreatedAt, Doc: store.MustJSON(doc)})
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
		return k.revokeIn(ctx, w, key, version)
	})
	if err != nil {
		k.mu.Lock()
		delete(k.cache, id)
		k.mu.Unlock()
		return fmt.Errorf("revoke access key: %w", err)
	}
	k.forget(id)
	return nil
}

// revokeIn marks key (read at version) revoked in w's transaction, with
// its event.
func (k *OperatorKeys) revokeIn(ctx context.Context, w store.Writer, key OperatorKey, version int64) error {
	id := key.AccessKeyID
	key.RevokedAt = k.cfg.Clock.Now().UTC()
	if _, err := w.Put(ctx, store.Record{Kind: kindOperatorKey, ID: id, Doc: store.MustJSON(key), Version: version}); err != nil {
		return err
	}
	return w.Append(ctx, store.Event{Type: EventOperatorKeyRevoked, Resource: id,
		Doc: store.MustJSON(map[string]string{"accessKeyId": id})})
}

// forget drops a revoked key from this replica's caches, so that it stops
// working here at once.
func (k *OperatorKeys) forget(id string) {
	k.mu.Lock()
	delete(k.cache, id)
	k.mu.Unlock()
	k.known.remove(id)
}

// ErrLastAdminKey is in the chain (errors.Is) of Revoke's refusal to
// revoke the last active admin key, which would lock every operator out.
var ErrLastAdminKey = errors.New("the last active admin key")

// keepAnAdmin refuses to revoke key if it is the last active admin key.
// It runs inside Revoke's transaction, so two revocations of the last two
// admin keys cannot both pass. Transient keys are neither kept nor counted:
// they end with the run that made them, and an operator left with only one
// would be locked out then.
func (k *OperatorKeys) keepAnAdmin(ctx context.Context, r store.Reader, key OperatorKey) error {
	if key.Role != auth.RoleAdmin || key.Transient {
		return nil
	}
	keys, err := all[OperatorKey](ctx, r, kindOperatorKey)
	if err != nil {
		return err
	}
	for _, other := range keys {
		if other.AccessKeyID != key.AccessKeyID && other.Role == auth.RoleAdmin && !other.Revoked() && !other.Transient {
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
// for. An unknown, revoked or lapsed key is fault.NotFound. An id that is
// not among the live keys (knownIDs) is answered without reading the key,
// so requests with made-up ids cost no store read each.
func (k *OperatorKeys) OperatorSecret(ctx context.Context, accessKeyID string) (string, auth.Principal, error) {
	now := k.cfg.Clock.Now()
	k.mu.Lock()
	c, ok := k.cache[accessKeyID]
	k.mu.Unlock()
	if !ok || !now.Before(c.expires) {
		var err error
		if c, err = k.lookUp(ctx, accessKeyID, now); err != nil {
			return "", auth.Principal{}, err
		}
	}
	return c.secret, auth.Principal{Kind: auth.Operator, AccessKeyID: accessKeyID, Role: c.role, AgentFleetID: c.fleet, AgentCompute: c.compute}, nil
}

// lookUp reads a key from the store and caches it.
func (k *OperatorKeys) lookUp(ctx context.Context, accessKeyID string, now time.Time) (cachedKey, error) {
	notFound := fault.New(fault.NotFound, "the access key %s is not known", accessKeyID)
	known, err := k.isKnown(ctx, accessKeyID, now)
	if err != nil {
		return cachedKey{}, fmt.Errorf("look up access key: %w", err)
	}
	if !known {
		return cachedKey{}, notFound
	}
	key, err := service.Read(ctx, k.cfg.Store, func(r store.Reader) (OperatorKey, error) {
		key, _, err := store.GetJSON[OperatorKey](ctx, r, kindOperatorKey, accessKeyID)
		return key, err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !key.Active(now)) {
		return cachedKey{}, notFound
	}
	if err != nil {
		return cachedKey{}, fmt.Errorf("look up access key: %w", err)
	}
	sec, err := k.cfg.Box.Open(key.SealedSecret, key.AccessKeyID)
	if err != nil {
		return cachedKey{}, fmt.Errorf("access key %s: %w", accessKeyID, err)
	}
	c := cachedKey{secret: sec, role: key.Role, fleet: key.FleetID, compute: key.ComputeName, expires: now.Add(k.cfg.CacheTTL)}
	if key.Transient && key.ExpiresAt.Before(c.expires) {
		c.expires = key.ExpiresAt // read again then: renewed, or lapsed
	}
	k.mu.Lock()
	if len(k.cache) > 10_000 { // bound the cache; keys are few in practice
		clear(k.cache)
	}
	k.cache[accessKeyID] = c
	k.mu.Unlock()
	return c, nil
}

// knownIDs is the set of ids of the keys that are not revoked, read from
// the store at most once per CacheTTL: the look-up of an id outside it is
// answered "not known" without a read, however many different ids are
// tried. Its size is the number of keys in the store, not of ids tried.
// A key created on this replica joins it at once (add, after the commit);
// one created on another replica when the set is next read.
type knownIDs struct {
	// loading holds one token while the set is read, so that concurrent
	// look-ups share one read.
	loading chan struct{}

	mu     sync.Mutex
	ids    map[string]bool // nil until first read
	readAt time.Time
	// gen counts changes made here (add, remove), so that a read that
	// began before one does not replace the set with what it read.
	gen uint64
}

// isKnown reports whether id is among the keys that are not revoked,
// reading the set again when it is older than CacheTTL.
func (k *OperatorKeys) isKnown(ctx context.Context, id string, now time.Time) (bool, error) {
	if known, fresh := k.known.lookUp(id, now, k.cfg.CacheTTL); fresh {
		return known, nil
	}
	select {
	case k.known.loading <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-k.known.loading }()
	if known, fresh := k.known.lookUp(id, now, k.cfg.CacheTTL); fresh {
		return known, nil // read by the look-up that held loading before
	}
	gen := k.known.generation()
	ids, err := service.Read(ctx, k.cfg.Store, func(r store.Reader) (map[string]bool, error) {
		ids := map[string]bool{}
		err := store.Walk(ctx, r, store.Query{Kind: kindOperatorKey, Prefix: true}, func(it store.Item) error {
			var key struct {
				RevokedAt time.Time `json:"revokedAt"`
			}
			if err := json.Unmarshal(it.Doc, &key); err != nil {
				return fmt.Errorf("decode access key %s: %w", it.ID, err)
			}
			if key.RevokedAt.IsZero() {
				ids[it.ID] = true
			}
			return nil
		})
		return ids, err
	})
	if err != nil {
		return false, err
	}
	k.known.store(ids, now, gen)
	return ids[id] || k.known.has(id), nil
}

// lookUp answers from the set when it was read less than ttl ago.
func (s *knownIDs) lookUp(id string, now time.Time, ttl time.Duration) (known, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil || !now.Before(s.readAt.Add(ttl)) {
		return false, false
	}
	return s.ids[id], true
}

func (s *knownIDs) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

func (s *knownIDs) generation() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// store keeps what a read that began at generation gen found, unless the
// set changed here meanwhile: the read may predate that change, so the
// set stays as it is and the next look-up past its ttl reads again.
func (s *knownIDs) store(ids map[string]bool, now time.Time, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen == gen {
		s.ids, s.readAt = ids, now
	}
}

// add makes id known at once (a key this replica created).
func (s *knownIDs) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	if s.ids != nil {
		s.ids[id] = true
	}
}

// remove forgets id (a key this replica revoked).
func (s *knownIDs) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	delete(s.ids, id)
}
