// Package fault owns the error vocabulary shared by Muster's services and
// adapters.
//
// Services return *fault.Error (or wrap one with %w) to say what kind of
// failure happened; each adapter maps the Kind to its protocol in one table:
// the GameLift control API to an exception `__type`, the player API to an
// HTTP status and an RFC 9457 problem document. Business rules never
// choose wire codes themselves.
//
// Services name bad fields once, as domain paths (see FieldError); each
// adapter renders them in its own convention with Render: GameLiftName on
// the control API, JSONPath on the player API, or a route's own Names where
// the service's request is not the body the caller sent.
package fault
