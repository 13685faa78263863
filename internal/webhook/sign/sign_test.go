package sign_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/webhook/sign"
)

// The example of the Standard Webhooks specification and its reference
// libraries' tests.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSigner(t *testing.T) {
	at := time.Unix(specTimestamp, 0)
	t.Run("the specification's example signs to its published signature", func(t *testing.T) {
		s, err := sign.NewSigner(specSecret)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Signature(specID, at, []byte(specBody)); got != specSignature {
			t.Errorf("signature = %q, want %q", got, specSignature)
		}
	})
	t.Run("Sign sets the three headers in the specification's spelling", func(t *testing.T) {
		s, _ := sign.NewSigner(specSecret)
		h := http.Header{}
		s.Sign(h, specID, at, []byte(specBody))
		if h["webhook-id"][0] != specID || h["webhook-timestamp"][0] != "1614265330" || h["webhook-signature"][0] != specSignature {
			t.Errorf("headers = %v", h)
		}
	})
	t.Run("during a rotation every secret signs, and either verifies", func(t *testing.T) {
		fresh := sign.NewSecret()
		s, err := sign.NewSigner(fresh, specSecret)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		s.Sign(h, specID, at, []byte(specBody))
		sigs := strings.Fields(h[sign.HeaderSignature][0])
		if len(sigs) != 2 || sigs[1] != specSignature {
			t.Fatalf("signatures = %q, want two, the second the old secret's", sigs)
		}
		for _, secret := range []string{fresh, specSecret} {
			v, _ := sign.NewVerifier(secret)
			if err := v.Verify(h, []byte(specBody), at); err != nil {
				t.Errorf("verify with %s: %v", secret[:10], err)
			}
		}
	})
	t.Run("secrets are whsec_ and base64 of 32 random bytes, each different", func(t *testing.T) {
		a, b := sign.NewSecret(), sign.NewSecret()
		key, err := sign.ParseSecret(a)
		if err != nil || !strings.HasPrefix(a, "whsec_") || len(key) != 32 || a == b {
			t.Errorf("secrets %q %q: key %d bytes, err %v", a, b, len(key), err)
		}
	})
	t.Run("a secret that is not base64 or is empty is refused", func(t *testing.T) {
		for _, s := range []string{"whsec_!!!", "whsec_", ""} {
			if _, err := sign.NewSigner(s); err == nil {
				t.Errorf("NewSigner(%q) accepted", s)
			}
		}
		if _, err := sign.NewSigner(); err == nil {
			t.Error("NewSigner() without a secret accepted")
		}
	})
}

func TestVerifier(t *testing.T) {
	at := time.Unix(specTimestamp, 0)
	signed := func() http.Header {
		return http.Header{"Webhook-Id": {specID}, "Webhook-Timestamp": {"1614265330"}, "Webhook-Signature": {specSignature}}
	}
	v, err := sign.NewVerifier(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the specification's example verifies, with canonical header names too", func(t *testing.T) {
		if err := v.Verify(signed(), []byte(specBody), at.Add(time.Minute)); err != nil {
			t.Error(err)
		}
	})
	t.Run("another body, id or secret does not verify", func(t *testing.T) {
		if err := v.Verify(signed(), []byte(`{"test": 2432232315}`), at); !errors.Is(err, sign.ErrNoMatch) {
			t.Errorf("changed body: %v", err)
		}
		h := signed()
		h.Set(sign.HeaderID, "msg_other")
		if err := v.Verify(h, []byte(specBody), at); !errors.Is(err, sign.ErrNoMatch) {
			t.Errorf("changed id: %v", err)
		}
		other, _ := sign.NewVerifier(sign.NewSecret())
		if err := other.Verify(signed(), []byte(specBody), at); !errors.Is(err, sign.ErrNoMatch) {
			t.Errorf("other secret: %v", err)
		}
	})
	t.Run("a timestamp beyond the tolerance either way is refused", func(t *testing.T) {
		for _, now := range []time.Time{at.Add(6 * time.Minute), at.Add(-6 * time.Minute)} {
			if err := v.Verify(signed(), []byte(specBody), now); !errors.Is(err, sign.ErrTimestamp) {
				t.Errorf("now %v: %v", now.Sub(at), err)
			}
		}
	})
	t.Run("signatures of other versions are ignored and a later v1 one counts", func(t *testing.T) {
		h := signed()
		h.Set(sign.HeaderSignature, "v2,abc v1,bm90IGl0 "+specSignature)
		if err := v.Verify(h, []byte(specBody), at); err != nil {
			t.Error(err)
		}
		h.Set(sign.HeaderSignature, "v1a,"+strings.TrimPrefix(specSignature, "v1,"))
		if err := v.Verify(h, []byte(specBody), at); !errors.Is(err, sign.ErrNoMatch) {
			t.Errorf("only a v1a signature: %v", err)
		}
	})
	t.Run("missing headers and a malformed timestamp are refused", func(t *testing.T) {
		h := signed()
		h.Del(sign.HeaderSignature)
		if err := v.Verify(h, []byte(specBody), at); !errors.Is(err, sign.ErrMissingHeaders) {
			t.Errorf("no signature: %v", err)
		}
		h = signed()
		h.Set(sign.HeaderTimestamp, "soon")
		if err := v.Verify(h, []byte(specBody), at); err == nil {
			t.Error("timestamp soon accepted")
		}
	})
}
