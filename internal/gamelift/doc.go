// Package gamelift is the GameLift data model: wire shapes, enums, ID and ARN
// formats.
//
// Every GameLift-compatible operation has its input and output structures
// here, one file per capability (locations.go, tags.go, …), so the services
// that implement an operation and the control-API adapter that carries it
// share one set of types. Go field names are the Smithy member names and each
// field carries a `json:"Member,omitempty"` tag; the adapter's JSON 1.1 codec
// (encoding/json) and its RPC v2 CBOR codec (fxamacker/cbor, which reads json
// tags) both use them, so one struct serves both wire protocols.
//
// Conventions for the shapes:
//   - optional integers, floats and booleans are pointers, so "unset" and 0
//     differ; strings use omitempty (GameLift has no member whose empty
//     string is meaningful on output);
//   - int32/int64 for Smithy integer/long, float32 for float (the Go SDK
//     rejects a float64 for a float member), float64 for double;
//   - timestamps are *Timestamp, never time.Time (which would marshal as an
//     RFC 3339 string);
//   - unset members are omitted from responses, never sent as null.
//
// Muster decisions taken here (docs/control-api.md, "Identifiers and ARNs"):
//   - ARNs use GameLift's layout arn:<partition>:gamelift:<region>:<account>:<type>/<id>
//     with partition "aws" by default, so existing tools that parse GameLift
//     ARNs accept Muster's; the partition, region and account are
//     configuration (ARNBuilder).
//   - Game session ARNs carry no account, as in GameLift.
package gamelift
