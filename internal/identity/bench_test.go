package identity_test

import (
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/musterhq/muster/internal/identity"
)

// BenchmarkIssueAccessToken signs one access token (EdDSA by default).
func BenchmarkIssueAccessToken(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			e := newEnv(b, func(c *identity.Config) { c.SigningAlg = jose.SignatureAlgorithm(alg) })
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.svc.IssueAccessToken("0192f0aa-8c4e-7c3b-9c1d-2f3a4b5c6d7e", "0192f0aa-8c4e-7c3b-9c1d-2f3a4b5c6d7f"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyAccessToken checks one access token: "cold" runs the full
// parse and signature check every time; "cached" is a client's later
// requests with the same token (expiry, key and revocation still checked).
func BenchmarkVerifyAccessToken(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		e := newEnv(b, func(c *identity.Config) { c.SigningAlg = jose.SignatureAlgorithm(alg) })
		tok, _, err := e.svc.IssueAccessToken("0192f0aa-8c4e-7c3b-9c1d-2f3a4b5c6d7e", "0192f0aa-8c4e-7c3b-9c1d-2f3a4b5c6d7f")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/cold", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.svc.ForgetVerified()
				if _, err := e.svc.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/cached", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.svc.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
