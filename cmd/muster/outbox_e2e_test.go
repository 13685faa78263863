package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/musterhq/muster/internal/testenv"
)

// muster serve prunes outbox events older than --outbox-retention in the
// background, and an operator stream resuming from before what it keeps
// is told to reset: on the fake clock, through the real binary.
func TestTheOutboxIsPrunedByAgeAndAnOldResumeIsReset(t *testing.T) {
	s := testenv.Start(t, testenv.WithArgs("--fake-clock", "--outbox-retention", "1h"))
	ctx := context.Background()
	for _, name := range []string{"custom-old-1", "custom-old-2"} { // each leaves an OperatorAudit event
		if _, err := s.Admin().CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func() []int64 {
		_, body, err := s.Bearer(ctx, http.MethodGet, "/v1/admin/events", "")
		if err != nil {
			t.Fatal(err)
		}
		var page struct{ Events []struct{ Seq int64 } }
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		var out []int64
		for _, e := range page.Events {
			out = append(out, e.Seq)
		}
		return out
	}
	old := seqs()
	if len(old) < 2 {
		t.Fatalf("events %v, want the two creations", old)
	}
	if res, body, err := s.Bearer(ctx, http.MethodPost, "/v1/admin/clock/advance", `{"seconds":7200}`); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("advance: %v %s", err, body)
	}
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
