// Package secret owns encryption at rest of the secrets Muster must keep in
// the clear to use (SigV4 is an HMAC, so the server needs each access key's
// secret itself). Secrets are sealed with AES-256-GCM under a master key that
// lives outside the database — MUSTER_MASTER_KEY or a 0600 key file in the
// data directory — so a stolen database file alone reveals nothing.
package secret
