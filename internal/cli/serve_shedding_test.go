package cli

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/server"
)

// TestShedWriteDelayFlag: the default is server.DefaultShedWriteDelay, 0
// turns shedding off (a negative bound in server.Config), and a negative or
// malformed value is refused naming the flag.
func TestShedWriteDelayFlag(t *testing.T) {
	parse := func(args ...string) (server.Config, error) {
		var cfg server.Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		registerSheddingFlags(fs, &cfg)
		return cfg, fs.Parse(args)
	}
	if cfg, err := parse(); err != nil || cfg.ShedWriteDelay != server.DefaultShedWriteDelay {
		t.Fatalf("default: %v %v", cfg.ShedWriteDelay, err)
	}
	if cfg, err := parse("--shed-write-delay", "2s"); err != nil || cfg.ShedWriteDelay != 2*time.Second {
		t.Fatalf("2s: %v %v", cfg.ShedWriteDelay, err)
	}
	if cfg, err := parse("--shed-write-delay", "0"); err != nil || cfg.ShedWriteDelay >= 0 {
		t.Fatalf("0 must turn shedding off: %v %v", cfg.ShedWriteDelay, err)
	}
	for _, bad := range []string{"-1s", "soon"} {
		if _, err := parse("--shed-write-delay", bad); err == nil || !strings.Contains(err.Error(), "shed-write-delay") {
			t.Fatalf("%q: %v, want an error naming the flag", bad, err)
		}
	}
}
