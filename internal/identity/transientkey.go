package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// A transient key is a lease: it works until its ExpiresAt, and the run
// that made it pushes that forward every TransientKeyRenewal. A run that
// stops cleanly revokes its key; a run that crashes stops renewing it, so
// the key stops working TransientKeyTTL after the last renewal at most,
// whether or not the server is started again. This holds with several
// replicas sharing a store, where a replica cannot tell a past run's key
// from a live replica's by who made it (replica ids are new with each
// process): a live replica's key is always renewed, a dead one's never.
// RunTransientSweep then revokes the lapsed keys' records, at start-up and
// every TransientKeyTTL, so that crashes do not pile up keys that look
// active.
const (
	TransientKeyTTL     = time.Minute
	TransientKeyRenewal = TransientKeyTTL / 3
	// transientSweepGrace is how long past its expiry a lapsed key is left
	// before its record is revoked: a replica whose clock runs ahead of the
	// key's owner's by less than this never revokes a key still renewed.
	transientSweepGrace = TransientKeyTTL
)

// TransientKey is a key that lives only as long as one run of the server:
// dev mode's own admin key, and the agent keys of the agents the server
// starts itself (a local capacity provisioner's, dev mode's: AgentKeys).
// It is created when first needed, kept alive while the run lasts and
// revoked when it ends; after a crash it lapses within TransientKeyTTL, so
// no credential of a past run stays valid.
type TransientKey struct {
	Keys *OperatorKeys
	// Description is the key's description, saying who uses it.
	Description string
	// Role is the key's role (default admin); FleetID binds an agent key
	// to its fleet, and ComputeName, when set, to that compute alone.
	Role        auth.Role
	FleetID     string
	ComputeName string

	mu         sync.Mutex
	id, secret string
	renewal    clock.Timer // the next renewal of id; nil when there is no key
}

// Get returns the key's id and secret, creating the key on the first call.
func (k *TransientKey) Get(ctx context.Context) (id, secret string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	// Without a renewal armed (a Revoke that failed) the key is lapsing:
	// make another.
	if k.id == "" || k.renewal == nil {
		role := k.Role
		if role == "" {
			role = auth.RoleAdmin
		}
		key, secret, err := k.Keys.createTransient(ctx, KeySpec{Role: role, Description: k.Description, FleetID: k.FleetID, ComputeName: k.ComputeName})
		if err != nil {
			return "", "", err
		}
		k.id, k.secret = key.AccessKeyID, secret
		k.armLocked(key.AccessKeyID, key.CreatedAt.Add(TransientKeyRenewal))
	}
	return k.id, k.secret, nil
}

// Revoke revokes the key if it was created; a Get after it creates a new
// one.
func (k *TransientKey) Revoke(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.id == "" {
		return nil
	}
	// Once no longer renewed, the key lapses even if revoking it fails.
	if k.renewal != nil {
		k.renewal.Stop()
		k.renewal = nil
	}
	if err := k.Keys.Revoke(ctx, k.id); err != nil {
		return err
	}
	k.id, k.secret = "", ""
	return nil
}

// AgentKeys are the transient agent keys (auth.RoleAgent) of the agents
// one run of the server starts itself: never an admin key, which a game
// server on an agent's host could read from the agent's environment. Mint
// gives each host's agent a key of its own, bound to its compute, so that
// one agent cannot heartbeat or deregister another host of its fleet; Get
// gives one key per fleet, which every agent of the fleet shares.
type AgentKeys struct {
	Keys *OperatorKeys
	// Description is each key's description, followed by its fleet (and
	// compute).
	Description string

	mu   sync.Mutex
	keys map[string]*TransientKey
	// minted are Mint's keys by access key id, until RevokeKey.
	minted map[string]*TransientKey
}

// Mint makes a new agent key bound to fleetID and to computeName alone,
// renewed as every transient key is until RevokeKey or Revoke: a crash
// leaves it valid for TransientKeyTTL at most.
func (a *AgentKeys) Mint(ctx context.Context, fleetID, computeName string) (id, secret string, err error) {
	k := &TransientKey{Keys: a.Keys, Description: a.Description + " (fleet " + fleetID + ", compute " + computeName + ")",
		Role: auth.RoleAgent, FleetID: fleetID, ComputeName: computeName}
	if id, secret, err = k.Get(ctx); err != nil {
		return "", "", fmt.Errorf("agent key for compute %s of fleet %s: %w", computeName, fleetID, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.minted == nil {
		a.minted = map[string]*TransientKey{}
	}
	a.minted[id] = k
	return id, secret, nil
}

// RevokeKey revokes key id, which Mint made. An id it does not hold (one
// revoked already) is no error. A key it fails to revoke is no longer
// renewed, so it lapses within TransientKeyTTL.
func (a *AgentKeys) RevokeKey(ctx context.Context, id string) error {
	a.mu.Lock()
	k := a.minted[id]
	delete(a.minted, id)
	a.mu.Unlock()
	if k == nil {
		return nil
	}
	if err := k.Revoke(ctx); err != nil {
		return fmt.Errorf("revoke agent key %s: %w", id, err)
	}
	return nil
}

// Get returns the agent key of fleetID, creating it on first use.
func (a *AgentKeys) Get(ctx context.Context, fleetID string) (id, secret string, err error) {
	a.mu.Lock()
	k := a.keys[fleetID]
	if k == nil {
		if a.keys == nil {
			a.keys = map[string]*TransientKey{}
		}
		k = &TransientKey{Keys: a.Keys, Description: a.Description + " (fleet " + fleetID + ")", Role: auth.RoleAgent, FleetID: fleetID}
		a.keys[fleetID] = k
	}
	a.mu.Unlock()
	return k.Get(ctx)
}

// Revoke revokes every key made, and returns the errors of those it could
// not revoke (they lapse within TransientKeyTTL anyway).
func (a *AgentKeys) Revoke(ctx context.Context) error {
	a.mu.Lock()
	keys := make([]*TransientKey, 0, len(a.keys)+len(a.minted))
	for _, k := range a.keys {
		keys = append(keys, k)
	}
	for _, k := range a.minted {
		keys = append(keys, k)
	}
	clear(a.minted)
	a.mu.Unlock()
	var errs []error
	for _, k := range keys {
		errs = append(errs, k.Revoke(ctx))
	}
	return errors.Join(errs...)
}

// armLocked schedules the renewal of key id at at; it expects mu held.
func (k *TransientKey) armLocked(id string, at time.Time) {
	k.renewal = clock.AfterFuncAt(k.Keys.cfg.Clock, at, func() { k.renew(id) })
}

// renew pushes key id's expiry forward and schedules the next renewal. A
// key revoked meanwhile (by an operator, or by a sweep while this process
// was paused past its expiry) is forgotten: the next Get makes another.
func (k *TransientKey) renew(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.id != id || k.renewal == nil {
		return // revoked or replaced since this renewal was armed
	}
	log := k.Keys.cfg.Logger
	// A timer has no caller's context; the store bounds its own work.
	err := k.Keys.renewTransient(context.Background(), id)
	switch {
	case errors.Is(err, errTransientGone):
		log.Warn("a transient access key was revoked while in use; the next use makes another", "access_key_id", id, "description", k.Description)
		k.id, k.secret, k.renewal = "", "", nil
		return
	case err != nil:
		log.Warn("renewing a transient access key failed; retrying", "access_key_id", id, "err", err)
	}
	k.armLocked(id, k.Keys.cfg.Clock.Now().Add(TransientKeyRenewal))
}

// errTransientGone is renewTransient's answer for a key that no longer
// exists or was revoked.
var errTransientGone = errors.New("transient access key revoked")

// createTransient makes a transient key that works for TransientKeyTTL
// unless renewed.
func (k *OperatorKeys) createTransient(ctx context.Context, spec KeySpec) (OperatorKey, string, error) {
	id, sec := NewAccessKeyID(), NewSecret()
	key, err := k.newKey(id, sec, spec)
	if err != nil {
		return OperatorKey{}, "", err
	}
	key.Transient, key.ExpiresAt = true, key.CreatedAt.Add(TransientKeyTTL)
	if err := k.cfg.Store.Update(ctx, func(w store.Writer) error { return k.insert(ctx, w, key) }); err != nil {
		return OperatorKey{}, "", fmt.Errorf("create transient access key: %w", err)
	}
	return key, sec, nil
}

// renewTransient sets transient key id's expiry TransientKeyTTL from now.
// It writes no event: renewals are the key staying as it is.
func (k *OperatorKeys) renewTransient(ctx context.Context, id string) error {
	err := k.cfg.Store.Update(ctx, func(w store.Writer) error {
		key, version, err := store.GetJSON[OperatorKey](ctx, w, kindOperatorKey, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (key.Revoked() || !key.Transient)) {
			return errTransientGone
		}
		if err != nil {
			return err
		}
		key.ExpiresAt = k.cfg.Clock.Now().UTC().Add(TransientKeyTTL)
		_, err = w.Put(ctx, store.Record{Kind: kindOperatorKey, ID: id, Doc: store.MustJSON(key), Version: version})
		return err
	})
	if err != nil {
		return fmt.Errorf("renew transient access key %s: %w", id, err)
	}
	return nil
}

// RunTransientSweep revokes the transient keys that lapsed (their run
// ended without revoking them) now, then every TransientKeyTTL until ctx
// ends.
func (k *OperatorKeys) RunTransientSweep(ctx context.Context) error {
	if _, err := k.RevokeLapsedTransient(ctx); err != nil && ctx.Err() == nil {
		k.cfg.Logger.Error("revoking lapsed transient access keys failed", "err", err)
	}
	return k.cfg.Every(ctx, TransientKeyTTL, "revoking lapsed transient access keys failed", func(ctx context.Context) error {
		_, err := k.RevokeLapsedTransient(ctx)
		return err
	})
}

// RevokeLapsedTransient revokes every transient key whose expiry passed
// more than transientSweepGrace ago, and reports how many it revoked. Such
// a key already works nowhere (OperatorSecret refuses a lapsed key); this
// marks its record revoked, with its event.
func (k *OperatorKeys) RevokeLapsedTransient(ctx context.Context) (int, error) {
	now := k.cfg.Clock.Now()
	// Most sweeps find nothing: read first, write only when there is work.
	found, err := service.Read(ctx, k.cfg.Store, func(r store.Reader) ([]versioned, error) {
		return lapsedTransient(ctx, r, now)
	})
	if err != nil || len(found) == 0 {
		return 0, err
	}
	var revoked []versioned
	err = k.cfg.Store.Update(ctx, func(w store.Writer) error {
		var err error
		if revoked, err = lapsedTransient(ctx, w, now); err != nil {
			return err
		}
		for _, v := range revoked {
			if err := k.revokeIn(ctx, w, v.key, v.version); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("revoke lapsed transient access keys: %w", err)
	}
	for _, v := range revoked {
		k.forget(v.key.AccessKeyID)
	}
	return len(revoked), nil
}

// versioned is a key and the version of its record.
type versioned struct {
	key     OperatorKey
	version int64
}

// lapsedTransient lists the transient keys that are not revoked and whose
// expiry passed more than transientSweepGrace before now.
func lapsedTransient(ctx context.Context, r store.Reader, now time.Time) ([]versioned, error) {
	var out []versioned
	err := store.Walk(ctx, r, store.Query{Kind: kindOperatorKey, Prefix: true}, func(it store.Item) error {
		var key OperatorKey
		if err := json.Unmarshal(it.Doc, &key); err != nil {
			return fmt.Errorf("decode access key %s: %w", it.ID, err)
		}
		if key.Transient && !key.Revoked() && !now.Before(key.ExpiresAt.Add(transientSweepGrace)) {
			out = append(out, versioned{key, it.Version})
		}
		return nil
	})
	return out, err
}
