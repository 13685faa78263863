package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/store"
)

// A revoked session's access tokens are refused by every replica until they
// would have expired. Each revocation is a store record numbered inside the
// transaction that revokes; transactions are serialised (across processes
// too), so the numbers increase in commit order, and a replica that has read
// up to number n has seen every revocation committed before n was. A reload
// therefore reads only the revocations after the last one it saw, by id,
// which is the range of the store's (kind, id) index that follows it.
const (
	// kindRevocation records are revocations (id: revocationID(n)).
	kindRevocation = "sessionrevocation"
	// kindRevocationSeq holds the last number given (one record, id "last").
	kindRevocationSeq = "sessionrevocationseq"
	// kindRevokedSession records are revocations written before they were
	// numbered (id: the session id, document {}): by replicas not yet
	// upgraded, during a rolling upgrade. Each expires one access token
	// lifetime (+1 min) after it was written, so once every replica is
	// upgraded there are none, and reading them all is one empty look-up.
	kindRevokedSession = "revokedsession"
)

// revocationMargin is added to an access token lifetime for how long a
// revocation holds: a token of the session may have been signed just after
// it (an exchange that committed before the revocation is signed after), on
// a replica whose clock runs ahead by up to clockLeeway, and Verify accepts
// a token whose exp − iat exceeds the lifetime by up to clockLeeway.
const revocationMargin = time.Minute

type revocationDoc struct {
	SessionID string    `json:"sessionId"`
	RevokedAt time.Time `json:"revokedAt"`
}

type revocationSeqDoc struct {
	Last int64 `json:"last"`
}

// revocationID is the id of revocation n: zero-padded, so that ids sort as
// the numbers do.
func revocationID(n int64) string { return fmt.Sprintf("%020d", n) }

// revokedUntil is how long this replica refuses the tokens of a session
// revoked at at: every token it accepts was signed before at (give or take
// revocationMargin) and lives at most its own AccessTokenLifetime, since
// Verify refuses tokens that claim more.
func (s *Service) revokedUntil(at time.Time) time.Time {
	return at.Add(s.cfg.AccessTokenLifetime + revocationMargin)
}

// rememberRevoked records, inside w's transaction, that session sid's
// access tokens are refused; after commit this process refuses them at once
// and other replicas within RefreshInterval.
//
// The record is kept for MaxAccessTokenLifetime, not this process's
// lifetime: replicas may be configured with different lifetimes (or this
// one restarted with another), and each must find the revocation, after a
// restart too, for as long as tokens it accepts may live. Recording on the
// session the latest expiry handed out would keep records no longer than
// needed, but needs every issue to write the session; a fixed bound needs
// nothing but the lifetime check in Verify.
func (s *Service) rememberRevoked(ctx context.Context, w store.Writer, sid string, now time.Time) error {
	n, err := nextRevocation(ctx, w)
	if err != nil {
		return err
	}
	rec := store.Record{Kind: kindRevocation, ID: revocationID(n), Doc: store.MustJSON(revocationDoc{SessionID: sid, RevokedAt: now}),
		ExpiresAt: now.Add(MaxAccessTokenLifetime + revocationMargin)}
	if _, err := w.Put(ctx, rec); err != nil {
		return fmt.Errorf("revoke session %s: %w", sid, err)
	}
	w.AfterCommit(func() {
		s.revoked.add([]revokedEntry{{sid: sid, until: s.revokedUntil(now)}}, s.cfg.Clock.Now())
	})
	return nil
}

// nextRevocation gives the next revocation number inside w's transaction.
func nextRevocation(ctx context.Context, w store.Writer) (int64, error) {
	d, version, err := store.GetJSON[revocationSeqDoc](ctx, w, kindRevocationSeq, "last")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("number revocation: %w", err)
	}
	d.Last++
	if _, err := w.Put(ctx, store.Record{Kind: kindRevocationSeq, ID: "last", Doc: store.MustJSON(d), Version: version}); err != nil {
		return 0, fmt.Errorf("number revocation: %w", err)
	}
	return d.Last, nil
}

// loadRevocations reads the revocations after the one with id after, in
// commit order, and every unnumbered one; it returns them with the id of
// the last numbered one read (after when there is none).
func (s *Service) loadRevocations(ctx context.Context, after string) ([]revokedEntry, string, error) {
	var out []revokedEntry
	cursor := after
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		out, cursor = out[:0], after
		err := store.Walk(ctx, r, store.Query{Kind: kindRevocation, Prefix: true, After: after}, func(it store.Item) error {
			var d revocationDoc
			if err := json.Unmarshal(it.Doc, &d); err != nil {
				return fmt.Errorf("revocation %s: %w", it.ID, err)
			}
			out, cursor = append(out, revokedEntry{sid: d.SessionID, until: s.revokedUntil(d.RevokedAt)}), it.ID
			return nil
		})
		if err != nil {
			return err
		}
		// An unnumbered record says only when it expires: its writer's
		// lifetime (at least a minute) plus a minute after the revocation,
		// so the revocation was at the latest two minutes before.
		return store.Walk(ctx, r, store.Query{Kind: kindRevokedSession, Prefix: true, NoDocs: true}, func(it store.Item) error {
			out = append(out, revokedEntry{sid: it.ID, until: s.revokedUntil(it.ExpiresAt.Add(-2 * time.Minute))})
			return nil
		})
	})
	if err != nil {
		return nil, after, fmt.Errorf("load revoked sessions: %w", err)
	}
	return out, cursor, nil
}

// revokedSessions is what Verify checks: the sessions whose access tokens
// may still be alive here although the session was revoked.
type revokedSessions struct {
	mu    sync.RWMutex
	until map[string]time.Time // session id → when its last token has expired
	// order holds the entries as they were learnt, which is nearly the
	// order of until (revocations are read in commit order, and until is
	// the revocation's time plus one lifetime), so pruning pops expired
	// entries off its front rather than scanning the map. An entry behind
	// a later one waits for it: a revoked session refused a little longer.
	order []revokedEntry
}

type revokedEntry struct {
	sid   string
	until time.Time
}

func (r *revokedSessions) init() { r.until = map[string]time.Time{} }

func (r *revokedSessions) has(sid string) bool {
	r.mu.RLock()
	_, ok := r.until[sid]
	r.mu.RUnlock()
	return ok
}

// add remembers the entries still in force at now and forgets those that
// have expired.
func (r *revokedSessions) add(entries []revokedEntry, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range entries {
		if u, ok := r.until[e.sid]; !now.Before(e.until) || ok && !u.Before(e.until) {
			continue
		}
		r.until[e.sid] = e.until
		r.order = append(r.order, e)
	}
	n := 0
	for ; n < len(r.order) && !now.Before(r.order[n].until); n++ {
		if sid := r.order[n].sid; !now.Before(r.until[sid]) {
			delete(r.until, sid)
		}
	}
	r.order = r.order[n:]
}

func (r *revokedSessions) len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.until)
}
