package secret_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/secret"
)

func TestSealOpensOnlyWithTheSameKeyAndContext(t *testing.T) {
	key, _, err := secret.LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	box, _ := secret.NewBox(key)
	sealed := box.Seal("s3cret", "AKID1")
	if strings.Contains(sealed, "s3cret") {
		t.Fatal("sealed value contains the plaintext")
	}
	if got, err := box.Open(sealed, "AKID1"); err != nil || got != "s3cret" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed, "AKID2"); err == nil {
		t.Fatal("opened under another context")
	}
	other := make([]byte, secret.KeySize)
	otherBox, _ := secret.NewBox(other)
	if _, err := otherBox.Open(sealed, "AKID1"); err == nil {
		t.Fatal("opened with another master key")
	}
}

func TestKeyFileIsCreatedOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k1, created, err := secret.LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first load: created=%v err=%v", created, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	k2, created, err := secret.LoadOrCreateKeyFile(path)
	if err != nil || created || string(k1) != string(k2) {
		t.Fatalf("second load: created=%v err=%v same=%v", created, err, string(k1) == string(k2))
	}
}

func TestParseKeyRejectsShortKeys(t *testing.T) {
	if _, err := secret.ParseKey("abcd"); err == nil {
		t.Fatal("accepted a 2-byte key")
	}
}
