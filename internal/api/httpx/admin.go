package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
)

// MaxAdminBody caps request bodies on /v1/admin.
const MaxAdminBody = 1 << 20

// RequireOperator authenticates /v1/admin requests with SigV4 or a bearer
// access key and puts the operator Principal in the context. The body is
// read (to hash it for SigV4) and restored for the handler.
func RequireOperator(a OperatorAuth, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAdminBody))
			if err != nil {
				WriteError(w, r, log, fault.New(fault.Invalid, "body: larger than %d bytes or unreadable", MaxAdminBody))
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

// DecodeJSON strictly decodes a JSON request body into v: unknown fields and
// wrong types are refused with the field's path, trailing data too.
func DecodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fault.New(fault.Invalid, "Content-Type: must be application/json")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFault(err)
	}
	if dec.More() {
		return fault.New(fault.Invalid, "body: must hold exactly one JSON value")
	}
	return nil
}

func jsonFault(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return &fault.Error{Kind: fault.Invalid, Fields: []fault.FieldError{{Field: "$." + field, Reason: fmt.Sprintf("must be %s, not %s", te.Type, te.Value)}}}
	case errors.As(err, &se):
		return fault.New(fault.Invalid, "body: malformed JSON at byte %d", se.Offset)
	case errors.As(err, &mb):
		return fault.New(fault.Invalid, "body: larger than %d bytes", mb.Limit)
	case errors.Is(err, io.EOF):
		return fault.New(fault.Invalid, "body: a JSON object is required")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &fault.Error{Kind: fault.Invalid, Fields: []fault.FieldError{{Field: "$." + name, Reason: "is not a known field"}}}
	}
	return fault.New(fault.Invalid, "body: %v", err)
}
