// Package httpx owns what every Muster HTTP interface shares: operator
// authentication, request ids, per-route metrics, access logs, body limits
// and RFC 9457 problem responses for the REST APIs under /v1.
package httpx
