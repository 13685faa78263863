package agent_test

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent"
	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/testenv"
)

// A process that exits 0 at once (the fake clock stands still, so it ran
// no time at all) is judged by how the control plane says it ended: after
// ProcessReady and ProcessEnding, or after hosting a game session, it ended
// cleanly and is relaunched at once however short its life; otherwise it
// is a crash, and the line backs off with a log line.
func TestSupervisorJudgesAShortCleanExitByHowTheControlPlaneSaysItEnded(t *testing.T) {
	ended := func(ready bool, reason string, hosted bool) *agentwire.ProcessStatus {
		return &agentwire.ProcessStatus{Status: agentwire.StatusTerminated, WasReady: ready, EndReason: reason, HostedGameSession: hosted}
	}
	for _, tc := range []struct {
		name  string
		ended *agentwire.ProcessStatus
		crash string // the reason logged, or "" for a clean end
	}{
		{"ProcessEnding after a match", ended(true, agentwire.EndProcessEnding, true), ""},
		{"ProcessEnding without a match", ended(true, agentwire.EndProcessEnding, false), ""},
		{"hosted a match, then exited without ProcessEnding", ended(true, "EXITED", true), ""},
		{"ready, then exited without ProcessEnding", ended(true, "EXITED", false), "exit status 0 without ProcessEnding"},
		{"ProcessEnding before ProcessReady", ended(false, agentwire.EndProcessEnding, false), "exit status 0 before ProcessReady"},
		{"the control plane does not say", nil, "exit status 0 at once, never seen ready"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			control := newFakeControl(c, childProcess(t, 1, "exit 0"))
			control.ended = tc.ended
			var logs testenv.Buffer
			h := start(t, control, c, func(cfg *agent.Config) { cfg.Log = slog.New(slog.NewTextHandler(&logs, nil)) })
			for round := range 3 {
				// The slot turns over once at once; its second exit waits for
				// the control plane's word instead of spinning.
				first := h.next(agent.EventExited)
				h.next(agent.EventLaunched)
				second := h.next(agent.EventExited)
				c.Advance(time.Second) // the prompt heartbeat after an exit
				var launches int
				for e := h.next(agent.EventHeartbeat, agent.EventLaunched); e.Kind != agent.EventHeartbeat; e = h.next(agent.EventHeartbeat, agent.EventLaunched) {
					launches++
				}
				if got, want := control.lastHeartbeat().Exited, []string{first.ProcessID, second.ProcessID}; !slices.Equal(got, sorted(want)) {
					t.Fatalf("round %d: heartbeat asked about %v, want %v", round, got, sorted(want))
				}
				if tc.crash == "" {
					if launches != 1 {
						t.Fatalf("round %d: %d launches after the verdict, want 1 at once", round, launches)
					}
					continue
				}
				if launches != 0 {
					t.Fatalf("round %d: relaunched during the crash backoff", round)
				}
				out := logs.String()
				if !strings.Contains(out, "backing off relaunches") || !strings.Contains(out, tc.crash) {
					t.Fatalf("the crash and its backoff were not logged with %q:\n%s", tc.crash, out)
				}
				return
			}
			if out := logs.String(); strings.Contains(out, "backing off") || strings.Contains(out, "crash") {
				t.Fatalf("a clean end was taken for a crash:\n%s", out)
			}
		})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
