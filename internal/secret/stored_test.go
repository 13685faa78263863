package secret_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/musterhq/muster/internal/secret"
)

func TestStoredKeepsASecretSealedOnlyUnderABox(t *testing.T) {
	box, _ := secret.NewBox(make([]byte, secret.KeySize))
	sealed := secret.Keep(box, "s3cret", "hook/1")
	if sealed.Plain != "" || sealed.Sealed == "" {
		t.Fatalf("kept under a box: %+v", sealed)
	}
	if got, err := sealed.Reveal(box, "hook/1"); err != nil || got != "s3cret" {
		t.Fatalf("reveal = %q, %v", got, err)
	}
	if _, err := sealed.Reveal(box, "hook/2"); err == nil {
		t.Fatal("revealed under another context")
	}
	if _, err := sealed.Reveal(nil, "hook/1"); !errors.Is(err, secret.ErrNoBox) {
		t.Fatalf("revealed without a box: %v", err)
	}
	plain := secret.Keep(nil, "s3cret", "hook/1")
	if got, err := plain.Reveal(box, "hook/1"); err != nil || got != "s3cret" || plain.Sealed != "" {
		t.Fatalf("kept without a box: %+v, reveal = %q, %v", plain, got, err)
	}
	// A record keeps one member: "plain" or "sealed".
	if b, _ := json.Marshal(plain); string(b) != `{"plain":"s3cret"}` {
		t.Fatalf("JSON %s", b)
	}
}
