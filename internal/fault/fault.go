package fault

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a failure. The names follow GameLift's exception types so
// the control API can map them one to one.
type Kind int

const (
	// Internal is an unexpected failure; clients may retry.
	Internal Kind = iota
	// Invalid means a request member failed validation; nothing changed.
	Invalid
	// NotFound means the referenced resource does not exist.
	NotFound
	// Conflict means the request clashes with the resource's current state.
	Conflict
	// Unauthenticated means the caller could not be identified.
	Unauthenticated
	// Forbidden means the caller is known but not allowed to do this.
	Forbidden
	// LimitExceeded means a quota or rate limit would be exceeded.
	LimitExceeded
	// PreconditionFailed means an optimistic-concurrency check failed.
	PreconditionFailed
	// InvalidGameSessionStatus: the game session's status forbids the action.
	InvalidGameSessionStatus
	// InvalidFleetStatus: the fleet's status forbids the action.
	InvalidFleetStatus
	// GameSessionFull: no free player slot.
	GameSessionFull
	// FleetCapacityExceeded: no available server process.
	FleetCapacityExceeded
	// TerminalRoutingStrategy: a TERMINAL alias was used.
	TerminalRoutingStrategy
	// IdempotentParameterMismatch: an idempotency key was reused with other parameters.
	IdempotentParameterMismatch
	// NotReady: the compute or fleet is not ready yet.
	NotReady
	// TaggingFailed: a tag operation failed.
	TaggingFailed
	// UnsupportedRegion: the location is not supported here.
	UnsupportedRegion
	// Unsupported: Muster has no equivalent of the requested feature.
	Unsupported
)

var kindNames = [...]string{
	Internal:                    "Internal",
	Invalid:                     "Invalid",
	NotFound:                    "NotFound",
	Conflict:                    "Conflict",
	Unauthenticated:             "Unauthenticated",
	Forbidden:                   "Forbidden",
	LimitExceeded:               "LimitExceeded",
	PreconditionFailed:          "PreconditionFailed",
	InvalidGameSessionStatus:    "InvalidGameSessionStatus",
	InvalidFleetStatus:          "InvalidFleetStatus",
	GameSessionFull:             "GameSessionFull",
	FleetCapacityExceeded:       "FleetCapacityExceeded",
	TerminalRoutingStrategy:     "TerminalRoutingStrategy",
	IdempotentParameterMismatch: "IdempotentParameterMismatch",
	NotReady:                    "NotReady",
	TaggingFailed:               "TaggingFailed",
	UnsupportedRegion:           "UnsupportedRegion",
	Unsupported:                 "Unsupported",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// FieldError is one bad member. Field is its domain path, as the service
// names it: GameLift member names joined by dots, list items as [i] and map
// keys as further segments ("Players[0].PlayerId",
// "Players[1].LatencyInMs.custom-eu"). Each adapter renders domain paths in
// its own convention with Render (GameLiftName, JSONPath). A field the
// service names in the player API's convention ("$.latencyInMs"), or that is
// no body member at all ("If-Match", a query parameter "limit"), is not a
// domain path and keeps its name on the player API.
type FieldError struct {
	Field  string
	Reason string
}

func (f FieldError) String() string { return f.Field + ": " + f.Reason }

// Error is a classified service failure.
type Error struct {
	Kind    Kind
	Message string
	// Fields lists every invalid member when Kind is Invalid.
	Fields []FieldError
	// Err is the underlying cause, if any; it is never shown to clients.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if len(e.Fields) > 0 {
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			parts[i] = f.String()
		}
		joined := strings.Join(parts, "; ")
		if msg == "" {
			msg = joined
		} else {
			msg += ": " + joined
		}
	}
	if msg == "" {
		msg = e.Kind.String()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// BadField returns an Invalid error about one field, as a Validator with
// that one problem would.
func BadField(field, reason string, args ...any) *Error {
	var v Validator
	v.Add(field, reason, args...)
	return v.Err().(*Error)
}

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return Internal
}

// Is reports whether err carries a fault of kind k.
func Is(err error, k Kind) bool {
	var fe *Error
	return errors.As(err, &fe) && fe.Kind == k
}

// Validator collects every invalid field of a request so a caller is told
// about all of them at once.
type Validator struct {
	fields []FieldError
}

// Add records that field is invalid for reason.
func (v *Validator) Add(field, reason string, args ...any) {
	if len(args) > 0 {
		reason = fmt.Sprintf(reason, args...)
	}
	v.fields = append(v.fields, FieldError{Field: field, Reason: reason})
}

// Check records field as invalid when ok is false.
func (v *Validator) Check(ok bool, field, reason string, args ...any) {
	if !ok {
		v.Add(field, reason, args...)
	}
}

// OK reports whether no problem was recorded.
func (v *Validator) OK() bool { return len(v.fields) == 0 }

// Err returns nil when every field was valid, else an Invalid *Error listing them all.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	n := "1 validation error"
	if len(v.fields) > 1 {
		n = fmt.Sprintf("%d validation errors", len(v.fields))
	}
	return &Error{Kind: Invalid, Message: n + " detected", Fields: v.fields}
}
