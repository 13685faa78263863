// Package sigv4 verifies AWS Signature Version 4 on incoming requests signed
// with Muster operator access keys, the way AWS front doors do for the
// GameLift API.
//
// It follows AWS's description of Signature Version 4
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html)
// and the control API's wire notes (docs/control-api.md): parse the
// Authorization header, check the credential scope and the clock skew
// against the injected clock, look up the key's secret, then recompute the
// signature with the AWS SDK's own signer on a clone of the request that
// keeps only the signed headers, and compare in constant time. Only the
// header form is supported (the SDKs never presign GameLift calls), any
// region in the scope is accepted, and temporary credentials
// (X-Amz-Security-Token) are refused because Muster issues none.
//
// Failures are *Error values whose Code is the AWS error type the control API
// puts on the wire. Neither secrets nor the Authorization header are ever
// logged or echoed in messages.
package sigv4
