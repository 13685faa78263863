package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLIWith is runCLI with the environment vars, in ctx.
func runCLIWith(t *testing.T, ctx context.Context, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return vars[k] }, Version: "test"}
	code := Main(ctx, env, Commands(), args)
	return code, out.String(), errOut.String()
}

// Listener settings that cannot work stop `muster serve` before it
// listens, naming the flag.
func TestServeRefusesBadListenerFlags(t *testing.T) {
	table := Commands()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--trusted-proxies", "10.0.0.0/8,proxy.example"}, "--trusted-proxies"},
		{[]string{"--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", "none.pem", "--tls-key", "none.key"}, "--tls-cert/--tls-key"},
	} {
		args := append([]string{"serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0"}, tt.args...)
		code, _, errOut := runCLI(t, table, args...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %s", tt.args, code, errOut, tt.want)
		}
	}
}

// TestServeRefusesBadFlagsBeforeTouchingAnything: a value serve cannot
// use is refused when the command line is read, as `--flag: value:
// reason` (or the variable or config key that gave it), and no data
// directory is made.
func TestServeRefusesBadFlagsBeforeTouchingAnything(t *testing.T) {
	config := filepath.Join(t.TempDir(), "muster.json")
	if err := os.WriteFile(config, []byte(`{"master-key": "abc"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no dev processes", []string{"--dev", "--dev-processes", "0"}, nil, "--dev-processes: 0: must be 1 to 50"},
		{"more dev processes than a compute runs", []string{"--dev", "--dev-processes", "60"}, nil, "--dev-processes: 60: must be 1 to 50"},
		{"dev processes from the environment that are not a number", nil, map[string]string{"MUSTER_DEV_PROCESSES": "x"}, "MUSTER_DEV_PROCESSES: x: must be a whole number"},
		{"a negative connection cap", []string{"--max-connections", "-5"}, nil, "--max-connections: -5: must be 0 (no cap) or more"},
		{"a negative SDK connection cap", []string{"--sdk-max-connections-per-compute", "-1"}, nil, "--sdk-max-connections-per-compute: -1: must be 0 (no cap) or more"},
		{"a too short access token lifetime", []string{"--access-token-lifetime", "1s"}, nil, "--access-token-lifetime: 1s: must be 1m to 24h"},
		{"a refresh token lifetime shorter than the access token's", []string{"--refresh-token-lifetime", "30m"}, nil, "--refresh-token-lifetime: 30m0s: must be at least --access-token-lifetime (1h0m0s)"},
		{"an HMAC or RSA signing algorithm", []string{"--token-signing-alg", "RS256"}, nil, "--token-signing-alg: RS256: must be EdDSA or ES256"},
		{"a bad master key on the command line", []string{"--master-key", "abc"}, nil, "--master-key: "},
		{"a bad master key in the environment", nil, map[string]string{"MUSTER_MASTER_KEY": "abc"}, "MUSTER_MASTER_KEY: "},
		{"a bad master key in the config file", []string{"--config", config}, nil, config + ": master-key: "},
		{"a bad master key on the command line beats the environment", []string{"--master-key", "abc"}, map[string]string{"MUSTER_MASTER_KEY": "def"}, "--master-key: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0"}, tt.args...)
			// Stopped before it starts: a value let through makes serve
			// return at once, not run until the test times out.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			code, _, errOut := runCLIWith(t, ctx, tt.env, args...)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d naming %q", code, errOut, ExitUsage, tt.want)
			}
			if strings.Contains(tt.name, "master key") && (strings.Contains(errOut, "abc") || strings.Contains(errOut, "def")) {
				t.Fatalf("the refused master key was echoed: %q", errOut)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Fatal("a refused start created the data directory")
			}
		})
	}
}

// TestServeHelpSaysWhatTheFlagsTake: placeholders name what a flag takes.
func TestServeHelpSaysWhatTheFlagsTake(t *testing.T) {
	_, out, _ := runCLI(t, Commands(), "serve", "-h")
	for _, want := range []string{"-shed-write-delay duration", "-dev-processes int", "1 to 50"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve -h lacks %q", want)
		}
	}
}

func TestVersionHelpIsHelp(t *testing.T) {
	code, out, _ := runCLI(t, Commands(), "version", "-h")
	if code != 0 || !strings.Contains(out, "Usage: muster version") {
		t.Fatalf("version -h exited %d: %q", code, out)
	}
	if code, out, _ := runCLI(t, Commands(), "version"); code != 0 || out != "muster test\n" {
		t.Fatalf("version exited %d: %q", code, out)
	}
	if code, _, errOut := runCLI(t, Commands(), "version", "extra"); code != ExitUsage || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Fatalf("version extra exited %d: %q", code, errOut)
	}
}
