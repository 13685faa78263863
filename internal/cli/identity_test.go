package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/playerdata"
	"github.com/musterhq/muster/internal/service"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := Main(context.Background(), env, Commands(), args)
	return code, out.String(), errb.String()
}

func TestKeysRotateSigning(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run(t, "keys", "rotate-signing", "--data-dir", dir, "--token-signing-alg", "ES256")
	if code != 0 || !strings.Contains(out, "new signing key") {
		t.Fatalf("code %d: %s %s", code, out, stderr)
	}
	if code, _, _ = run(t, "keys", "rotate-signing", "--data-dir", dir); code != 0 {
		t.Fatal("second rotation failed")
	}
	db, box, err := openDataDir(context.Background(), commonFlags{dataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := (&identity.SigningKeys{Store: db, Box: box}).List(context.Background())
	if err != nil || len(keys) != 2 || keys[0].Alg != "ES256" || keys[0].RetiredAt.IsZero() || !keys[1].RetiredAt.IsZero() {
		t.Fatalf("%+v, %v", keys, err)
	}
	if code, _, _ := run(t, "keys", "rotate-signing", "--data-dir", dir, "--token-signing-alg", "HS256"); code != ExitUsage {
		t.Fatalf("an HMAC algorithm: code %d", code)
	}
}

func TestPlayersImport(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "players.jsonl")
	os.WriteFile(file, []byte(strings.Join([]string{
		`{"identityId":"0192f0aa-0000-7000-8000-000000000001","attributes":{"skill":{"N":1200}},"data":{"name":"a"}}`,
		``,
		`{"developerUserId":"legacy-user-7","attributes":{"rank":{"S":"gold"},"modes":{"SL":["ranked"]}},"ttlSeconds":3600}`,
		`{"identityId":"x","developerUserId":"y"}`,
		`{"identityId":"p3","attributes":{"skill":{"N":1,"S":"two"}}}`,
		`{"identityId":"p4","atributes":{}}`,
		`not json`,
	}, "\n")), 0o600)

	code, out, stderr := run(t, "players", "import", "--dry-run", "--data-dir", dir, file)
	if code != 1 || !strings.Contains(out, "checked 2 records; 4 lines refused") {
		t.Fatalf("dry run: code %d: %s", code, out)
	}
	for _, want := range []string{"line 4: give exactly one", "line 5: ", "$.attributes.skill", "line 6: ", "$.atributes", "line 7: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, stderr)
		}
	}
	code, out, _ = run(t, "players", "import", "--data-dir", dir, file)
	if code != 1 || !strings.Contains(out, "imported 2 records") {
		t.Fatalf("import: code %d: %s", code, out)
	}
	db, box, err := openDataDir(context.Background(), commonFlags{dataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	players, _ := playerdata.New(playerdata.Config{Base: service.Base{Store: db}})
	rec, err := players.Get(context.Background(), "0192f0aa-0000-7000-8000-000000000001")
	if err != nil || *rec.Attributes["skill"].N != 1200 || string(rec.Data["name"]) != `"a"` {
		t.Fatalf("%+v, %v", rec, err)
	}
	ids, err := identity.Open(context.Background(), identity.Config{Base: service.Base{Store: db}, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := ids.DeveloperIdentities(context.Background(), []string{"legacy-user-7"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err = players.Get(context.Background(), dev["legacy-user-7"])
	if err != nil || *rec.Attributes["rank"].S != "gold" || rec.ExpiresAt.IsZero() {
		t.Fatalf("the developer user's record: %+v, %v", rec, err)
	}
	// The imported player signs in as the studio's user and finds its record.
	tok, err := ids.Developer(context.Background(), "legacy-user-7")
	if err != nil || tok.IdentityID != dev["legacy-user-7"] || tok.Created {
		t.Fatalf("%+v, %v", tok, err)
	}
	b, _ := json.Marshal(rec.Attributes)
	if !strings.Contains(string(b), `"SL":["ranked"]`) {
		t.Fatalf("attributes %s", b)
	}
}
