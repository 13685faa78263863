package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// FuzzParseJWKS: whatever a provider answers, parseJWKS never panics and
// keeps only valid public keys.
func FuzzParseJWKS(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	private, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k2", Algorithm: "ES256"}}})
	for _, s := range []string{string(good), string(private), `{"keys":[]}`, `{"keys":[{"kty":"oct","k":"AAAA"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed448","x":"AAAA"}]}`, `{"keys":{}}`, `[]`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		keys, err := parseJWKS([]byte(body))
		if err != nil {
			return
		}
		for _, k := range keys {
			if !k.Valid() || !k.IsPublic() {
				t.Fatalf("%q gave the key %+v", body, k)
			}
		}
	})
}

func TestAProvidersAnswerIsReadUpToItsCap(t *testing.T) {
	read := func(n int) error {
		b := &cappedBody{ReadCloser: io.NopCloser(strings.NewReader(strings.Repeat("x", n))), left: maxOIDCResponse}
		got, err := io.ReadAll(b)
		if err == nil && len(got) != n {
			t.Fatalf("read %d bytes of %d", len(got), n)
		}
		return err
	}
	if err := read(maxOIDCResponse); err != nil {
		t.Fatalf("an answer of exactly the cap: %v", err)
	}
	if err := read(maxOIDCResponse + 1); err == nil {
		t.Fatal("an answer one byte over the cap was read whole")
	}
}
