package identity_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/store/postgres"
	"github.com/musterhq/muster/internal/store/postgres/pgtest"
)

// replicaStores opens n handles on one new PostgreSQL database, as n
// replicas would.
func replicaStores(t *testing.T, n int) []store.Store {
	url := pgtest.NewDatabase(t)
	var out []store.Store
	for range n {
		db, err := postgres.Open(context.Background(), postgres.Config{URL: url, Clock: clock.NewFake(t0)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out = append(out, db)
	}
	return out
}

func TestReplicasStartedAtOnceMakeOneFirstAdminKey(t *testing.T) {
	box := newBox(t)
	keysOn := func(db store.Store) *identity.OperatorKeys {
		return identity.NewOperatorKeys(identity.KeysConfig{Base: service.Base{Store: db, Clock: clock.NewFake(t0)}, Box: box})
	}
	atOnce := func(dbs []store.Store, envID, envSecret string) ([]identity.BootstrapResult, []string) {
		t.Helper()
		results := make([]identity.BootstrapResult, len(dbs))
		dirs := make([]string, len(dbs))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, db := range dbs {
			dirs[i] = t.TempDir()
			wg.Go(func() {
				<-start
				var err error
				results[i], err = keysOn(db).Bootstrap(context.Background(), dirs[i], envID, envSecret)
				if err != nil {
					t.Errorf("replica %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		return results, dirs
	}
	created := func(results []identity.BootstrapResult) int {
		n := 0
		for _, r := range results {
			if r.Created {
				n++
			}
		}
		return n
	}

	t.Run("the key the environment names", func(t *testing.T) {
		dbs := replicaStores(t, 3)
		results, _ := atOnce(dbs, "MKIARACE000000000001", "race-secret-0123456789")
		if n := created(results); n != 1 {
			t.Fatalf("%d replicas created the first key, want 1: %+v", n, results)
		}
		list, err := keysOn(dbs[0]).List(context.Background())
		if err != nil || len(list) != 1 || list[0].Role != auth.RoleAdmin {
			t.Fatalf("keys after the race: %+v (%v), want the one admin key", list, err)
		}
		// A replica started later with the same variables goes on.
		if r, err := keysOn(dbs[1]).Bootstrap(context.Background(), t.TempDir(), "MKIARACE000000000001", "race-secret-0123456789"); err != nil || r.Created {
			t.Fatalf("a later replica: %+v, %v", r, err)
		}
		// One whose secret differs for the same id is refused, clearly.
		_, err = keysOn(dbs[2]).Bootstrap(context.Background(), t.TempDir(), "MKIARACE000000000001", "another-secret-0123456789")
		if fault.KindOf(err) != fault.Conflict || !strings.Contains(err.Error(), "MUSTER_ADMIN_SECRET_ACCESS_KEY") || !strings.Contains(err.Error(), "different secret") {
			t.Fatalf("a different secret for the same id: got %v, want a Conflict naming MUSTER_ADMIN_SECRET_ACCESS_KEY", err)
		}
		// And so is one whose master key differs.
		other := identity.NewOperatorKeys(identity.KeysConfig{Base: service.Base{Store: dbs[2], Clock: clock.NewFake(t0)}, Box: newBox(t)})
		_, err = other.Bootstrap(context.Background(), t.TempDir(), "MKIARACE000000000001", "race-secret-0123456789")
		if err == nil || !strings.Contains(err.Error(), "same master key") {
			t.Fatalf("a replica with another master key: got %v, want a refusal naming the master key", err)
		}
	})

	t.Run("a generated key", func(t *testing.T) {
		dbs := replicaStores(t, 3)
		results, dirs := atOnce(dbs, "", "")
		if n := created(results); n != 1 {
			t.Fatalf("%d replicas created the first key, want 1: %+v", n, results)
		}
		files := 0
		for _, dir := range dirs {
			if _, err := os.Stat(filepath.Join(dir, "admin-credentials")); err == nil {
				files++
			}
		}
		list, err := keysOn(dbs[0]).List(context.Background())
		if err != nil || len(list) != 1 || files != 1 {
			t.Fatalf("after the race: %d keys (%v), %d credentials files; want one of each", len(list), err, files)
		}
	})
}
