// Package auth owns who a request speaks for: the Principal that an
// authenticating adapter puts in the request context, and the roles that
// decide what it may do. Adapters authenticate; services authorise by asking
// the Principal.
package auth
