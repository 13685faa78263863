package main_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/testenv"
)

// TestServeDevKilledLeavesNoGameServerBehind kills `serve --dev` with
// SIGKILL, as a crash would, and checks that its dev agents and their game
// servers die with it: in dev mode the game servers live only as long as
// the control plane.
func TestServeDevKilledLeavesNoGameServerBehind(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.WithDir(testenv.ModuleRoot()), testenv.WithArgs("--dev", "--sdk-listen", "127.0.0.1:0"))
	testenv.Eventually(t, "/readyz to answer ready", 3*time.Minute, func() bool {
		res, _, err := s.Request(context.Background(), http.MethodGet, "/readyz", "", "")
		return err == nil && res.StatusCode == http.StatusOK
	})
	agents := childrenOf(t, s.Pid())
	var games []int
	for _, a := range agents {
		games = append(games, childrenOf(t, a)...)
	}
	if len(agents) == 0 || len(games) == 0 {
		t.Fatalf("serve --dev runs agents %v with game servers %v, want some of each", agents, games)
	}
	s.Kill()
	testenv.Eventually(t, "the dev agents and game servers to be gone", 15*time.Second, func() bool {
		for _, pid := range append(agents, games...) {
			if alive(pid) {
				return false
			}
		}
		return true
	})
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // it ended meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			out = append(out, child)
		}
	}
	return out
}

// alive says whether pid is a process that has not exited (a zombie
// waiting for its new parent to reap it has exited).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}
