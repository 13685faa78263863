package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
)

// SecretSource looks up operator access keys. OperatorSecret returns the
// key's secret and the Principal it speaks for, or an error wrapping a
// fault.NotFound *fault.Error when the key is unknown (or disabled).
type SecretSource interface {
	OperatorSecret(ctx context.Context, accessKeyID string) (secret string, p auth.Principal, err error)
}

// DefaultMaxSkew is how far X-Amz-Date may be from the server's clock.
const DefaultMaxSkew = 5 * time.Minute

// DefaultService is the signing name of the GameLift API.
const DefaultService = "gamelift"

// amzDateFormat is the layout of X-Amz-Date.
const amzDateFormat = "20060102T150405Z"

// Verifier checks SigV4 signatures. The zero MaxSkew means DefaultMaxSkew,
// the zero Service DefaultService and a nil Clock the wall clock. A Verifier
// is safe for concurrent use.
type Verifier struct {
	Secrets SecretSource
	Clock   clock.Clock
	MaxSkew time.Duration
	Service string

	mu      sync.Mutex
	signers map[string]*v4.Signer // by sha256(access key id, secret); see signerFor
	keys    signingKeys           // for canonicalSignature
}

func (v *Verifier) now() time.Time {
	if v.Clock == nil {
		return clock.Real{}.Now()
	}
	return v.Clock.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return DefaultService
	}
	return v.Service
}

// Verify checks the SigV4 signature of r, whose body has already been read
// into body, and returns the Principal of the signing key. Authentication
// failures are *Error; a failing SecretSource yields its own error, wrapped.
func (v *Verifier) Verify(r *http.Request, body []byte) (auth.Principal, error) {
	ctx := r.Context()
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return auth.Principal{}, ErrMissingToken()
	case 1:
	default:
		return auth.Principal{}, incomplete("only one Authorization header is allowed")
	}
	a, err := ParseAuthorization(vals[0])
	if err != nil {
		return auth.Principal{}, err
	}
	if a.Service != v.service() {
		return auth.Principal{}, newError(CodeInvalidSignature, "Credential should be scoped to correct service: '%s'.", v.service())
	}

	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return auth.Principal{}, incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	signedAt, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return auth.Principal{}, incomplete("X-Amz-Date must have the form yyyymmddThhmmssZ")
	}
	if a.Date != amzDate[:8] {
		return auth.Principal{}, newError(CodeInvalidSignature, "Credential should be scoped to a valid date: '%s'.", amzDate[:8])
	}
	if err := v.checkSkew(signedAt); err != nil {
		return auth.Principal{}, err
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		return auth.Principal{}, newError(CodeUnrecognizedClient, "Temporary credentials (X-Amz-Security-Token) are not supported; sign with a Muster access key.")
	}

	secret, p, err := v.Secrets.OperatorSecret(ctx, a.AccessKeyID)
	if fault.Is(err, fault.NotFound) {
		return auth.Principal{}, ErrUnrecognizedClient()
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("sigv4: look up access key %s: %w", a.AccessKeyID, err)
	}

	secretSum := sha256.Sum256([]byte(a.AccessKeyID + "\x00" + secret))
	want, ok := canonicalSignature(r, body, a, amzDate, v.keys.get(secretSum, secret, a))
	if !ok {
		if want, err = sign(ctx, v.signerFor(secretSum), r, body, a, secret, signedAt); err != nil {
			return auth.Principal{}, fmt.Errorf("sigv4: recompute signature: %w", err)
		}
	}
	if !hmac.Equal(want, a.Signature) {
		return auth.Principal{}, newError(CodeInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return p, nil
}

func (v *Verifier) checkSkew(signedAt time.Time) error {
	now := v.now().UTC()
	skew := v.maxSkew()
	switch {
	case signedAt.Before(now.Add(-skew)):
		return newError(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %g min.)",
			signedAt.Format(amzDateFormat), now.Add(-skew).Format(amzDateFormat), now.Format(amzDateFormat), skew.Minutes())
	case signedAt.After(now.Add(skew)):
		return newError(CodeInvalidSignature, "Signature not yet current: %s is still later than %s (%s + %g min.)",
			signedAt.Format(amzDateFormat), now.Add(skew).Format(amzDateFormat), now.Format(amzDateFormat), skew.Minutes())
	}
	return nil
}

// sign recomputes the signature of r with the SDK's signer. The signer signs
// every header present on the request it is given (except a few), so it gets
// a clone holding only the headers the client signed; it adds content-length
// itself when ContentLength > 0, so that stays 0 unless the client signed it.
// The signer comes from signerFor: one per (key, secret), because the SDK's
// derived-key cache is keyed by access key id and day, not by secret.
func sign(ctx context.Context, signer *v4.Signer, r *http.Request, body []byte, a Authorization, secret string, signedAt time.Time) ([]byte, error) {
	u := *r.URL
	u.Host = r.Host
	u.Scheme = "http"
	if r.TLS != nil {
		u.Scheme = "https"
	}
	clone := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: make(http.Header, len(a.SignedHeaders))}
	for _, name := range a.SignedHeaders {
		switch name {
		case "host":
			continue
		case "content-length":
			clone.ContentLength = int64(len(body))
			continue
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		if vals, ok := r.Header[key]; ok {
			clone.Header[key] = vals
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: secret}
	if err := signer.SignHTTP(ctx, creds, clone, hex.EncodeToString(sum[:]), a.Service, a.Region, signedAt); err != nil {
		return nil, err
	}
	return v4.GetSignedRequestSignature(clone)
}

// signerFor returns a signer dedicated to one access key and secret (sum is
// sha256 of the key id, a zero byte and the secret), so the
// SDK's cache of derived signing keys (keyed by access key id and day) is
// reused across requests but never serves a rotated secret: a new secret
// gets a new signer. The cache is bounded by dropping it whole when large.
func (v *Verifier) signerFor(sum [32]byte) *v4.Signer {
	key := string(sum[:])
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.signers[key]; ok {
		return s
	}
	if v.signers == nil || len(v.signers) >= 1024 {
		v.signers = make(map[string]*v4.Signer)
	}
	s := v4.NewSigner()
	v.signers[key] = s
	return s
}
