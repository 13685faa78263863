package cli

import (
	"strings"
	"testing"
)

func TestBenchEngine(t *testing.T) {
	table := Commands()
	t.Run("a pass prints its time, the tickets placed and the reference", func(t *testing.T) {
		code, out, errOut := runCLI(t, table, "bench", "engine", "--workload", "5v5", "--tickets", "3000", "--seed", "2", "--heap")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"5v5, 3000 tickets, seed 2", "pass ", "tickets placed ", "sort-and-cut reference ", "spread of skill ", "live heap per ticket ", "warm-up                  1 untimed pass(es)"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("an unknown workload is refused naming the flag", func(t *testing.T) {
		code, _, errOut := runCLI(t, table, "bench", "engine", "--workload", "3v3")
		if code != ExitUsage || !strings.Contains(errOut, "--workload") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("--warmup 0 times the process's first pass and says no warm-up", func(t *testing.T) {
		code, out, errOut := runCLI(t, table, "bench", "engine", "--tickets", "200", "--warmup", "0")
		if code != 0 || strings.Contains(out, "warm-up") || !strings.Contains(out, "tickets placed ") {
			t.Fatalf("exit %d: %s\n%s", code, out, errOut)
		}
	})
	t.Run("a negative warm-up is refused naming the flag", func(t *testing.T) {
		code, _, errOut := runCLI(t, table, "bench", "engine", "--warmup", "-1")
		if code != ExitUsage || !strings.Contains(errOut, "--warmup") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("no tickets is refused naming the flag", func(t *testing.T) {
		code, _, errOut := runCLI(t, table, "bench", "engine", "--tickets", "0")
		if code != ExitUsage || !strings.Contains(errOut, "--tickets") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}
