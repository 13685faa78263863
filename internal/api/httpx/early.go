package httpx

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/sigv4"
)

// Precheck says, from the headers alone, whether r's operator credential
// can still be good: a request with none, with a bearer key refused or
// wrong, or signed with an unknown access key fails before its body is
// read. A nil answer is no authentication: a signed request's signature
// covers its body and is checked by Authenticate.
func (a OperatorAuth) Precheck(r *http.Request) error {
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, sigv4.Algorithm+" "):
		parsed, err := sigv4.ParseAuthorization(h)
		if err != nil {
			return err
		}
		_, _, err = a.secrets().OperatorSecret(r.Context(), parsed.AccessKeyID)
		if fault.Is(err, fault.NotFound) {
			return sigv4.ErrUnrecognizedClient()
		}
		return nil // a failing key store is Authenticate's to report
	case len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer "):
		_, err := a.Authenticate(r, nil)
		var se *sigv4.Error
		if errors.As(err, &se) {
			return err
		}
		return nil
	}
	return sigv4.ErrMissingToken()
}

// RefuseEarly refuses operator requests whose credential fails Precheck
// before their body is read, so a client without a key cannot hold a
// connection by trickling a body. next still answers the refusal, in its
// own protocol, from the headers and an empty body (its authentication
// fails the same way without it); the connection is closed after the
// answer, since the unread body would otherwise have to be read first.
// refused, when set, is called for each refusal.
func (a OperatorAuth) RefuseEarly(next http.Handler, refused func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if err := a.Precheck(r); err == nil {
			next.ServeHTTP(w, r)
			return
		}
		if refused != nil {
			refused()
		}
		w.Header().Set("Connection", "close")
		// The server would read what is left of the body before closing:
		// a read deadline in the past ends that at once.
		_ = http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0))
		r2 := r.Clone(r.Context())
		r2.Body, r2.ContentLength = http.NoBody, 0
		next.ServeHTTP(w, r2)
	})
}
