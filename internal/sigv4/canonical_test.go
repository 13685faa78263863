package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/sigv4/sigv4test"
)

// TestCanonicalMatchesTheSDK signs requests of many shapes with the AWS SDK
// for Go's signer and checks that the direct computation, whenever it
// takes a request, finds the SDK's signature — and the SDK-based path
// agrees — and that it takes the requests SDKs send.
func TestCanonicalMatchesTheSDK(t *testing.T) {
	const id, secret = "AKIAMUSTERTEST000001", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAx"
	at := time.Date(2026, 11, 27, 3, 30, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	values := []string{"application/cbor", "  spaced   out  value ", "attempt=1; max=3", "a,b", "", "x"}
	paths := []string{"/", "/service/GameLift/operation/StartMatchmaking", "/v1/admin/keys", "/a%20b", "/a%2Fb/c", "/x?y=1", "/a/../b"}
	took := 0
	var keys signingKeys
	for i := range 500 {
		body := bytes.Repeat([]byte{byte(i)}, rng.IntN(300))
		path := paths[rng.IntN(len(paths))]
		host := []string{"127.0.0.1:8080", "gamelift.example.com", "example.com:443"}[rng.IntN(3)]
		r := httptest.NewRequest(http.MethodPost, "http://"+host+path, bytes.NewReader(body))
		for _, h := range []string{"Content-Type", "Accept", "Smithy-Protocol", "X-Custom-Thing", "Amz-Sdk-Request"} {
			if rng.IntN(2) == 0 {
				r.Header.Set(h, values[rng.IntN(len(values))])
			}
		}
		if rng.IntN(4) == 0 {
			r.Header.Add("X-Custom-Thing", values[rng.IntN(len(values))])
		}
		if rng.IntN(2) == 0 {
			r.ContentLength = int64(len(body))
		} else {
			r.ContentLength = -1
		}
		sigv4test.Sign(t, r, body, id, secret, "eu-west-1", at)
		a, err := ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(id + "\x00" + secret))
		got, ok := canonicalSignature(r, body, a, r.Header.Get("X-Amz-Date"), keys.get(sum, secret, a))
		sdk, err := sign(context.Background(), (&Verifier{}).signerFor(sum), r, body, a, secret, at)
		if err != nil {
			t.Fatal(err)
		}
		desc := fmt.Sprintf("%s %s, signed %v", host, path, a.SignedHeaders)
		if !hmac.Equal(sdk, a.Signature) && plainPath(r.URL.Path) && r.URL.RawQuery == "" {
			t.Errorf("%s: the SDK-based check refuses the SDK's own signature", desc)
		}
		if !ok {
			continue
		}
		took++
		if !hmac.Equal(got, a.Signature) {
			t.Errorf("%s: computed %x, the SDK signed %x", desc, got, a.Signature)
		}
		// A changed body or header no longer matches.
		r.Header.Set("X-Amz-Date", at.Add(time.Second).Format(amzDateFormat))
		if again, ok := canonicalSignature(r, append(body, 1), a, at.Format(amzDateFormat), keys.get(sum, secret, a)); ok && hmac.Equal(again, a.Signature) {
			t.Errorf("%s: a changed body still matches", desc)
		}
	}
	if took < 100 {
		t.Fatalf("the direct computation took only %d of 500 requests", took)
	}
	t.Logf("the direct computation took %d of 500 requests", took)
}
