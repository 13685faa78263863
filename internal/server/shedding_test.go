package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"

	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/store"
)

// TestNewWorkIsShedAtTheDoorWhileTheWriterIsBehind holds the real SQLite
// store's writer while a write waits a second behind it (the server's fake
// clock moves meanwhile): new sign-ins and tickets are then refused at
// once — a ThrottlingException for the AWS SDK, 503 Overloaded with
// Retry-After for a player — nothing of them is written, the write already
// queued commits, each refusal is counted in
// muster_admission_refused_total by door, and once the writer has caught
// up the same requests succeed.
func TestNewWorkIsShedAtTheDoorWhileTheWriterIsBehind(t *testing.T) {
	ctx := context.Background()
	e, gl := openMatchmakingServer(t, "shed", func(c *server.Config) { c.FakeClock = true })
	srv, hs := e.Srv, e.TS
	player := signIn(t, hs.URL)
	startTicket := func(id string) error {
		_, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{ConfigurationName: aws.String("shed"), TicketId: aws.String(id),
			Players: []types.Player{{PlayerId: aws.String(id)}}})
		return err
	}

	db := srv.Store()
	adm, ok := db.(store.Admitter)
	if !ok {
		t.Fatalf("the default store %T does not shed", db)
	}
	held, release := make(chan struct{}), make(chan struct{})
	queued, releaseQueued := make(chan struct{}), make(chan struct{})
	done := make(chan error, 2)
	go func() {
		done <- db.Update(ctx, func(store.Writer) error { close(held); <-release; return nil })
	}()
	<-held
	go func() { // admitted work, queued behind the held write
		done <- db.Update(ctx, func(w store.Writer) error {
			close(queued)
			<-releaseQueued
			_, err := w.Put(ctx, store.Record{Kind: "shedtest", ID: "admitted", Doc: []byte(`{}`)})
			return err
		})
	}()
	for i := 0; adm.Waiting() < 2; i++ {
		if i == 10000 {
			t.Fatal("the second write never queued")
		}
		time.Sleep(time.Millisecond)
	}
	srv.FakeClock().Advance(time.Second)
	close(release)
	<-queued // the writer took the write that waited a second
	// One batch that waited is a stall; the writer is behind once that
	// has lasted the bound.
	srv.FakeClock().Advance(server.DefaultShedWriteDelay)

	err := startTicket("shed-1")
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" || !strings.Contains(ae.ErrorMessage(), "nothing was written") {
		t.Fatalf("StartMatchmaking with the writer behind: %v, want a ThrottlingException saying nothing was written", err)
	}
	for _, req := range []struct{ path, authz, body string }{
		{"/v1/matchmaking/tickets", player, `{"configurationName":"shed"}`},
		{"/v1/identity/anonymous", "", ""},
	} {
		status, body, hdr := fullDo(t, hs.URL, "POST", req.path, req.authz, req.body)
		var problem struct{ Code, Detail string }
		json.Unmarshal(body, &problem)
		if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") != "1" || problem.Code != "Overloaded" {
			t.Fatalf("POST %s with the writer behind: %d %v %s, want 503 Overloaded with Retry-After: 1", req.path, status, hdr, body)
		}
	}
	_, metrics, _ := fullDo(t, hs.URL, "GET", "/metrics", adminBearer, "")
	for _, want := range []string{`muster_admission_refused_total{door="ticket"} 2`, `muster_admission_refused_total{door="sign-in"} 1`, `muster_store_write_queue_delay_seconds 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	close(releaseQueued)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("a write admitted before the writer fell behind failed: %v", err)
		}
	}
	var ticket *gamelift.DescribeMatchmakingOutput
	if ticket, err = gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"shed-1"}}); err != nil || len(ticket.TicketList) != 0 {
		t.Fatalf("the refused ticket: %v %v, want nothing written", ticket, err)
	}
	if err := startTicket("shed-1"); err != nil {
		t.Fatalf("StartMatchmaking once the writer caught up: %v", err)
	}
	if status, body, _ := fullDo(t, hs.URL, "POST", "/v1/matchmaking/tickets", player, `{"configurationName":"shed"}`); status != http.StatusCreated {
		t.Fatalf("a player's ticket once the writer caught up: %d %s", status, body)
	}
	if status, body, _ := fullDo(t, hs.URL, "POST", "/v1/identity/anonymous", "", ""); status != http.StatusCreated {
		t.Fatalf("a sign-in once the writer caught up: %d %s", status, body)
	}
}
