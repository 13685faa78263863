package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/server"
	"github.com/musterhq/muster/internal/server/servertest"
)

// pageCapped is the SQLite store's way to fill its database for real.
type pageCapped interface {
	PageCount(ctx context.Context) (int64, error)
	SetMaxPages(ctx context.Context, n int64) (int64, error)
	IntegrityCheck(ctx context.Context) (string, error)
}

// TestAFullDiskRefusesTicketsClearlyAndTheyResume fills the database (SQLite
// refuses to grow it past max_page_count exactly as when the disk is full)
// while tickets arrive through the control API (the Go SDK) and the player
// API: each refused write reaches its client as a 503 that says the store
// is out of disk space and nothing was written — an InternalServiceException
// for the SDK, a StorageFull problem for a player — and once there is room
// the same requests succeed and the database is intact.
func TestAFullDiskRefusesTicketsClearlyAndTheyResume(t *testing.T) {
	ctx := context.Background()
	e, gl := openMatchmakingServer(t, "full", nil)
	srv := e.Srv
	db, ok := srv.Store().(pageCapped)
	if !ok {
		t.Fatalf("the default store %T cannot cap its size", srv.Store())
	}
	players := make([]string, 60)
	for i := range players {
		players[i] = signIn(t, e.TS.URL)
	}
	start := func(i int) error {
		_, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{ConfigurationName: aws.String("full"),
			Players: []types.Player{{PlayerId: aws.String(fmt.Sprint("op-", i))}}})
		return err
	}

	pages, err := db.PageCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetMaxPages(ctx, pages); err != nil {
		t.Fatal(err)
	}
	var refused error
	sdkTickets := 0
	for ; sdkTickets < 200 && refused == nil; sdkTickets++ {
		refused = start(sdkTickets)
	}
	var ise *types.InternalServiceException
	if !errors.As(refused, &ise) || !strings.Contains(ise.ErrorMessage(), "out of disk space") || !strings.Contains(ise.ErrorMessage(), "not made") {
		t.Fatalf("StartMatchmaking on a full disk: %v, want an InternalServiceException saying the store is out of disk space", refused)
	}
	t.Logf("the Go SDK was told: %s", ise.ErrorMessage())
	var problem struct {
		Status       int
		Code, Detail string
	}
	playerTickets := 0
	for ; playerTickets < len(players); playerTickets++ {
		status, body, hdr := fullDo(t, e.TS.URL, "POST", "/v1/matchmaking/tickets", players[playerTickets], `{"configurationName":"full"}`)
		if status == http.StatusCreated {
			continue
		}
		if status != http.StatusServiceUnavailable || hdr.Get("Content-Type") != "application/problem+json" || hdr.Get("Retry-After") == "" {
			t.Fatalf("a player's ticket on a full disk: %d %v %s, want 503 with a problem document and Retry-After", status, hdr, body)
		}
		if err := json.Unmarshal(body, &problem); err != nil {
			t.Fatal(err)
		}
		break
	}
	if problem.Code != "StorageFull" || !strings.Contains(problem.Detail, "out of disk space") || !strings.Contains(problem.Detail, "nothing was written") {
		t.Fatalf("a player's ticket on a full disk: %+v, want code StorageFull saying the store is out of disk space", problem)
	}

	if _, err := db.SetMaxPages(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	if err := start(sdkTickets); err != nil {
		t.Fatalf("StartMatchmaking once there is room: %v", err)
	}
	if status, body, _ := fullDo(t, e.TS.URL, "POST", "/v1/matchmaking/tickets", players[playerTickets], `{"configurationName":"full"}`); status != http.StatusCreated {
		t.Fatalf("a player's ticket once there is room: %d %s", status, body)
	}
	if got, err := db.IntegrityCheck(ctx); err != nil || got != "ok" {
		t.Fatalf("integrity_check: %q %v", got, err)
	}
}

// fullDo sends one request to the server at base and returns the status,
// body and header of its answer.
func fullDo(t *testing.T, base, method, path, authz, body string) (int, []byte, http.Header) {
	t.Helper()
	r := servertest.Send(t, nil, base+path, method, authz, body, nil)
	return r.Status, r.Body, r.Header
}

// openMatchmakingServer serves a server in process with its background work
// and no player rate limits, and a STANDALONE configuration name whose
// tickets never match, open to players; mutate, when set, changes the
// server's configuration first.
func openMatchmakingServer(t *testing.T, name string, mutate func(*server.Config)) (*servertest.Env, *gamelift.Client) {
	t.Helper()
	e := &servertest.Env{T: t, Cfg: server.Config{DataDir: t.TempDir(), SDKListen: "127.0.0.1:0", AdminAccessKeyID: benchKeyID, AdminSecretAccessKey: benchSecret}}
	e.Cfg.Player.IPRate, e.Cfg.Player.IdentityRate = -1, -1
	if mutate != nil {
		mutate(&e.Cfg)
	}
	e.Start()
	gl := sdkClient(e.TS.URL)
	standaloneConfiguration(t, gl, name, neverMatches, 600)
	e.Do(t, "PUT", "/v1/admin/matchmaking/configurations/"+name+"/player-access", adminBearer, `{"allowed":true}`, nil).Want(http.StatusOK)
	return e, gl
}

// signIn signs a new anonymous player in at the server at base and returns
// its Authorization header.
func signIn(t *testing.T, base string) string {
	t.Helper()
	var tk struct{ AccessToken string }
	status, body, _ := fullDo(t, base, "POST", "/v1/identity/anonymous", "", "")
	if err := json.Unmarshal(body, &tk); status != http.StatusCreated || err != nil {
		t.Fatalf("sign-in: %d %s", status, body)
	}
	return "Bearer " + tk.AccessToken
}
