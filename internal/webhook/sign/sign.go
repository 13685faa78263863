package sign

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret's text form.
const SecretPrefix = "whsec_"

// keySize is the length of the keys NewSecret makes: the specification asks
// for 24 to 64 random bytes.
const keySize = 32

// NewSecret returns a fresh random secret in its text form.
func NewSecret() string {
	key := make([]byte, keySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret returns the key of a secret. The whsec_ prefix is optional, as
// the reference libraries accept the bare base64 too.
func ParseSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, errors.New("sign: a secret is whsec_ followed by base64")
	}
	if len(key) == 0 {
		return nil, errors.New("sign: the secret is empty")
	}
	return key, nil
}

// Signer signs with one or more keys (more than one during a rotation).
type Signer struct {
	keys [][]byte
}

// NewSigner returns a Signer for secrets in their text form.
func NewSigner(secrets ...string) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("sign: no secret")
	}
	s := &Signer{}
	for _, sec := range secrets {
		key, err := ParseSecret(sec)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, key)
	}
	return s, nil
}

// Signature returns the webhook-signature value for a message: "v1,<sig>"
// per key, separated by spaces.
func (s *Signer) Signature(id string, at time.Time, body []byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	var b strings.Builder
	for i, key := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac(key, id, ts, body)))
	}
	return b.String()
}

// Sign sets the three Standard Webhooks headers on h for a message sent at at.
func (s *Signer) Sign(h http.Header, id string, at time.Time, body []byte) {
	// The specification spells the headers in lower case; setting the map
	// directly keeps that spelling on the wire.
	h[HeaderID] = []string{id}
	h[HeaderTimestamp] = []string{strconv.FormatInt(at.Unix(), 10)}
	h[HeaderSignature] = []string{s.Signature(id, at, body)}
}

func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// DefaultTolerance is how far a message's timestamp may be from the
// receiver's clock, either way: the specification's recommendation, which
// bounds replays.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrMissingHeaders = errors.New("sign: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrTimestamp      = errors.New("sign: the timestamp is outside the tolerance")
	ErrNoMatch        = errors.New("sign: no signature matches")
)

// Verifier checks deliveries signed with a secret.
type Verifier struct {
	key []byte
	// Tolerance bounds the timestamp's distance from now (DefaultTolerance
	// when zero).
	Tolerance time.Duration
}

// NewVerifier returns a Verifier for a secret in its text form.
func NewVerifier(secret string) (*Verifier, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return nil, err
	}
	return &Verifier{key: key}, nil
}

// Verify checks a delivery's headers against its raw body at time now. It
// accepts the message when any v1 signature of the header matches; other
// versions are ignored, as the specification asks.
func (v *Verifier) Verify(h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := header(h, HeaderID), header(h, HeaderTimestamp), header(h, HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("sign: webhook-timestamp %q is not Unix seconds", ts)
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tol || d < -tol {
		return ErrTimestamp
	}
	want := mac(v.key, id, ts, body)
	for _, sig := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatch
}

// header reads h by the specification's lower-case name or its canonical
// form, whichever the transport kept.
func header(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return h.Get(name)
}
