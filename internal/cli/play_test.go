package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

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

// TestPlayWaitsForTheServerToBeReady: play typed before the server is up
// says what it waits for, once, and starts its bots when /readyz answers.
func TestPlayWaitsForTheServerToBeReady(t *testing.T) {
	var probes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if probes.Add(1) < 3 {
			http.Error(w, "dev fleet: no ready process yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := runPlay(context.Background(), env, []string{"--endpoint", srv.URL, "--players", "1", "--wait", "1m"})
	out := stdout.String()
	if probes.Load() != 3 || strings.Count(out, "waiting up to 1m0s for Muster at "+srv.URL) != 1 || !strings.Contains(out, "no ready process yet") {
		t.Fatalf("%d probes; stdout:\n%s", probes.Load(), out)
	}
	// This server only answers /readyz: the bot starts, and fails to sign in.
	if code != 1 || !strings.Contains(out, "bot 1 failed at sign-in") {
		t.Fatalf("exit %d; stdout:\n%s", code, out)
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
