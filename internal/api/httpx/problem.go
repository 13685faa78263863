package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/sigv4"
	"github.com/musterhq/muster/internal/store"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Code      string             `json:"code,omitempty"`
	RequestID string             `json:"requestId,omitempty"`
	Errors    []fault.FieldError `json:"errors,omitempty"`
}

// statusOf is the one table from fault kinds to HTTP statuses for /v1.
var statusOf = map[fault.Kind]int{
	fault.Internal:                    http.StatusInternalServerError,
	fault.Invalid:                     http.StatusBadRequest,
	fault.NotFound:                    http.StatusNotFound,
	fault.Conflict:                    http.StatusConflict,
	fault.Unauthenticated:             http.StatusUnauthorized,
	fault.Forbidden:                   http.StatusForbidden,
	fault.LimitExceeded:               http.StatusTooManyRequests,
	fault.PreconditionFailed:          http.StatusPreconditionFailed,
	fault.InvalidGameSessionStatus:    http.StatusConflict,
	fault.InvalidFleetStatus:          http.StatusConflict,
	fault.GameSessionFull:             http.StatusConflict,
	fault.FleetCapacityExceeded:       http.StatusServiceUnavailable,
	fault.TerminalRoutingStrategy:     http.StatusConflict,
	fault.IdempotentParameterMismatch: http.StatusConflict,
	fault.NotReady:                    http.StatusServiceUnavailable,
	fault.TaggingFailed:               http.StatusBadRequest,
	fault.UnsupportedRegion:           http.StatusBadRequest,
	fault.Unsupported:                 http.StatusNotImplemented,
}

// WriteError answers err as a problem document. Fields are rendered as
// the player API names them (fault.JSONPath); a route whose body is not the
// service's request renders them first with its own fault.Names
// (fault.Render). A body over its limit is 413, a body that is not JSON
// 415, a write the store refused for want of disk 503 StorageFull (a failed
// disk 503 StorageFailed), logged with its cause, new work the store
// sheds while its writer is behind 503 Overloaded with Retry-After: 1, a
// dependency not ready (fault.NotReady) 503 with Retry-After: 5. Internal
// errors are logged with their cause and shown to the client
// only as "internal error".
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := Problem{Type: "about:blank", RequestID: RequestID(r.Context())}
	var se *sigv4.Error
	var fe *fault.Error
	var tl *TooLargeError
	switch {
	case errors.As(err, &se):
		p.Status, p.Code, p.Detail = http.StatusUnauthorized, se.Code, se.Message
	case errors.As(err, &tl):
		p.Status, p.Code, p.Detail = http.StatusRequestEntityTooLarge, "TooLarge", tl.Error()
	case errors.Is(err, ErrMediaType):
		p.Status, p.Code, p.Detail = http.StatusUnsupportedMediaType, "UnsupportedMediaType", err.Error()
	case errors.Is(err, store.ErrStorageFull):
		p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, "StorageFull",
			"the server's store is out of disk space: nothing was written; try again later"
	case errors.Is(err, store.ErrStorageFailed):
		p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, "StorageFailed",
			"the server's store could not write to its disk: nothing was written; try again later"
	case errors.Is(err, store.ErrOverloaded):
		p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, "Overloaded",
			"the server is past its capacity and takes no new sign-ins or tickets for now: nothing was written; try again after Retry-After"
		w.Header().Set("Retry-After", "1")
	case errors.As(err, &fe):
		fe = fe.Rendered(fault.JSONPath)
		p.Status = statusOf[fe.Kind]
		p.Code = fe.Kind.String()
		p.Detail = fe.Message
		p.Errors = fe.Fields
	default:
		p.Status = http.StatusInternalServerError
	}
	if p.Status == 0 || p.Status == http.StatusInternalServerError {
		p.Status, p.Code, p.Detail, p.Errors = http.StatusInternalServerError, "Internal", "internal error", nil
		if ClientLeft(r, err) {
			log.Debug("request ended: the client left before the answer", "request_id", p.RequestID, "route", r.Pattern, "err", err)
		} else {
			log.Error("request failed", "request_id", p.RequestID, "route", r.Pattern, "err", err)
		}
	}
	if p.Code == fault.NotReady.String() {
		// A dependency is not ready (an identity provider's discovery, a
		// failClosed hook): nothing was written, and a retry may succeed.
		w.Header().Set("Retry-After", "5")
	}
	if p.Code == "StorageFull" || p.Code == "StorageFailed" {
		log.Error("request failed: the store could not write", "request_id", p.RequestID, "route", r.Pattern, "err", err)
		w.Header().Set("Retry-After", "5")
	}
	p.Title = http.StatusText(p.Status)
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="muster"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// WriteJSON answers v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// NotFound answers unmatched /v1 paths with a problem document instead of
// the mux's plain text: 405 with an Allow header when mux serves the path
// for other methods (this catch-all would otherwise hide them as 404), 404
// otherwise.
func NotFound(mux *http.ServeMux, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			p := Problem{Type: "about:blank", Title: http.StatusText(http.StatusMethodNotAllowed), Status: http.StatusMethodNotAllowed,
				Code: "MethodNotAllowed", Detail: fmt.Sprintf("%s is not served for %s; use %s", r.Method, r.URL.Path, strings.Join(allow, ", ")),
				RequestID: RequestID(r.Context())}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(p.Status)
			json.NewEncoder(w).Encode(p)
			return
		}
		WriteError(w, r, log, fault.New(fault.NotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
}

// allowedMethods lists the methods for which mux has a route of r's path
// other than the catch-all that called it.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != r.Pattern {
			allow = append(allow, m)
		}
	}
	return allow
}

// ClientLeft reports whether err is only the end of the request's own
// context: the client hung up or gave up before its answer. That is no
// fault of the server's, and nobody is left to be told, so adapters log
// it at Debug rather than as a failed request.
func ClientLeft(r *http.Request, err error) bool {
	return r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
