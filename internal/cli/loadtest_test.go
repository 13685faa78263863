package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
)

// TestOperatorToolsRefuseEachBadFlagOnItsOwn: every problem of a command
// line is named on its own line as `--flag: value: reason`, not lumped
// with the command's other requirements.
func TestOperatorToolsRefuseEachBadFlagOnItsOwn(t *testing.T) {
	key := map[string]string{"MUSTER_ACCESS_KEY_ID": "MKIAEXAMPLE", "MUSTER_SECRET_ACCESS_KEY": "secret"}
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"control: an unknown codec", []string{"loadtest", "control", "--codec", "xml"}, key, []string{"--codec: xml: must be cbor or json"}},
		{"control: no requests in flight", []string{"loadtest", "control", "--concurrency", "0"}, key, []string{"--concurrency: 0: must be at least 1"}},
		{"control: no time", []string{"loadtest", "control", "--duration", "0s"}, key, []string{"--duration: 0s: must be above 0"}},
		{"control: an unknown operation", []string{"loadtest", "control", "--op", "DeleteFleet"}, key, []string{"--op: DeleteFleet: must be ListLocations or CreateLocation"}},
		{"control: no key, and a bad codec", []string{"loadtest", "control", "--codec", "xml"}, nil,
			[]string{"--access-key-id: required (or MUSTER_ACCESS_KEY_ID)", "--secret-access-key: required (or MUSTER_SECRET_ACCESS_KEY)", "--codec: xml: must be cbor or json"}},
		{"matchmaking: a negative rate", []string{"loadtest", "matchmaking", "--rate", "-1"}, key, []string{"--rate: -1: must be 0 (as fast as possible) or more"}},
		{"matchmaking: a negative preload", []string{"loadtest", "matchmaking", "--preload", "-1"}, key, []string{"--preload: -1: must not be negative"}},
		{"matchmaking: no requests in flight, no time", []string{"loadtest", "matchmaking", "--concurrency", "0", "--duration", "-1s"}, key,
			[]string{"--concurrency: 0: must be at least 1", "--duration: -1s: must be above 0"}},
		{"matchmaking: an unknown API", []string{"loadtest", "matchmaking", "--api", "sdk"}, key, []string{"--api: sdk: must be control or player"}},
		{"matchmaking: no players per worker", []string{"loadtest", "matchmaking", "--api", "player", "--players-per-worker", "0"}, key,
			[]string{"--players-per-worker: 0: must be at least 1"}},
		{"ticket explain: no ticket", []string{"ticket", "explain"}, key, []string{"give exactly one TICKET_ID"}},
		{"ticket explain: no key", []string{"ticket", "explain", "T1"}, nil, []string{"--access-key-id: required (or MUSTER_ACCESS_KEY_ID)", "--secret-access-key: required (or MUSTER_SECRET_ACCESS_KEY)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--endpoint", "http://127.0.0.1:1")
			code, _, errOut := runCLIWith(t, context.Background(), tt.env, args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("stderr %q; want %d lines", errOut, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("line %d is %q; want it to say %q", i+1, lines[i], w)
				}
			}
		})
	}
}

// TestLoadtestMatchmakingRemovesWhatItMade: a run through either API
// forms matches without a failed request, stops the tickets it left
// waiting and deletes its configuration and rule set, unless --keep asks
// to keep them; runs do not pile up in the operator's listings.
func TestLoadtestMatchmakingRemovesWhatItMade(t *testing.T) {
	labels := map[string]string{"control": "StartMatchmaking (Go SDK, CBOR)", "player": "POST /v1/matchmaking/tickets (player API, JSON)"}
	for api, label := range labels {
		t.Run("through the "+api+" API", func(t *testing.T) {
			t.Parallel()
			r := newDevRig(t, t.TempDir())
			for _, keep := range []bool{false, true} {
				var stdout, stderr bytes.Buffer
				args := []string{"--api", api, "--duration", "300ms", "--rate", "20", "--concurrency", "2", "--preload", "3"}
				if keep {
					args = append(args, "--keep")
				}
				if code := runLoadtestMatchmaking(context.Background(), r.operatorEnv(&stdout, &stderr), args); code != 0 {
					t.Fatalf("keep %v: exit %d\nstdout:\n%s\nstderr:\n%s", keep, code, stdout.String(), stderr.String())
				}
				if !strings.Contains(stdout.String(), label+" at 20/s offered: ") {
					t.Fatalf("keep %v: stdout does not report %q\n%s", keep, label, stdout.String())
				}
				configs, ruleSets := loadtestRuns(t, r)
				if want := map[bool]int{false: 0, true: 1}[keep]; len(configs) != want || len(ruleSets) != want {
					t.Fatalf("keep %v: configurations %v and rule sets %v left, want %d of each\nstdout:\n%s", keep, configs, ruleSets, want, stdout.String())
				}
			}
		})
	}
}

// loadtestRuns lists the configurations and rule sets loadtest
// matchmaking runs made (named lt-…).
func loadtestRuns(t *testing.T, r *devRig) (configs, ruleSets []string) {
	t.Helper()
	var c gamelift.DescribeMatchmakingConfigurationsOutput
	var rs gamelift.DescribeMatchmakingRuleSetsOutput
	if err := r.control.Do(context.Background(), "DescribeMatchmakingConfigurations", map[string]any{}, &c); err != nil {
		t.Fatal(err)
	}
	if err := r.control.Do(context.Background(), "DescribeMatchmakingRuleSets", map[string]any{}, &rs); err != nil {
		t.Fatal(err)
	}
	for _, x := range c.Configurations {
		if strings.HasPrefix(x.Name, "lt-") {
			configs = append(configs, x.Name)
		}
	}
	for _, x := range rs.RuleSets {
		if strings.HasPrefix(x.RuleSetName, "lt-") {
			ruleSets = append(ruleSets, x.RuleSetName)
		}
	}
	return configs, ruleSets
}

// TestLoadtestControlDeletesTheLocationsItMade: CreateLocation runs leave
// no custom-lt-* locations behind unless --keep asks for them.
func TestLoadtestControlDeletesTheLocationsItMade(t *testing.T) {
	r := newDevRig(t, t.TempDir())
	left := func() []string {
		t.Helper()
		var out gamelift.ListLocationsOutput
		if err := r.control.Do(context.Background(), "ListLocations", map[string]any{"Filters": []string{"CUSTOM"}, "Limit": 200}, &out); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range out.Locations {
			if strings.HasPrefix(l.LocationName, "custom-lt-") {
				names = append(names, l.LocationName)
			}
		}
		return names
	}
	for _, keep := range []bool{false, true} {
		var stdout, stderr bytes.Buffer
		args := []string{"--op", "CreateLocation", "--duration", "100ms", "--concurrency", "2"}
		if keep {
			args = append(args, "--keep")
		}
		if code := runLoadtestControl(context.Background(), r.operatorEnv(&stdout, &stderr), args); code != 0 {
			t.Fatalf("keep %v: exit %d\nstdout:\n%s\nstderr:\n%s", keep, code, stdout.String(), stderr.String())
		}
		if names := left(); (len(names) == 0) != !keep {
			t.Fatalf("keep %v: %d custom-lt locations left\nstdout:\n%s", keep, len(names), stdout.String())
		}
	}
}
