package capacity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Local provisions hosts as `muster agent` processes on this machine, each
// registering its compute name in the location: what `serve --dev` and the
// end-to-end tests use. Release sends the agent SIGINT, so it drains (its
// processes get its DrainGrace) and deregisters its compute.
type Local struct {
	// Binary is the muster executable.
	Binary string
	// Endpoint is the control plane's URL, known once it listens.
	Endpoint func() string
	// Credentials returns the operator key the agents use.
	Credentials func(ctx context.Context) (id, secret string, err error)
	// Dir holds each agent's logs and working directory.
	Dir        string
	DrainGrace time.Duration
	Log        *slog.Logger

	mu     sync.Mutex
	agents map[string]*localAgent
	wg     sync.WaitGroup
}

type localAgent struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Provision starts an agent for h unless one runs.
func (l *Local) Provision(ctx context.Context, h Host) error {
	id, secret, err := l.Credentials(ctx)
	if err != nil {
		return fmt.Errorf("local provisioner: operator key: %w", err)
	}
	endpoint := l.Endpoint()
	if endpoint == "" {
		return errors.New("local provisioner: the control plane does not listen yet")
	}
	key := h.FleetID + "/" + h.ComputeName
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.agents == nil {
		l.agents = map[string]*localAgent{}
	}
	if _, running := l.agents[key]; running {
		return nil
	}
	dir := filepath.Join(l.Dir, h.ComputeName)
	grace := l.DrainGrace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	cmd := exec.Command(l.Binary, "agent", "--endpoint", endpoint, "--fleet", h.FleetID, "--location", h.Location,
		"--compute-name", h.ComputeName, "--ip-address", "127.0.0.1", "--beacon-listen", "off",
		"--log-dir", filepath.Join(dir, "logs"), "--work-dir", filepath.Join(dir, "work"), "--drain-grace", grace.String())
	cmd.Env = append(os.Environ(), "MUSTER_ACCESS_KEY_ID="+id, "MUSTER_SECRET_ACCESS_KEY="+secret)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("local provisioner: %w", err)
	}
	out, err := os.OpenFile(filepath.Join(dir, "agent.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("local provisioner: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("local provisioner: start agent: %w", err)
	}
	a := &localAgent{cmd: cmd, done: make(chan struct{})}
	l.agents[key] = a
	l.wg.Go(func() {
		err := cmd.Wait()
		out.Close()
		l.mu.Lock()
		if l.agents[key] == a {
			delete(l.agents, key)
		}
		l.mu.Unlock()
		close(a.done)
		l.log().Info("local agent exited", "compute_name", h.ComputeName, "err", err)
	})
	l.log().Info("local agent started", "compute_name", h.ComputeName, "location", h.Location, "pid", cmd.Process.Pid)
	return nil
}

// Release tells h's agent to drain and deregister.
func (l *Local) Release(ctx context.Context, h Host) error {
	l.mu.Lock()
	a := l.agents[h.FleetID+"/"+h.ComputeName]
	l.mu.Unlock()
	if a == nil {
		return nil
	}
	if err := a.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return a.cmd.Process.Kill()
	}
	return nil
}

func (l *Local) log() *slog.Logger {
	if l.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Log
}

// Run owns the agents: when ctx ends it tells every agent still running to
// drain and waits for them (killing those still running after their drain
// grace and ten seconds more: a real process's time).
func (l *Local) Run(ctx context.Context) error {
	<-ctx.Done()
	l.mu.Lock()
	agents := make([]*localAgent, 0, len(l.agents))
	for _, a := range l.agents {
		agents = append(agents, a)
		a.cmd.Process.Signal(os.Interrupt)
	}
	l.mu.Unlock()
	limit := time.NewTimer(l.DrainGrace + 10*time.Second)
	defer limit.Stop()
	for _, a := range agents {
		select {
		case <-a.done:
		case <-limit.C:
			for _, b := range agents {
				b.cmd.Process.Kill()
			}
		}
	}
	l.wg.Wait()
	return nil
}
