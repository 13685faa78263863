package capacity

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
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
// command. A command still running after Timeout is killed and fails; on
// Unix it runs in its own process group and the whole group is killed, so
// that the programs it started (terraform, a cloud CLI) do not go on
// working while Muster asks again.
type Exec struct {
	Command []string
	Timeout time.Duration
	// Env is the whole environment the command starts from, besides the
	// three variables above (Build gives it only the allowed variables of
	// the control plane's: see execEnv).
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
	ownGroup(cmd)
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

// baseEnv are the variables of the control plane's environment every exec
// command gets: what a script needs to find programs and behave as it
// would in the operator's shell. Anything else is passed only when the
// operator names it (Spec.PassEnv): the control plane's environment holds
// its secrets (the admin key, the master key, a database URL with its
// password), which a script has no business seeing.
var baseEnv = []string{"PATH", "HOME", "LANG", "TZ", "TMPDIR"}

// execEnv is the part of environ (NAME=value entries) an exec command
// gets: baseEnv and the names passed.
func execEnv(environ, pass []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if ok && (slices.Contains(baseEnv, name) || slices.Contains(pass, name)) {
			out = append(out, kv)
		}
	}
	return out
}
