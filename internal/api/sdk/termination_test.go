package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/agent/agentwire"
)

// TestTerminateGameSessionGivesTheGraceTheAgentReports checks, with the
// real Go server SDK, that a process whose game session is terminated
// (TRIGGER_ON_PROCESS_TERMINATE) is told the termination time its agent
// really allows — the drain grace the agent reports in its heartbeat, not
// five minutes — and that the next heartbeat answer says TERMINATING, which
// the agent stops once that grace has passed.
func TestTerminateGameSessionGivesTheGraceTheAgentReports(t *testing.T) {
	began := time.Now() // the fake clock starts at the real time and is not advanced here
	e := newEnv(t)
	g := e.startReady("")
	report := agentwire.Heartbeat{DrainGraceSeconds: 42, Processes: []agentwire.Process{{ProcessID: g.id, PID: g.cmd.Process.Pid}}}
	if code, _ := e.heartbeat(e.compute, report); code != 200 {
		t.Fatalf("heartbeat: %d", code)
	}
	id := e.activeSession(g, "ending", 2)
	if _, err := e.gl.TerminateGameSession(context.Background(), &gl.TerminateGameSessionInput{GameSessionId: aws.String(id),
		TerminationMode: types.TerminationModeTriggerOnProcessTerminate}); err != nil {
		t.Fatal(err)
	}
	ended := time.Now()
	term := g.wait("event", "terminate")
	at, _ := term["time"].(float64) // GetTerminationTime: epoch seconds
	if lo, hi := began.Add(42*time.Second).Unix()-1, ended.Add(42*time.Second).Unix(); term["err"] != "" || int64(at) < lo || int64(at) > hi {
		t.Fatalf("GetTerminationTime %v (%v), want the agent's 42 s from now: %d to %d", int64(at), term["err"], lo, hi)
	}
	_, reply := e.heartbeat(e.compute, report)
	status := "not listed"
	for _, p := range reply.Processes {
		if p.ProcessID == g.id {
			status = p.Status
		}
	}
	if status != agentwire.StatusTerminating {
		t.Fatalf("the heartbeat answer says the process is %s, want TERMINATING", status)
	}
}
