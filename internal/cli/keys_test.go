package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, table []*Command, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Version: "test"}, table, args)
	return code, out.String(), errOut.String()
}

func TestKeysCreateListRevokeOnADataDirectory(t *testing.T) {
	dir := t.TempDir()
	table := Commands()
	code, out, errOut := runCLI(t, table, "keys", "create", "--data-dir", dir, "--role", "read-only", "--description", "ci")
	if code != 0 {
		t.Fatalf("create exited %d: %s", code, errOut)
	}
	var id, secret string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "MUSTER_ACCESS_KEY_ID="); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "MUSTER_SECRET_ACCESS_KEY="); ok {
			secret = v
		}
	}
	if id == "" || len(secret) != 40 {
		t.Fatalf("create printed %q", out)
	}

	t.Run("the secret is sealed: the database file never holds it", func(t *testing.T) {
		for _, name := range []string{"muster.db", "muster.db-wal"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			if bytes.Contains(b, []byte(secret)) {
				t.Fatalf("%s contains the secret in the clear", name)
			}
		}
	})

	t.Run("list shows the key and its role, never the secret", func(t *testing.T) {
		code, out, errOut := runCLI(t, table, "keys", "list", "--data-dir", dir)
		if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "read-only") || !strings.Contains(out, "active") {
			t.Fatalf("list exited %d: %s %s", code, out, errOut)
		}
		if strings.Contains(out, secret) {
			t.Fatal("list printed the secret")
		}
	})

	t.Run("revoke marks it revoked", func(t *testing.T) {
		if code, _, errOut := runCLI(t, table, "keys", "revoke", "--data-dir", dir, id); code != 0 {
			t.Fatalf("revoke exited %d: %s", code, errOut)
		}
		_, out, _ := runCLI(t, table, "keys", "list", "--data-dir", dir)
		if !strings.Contains(out, "revoked") {
			t.Fatalf("list after revoke: %s", out)
		}
	})

	t.Run("a bad role is refused naming the field", func(t *testing.T) {
		code, _, errOut := runCLI(t, table, "keys", "create", "--data-dir", dir, "--role", "superuser")
		if code == 0 || !strings.Contains(errOut, "role") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("the last active admin key is not revoked, and the error names the way out", func(t *testing.T) {
		code, out, errOut := runCLI(t, table, "keys", "create", "--data-dir", dir, "--role", "admin")
		if code != 0 {
			t.Fatalf("create exited %d: %s", code, errOut)
		}
		_, admin, _ := strings.Cut(strings.Split(out, "\n")[0], "=")
		code, _, errOut = runCLI(t, table, "keys", "revoke", "--data-dir", dir, admin)
		if code == 0 || !strings.Contains(errOut, "last active admin key") || !strings.Contains(errOut, "create another admin key first") {
			t.Fatalf("revoke exited %d: %q", code, errOut)
		}
		if _, out, _ := runCLI(t, table, "keys", "list", "--data-dir", dir); !strings.Contains(out, admin) || strings.Count(out, "active") != 1 {
			t.Fatalf("list after the refused revoke: %s", out)
		}
	})

	t.Run("revoking an unknown key fails", func(t *testing.T) {
		if code, _, _ := runCLI(t, table, "keys", "revoke", "--data-dir", dir, "MKIANOSUCHKEY0000000"); code == 0 {
			t.Fatal("revoking an unknown key succeeded")
		}
	})
}

func TestHelpListsEveryCommandAndEachHasFlagsHelp(t *testing.T) {
	table := Commands()
	code, out, _ := runCLI(t, table, "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range table {
		if !strings.Contains(out, c.Name) {
			t.Errorf("help does not list %s", c.Name)
		}
	}
	if code, out, _ := runCLI(t, table, "help", "serve"); code != 0 || !strings.Contains(out, "-listen") || !strings.Contains(out, "-data-dir") {
		t.Fatalf("help serve exited %d: %s", code, out)
	}
	if code, _, errOut := runCLI(t, table, "launch"); code != ExitUsage || !strings.Contains(errOut, `unknown command "launch"`) {
		t.Fatalf("unknown command exited %d: %s", code, errOut)
	}
}

func TestServeRefusesABadRegionBeforeTouchingAnything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	code, _, errOut := runCLI(t, Commands(), "serve", "--data-dir", dir, "--region", "local", "--listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "region") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("a refused start created the data directory")
	}
}

// TestOfflineCommandsRefuseAMissingDataDirectory: the commands that work
// on a server's data directory never make a fresh one (a new database and
// master key a server does not use) for a mistyped or wrong --data-dir.
func TestOfflineCommandsRefuseAMissingDataDirectory(t *testing.T) {
	jsonl := filepath.Join(t.TempDir(), "players.jsonl")
	if err := os.WriteFile(jsonl, []byte(`{"identityId":"p1"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"keys", "list"},
		{"keys", "create"},
		{"keys", "revoke", "MKIANOSUCHKEY0000000"},
		{"keys", "rotate-signing"},
		{"players", "import", jsonl},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "typo-dir")
			code, out, errOut := runCLI(t, Commands(), append(args, "--data-dir", dir)...)
			want := "--data-dir: " + dir + ": no such directory; run muster serve first or point at its data directory"
			if code == 0 || !strings.Contains(errOut, want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want it to say %q", code, out, errOut, want)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Fatal("the command created the data directory")
			}
		})
	}
	t.Run("a directory with a master key and a store elsewhere is not needed", func(t *testing.T) {
		dir := t.TempDir()
		key := strings.Repeat("ab", 32)
		args := []string{"keys", "list", "--data-dir", filepath.Join(dir, "unused"), "--master-key", key, "--store", filepath.Join(dir, "muster.db")}
		if code, _, errOut := runCLI(t, Commands(), args...); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("a bad master key is named by where it came from, not echoed", func(t *testing.T) {
		code, _, errOut := runCLI(t, Commands(), "keys", "list", "--data-dir", t.TempDir(), "--master-key", "abc")
		if code == 0 || !strings.Contains(errOut, "--master-key: ") || strings.Contains(errOut, "abc") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
}

// TestEveryCommandAnswersHelp: -h prints the command's help and exits 0,
// for every verb.
func TestEveryCommandAnswersHelp(t *testing.T) {
	var walk func(prefix []string, table []*Command)
	walk = func(prefix []string, table []*Command) {
		for _, c := range table {
			args := append(append([]string(nil), prefix...), c.Name)
			if len(c.Sub) > 0 {
				walk(args, c.Sub)
				continue
			}
			code, out, errOut := runCLI(t, Commands(), append(args, "-h")...)
			if code != 0 || !strings.Contains(strings.ToLower(out+errOut), "usage: muster "+strings.Join(args, " ")) {
				t.Errorf("%v -h: exit %d, stdout %q", args, code, out)
			}
		}
	}
	walk(nil, Commands())
}

func TestKeysCreateMakesAnAgentKeyBoundToItsFleet(t *testing.T) {
	dir := t.TempDir()
	table := Commands()
	code, _, errOut := runCLI(t, table, "keys", "create", "--data-dir", dir, "--role", "agent")
	if code != 1 || !strings.Contains(errOut, "fleetId") || !strings.Contains(errOut, "required") {
		t.Fatalf("an agent key without --fleet: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, table, "keys", "create", "--data-dir", dir, "--role", "agent", "--fleet", "fleet-1", "--compute", "host-*")
	if code != 0 || !strings.Contains(out, "MUSTER_ACCESS_KEY_ID=") {
		t.Fatalf("create exited %d: %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, table, "keys", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "agent fleet-1/host-*") {
		t.Fatalf("list exited %d: %s %s", code, out, errOut)
	}
}
