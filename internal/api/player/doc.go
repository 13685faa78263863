// Package player owns the player-facing REST API under /v1 that game
// clients call, and the operator routes over player records: identities
// and tokens (/v1/identity/*), the caller's own record (/v1/players/me),
// operator access to any record (/v1/admin/players/{identityId}), the
// signing keys' JWKS (/.well-known/jwks.json) and the OpenAPI document of
// it all (/v1/openapi.json, from openapi.yaml).
//
// Its hygiene is shared with the other packages' routes in the same
// document (internal/api/playermm: matchmaking and parties): Protect wraps
// a handler in CORS, a per-IP rate limit, bearer JWT authentication
// (Authenticate) and a per-identity rate limit, and Preflight answers the
// browsers' CORS preflights to those routes; httpx.Body reads JSON
// bodies strictly, naming the JSON path of every refusal, and refuses a
// body over the route's limit with 413; errors are RFC 9457 problem
// documents (httpx.WriteError), with the request id.
//
// Logout revokes the session's refresh tokens at once, and its access
// tokens too: each access token names its session (sid), and a revoked
// session is kept in memory (and in the store, for other replicas and
// restarts) until its last access token has expired. Token verification
// never reads the store.
package player
