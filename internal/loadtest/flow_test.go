package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/client"
)

func TestFlowConfigValidateNamesEveryBadField(t *testing.T) {
	err := (&FlowConfig{Players: -1, MaxInFlight: -1, AccessKeyID: "AKIA"}).Validate()
	if err == nil {
		t.Fatal("an empty configuration was accepted")
	}
	for _, field := range []string{"endpoint", "configuration", "rate", "duration", "players", "max in flight", "operator key"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("the error does not name %s: %v", field, err)
		}
	}
	ok := FlowConfig{Endpoint: "http://x", Configuration: "c", Rate: 1, Duration: time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good configuration was refused: %v", err)
	}
	if _, err := RunFlow(context.Background(), FlowConfig{}); err == nil {
		t.Fatal("RunFlow ran with an empty configuration")
	}
}

func TestKindOfNamesFailuresForCounting(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&client.Error{Status: 429, Code: "LimitExceeded"}, "HTTP 429 LimitExceeded"},
		{fmt.Errorf("wrapped: %w", &client.Error{Status: 502}), "HTTP 502"},
		{&client.TicketError{Status: "TIMED_OUT"}, "TIMED_OUT"},
		{&client.TicketError{Status: "CANCELLED", Reason: "REJECTED"}, "CANCELLED REJECTED"},
		{&refusedError{line: "no game session is running here"}, "refused: its game session had not started"},
		{&refusedError{line: "unknown player session"}, "refused by the game server"},
		{context.DeadlineExceeded, "timed out"},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, "network"},
		{errors.New("odd"), "other"},
	} {
		if got := kindOf(c.err); got != c.want {
			t.Errorf("kindOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestFlowReportCountsPhasesAndFailures(t *testing.T) {
	start := time.Now().Add(-10 * time.Second)
	r := newRecorder(start)
	for range 3 {
		r.started()
		for i, p := range Phases {
			r.phaseDone(p, time.Duration(i+1)*time.Millisecond)
		}
		r.completed(40*time.Millisecond, 50*time.Millisecond, time.Now())
	}
	r.skipped()
	r.started()
	r.failed(PhaseMatch, "TIMED_OUT", errors.New("ticket t1 is TIMED_OUT"))
	rep := r.finish(FlowConfig{Endpoint: "http://e", Configuration: "dev-duel", Rate: 2}, 20*time.Second)
	if rep.Started != 4 || rep.Skipped != 1 || rep.Completed != 3 || rep.Failed != 1 {
		t.Fatalf("counts: started %d completed %d failed %d", rep.Started, rep.Completed, rep.Failed)
	}
	if len(rep.Phases) != len(Phases) || rep.Phases[0].Name != PhaseSignIn || rep.Phases[0].Count != 3 {
		t.Fatalf("phases: %+v", rep.Phases)
	}
	if rep.EndToEnd.Count != 3 || rep.EndToEnd.P50 != 40 || rep.Whole.P99 != 50 {
		t.Fatalf("end to end %+v, whole %+v", rep.EndToEnd, rep.Whole)
	}
	if rep.Failures["match: TIMED_OUT"] != 1 {
		t.Fatalf("failures: %v", rep.Failures)
	}
	var out bytes.Buffer
	rep.Print(&out)
	for _, want := range []string{"3 completed, 1 failed", "skipped: 1 bots", "placement", "end to end", "1  match: TIMED_OUT", "e.g. match: ticket t1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	if line := r.progress().Line(); !strings.Contains(line, "in flight 0") || !strings.Contains(line, "failed 1") {
		t.Errorf("progress line: %s", line)
	}
}

// TestArenaJoin speaks the example game server's protocol with a server
// that answers as the arena does.
func TestArenaJoin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				in := bufio.NewScanner(conn)
				if !in.Scan() {
					return
				}
				id := strings.TrimPrefix(in.Text(), "JOIN ")
				if id == "psess-good" {
					fmt.Fprintf(conn, "STATE 1 x\nWELCOME p1 20 20\n")
				} else {
					fmt.Fprintf(conn, "ERR %s\n", arenaNotStarted)
				}
				in.Scan() // QUIT or EOF
			}()
		}
	}()
	ctx := context.Background()
	for id, want := range map[string]string{"psess-good": "", "psess-early": "refused: its game session had not started"} {
		a, err := dialArena(ctx, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		err = a.join(ctx, id)
		a.quit()
		a.close()
		if got := ""; err != nil {
			got = kindOf(err)
			if got != want {
				t.Errorf("join %s: %v (%s), want %q", id, err, got, want)
			}
		} else if want != "" {
			t.Errorf("join %s succeeded, want %q", id, want)
		}
	}
	if _, err := dialArena(ctx, ""); err == nil {
		t.Error("a match without an address was dialled")
	}
}
