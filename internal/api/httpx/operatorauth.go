package httpx

import (
	"bytes"
	"crypto/hmac"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/sigv4"
)

// OperatorAuth authenticates operator requests (the GameLift control API and
// /v1/admin/*) by either of two credentials made from one Muster access key:
//
//   - SigV4, as the AWS SDKs and CLI sign requests
//     (Authorization: AWS4-HMAC-SHA256 …), checked by Verifier;
//   - a bearer API key, Authorization: Bearer <AccessKeyId>:<Secret>, for
//     curl and scripts, with the secret compared in constant time.
//
// Anything else is a missing token. Failures are *sigv4.Error, whose Code the
// adapters put on the wire; a failing key store is returned wrapped, as an
// internal error. Secrets is the key store for bearer keys; when nil,
// Verifier.Secrets is used. BearerAllowed, when set, says whether a request
// may carry a bearer key at all (it sends the secret itself, so not over
// plain HTTP from afar); a refused one is AccessDeniedException, before
// the key is even looked up.
type OperatorAuth struct {
	Verifier      *sigv4.Verifier
	Secrets       sigv4.SecretSource
	BearerAllowed func(r *http.Request) bool
}

// CodeInsecureBearer is the error code of a bearer key refused by
// BearerAllowed.
const CodeInsecureBearer = "AccessDeniedException"

// Authenticate returns the Principal of the key that r is signed or
// authorised with. body is r's body, already read.
func (a OperatorAuth) Authenticate(r *http.Request, body []byte) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, sigv4.Algorithm+" "):
		return a.Verifier.Verify(r, body)
	case len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer "):
		if a.BearerAllowed != nil && !a.BearerAllowed(r) {
			return auth.Principal{}, &sigv4.Error{Code: CodeInsecureBearer, Message: "Bearer access keys are refused over plain HTTP from a client that is not on this machine: " +
				"the secret would cross the network in the clear. Use HTTPS, sign with SigV4, or (operators) serve behind a TLS-terminating proxy listed in --trusted-proxies."}
		}
		return a.bearer(r, strings.TrimSpace(h[len("Bearer "):]))
	}
	return auth.Principal{}, sigv4.ErrMissingToken()
}

func (a OperatorAuth) secrets() sigv4.SecretSource {
	if a.Secrets != nil {
		return a.Secrets
	}
	return a.Verifier.Secrets
}

func (a OperatorAuth) bearer(r *http.Request, token string) (auth.Principal, error) {
	id, secret, ok := strings.Cut(token, ":")
	if !ok || id == "" || secret == "" {
		return auth.Principal{}, &sigv4.Error{Code: sigv4.CodeUnrecognizedClient, Message: "Bearer credentials must have the form <AccessKeyId>:<Secret>."}
	}
	want, p, err := a.secrets().OperatorSecret(r.Context(), id)
	if fault.Is(err, fault.NotFound) {
		return auth.Principal{}, sigv4.ErrUnrecognizedClient()
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("operator auth: look up access key %s: %w", id, err)
	}
	if !hmac.Equal([]byte(secret), []byte(want)) {
		return auth.Principal{}, sigv4.ErrUnrecognizedClient()
	}
	return p, nil
}

// RequireOperator authenticates /v1/admin requests with SigV4 or a bearer
// access key and puts the operator Principal in the context. The body (at
// most MaxBody bytes, a larger one is 413) is read to hash it for SigV4 and
// restored for the handler.
func RequireOperator(a OperatorAuth, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := readBody(w, r, MaxBody)
			if err != nil {
				WriteError(w, r, log, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			p, err := a.Authenticate(r, body)
			if err != nil {
				WriteError(w, r, log, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(auth.With(r.Context(), p)))
		})
	}
}
