package controlapi

import (
	"errors"
	"net/http"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/sigv4"
	"github.com/musterhq/muster/internal/store"
)

// Wire error types the adapter itself produces.
const (
	codeInternal           = "InternalServiceException"
	codeInvalidRequest     = "InvalidRequestException"
	codeUnknownOperation   = "UnknownOperationException"
	codeMethodNotAllowed   = "MethodNotAllowedException"
	codeUnsupportedMedia   = "UnsupportedMediaTypeException"
	codeRequestTooLarge    = "RequestEntityTooLargeException"
	codeSerialization      = "SerializationException"
	codeThrottling         = "ThrottlingException"
	internalErrorMessage   = "internal error"
	successCode            = "OK" // the code label of successful requests
	unknownOperationMetric = "unknown"
)

// kindCodes is the one table from service fault kinds to GameLift exception
// types. Every client fault is HTTP 400; Internal is 500.
var kindCodes = [...]string{
	fault.Internal:                    codeInternal,
	fault.Invalid:                     codeInvalidRequest,
	fault.NotFound:                    "NotFoundException",
	fault.Conflict:                    "ConflictException",
	fault.PreconditionFailed:          "ConflictException",
	fault.Unauthenticated:             "UnauthorizedException",
	fault.Forbidden:                   "UnauthorizedException",
	fault.LimitExceeded:               "LimitExceededException",
	fault.InvalidGameSessionStatus:    "InvalidGameSessionStatusException",
	fault.InvalidFleetStatus:          "InvalidFleetStatusException",
	fault.GameSessionFull:             "GameSessionFullException",
	fault.FleetCapacityExceeded:       "FleetCapacityExceededException",
	fault.TerminalRoutingStrategy:     "TerminalRoutingStrategyException",
	fault.IdempotentParameterMismatch: "IdempotentParameterMismatchException",
	fault.NotReady:                    "NotReadyException",
	fault.TaggingFailed:               "TaggingFailedException",
	fault.UnsupportedRegion:           "UnsupportedRegionException",
	fault.Unsupported:                 codeInvalidRequest,
}

// apiError is an error ready for the wire.
type apiError struct {
	status  int
	code    string
	message string
	// cause is set for internal errors, to be logged and never sent.
	cause error
}

// toAPIError maps err through the table: *sigv4.Error keeps its code, a
// write the store refused for want of disk (store.ErrStorageFull) or
// because the disk failed it is a 503 InternalServiceException saying so,
// new work the store sheds while its writer is behind (store.ErrOverloaded)
// a ThrottlingException, which the AWS SDKs retry with backoff, a
// body that is not well-formed (httpx.ErrNotWellFormed) is a
// SerializationException, a
// *fault.Error its kind's code and its message (which lists every bad field
// as "Member: reason", by its GameLift member name: fault.GameLiftName),
// and anything else is an internal error.
func toAPIError(err error) apiError {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return apiError{status: http.StatusBadRequest, code: se.Code, message: se.Message}
	}
	if errors.Is(err, store.ErrOverloaded) {
		return apiError{status: http.StatusBadRequest, code: codeThrottling, message: "Muster is past its capacity and takes no new tickets or sign-ins for now: nothing was written. Retry with backoff."}
	}
	if msg := storageMessage(err); msg != "" {
		return apiError{status: http.StatusServiceUnavailable, code: codeInternal, message: msg, cause: err}
	}
	var fe *fault.Error
	if errors.As(err, &fe) && errors.Is(err, httpx.ErrNotWellFormed) {
		return apiError{status: http.StatusBadRequest, code: codeSerialization, message: fe.Rendered(fault.GameLiftName).Error()}
	}
	if !errors.As(err, &fe) || fe.Kind == fault.Internal || int(fe.Kind) >= len(kindCodes) || kindCodes[fe.Kind] == "" {
		return apiError{status: http.StatusInternalServerError, code: codeInternal, message: internalErrorMessage, cause: err}
	}
	return apiError{status: http.StatusBadRequest, code: kindCodes[fe.Kind], message: fe.Rendered(fault.GameLiftName).Error()}
}

// storageMessage is what a client is told when the store could not write:
// GameLift has no exception type of its own for it, so it travels as an
// InternalServiceException (HTTP 503, which SDKs retry) whose message
// says what happened. "" for any other error.
func storageMessage(err error) string {
	switch {
	case errors.Is(err, store.ErrStorageFull):
		return "Muster's store is out of disk space: the write was not made. Writes succeed again once the data directory's disk has room."
	case errors.Is(err, store.ErrStorageFailed):
		return "Muster's store could not write to its disk: the write was not made."
	}
	return ""
}

// wireError is the error body of both protocols. The Go CBOR client fills
// typed errors from "Message" and generic ones from "message": send both.
type wireError struct {
	Type         string `json:"__type"`
	Message      string `json:"message"`
	MessageUpper string `json:"Message"`
}
