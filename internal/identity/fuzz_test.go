package identity_test

import (
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
)

// FuzzVerify feeds arbitrary strings to the access-token parsing path: it
// must never panic, and never accept anything but a token this service
// signed (seeds: testdata/fuzz/FuzzVerify).
func FuzzVerify(f *testing.F) {
	e := newEnv(f, nil)
	good, err := e.svc.Anonymous(ctx, "", "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.AccessToken)
	parts := strings.Split(good.AccessToken, ".")
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := e.svc.Verify(ctx, tok)
		if err != nil {
			if !fault.Is(err, fault.Unauthenticated) {
				t.Fatalf("Verify(%q) failed with %v, not Unauthenticated", tok, err)
			}
			return
		}
		if tok != good.AccessToken || c.IdentityID != good.IdentityID {
			t.Fatalf("Verify accepted %q as %+v", tok, c)
		}
	})
}
