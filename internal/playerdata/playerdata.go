package playerdata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

const kindPlayer = "player"

// Limits of a record.
const (
	MaxAttributes       = 100
	MaxAttributeNameLen = 1024
	MaxDataKeys         = 1000
	MaxDataKeyLen       = 256
	// MaxRecordBytes caps a record's encoded attributes and data.
	MaxRecordBytes = 256 << 10
	// MaxTTL is the longest expiry a record may be given.
	MaxTTL = 10 * 365 * 24 * time.Hour
)

// Record is one player's record.
type Record struct {
	IdentityID string                             `json:"identityId"`
	Attributes map[string]gamelift.AttributeValue `json:"attributes"`
	Data       map[string]json.RawMessage         `json:"data"`
	// Version is 0 for a player with no record yet, then 1, 2, … per write.
	Version int64 `json:"version"`
	// ExpiresAt, when set, is when the record disappears.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// doc is what the store holds; version and expiry are the store's own.
type doc struct {
	Attributes map[string]gamelift.AttributeValue `json:"attributes,omitempty"`
	Data       map[string]json.RawMessage         `json:"data,omitempty"`
}

// Patch is a change to a record, merged into what is there (RFC 7396
// style): a nil attribute or a JSON null data value removes the key.
type Patch struct {
	Attributes map[string]*gamelift.AttributeValue
	Data       map[string]json.RawMessage
	// TTL, when set, makes the record expire TTL from now (0 removes the
	// expiry).
	TTL *time.Duration
}

// Condition guards a write.
type Condition struct {
	// IfMatch, when set, is the version the caller read (If-Match): a
	// record at another version is fault.PreconditionFailed. 0 means "no
	// record yet".
	IfMatch *int64
}

// Config configures the Service.
type Config struct {
	// Base gives the store, clock and logger.
	service.Base
	// PlayerWritable lists the data keys players may change themselves.
	PlayerWritable []string
	// DefaultTTL, when set, is the expiry given to a record when it is
	// created without one.
	DefaultTTL time.Duration
	// CacheTTL is how long a record read from the store is served from
	// memory: how soon a write by another process (another replica, an
	// import while the server runs) is seen. Writes through this Service
	// are seen at once. Default 2 s; negative disables the cache.
	CacheTTL time.Duration
	// CacheSize bounds the cache (default 100,000 records).
	CacheSize int
}

// Service reads and writes player records. It is safe for concurrent use.
type Service struct {
	cfg      Config
	writable map[string]bool
	cache    *cache
}

// New returns the Service.
func New(cfg Config) (*Service, error) {
	cfg.Base = cfg.Base.WithDefaults()
	if cfg.DefaultTTL < 0 || cfg.DefaultTTL > MaxTTL {
		return nil, fmt.Errorf("playerdata: default TTL %v: must be 0 to %v", cfg.DefaultTTL, MaxTTL)
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 2 * time.Second
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 100_000
	}
	s := &Service{cfg: cfg, writable: map[string]bool{}, cache: newCache(cfg.CacheTTL, cfg.CacheSize)}
	for _, k := range cfg.PlayerWritable {
		if k == "" || len(k) > MaxDataKeyLen {
			return nil, fmt.Errorf("playerdata: player-writable key %q: must be 1 to %d bytes", k, MaxDataKeyLen)
		}
		s.writable[k] = true
	}
	return s, nil
}

var identityIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:\-]{1,128}$`)

func checkIdentityID(id string) error {
	if !identityIDPattern.MatchString(id) {
		return fault.BadField("identityId", "must be 1 to 128 letters, digits or . _ : -")
	}
	return nil
}

// Get returns a player's record; fault.NotFound when there is none.
func (s *Service) Get(ctx context.Context, identityID string) (Record, error) {
	rec, err := s.Me(ctx, identityID)
	if err == nil && rec.Version == 0 {
		return Record{}, fault.New(fault.NotFound, "no player record for identity %s", identityID)
	}
	return rec, err
}

// Me returns the record of the calling player, or an empty record at
// version 0 when the player has none yet. The returned maps are shared:
// callers must not change them.
func (s *Service) Me(ctx context.Context, identityID string) (Record, error) {
	if err := checkIdentityID(identityID); err != nil {
		return Record{}, err
	}
	now := s.cfg.Clock.Now()
	if rec, ok := s.cache.get(identityID, now); ok {
		return rec, nil
	}
	gen := s.cache.begin()
	var rec Record
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		rec, err = read(ctx, r, identityID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		rec, err = empty(identityID), nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("get player record: %w", err)
	}
	s.cache.fill(rec, gen, now)
	return rec, nil
}

// Attributes returns a player's matchmaking attributes (empty when the
// player has no record). Matchmaking calls it to build tickets, so a
// client never supplies its own attributes.
func (s *Service) Attributes(ctx context.Context, identityID string) (map[string]gamelift.AttributeValue, error) {
	rec, err := s.Me(ctx, identityID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]gamelift.AttributeValue, len(rec.Attributes))
	for k, v := range rec.Attributes {
		out[k] = v
	}
	return out, nil
}

func empty(id string) Record {
	return Record{IdentityID: id, Attributes: map[string]gamelift.AttributeValue{}, Data: map[string]json.RawMessage{}}
}

func read(ctx context.Context, r store.Reader, id string) (Record, error) {
	it, err := r.Get(ctx, kindPlayer, id)
	if err != nil {
		return Record{}, err
	}
	var d doc
	if err := json.Unmarshal(it.Doc, &d); err != nil {
		return Record{}, fmt.Errorf("decode player %s: %w", id, err)
	}
	rec := empty(id)
	for k, v := range d.Attributes {
		rec.Attributes[k] = v
	}
	for k, v := range d.Data {
		rec.Data[k] = v
	}
	rec.Version, rec.ExpiresAt = it.Version, it.ExpiresAt
	return rec, nil
}

// Update merges p into a player's record, making the record if there is
// none, as an operator: attributes and every data key may change.
func (s *Service) Update(ctx context.Context, identityID string, p Patch, c Condition) (Record, error) {
	return s.update(ctx, identityID, p, c, false)
}

// UpdateAsPlayer merges p into the calling player's own record: only data
// keys the operator marked player-writable may change, and never
// attributes or the expiry (fault.Forbidden names the first offender).
func (s *Service) UpdateAsPlayer(ctx context.Context, identityID string, p Patch, c Condition) (Record, error) {
	return s.update(ctx, identityID, p, c, true)
}

func (s *Service) update(ctx context.Context, identityID string, p Patch, c Condition, player bool) (Record, error) {
	if err := checkIdentityID(identityID); err != nil {
		return Record{}, err
	}
	if player {
		if err := s.checkPlayerPatch(p); err != nil {
			return Record{}, err
		}
	}
	if err := checkPatch(p); err != nil {
		return Record{}, err
	}
	now := s.cfg.Clock.Now()
	var out Record
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		cur, err := read(ctx, w, identityID)
		if errors.Is(err, store.ErrNotFound) {
			cur, err = empty(identityID), nil
			if s.cfg.DefaultTTL > 0 && p.TTL == nil {
				cur.ExpiresAt = now.Add(s.cfg.DefaultTTL)
			}
		}
		if err != nil {
			return err
		}
		if c.IfMatch != nil && *c.IfMatch != cur.Version {
			return fault.New(fault.PreconditionFailed, "the record is at version %d, not %d", cur.Version, *c.IfMatch)
		}
		merge(&cur, p, now)
		body, err := encode(cur)
		if err != nil {
			return err
		}
		v, err := w.Put(ctx, store.Record{Kind: kindPlayer, ID: identityID, Doc: body, Version: cur.Version, ExpiresAt: cur.ExpiresAt})
		if err != nil {
			return err
		}
		cur.Version = v
		out = cur
		return nil
	})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Record{}, fault.New(fault.PreconditionFailed, "the record changed while it was being written; read it and try again")
		}
		if fault.KindOf(err) != fault.Internal {
			return Record{}, err
		}
		return Record{}, fmt.Errorf("update player record: %w", err)
	}
	s.cache.wrote(out, now)
	return out, nil
}

func (s *Service) checkPlayerPatch(p Patch) error {
	if p.Attributes != nil { // even empty: a client that sends them is told, not ignored
		return fault.New(fault.Forbidden, "matchmaking attributes are not player-writable")
	}
	if p.TTL != nil {
		return fault.New(fault.Forbidden, "the record's expiry is not player-writable")
	}
	for _, k := range sortedKeys(p.Data) {
		if !s.writable[k] {
			return fault.New(fault.Forbidden, "%s: data key %q is not player-writable", member("$.data", k), k)
		}
	}
	return nil
}

var null = []byte("null")

func checkPatch(p Patch) error {
	var v fault.Validator
	for _, name := range sortedKeys(p.Attributes) {
		at := member("$.attributes", name)
		v.Check(name != "" && utf8.RuneCountInString(name) <= MaxAttributeNameLen && utf8.ValidString(name), at, "attribute names must be 1 to %d characters", MaxAttributeNameLen)
		if a := p.Attributes[name]; a != nil {
			a.Validate(at, &v)
		}
	}
	for _, k := range sortedKeys(p.Data) {
		at := member("$.data", k)
		v.Check(k != "" && len(k) <= MaxDataKeyLen && utf8.ValidString(k), at, "data keys must be 1 to %d bytes", MaxDataKeyLen)
		v.Check(json.Valid(p.Data[k]), at, "must be a JSON value")
	}
	if p.TTL != nil {
		v.Check(*p.TTL >= 0 && *p.TTL <= MaxTTL, "$.ttlSeconds", "must be 0 to %d", int64(MaxTTL/time.Second))
	}
	return v.Err()
}

func merge(rec *Record, p Patch, now time.Time) {
	for k, a := range p.Attributes {
		if a == nil {
			delete(rec.Attributes, k)
		} else {
			rec.Attributes[k] = *a
		}
	}
	for k, raw := range p.Data {
		if bytes.Equal(bytes.TrimSpace(raw), null) {
			delete(rec.Data, k)
		} else {
			rec.Data[k] = raw
		}
	}
	if p.TTL != nil {
		rec.ExpiresAt = time.Time{}
		if *p.TTL > 0 {
			rec.ExpiresAt = now.Add(*p.TTL)
		}
	}
}

// encode checks the merged record's limits and encodes its document.
func encode(rec Record) ([]byte, error) {
	var v fault.Validator
	v.Check(len(rec.Attributes) <= MaxAttributes, "$.attributes", "a record may hold at most %d attributes", MaxAttributes)
	v.Check(len(rec.Data) <= MaxDataKeys, "$.data", "a record may hold at most %d data keys", MaxDataKeys)
	if err := v.Err(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(doc{Attributes: rec.Attributes, Data: rec.Data})
	if err != nil {
		return nil, err
	}
	if len(body) > MaxRecordBytes {
		return nil, fault.New(fault.Invalid, "the record would be %d bytes encoded, more than %d", len(body), MaxRecordBytes)
	}
	return body, nil
}

// Delete removes a player's record; fault.NotFound when there is none.
func (s *Service) Delete(ctx context.Context, identityID string, c Condition) error {
	if err := checkIdentityID(identityID); err != nil {
		return err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		it, err := w.Get(ctx, kindPlayer, identityID)
		if err != nil {
			return err
		}
		if c.IfMatch != nil && *c.IfMatch != it.Version {
			return fault.New(fault.PreconditionFailed, "the record is at version %d, not %d", it.Version, *c.IfMatch)
		}
		return w.Delete(ctx, kindPlayer, identityID, it.Version)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.New(fault.NotFound, "no player record for identity %s", identityID)
	case err != nil && fault.KindOf(err) != fault.Internal:
		return err
	case err != nil:
		return fmt.Errorf("delete player record: %w", err)
	}
	s.cache.wrote(empty(identityID), s.cfg.Clock.Now())
	return nil
}

// CheckRecord validates a whole record as an operator's write would be.
func CheckRecord(rec Record) error {
	if err := checkIdentityID(rec.IdentityID); err != nil {
		return err
	}
	p := Patch{Attributes: make(map[string]*gamelift.AttributeValue, len(rec.Attributes)), Data: rec.Data}
	for k, a := range rec.Attributes {
		p.Attributes[k] = &a
	}
	if err := checkPatch(p); err != nil {
		return err
	}
	_, err := encode(rec)
	return err
}

// Import writes whole records, replacing any there, in one transaction
// (for migrating an existing player base). A record without an expiry gets
// DefaultTTL. Every record is checked with CheckRecord first; one invalid
// record fails the batch before anything is written.
func (s *Service) Import(ctx context.Context, recs []Record) error {
	bodies := make([][]byte, len(recs))
	for i, rec := range recs {
		if err := CheckRecord(rec); err != nil {
			return fmt.Errorf("record %d (%s): %w", i, rec.IdentityID, err)
		}
		bodies[i], _ = encode(rec)
	}
	now := s.cfg.Clock.Now()
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		for i, rec := range recs {
			exp := rec.ExpiresAt
			if exp.IsZero() && s.cfg.DefaultTTL > 0 {
				exp = now.Add(s.cfg.DefaultTTL)
			}
			if _, err := w.Put(ctx, store.Record{Kind: kindPlayer, ID: rec.IdentityID, Doc: bodies[i], Upsert: true, ExpiresAt: exp}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import player records: %w", err)
	}
	for _, rec := range recs {
		s.cache.forget(rec.IdentityID)
	}
	return nil
}

var plainKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// member is the JSON path of key k under path: $.data.level, or
// $.data["two words"].
func member(path, k string) string {
	if plainKey.MatchString(k) {
		return path + "." + k
	}
	return path + "[" + strconv.Quote(k) + "]"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
