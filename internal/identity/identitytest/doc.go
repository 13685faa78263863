// Package identitytest holds what tests of player identities share: an
// OpenID Connect provider over httptest (Issuer) and a JWT signer (Sign)
// for tokens signed by keys the tests choose.
package identitytest
