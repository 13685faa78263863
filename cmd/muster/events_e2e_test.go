package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// The outbox and what reads it: webhooks, and the operators' event list
// and stream.

// receiver is a studio's webhook endpoint: it verifies each delivery's
// signature and counts deliveries per event id. While held, it keeps
// requests waiting, so a delivery is in flight when the test kills Muster.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	verifier *sign.Verifier
	got      map[string]int // event id → deliveries
	bad      []string
	held     chan struct{} // closed: answer; open: wait
	inFlight chan struct{} // a request arrived while held
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: map[string]int{}, held: make(chan struct{}), inFlight: make(chan struct{}, 100)}
	close(r.held)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		held, v := r.held, r.verifier
		r.mu.Unlock()
		select {
		case <-held:
		default:
			r.inFlight <- struct{}{}
			<-held
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := v.Verify(req.Header, body, time.Now()); err != nil {
			r.bad = append(r.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.got[req.Header.Get(sign.HeaderID)]++
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = make(chan struct{})
}

func (r *receiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.held)
}

func (r *receiver) has(ids []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if r.got[id] == 0 {
			return false
		}
	}
	return true
}

// matchmakingEventIDs lists the ids of the FlexMatch events in the outbox.
func matchmakingEventIDs(t *testing.T, s *testenv.Server) []string {
	t.Helper()
	var ids []string
	for _, e := range adminEvents(t, s, "") {
		if strings.HasPrefix(e.Type, "Matchmaking") || e.Type == "PotentialMatchCreated" {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// matchTwo starts two tickets that match each other.
func matchTwo(t *testing.T, gl *gamelift.Client, round int) {
	t.Helper()
	for i := range 2 {
		_, err := gl.StartMatchmaking(context.Background(), &gamelift.StartMatchmakingInput{ConfigurationName: aws.String("hooked"),
			TicketId: aws.String(fmt.Sprintf("hook-%d-%d", round, i)), Players: []types.Player{skillPlayer(fmt.Sprintf("p-%d-%d", round, i), 50)}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestWebhooksDeliverEveryEventAcrossAKill9 subscribes a local receiver,
// matches players, kills Muster while a delivery is in flight, and checks
// after the restart that every FlexMatch event arrived, signed, at least
// once.
func TestWebhooksDeliverEveryEventAcrossAKill9(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rcv := newReceiver(t)
	dir := t.TempDir()
	args := testenv.WithArgs("--webhook-allow-private", "--sdk-listen", "127.0.0.1:0")
	s := testenv.Start(t, testenv.WithDataDir(dir), args)

	resp, body, err := s.Bearer(ctx, "POST", "/v1/admin/subscriptions", `{"name":"studio","url":"`+rcv.URL+`/hook"}`)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create subscription: %v %d %s", err, resp.StatusCode, body)
	}
	var created struct{ Secret string }
	json.Unmarshal(body, &created)
	v, err := sign.NewVerifier(created.Secret)
	if err != nil {
		t.Fatalf("the secret shown once (%q): %v", created.Secret, err)
	}
	rcv.mu.Lock()
	rcv.verifier = v
	rcv.mu.Unlock()

	mmSetup(t, s.Admin(), "hooked", redVersusBlue(2), nil)
	matchTwo(t, s.Admin(), 1)
	testenv.Eventually(t, "the first match's events delivered", 30*time.Second, func() bool { return rcv.has(matchmakingEventIDs(t, s)) })

	rcv.hold()
	matchTwo(t, s.Admin(), 2)
	select {
	case <-rcv.inFlight:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery of the second match's events started")
	}
	s.Kill()
	rcv.release()

	s2 := testenv.Start(t, testenv.WithDataDir(dir), args)
	// The kill may come before the second match is recorded (the delivery
	// in flight can be of its tickets' first events): the restarted pool
	// makes it, so wait for both matches' events before counting.
	var want []string
	testenv.Eventually(t, "two matches' FlexMatch events (at least 8) in the outbox", 30*time.Second, func() bool {
		want = matchmakingEventIDs(t, s2)
		return len(want) >= 8
	})
	testenv.Eventually(t, "every event delivered after the restart", 30*time.Second, func() bool { return rcv.has(want) })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Fatalf("deliveries whose signature did not verify: %v", rcv.bad)
	}
}

// TestWebhookDestinationsAreChecked: loopback only with
// --webhook-allow-private; metadata and Muster's own port never.
func TestWebhookDestinationsAreChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	strict := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	open := testenv.Start(t, testenv.WithArgs("--webhook-allow-private", "--sdk-listen", "127.0.0.1:0"))
	create := func(s *testenv.Server, url string) int {
		resp, body, err := s.Bearer(ctx, "POST", "/v1/admin/subscriptions", `{"name":"probe","url":"`+url+`"}`)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusCreated { // make room for the next probe's name
			var sub struct{ ID string }
			json.Unmarshal(body, &sub)
			s.Bearer(ctx, "DELETE", "/v1/admin/subscriptions/"+sub.ID, "")
		}
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name         string
		url          string
		strict, open int
	}{
		{"loopback", "http://127.0.0.1:9/hook", http.StatusBadRequest, http.StatusCreated},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", http.StatusBadRequest, http.StatusBadRequest},
		{"the control plane itself", "", http.StatusBadRequest, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			strictURL, openURL := tc.url, tc.url
			if tc.url == "" {
				strictURL, openURL = strict.URL()+"/v1/admin/keys", open.URL()+"/v1/admin/keys"
			}
			if got := create(strict, strictURL); got != tc.strict {
				t.Errorf("without --webhook-allow-private: %d, want %d", got, tc.strict)
			}
			if got := create(open, openURL); got != tc.open {
				t.Errorf("with --webhook-allow-private: %d, want %d", got, tc.open)
			}
		})
	}
}

// muster serve prunes outbox events older than --outbox-retention in the
// background, and an operator stream resuming from before what it keeps
// is told to reset: on the fake clock, through the real binary.
func TestTheOutboxIsPrunedByAgeAndAnOldResumeIsReset(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.WithArgs("--fake-clock", "--outbox-retention", "1h"))
	ctx := context.Background()
	for _, name := range []string{"custom-old-1", "custom-old-2"} { // each leaves an OperatorAudit event
		if _, err := s.Admin().CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func() []int64 {
		var out []int64
		for _, e := range adminEvents(t, s, "") {
			out = append(out, e.Seq)
		}
		return out
	}
	old := seqs()
	if len(old) < 2 {
		t.Fatalf("events %v, want the two creations", old)
	}
	advance(t, s, 7200)
	testenv.Eventually(t, "the events older than an hour to be pruned", 20*time.Second, func() bool {
		left := seqs()
		return len(left) > 0 && left[0] > old[len(old)-1]
	})

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/v1/admin/events?after="+strconv.FormatInt(old[0], 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testenv.AdminKeyID+":"+testenv.AdminSecret)
	req.Header.Set("Accept", "text/event-stream")
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(sctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "event: ") {
			if line != "event: reset" {
				t.Fatalf("the first event of a resume from pruned events is %q, want a reset", line)
			}
			return
		}
	}
	t.Fatalf("the stream ended without an event: %v", sc.Err())
}
