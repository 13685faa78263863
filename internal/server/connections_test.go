package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/server"
)

// neverMatches needs 20 players a team, so the tickets of the read test stay
// SEARCHING and every read returns the same full page.
const neverMatches = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":1000}],
 "teams":[{"name":"red","minPlayers":20,"maxPlayers":20},{"name":"blue","minPlayers":20,"maxPlayers":20}]}`

// runServer runs a whole server on a loopback port, as `muster serve` does
// (the same http.Server settings), and returns its address.
func runServer(t *testing.T, mutate func(*server.Config)) string {
	t.Helper()
	addrc := make(chan string, 1)
	cfg := server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), SDKListen: "127.0.0.1:0",
		AdminAccessKeyID: benchKeyID, AdminSecretAccessKey: benchSecret,
		OnListening: func(addr string) { addrc <- addr }}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return ""
}

// sdkClient is the official Go SDK with its retries off, so a transport
// error reaches the test instead of being hidden by a retry.
func sdkClient(endpoint string, opts ...func(*gamelift.Options)) *gamelift.Client {
	cfg := aws.Config{Region: server.DefaultRegion, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(benchKeyID, benchSecret, "")}
	return gamelift.NewFromConfig(cfg, append([]func(*gamelift.Options){func(o *gamelift.Options) { o.BaseEndpoint = aws.String(endpoint) }}, opts...)...)
}

// A client reusing kept-alive connections never sees a transport error:
// full pages of DescribeMatchmaking (10 tickets of 10 players), read
// through the Go SDK with retries off by 8 goroutines. MUSTER_READS sets
// the number of reads (100,000 for the long run), MUSTER_READERS
// the goroutines.
func TestFullPageReadsThroughTheGoSDKSeeNoTransportError(t *testing.T) {
	reads := 10_000
	if testing.Short() {
		reads = 1_000
	}
	if s := os.Getenv("MUSTER_READS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("MUSTER_READS: %v", err)
		}
		reads = n
	}
	// MUSTER_READS_ENDPOINT runs the reads against a running `muster serve`
	// with the bench admin key instead.
	endpoint := os.Getenv("MUSTER_READS_ENDPOINT")
	if endpoint == "" {
		endpoint = "http://" + runServer(t, nil)
	}
	gl := sdkClient(endpoint)
	ctx := context.Background()
	if _, err := gl.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: aws.String("never"), RuleSetBody: aws.String(neverMatches)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String("never"), RuleSetName: aws.String("never"),
		RequestTimeoutSeconds: aws.Int32(3600), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeStandalone}); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprintf("ticket-%02d", i)
		players := make([]types.Player, 10)
		for j := range players {
			players[j] = types.Player{PlayerId: aws.String(fmt.Sprintf("player-%02d-%02d", i, j)),
				PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(float64(1000 + j))}}}
		}
		if _, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(ids[i]), ConfigurationName: aws.String("never"), Players: players}); err != nil {
			t.Fatal(err)
		}
	}
	readers := 8
	if s := os.Getenv("MUSTER_READERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MUSTER_READERS: %q", s)
		}
		readers = n
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			for next.Add(1) <= int64(reads) && failed.Load() < 5 {
				out, err := gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: ids})
				if err == nil && len(out.TicketList) != len(ids) {
					err = fmt.Errorf("got %d tickets, want %d", len(out.TicketList), len(ids))
				}
				if err != nil {
					failed.Add(1)
					t.Errorf("read: %v", err)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d full-page reads, %d failed", min(next.Load()-int64(readers), int64(reads)), failed.Load())
}
