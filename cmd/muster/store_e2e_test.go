package main_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"

	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/testenv"
)

// TestServeOnPostgres runs the real binary on a PostgreSQL store: what it
// accepts survives a kill -9, and a restart on the same database sees it.
func TestServeOnPostgres(t *testing.T) {
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
	if !strings.Contains(s.Logs(), "store=postgres://") {
		t.Errorf("the log does not name the PostgreSQL store:\n%s", s.Logs())
	}
	s.Kill()

	s2 := testenv.Start(t, testenv.WithDataDir(dir), args)
	names := locationNames(t, s2.Admin())
	found := false
	for _, n := range names {
		found = found || n == "custom-on-postgres"
	}
	if !found {
		t.Fatalf("after a kill -9 and a restart on the same database, the locations are %v", names)
	}
}

// TestSecondServerOnOneSQLiteFileIsRefused: one server per SQLite file.
func TestSecondServerOnOneSQLiteFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	testenv.Start(t, testenv.WithDataDir(dir), testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	cmd := exec.Command(testenv.Binary(t), "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "MUSTER_ADMIN_ACCESS_KEY_ID="+testenv.AdminKeyID, "MUSTER_ADMIN_SECRET_ACCESS_KEY="+testenv.AdminSecret)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another muster serve") {
		t.Fatalf("a second serve on one data directory: %v\n%s", err, out)
	}
}
