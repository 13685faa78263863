package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/loadtest"
)

func TestLoadtestFlowRefusesBadFlagsNamingThem(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "0"}, "--rate: 0: must be above 0 bots per second"},
		{[]string{"--rate", "-1"}, "--rate: -1: must be above 0 bots per second"},
		{[]string{"--duration", "-1s"}, "--duration: -1s: must be above 0"},
		{[]string{"--players", "-3"}, "--players: -3: must be 0 (rate × duration) or more"},
		{[]string{"--max-in-flight", "-3"}, "--max-in-flight: -3: must be 0 (no cap) or more"},
		{[]string{"--hold", "-1s"}, "--hold: -1s: must not be negative"},
		{[]string{"--simulate-servers", "-3"}, "--simulate-servers: -3: must be 0 (none) or more"},
		{[]string{"--access-key-id", "AKIAONLY"}, "--secret-access-key: required with --access-key-id"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		var stdout, stderr bytes.Buffer
		env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
		// A check that is missing runs a short flow against nothing.
		args := append([]string{"--endpoint", "http://127.0.0.1:1", "--duration", "100ms", "--timeout", "100ms"}, c.args...)
		if code := runLoadtestFlow(context.Background(), env, args); code != ExitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d naming %q", c.args, code, stderr.String(), ExitUsage, c.want)
		}
	}
	var stdout, stderr bytes.Buffer
	bad := []string{"--cpuprofile", filepath.Join(t.TempDir(), "missing", "cpu.pprof")}
	if code := runLoadtestFlow(context.Background(), Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}, bad); code != 1 || !strings.Contains(stderr.String(), "--cpuprofile:") {
		t.Errorf("%v: exit %d, stderr %q; want 1 naming --cpuprofile", bad, code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := runLoadtestFlow(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, []string{"-h"}); code != 0 ||
		strings.Count(stdout.String(), "Usage: muster loadtest flow") != 1 || stderr.Len() != 0 {
		t.Fatalf("-h: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "-rate number") {
		t.Errorf("-h does not show --rate taking a number:\n%s", stdout.String())
	}
}

// TestLoadtestFlowReportsWhereBotsFailed runs the flow against a dev set-up
// whose fleet has no game server: a lone bot signs in with the operator
// key from the environment, reads its record and asks for a match that
// can never be made; the JSON report counts the failure by phase and kind.
func TestLoadtestFlowReportsWhereBotsFailed(t *testing.T) {
	r := newDevRig(t, t.TempDir())
	r.start(t)
	var stdout, stderr bytes.Buffer
	env := r.operatorEnv(&stdout, &stderr)
	profile := filepath.Join(t.TempDir(), "cpu.pprof")
	code := runLoadtestFlow(context.Background(), env, []string{"--players", "1", "--rate", "10", "--duration", "1s", "--timeout", "500ms", "--json", "--cpuprofile", profile})
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	var rep loadtest.FlowReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("--json printed no single JSON object: %v\n%s", err, stdout.String())
	}
	if rep.Started != 1 || rep.Completed != 0 || rep.Failed != 1 || rep.Failures["match: timed out"] != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if st, err := os.Stat(profile); err != nil || st.Size() == 0 {
		t.Fatalf("--cpuprofile wrote no profile: %v", err)
	}
	for _, p := range rep.Phases[:3] { // sign-in, record, ticket
		if p.Count != 1 {
			t.Errorf("phase %s counted %d bots, want 1", p.Name, p.Count)
		}
	}
	if rep.Configuration != "dev-duel" || rep.Endpoint != r.url {
		t.Errorf("the report names %s on %s", rep.Configuration, rep.Endpoint)
	}
}

// TestLoadtestFlowWithSimulatedGameServers runs the whole flow against a
// dev set-up whose game servers are simulated at the protocol level: every
// bot is matched, placed on a simulated process over the SDK WebSocket,
// and validated with AcceptPlayerSession.
func TestLoadtestFlowWithSimulatedGameServers(t *testing.T) {
	r := newDevRig(t, t.TempDir())
	r.start(t)
	var stdout, stderr bytes.Buffer
	env := r.operatorEnv(&stdout, &stderr)
	code := runLoadtestFlow(context.Background(), env, []string{"--players", "6", "--rate", "20", "--duration", "1s",
		"--timeout", "30s", "--simulate-servers", "4"})
	out := stdout.String()
	if code != 0 || !strings.Contains(out, "6 completed, 0 failed") || !strings.Contains(out, "4 slots hosted 3 game sessions") ||
		!strings.Contains(out, "a slot's cycle, mean over ") || !strings.Contains(out, "; 0 sessions nobody joined held a slot") ||
		!strings.Contains(out, "busy on average: ") {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
}

// TestTheFlowReportSaysWhenTheSimulatedServersBoundTheRun: slots busy nine
// tenths of the time or more mean placements waited for a free game
// server, and the report says so, in text and in JSON.
func TestTheFlowReportSaysWhenTheSimulatedServersBoundTheRun(t *testing.T) {
	warning := "the slots were nearly always busy"
	for _, c := range []struct {
		busy float64
		warn bool
	}{{busy: 350, warn: false}, {busy: 359, warn: false}, {busy: 360, warn: true}, {busy: 400, warn: true}} {
		r := loadtest.SimReport{Slots: 400, GameSessions: 9000, Processes: 9400, BusySlots: c.busy, StartMs: 55, WaitMs: 12, ActivateMs: 40, PlayMs: 1500}
		var out bytes.Buffer
		printSimReport(&out, r)
		if got := strings.Contains(out.String(), warning); got != c.warn {
			t.Errorf("%v of 400 slots busy: warned %v, want %v:\n%s", c.busy, got, c.warn, out.String())
		}
		if !strings.Contains(out.String(), "400 slots hosted 9000 game sessions") || !strings.Contains(out.String(), "start 55ms, wait for a game session 12ms, activate 40ms, play 1.5s") {
			t.Errorf("report:\n%s", out.String())
		}
	}
	b, err := json.Marshal(loadtest.FlowReport{SimulatedServers: &loadtest.SimReport{Slots: 4, BusySlots: 3.5}})
	if err != nil || !strings.Contains(string(b), `"simulatedServers":{"slots":4,`) || !strings.Contains(string(b), `"busySlots":3.5`) {
		t.Fatalf("JSON report %s, %v", b, err)
	}
}
