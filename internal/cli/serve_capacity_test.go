package cli

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/server"
)

// TestCapacityMaxInstancesFlag: the default is fleet.DefaultMaxInstances,
// a count from 1 to 2147483647 is taken, and 0, a negative, an oversized or
// a malformed count is refused naming the flag.
func TestCapacityMaxInstancesFlag(t *testing.T) {
	parse := func(args ...string) (server.Config, error) {
		var cfg server.Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		registerCapacityFlags(fs, &cfg)
		return cfg, fs.Parse(args)
	}
	if cfg, err := parse(); err != nil || cfg.CapacityMaxInstances != fleet.DefaultMaxInstances {
		t.Fatalf("default: %d %v", cfg.CapacityMaxInstances, err)
	}
	for arg, want := range map[string]int{"5": 5, "1": 1, "2147483647": 2147483647} {
		if cfg, err := parse("--capacity-max-instances", arg); err != nil || cfg.CapacityMaxInstances != want {
			t.Fatalf("%s: %d %v", arg, cfg.CapacityMaxInstances, err)
		}
	}
	for _, bad := range []string{"0", "-1", "2147483648", "many", "1.5"} {
		if _, err := parse("--capacity-max-instances", bad); err == nil || !strings.Contains(err.Error(), "capacity-max-instances") {
			t.Fatalf("%q: %v, want an error naming the flag", bad, err)
		}
	}
}
