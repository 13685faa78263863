package sigv4

import "fmt"

// Error codes, as AWS front doors put them on the wire.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
)

// Error is an authentication failure. Code is one of the Code constants and
// Message is safe to show to the caller.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func incomplete(format string, args ...any) *Error {
	return newError(CodeIncompleteSignature, format, args...)
}

// ErrMissingToken is returned for a request without credentials; it is a
// constructor, not a shared value, so callers cannot mutate each other's
// errors.
func ErrMissingToken() *Error {
	return newError(CodeMissingAuthenticationToken, "Missing Authentication Token")
}

// ErrUnrecognizedClient is returned for an unknown access key or a wrong
// bearer secret.
func ErrUnrecognizedClient() *Error {
	return newError(CodeUnrecognizedClient, "The security token included in the request is invalid.")
}
