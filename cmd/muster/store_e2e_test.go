package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/testenv"
)

func TestDataSurvivesARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := testenv.Start(t, testenv.WithDataDir(dir))
	ctx := context.Background()
	if _, err := s.Admin().CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-durable")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, s.Logs())
	}
	if !strings.Contains(s.Logs(), "stopped") {
		t.Fatalf("no clean shutdown in the log:\n%s", s.Logs())
	}
	s2 := testenv.Start(t, testenv.WithDataDir(dir))
	if !slices.Contains(locationNames(t, s2.Admin()), "custom-durable") {
		t.Fatal("the location did not survive a restart")
	}
	if n := strings.Count(s2.Logs(), "applied migration"); n != 0 {
		t.Fatalf("the restart applied %d migrations again", n)
	}
}

// TestKill9LosesNoAnsweredWrite kills `muster serve` with SIGKILL while
// writers are busy and checks that every write it answered is there after
// a restart.
func TestKill9LosesNoAnsweredWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := testenv.Start(t, testenv.WithDataDir(dir))
	gl := s.Admin()
	var (
		mu       sync.Mutex
		answered []string
		n        atomic.Int64
		wg       sync.WaitGroup
		enough   = make(chan struct{})
	)
	ctx, cancel := context.WithCancel(context.Background())
	for w := range 16 {
		wg.Go(func() {
			for ctx.Err() == nil {
				name := fmt.Sprintf("custom-k9-%d-%d", w, n.Add(1))
				_, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String(name)})
				if err == nil {
					mu.Lock()
					answered = append(answered, name)
					if len(answered) == 300 {
						close(enough)
					}
					mu.Unlock()
				}
			}
		})
	}
	<-enough // 300 writes answered; more are in flight
	s.Kill()
	cancel()
	wg.Wait()
	s2 := testenv.Start(t, testenv.WithDataDir(dir))
	have := locationNames(t, s2.Admin())
	mu.Lock()
	defer mu.Unlock()
	for _, name := range answered {
		if !slices.Contains(have, name) {
			t.Fatalf("answered write %s was lost after kill -9 (%d answered, %d present)", name, len(answered), len(have))
		}
	}
	t.Logf("%d answered writes before kill -9, all present after restart (%d locations)", len(answered), len(have))
}

// TestServeOnPostgres runs the real binary on a PostgreSQL store: what it
// accepts survives a kill -9, and a restart on the same database sees it.
func TestServeOnPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	// Replicas share the database and the master key that seals its
	// secrets; here both runs share a data directory, which holds the key.
	dir := t.TempDir()
	args := testenv.WithArgs("--store", url, "--sdk-listen", "127.0.0.1:0")
	s := testenv.Start(t, testenv.WithDataDir(dir), args)
	if _, err := s.Admin().CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-on-postgres")}); err != nil {
		t.Fatal(err)
	}
	// The log quotes the URL when it has a query (`?sslmode=disable`).
	if logs := s.Logs(); !strings.Contains(logs, "store=postgres://") && !strings.Contains(logs, `store="postgres://`) {
		t.Errorf("the log does not name the PostgreSQL store:\n%s", s.Logs())
	}
	s.Kill()

	s2 := testenv.Start(t, testenv.WithDataDir(dir), args)
	if names := locationNames(t, s2.Admin()); !slices.Contains(names, "custom-on-postgres") {
		t.Fatalf("after a kill -9 and a restart on the same database, the locations are %v", names)
	}
}

// TestSecondServerOnOneSQLiteFileIsRefused: one server per SQLite file.
func TestSecondServerOnOneSQLiteFileIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testenv.Start(t, testenv.WithDataDir(dir), testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	cmd := exec.Command(testenv.Binary(t), "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "MUSTER_ADMIN_ACCESS_KEY_ID="+testenv.AdminKeyID, "MUSTER_ADMIN_SECRET_ACCESS_KEY="+testenv.AdminSecret)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another muster serve") {
		t.Fatalf("a second serve on one data directory: %v\n%s", err, out)
	}
}
