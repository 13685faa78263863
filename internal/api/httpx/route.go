package httpx

import (
	"log/slog"
	"net/http"
)

// WithBody is a route that reads a body of type In with body's rules, calls
// the service and answers status with what the call returns (see Answer).
func WithBody[In any](body Body, log *slog.Logger, status int, call func(*http.Request, In) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		if !body.Read(w, r, log, &in) {
			return
		}
		v, err := call(r, in)
		Answer(w, r, log, status, v, err)
	}
}

// Without is a route without a body.
func Without(log *slog.Logger, status int, call func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := call(r)
		Answer(w, r, log, status, v, err)
	}
}

// Answer writes v as JSON with status (only the status when v is nil), or
// err as a problem document.
func Answer(w http.ResponseWriter, r *http.Request, log *slog.Logger, status int, v any, err error) {
	if err != nil {
		WriteError(w, r, log, err)
		return
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	WriteJSON(w, status, v)
}
