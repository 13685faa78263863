// Package sign signs and verifies webhook deliveries per the Standard
// Webhooks specification (https://www.standardwebhooks.com/): every
// delivery carries
//
//	webhook-id:        the message id, stable across retries
//	webhook-timestamp: the attempt's time in Unix seconds
//	webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">
//
// A secret is written whsec_<base64 of the key>. During a secret rotation a
// Signer holds several keys and the signature header lists one signature per
// key, separated by spaces, so a receiver that knows either secret accepts
// the delivery.
//
// The Verifier is written from the specification, not from a library: it
// is what Muster's tests check signatures with, and what a studio's Go
// service can use to check Muster's deliveries.
package sign
