// Package httpx owns what every Muster HTTP interface shares: operator
// authentication, request ids, per-route metrics, access logs, and for the
// REST APIs under /v1 the one way to read a request body and to answer an
// error.
//
// Every /v1 body goes through Body.Decode (or DecodeJSON, its default
// form): at most the route's limit (413 beyond it), JSON only (415
// otherwise), and decoded strictly by Decode, which refuses unknown
// members, duplicate keys and wrong types naming the JSON path ($.a.b[2]).
// WriteError answers every failure as an RFC 9457 problem document, with
// the fields of a *fault.Error rendered as the player API names them
// (fault.JSONPath).
package httpx
