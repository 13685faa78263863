package push_test

import (
	"testing"
	"time"

	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/testenv"
)

// TestAPlayerOnOneReplicaHearsTheMatchAnotherReplicaMade runs two `muster
// serve` replicas on one PostgreSQL database. The configuration's pool runs
// on the replica holding its lease; a player's WebSocket is on the other,
// and receives the MatchmakingSucceeded the pool's replica committed (the
// tickets are started there too, so every write is the other replica's).
func TestAPlayerOnOneReplicaHearsTheMatchAnotherReplicaMade(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs two muster replicas")
	}
	storeURL := pgtest.NewDatabase(t)
	masterKey := "6d75737465722d7265706c696361732d746573742d6d61737465722d6b657921"
	replicas := map[string]*muster{}
	for _, id := range []string{"a", "b"} {
		s := testenv.Start(t, testenv.WithArgs("--store", storeURL, "--master-key", masterKey, "--replica-id", id, "--sdk-listen", "127.0.0.1:0",
			"--admin-access-key-id", adminID, "--admin-secret-access-key", adminSecret))
		replicas[id] = &muster{t: t, url: s.URL()}
	}
	replicas["a"].standalone1v1("duel")
	var owner string
	testenv.Eventually(t, "a replica to take the pool's lease", 30*time.Second, func() bool {
		var doc struct {
			Leases []struct{ Name, Holder string }
		}
		replicas["a"].do("GET", "/v1/admin/leases", adminID+":"+adminSecret, "", &doc)
		for _, l := range doc.Leases {
			if l.Name == matchmaking.LeaseName("duel") {
				owner = l.Holder
			}
		}
		return owner != ""
	})
	other := map[string]string{"a": "b", "b": "a"}[owner]
	if other == "" {
		t.Fatalf("the pool's lease is held by %q, neither replica", owner)
	}
	watcher := replicas[other]
	p, q := watcher.signIn(), watcher.signIn()
	c, err := dialWS(watcher.url, p.AccessToken, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	hello(t, c)
	ticket := replicas[owner].startTicket(p, "duel").TicketID
	replicas[owner].startTicket(q, "duel")
	m, _, _ := untilSucceeded(t, c)
	if m.Ticket.TicketID != ticket || m.Ticket.Status != "COMPLETED" {
		t.Fatalf("replica %s sent %+v, want MatchmakingSucceeded of ticket %s", other, m.Ticket, ticket)
	}
}
