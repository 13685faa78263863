// Package controlapi is the transport adapter of Muster's GameLift-compatible
// control API: one operation table served in both wire protocols that
// GameLift clients speak, on one handler.
//
//   - Smithy RPC v2 CBOR: POST /service/GameLift/operation/{Op}, what the
//     current AWS SDK for Go v2 sends. Every response, errors included,
//     carries smithy-protocol: rpc-v2-cbor.
//   - AWS JSON 1.1: POST / with X-Amz-Target: GameLift.{Op}, what the AWS SDK
//     for JavaScript v3, the CLI and older SDKs send.
//
// The adapter reads the body (bounded), authenticates the caller (SigV4 or a
// bearer key, see httpx.OperatorAuth) and puts the Principal in the context,
// decodes the input into the operation's Go struct (the shapes of package
// gamelift, whose json tags both codecs read), calls the service, and encodes
// the output. It holds no business rules: validation and authorisation belong
// to the services, which return *fault.Error; this package maps fault kinds
// to GameLift exception types in one table (errors.go).
//
// Decisions where GameLift's own behaviour is not documented (the wire
// notes are in docs/control-api.md):
//   - client faults are HTTP 400, InternalServiceException 500 with the
//     message "internal error" (the cause is logged, never sent);
//   - an unknown operation is UnknownOperationException, 400 in JSON 1.1 and
//     404 in CBOR; a method other than POST is 405 and an unsupported
//     Content-Type 415, both with an error body in the route's protocol;
//   - authentication failures use the AWS front-door codes of package sigv4;
//     a read-only key attempting a change gets GameLift's own typed
//     UnauthorizedException;
//   - a body that is not well-formed — invalid UTF-8, or a key repeated in
//     one object or map — is a SerializationException in both protocols;
//     JSON 1.1 is read by the player API's strict decoder
//     (httpx.DecodeAWSJSON), which also refuses wrong types naming the
//     member (InvalidRequestException);
//   - member names are matched exactly in both protocols: a member in
//     another letter case is an unknown member, ignored like every unknown
//     member, so a required member it was meant to be is reported missing;
//   - a panicking service becomes an InternalServiceException, logged with
//     its stack;
//   - every response carries x-amzn-RequestId (a UUID) and a Date header from
//     the injected clock, which the AWS SDKs use to correct clock skew.
package controlapi
