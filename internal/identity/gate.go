package identity

import (
	"context"
	"errors"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/store"
)

// SignInGate lets the studio's own logic refuse a sign-in or a token
// refresh (package hook calls its beforeSignIn hooks through it).
type SignInGate interface {
	// BeforeSignIn returns nil to let the player in, or an error (a
	// *fault.Error the player sees) to refuse.
	BeforeSignIn(ctx context.Context, in SignIn) error
}

// SignIn is a verified sign-in or refresh about to be given tokens.
type SignIn struct {
	IdentityID string
	// Method is how the player signed in: anonymous, device, developer or
	// oidc:<provider>.
	Method string
	// Created is true when the sign-in made a new identity.
	Created bool
	// Refresh is true for a token refresh.
	Refresh bool
}

// ReasonRefused is the revoke reason of a session a SignInGate refused.
const ReasonRefused = "refused by a sign-in hook"

// gateSignIn asks the gate about a session just started; a refusal ends
// the session before any token of it is issued.
func (s *Service) gateSignIn(ctx context.Context, in SignIn, sid string) error {
	if s.cfg.Gate == nil {
		return nil
	}
	err := s.cfg.Gate.BeforeSignIn(ctx, in)
	if err == nil {
		return nil
	}
	if end := s.endSession(ctx, sid); end != nil {
		return errors.Join(err, end)
	}
	return err
}

// gateRefresh asks the gate about the session of a refresh token before it
// is exchanged (gateExchange has read it and found the token one the
// exchange accepts); a refusal (fault.Forbidden) ends the session, so its
// access tokens stop working too.
func (s *Service) gateRefresh(ctx context.Context, sess sessionDoc) error {
	err := s.cfg.Gate.BeforeSignIn(ctx, SignIn{IdentityID: sess.IdentityID, Method: sess.Method, Refresh: true})
	if err == nil || fault.KindOf(err) != fault.Forbidden {
		// Only a refusal ends the session: a gate that could not decide
		// (unavailable) leaves it for a later refresh.
		return err
	}
	if end := s.endSession(ctx, sess.SessionID); end != nil {
		return errors.Join(err, end)
	}
	return err
}

// endSession revokes a session a gate refused. As at logout, the revoked
// session does not keep its identity (keepIdentity).
func (s *Service) endSession(ctx context.Context, sid string) error {
	now := s.cfg.Clock.Now().UTC()
	return s.cfg.Store.Update(ctx, func(w store.Writer) error {
		sess, version, err := store.GetJSON[sessionDoc](ctx, w, kindSession, sid)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil || !sess.RevokedAt.IsZero() {
			return err
		}
		sess.RevokedAt, sess.RevokeReason = now, ReasonRefused
		if _, err := w.Put(ctx, store.Record{Kind: kindSession, ID: sid, Doc: store.MustJSON(sess), Keys: store.Keys{sess.IdentityID},
			Version: version, ExpiresAt: now.Add(s.cfg.RefreshTokenLifetime)}); err != nil {
			return err
		}
		return s.rememberRevoked(ctx, w, sid, now)
	})
}
