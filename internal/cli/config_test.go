package cli

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/flagorder"
)

func newFlags() (*flag.FlagSet, *string, *string, *int) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "")
	dataDir := fs.String("data-dir", "./muster-data", "")
	n := fs.Int("n", 1, "")
	fs.String("config", "", "")
	return fs, listen, dataDir, n
}

func TestLayeringGivesFlagsPrecedenceOverEnvOverFile(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "muster.json")
	os.WriteFile(cfg, []byte(`{"listen":"file:1","data-dir":"/from/file","n":7}`), 0o600)
	fs, listen, dataDir, n := newFlags()
	if err := fs.Parse([]string{"--listen", "flag:1", "--config", cfg}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MUSTER_LISTEN": "env:1", "MUSTER_DATA_DIR": "/from/env"}
	if err := Layer(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if *listen != "flag:1" || *dataDir != "/from/env" || *n != 7 {
		t.Fatalf("listen=%s data-dir=%s n=%d", *listen, *dataDir, *n)
	}
}

func TestUnknownConfigKeyIsNamed(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "muster.json")
	os.WriteFile(cfg, []byte(`{"lisen":"x"}`), 0o600)
	fs, _, _, _ := newFlags()
	fs.Parse([]string{"--config", cfg})
	err := Layer(fs, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), `"lisen"`) {
		t.Fatalf("err = %v, want it to name the unknown key", err)
	}
}

func TestBadEnvValueIsNamed(t *testing.T) {
	fs, _, _, _ := newFlags()
	fs.Parse(nil)
	err := Layer(fs, func(k string) string {
		if k == "MUSTER_N" {
			return "many"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "MUSTER_N: many: must be a whole number") {
		t.Fatalf("err = %v, want it to name MUSTER_N, its value and what it takes", err)
	}
}

// TestBadValuesSayWhatTheFlagTakes: a value the flag package cannot parse
// is refused with what the flag takes, not its bare "parse error", from
// the environment and from the config file alike.
func TestBadValuesSayWhatTheFlagTakes(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Int("n", 1, "")
	fs.Float64("rate", 1, "")
	fs.Duration("wait", 0, "")
	fs.Bool("dev", false, "")
	fs.Uint64("seed", 1, "")
	cfg := filepath.Join(t.TempDir(), "muster.json")
	os.WriteFile(cfg, []byte(`{"wait": "soon", "dev": "yes"}`), 0o600)
	fs.String("config", cfg, "")
	env := map[string]string{"MUSTER_N": "99999999999999999999", "MUSTER_RATE": "fast", "MUSTER_SEED": "-1"}
	err := Layer(fs, func(k string) string { return env[k] })
	for _, want := range []string{
		"MUSTER_N: 99999999999999999999: out of range",
		"MUSTER_RATE: fast: must be a number",
		"MUSTER_SEED: -1: must be a whole number ≥ 0",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v; want it to say %q", err, want)
		}
	}
	err = Layer(fs, func(string) string { return "" })
	for _, want := range []string{
		cfg + ": dev: yes: must be true or false",
		cfg + ": wait: soon: must be a duration such as 30s or 5m",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v; want it to say %q", err, want)
		}
	}
}

func TestFlagsMayFollowPositionalArguments(t *testing.T) {
	fs, listen, _, _ := newFlags()
	if err := fs.Parse(flagorder.Reorder(fs, []string{"file.json", "--listen", "x:1", "other.json"})); err != nil {
		t.Fatal(err)
	}
	if *listen != "x:1" || strings.Join(fs.Args(), ",") != "file.json,other.json" {
		t.Fatalf("listen=%s args=%v", *listen, fs.Args())
	}
}

func TestHelpIsPrintedOnceToStdoutAndAnErrorsUsageToStderr(t *testing.T) {
	t.Run("-h", func(t *testing.T) {
		var stdout, stderr strings.Builder
		fs, _, _, _ := newFlags()
		ok, code := Parse(fs, Env{Stdout: &stdout, Stderr: &stderr}, "muster t [flags]", []string{"-h"})
		if ok || code != 0 {
			t.Fatalf("Parse(-h) = %v, %d; want false, 0", ok, code)
		}
		if n := strings.Count(stdout.String()+stderr.String(), "Usage: muster t"); n != 1 || !strings.Contains(stdout.String(), "-listen") {
			t.Fatalf("help printed %d times; stdout:\n%s\nstderr:\n%s", n, stdout.String(), stderr.String())
		}
	})
	t.Run("an unknown flag", func(t *testing.T) {
		var stdout, stderr strings.Builder
		fs, _, _, _ := newFlags()
		ok, code := Parse(fs, Env{Stdout: &stdout, Stderr: &stderr}, "muster t [flags]", []string{"--nope"})
		if ok || code != ExitUsage || stdout.Len() != 0 {
			t.Fatalf("Parse(--nope) = %v, %d, stdout %q", ok, code, stdout.String())
		}
		if e := stderr.String(); strings.Count(e, "Usage: muster t") != 1 || !strings.Contains(e, "nope") {
			t.Fatalf("stderr:\n%s", e)
		}
	})
}

// TestHelpSaysWhereElseFlagsComeFrom: a command's help says that its flags
// may come from the environment, and from a file only when it has --config;
// the ruleset tools, which read neither, say neither.
func TestHelpSaysWhereElseFlagsComeFrom(t *testing.T) {
	for _, c := range []struct {
		args      []string
		env, file bool
	}{
		{[]string{"keys", "list", "-h"}, true, true},
		{[]string{"store", "copy", "-h"}, true, false},
		{[]string{"ruleset", "validate", "-h"}, false, false},
	} {
		var out strings.Builder
		Main(t.Context(), Env{Stdout: &out, Stderr: &out}, Commands(), c.args)
		help := out.String()
		if got := strings.Contains(help, "MUSTER_* environment variable"); got != c.env {
			t.Errorf("%v: mentions the environment: %v, want %v\n%s", c.args, got, c.env, help)
		}
		if got := strings.Contains(help, "JSON file given by --config"); got != c.file {
			t.Errorf("%v: mentions a config file: %v, want %v\n%s", c.args, got, c.file, help)
		}
	}
}
