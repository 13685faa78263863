// Package identity owns who may call Muster: operator access keys (with
// roles, secrets sealed at rest, the first admin key at bootstrap), and —
// added with the player API — player identities, access and refresh tokens.
package identity
