package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/server"
)

// TestCapacityMaxInstancesFlag: the default is fleet.DefaultMaxInstances,
// a count from 1 to 2147483647 is taken, and 0, a negative, an oversized or
// a malformed count is refused naming the flag.
func TestCapacityMaxInstancesFlag(t *testing.T) {
	parse := parseCapacityFlags
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

// TestAgentHeartbeatIntervalFlag: agents are told the interval in whole
// seconds, so an interval under a second (which they would hear as 0 and
// ignore, keeping 10 s while the control plane takes every compute for lost
// after three of its own) or with a fraction of a second is refused when
// the command line, the environment or the config file is read, naming the
// flag and why, before anything starts.
func TestAgentHeartbeatIntervalFlag(t *testing.T) {
	parse := parseCapacityFlags
	if cfg, err := parse(); err != nil || cfg.AgentHeartbeatInterval != fleet.DefaultHeartbeatInterval {
		t.Fatalf("default: %v %v", cfg.AgentHeartbeatInterval, err)
	}
	for arg, want := range map[string]time.Duration{"1s": time.Second, "2s": 2 * time.Second, "1m": time.Minute} {
		if cfg, err := parse("--agent-heartbeat-interval", arg); err != nil || cfg.AgentHeartbeatInterval != want {
			t.Fatalf("%s: %v %v", arg, cfg.AgentHeartbeatInterval, err)
		}
	}
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"under a second", []string{"--agent-heartbeat-interval", "500ms"}, nil, "must be at least 1s"},
		{"zero", []string{"--agent-heartbeat-interval", "0s"}, nil, "must be at least 1s"},
		{"a fraction of a second", []string{"--agent-heartbeat-interval", "1500ms"}, nil, "must be whole seconds"},
		{"not a duration", []string{"--agent-heartbeat-interval", "often"}, nil, "must be a duration"},
		{"under a second from the environment", nil, map[string]string{"MUSTER_AGENT_HEARTBEAT_INTERVAL": "100ms"}, "MUSTER_AGENT_HEARTBEAT_INTERVAL: 100ms: must be at least 1s"},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0"}, tt.args...)
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a value let through makes serve return at once
			code, _, errOut := runCLIWith(t, ctx, tt.env, args...)
			if code != ExitUsage || !strings.Contains(errOut, "agent-heartbeat-interval") && !strings.Contains(errOut, "AGENT_HEARTBEAT_INTERVAL") || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d naming the flag and %q", code, errOut, ExitUsage, tt.want)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Fatal("a refused start created the data directory")
			}
		})
	}
}

// parseCapacityFlags parses args with only serve's capacity flags.
func parseCapacityFlags(args ...string) (server.Config, error) {
	var cfg server.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	registerCapacityFlags(fs, &cfg)
	return cfg, fs.Parse(args)
}
