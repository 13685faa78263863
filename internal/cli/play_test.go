package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
)

func TestPlayNamesTheStepThatFailed(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := runPlay(context.Background(), env, []string{"--endpoint", "http://127.0.0.1:1", "--config", "dev-5v5", "--players", "1", "--wait", "0"})
	if code != 1 || !strings.Contains(stdout.String(), "bot 1 failed at sign-in") || !strings.Contains(stdout.String(), "dev-5v5") {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

// readyAfter is a server whose /readyz answers 503 until its nth probe
// (never, for n = 0); it counts the probes.
func readyAfter(t *testing.T, n int32, probes *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if p := probes.Add(1); n == 0 || p < n {
			http.Error(w, "dev fleet: no ready process yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestPlayWaitsForTheServerToBeReady: play typed before the server is up
// says what it waits for, once, asks again every readyPollInterval, and
// goes on when /readyz answers 200.
func TestPlayWaitsForTheServerToBeReady(t *testing.T) {
	var probes atomic.Int32
	srv := readyAfter(t, 3, &probes)
	clk := clock.NewFake(time.Unix(0, 0))
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- waitReady(context.Background(), clk, srv.URL, time.Minute, &out) }()
	for range 2 {
		clk.WaitForTimers(2) // the deadline and the next poll
		clk.Advance(readyPollInterval)
	}
	if err := <-done; err != nil || probes.Load() != 3 {
		t.Fatalf("waitReady = %v after %d probes; want nil after 3", err, probes.Load())
	}
	if got := out.String(); strings.Count(got, "waiting up to 1m0s for Muster at "+srv.URL) != 1 || !strings.Contains(got, "no ready process yet") {
		t.Fatalf("said:\n%s", got)
	}
}

// TestPlayGivesUpWaitingAndSaysWhy: a server never ready ends the wait at
// --wait with why it was not ready, and play starts no bot.
func TestPlayGivesUpWaitingAndSaysWhy(t *testing.T) {
	var probes atomic.Int32
	srv := readyAfter(t, 0, &probes)
	clk := clock.NewFake(time.Unix(0, 0))
	done := make(chan error, 1)
	go func() { done <- waitReady(context.Background(), clk, srv.URL, time.Second, io.Discard) }()
	clk.WaitForTimers(2)
	clk.Advance(time.Second)
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "not ready within 1s") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("waitReady = %v; want it to give up, naming the 503", err)
	}
}

// TestPlayStoppedWhileWaitingSaysSo: Ctrl-C while waiting ends play with
// the cancellation, not a claim that the wait ran out.
func TestPlayStoppedWhileWaitingSaysSo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := runPlay(ctx, env, []string{"--endpoint", srv.URL, "--wait", "1h"})
	if code != 1 || !strings.Contains(stderr.String(), context.Canceled.Error()) || strings.Contains(stdout.String(), "bots were matched") {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

func TestPlayThatGivesUpExplainsAndCancelsItsTicket(t *testing.T) {
	r := newDevRig(t, t.TempDir())
	r.start(t)
	var stdout, stderr bytes.Buffer
	env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	// One player alone can never fill dev-duel's two teams of one.
	code := runPlay(context.Background(), env, []string{"--endpoint", r.url, "--config", "dev-duel", "--players", "1", "--timeout", "300ms"})
	out := stdout.String()
	if code != 1 || !strings.Contains(out, "bot 1 failed at match") || !strings.Contains(out, "the server explains: ticket") {
		t.Fatalf("exit %d; stdout:\n%s", code, out)
	}
	m := regexp.MustCompile(`ticket ([0-9a-f-]{36}) QUEUED`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no ticket id in:\n%s", out)
	}
	var tickets gamelift.DescribeMatchmakingOutput
	if err := r.control.Do(context.Background(), "DescribeMatchmaking", gamelift.DescribeMatchmakingInput{TicketIds: []string{m[1]}}, &tickets); err != nil {
		t.Fatal(err)
	}
	if len(tickets.TicketList) != 1 || tickets.TicketList[0].Status != "CANCELLED" {
		t.Fatalf("the abandoned ticket: %+v", tickets.TicketList)
	}
}

func TestPlayPrintsItsHelpOnce(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := Env{Stdout: &stdout, Stderr: &stderr}
	if code := runPlay(context.Background(), env, []string{"-h"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(stdout.String(), "Usage: muster play"); n != 1 || stderr.Len() != 0 {
		t.Fatalf("help printed %d times on stdout, stderr %q", n, stderr.String())
	}
	stdout.Reset()
	if code := runPlay(context.Background(), env, []string{"--players", "many"}); code != ExitUsage {
		t.Fatalf("exit %d for a bad flag", code)
	}
	if n := strings.Count(stderr.String(), "Usage: muster play"); n != 1 || !strings.Contains(stderr.String(), "-players") || stdout.Len() != 0 {
		t.Fatalf("a bad flag printed stderr %q, stdout %q", stderr.String(), stdout.String())
	}
}

// TestPlayRefusesBadFlagsNamingThem: each bad value is its own
// `--flag: value: reason`, found before play waits for any server.
func TestPlayRefusesBadFlagsNamingThem(t *testing.T) {
	const nowhere = "http://127.0.0.1:1"
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no bots", []string{"--endpoint", nowhere, "--players", "0"}, nil, "--players: 0: must be at least 1"},
		{"a negative time to play", []string{"--endpoint", nowhere, "--play-for", "-1s"}, nil, "--play-for: -1s: must not be negative"},
		{"a negative wait", []string{"--endpoint", nowhere, "--wait", "-1s"}, nil, "--wait: -1s: must not be negative"},
		{"no time at all", []string{"--endpoint", nowhere, "--timeout", "0s"}, nil, "--timeout: 0s: must be above 0"},
		{"an argument", []string{"--endpoint", nowhere, "extra"}, nil, `unexpected argument "extra"`},
		{"an endpoint without a scheme", []string{"--endpoint", "127.0.0.1:1"}, nil, "--endpoint: 127.0.0.1:1: must be an http:// or https:// URL"},
		{"an endpoint from the environment without a scheme", nil, map[string]string{"MUSTER_ENDPOINT": "localhost:1"}, "MUSTER_ENDPOINT: localhost:1: must be an http:// or https:// URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return tt.env[k] }}
			// --wait 0, given first, lets a check that is missing fail
			// at once rather than after a wait.
			code := runPlay(context.Background(), env, append([]string{"--wait", "0"}, tt.args...))
			if code != ExitUsage || !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d naming %q", code, stdout.String(), stderr.String(), ExitUsage, tt.want)
			}
		})
	}
	t.Run("every problem is reported, each on its own line", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		env := Env{Stdout: &stdout, Stderr: &stderr}
		code := runPlay(context.Background(), env, []string{"--endpoint", "http://127.0.0.1:1", "--wait", "0", "--players", "0", "--play-for", "-1s", "extra"})
		if code != ExitUsage || strings.Count(stderr.String(), "\n") != 3 {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	})
}

func TestPlayHelpNamesItsEnvironmentVariable(t *testing.T) {
	var stdout bytes.Buffer
	if code := runPlay(context.Background(), Env{Stdout: &stdout, Stderr: io.Discard}, []string{"-h"}); code != 0 || !strings.Contains(stdout.String(), "MUSTER_ENDPOINT") {
		t.Fatalf("exit %d, help:\n%s", code, stdout.String())
	}
}
