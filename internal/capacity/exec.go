package capacity

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Exec runs an operator's command to add or remove a host:
//
//	<command...> provision|release <location> <computeName>
//
// with MUSTER_FLEET_ID, MUSTER_LOCATION and MUSTER_COMPUTE_NAME in its
// environment; exit status 0 is success. It is configured only in the
// server's configuration, so no API key can make the control plane run a
// command. A command still running after Timeout is killed and fails.
type Exec struct {
	Command []string
	Timeout time.Duration
	// Env is the environment the command starts from.
	Env []string
}

// Provision runs the command with "provision".
func (e *Exec) Provision(ctx context.Context, h Host) error { return e.run(ctx, "provision", h) }

// Release runs the command with "release".
func (e *Exec) Release(ctx context.Context, h Host) error { return e.run(ctx, "release", h) }

func (e *Exec) run(ctx context.Context, action string, h Host) error {
	// How long a command may run is real time: it is a real program.
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	args := append(append([]string{}, e.Command[1:]...), action, h.Location, h.ComputeName)
	cmd := exec.CommandContext(ctx, e.Command[0], args...)
	cmd.Env = append(append([]string{}, e.Env...), "MUSTER_FLEET_ID="+h.FleetID, "MUSTER_LOCATION="+h.Location, "MUSTER_COMPUTE_NAME="+h.ComputeName)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%s %s: no answer within %s", e.Command[0], action, e.Timeout)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", e.Command[0], action, err, lastLine(out.String()))
	}
	return nil
}

// lastLine is the end of a command's output, for an error message.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
