package matchmaking_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
)

// TestFiguresMemoryPerWaitingTicket measures what a waiting ticket costs
// the whole server: `muster serve` on SQLite at its default collector
// settings, N one-player tickets started through the Go SDK on a rule set
// that never matches them, then the live heap after a collection and the
// RSS, less what they were before. MUSTER_FIGURES=1 runs it;
// MUSTER_FIGURES_TICKETS sets N (default 50,000).
func TestFiguresMemoryPerWaitingTicket(t *testing.T) {
	n := figureTickets(t)
	s := testenv.Start(t, testenv.WithArgs("--log-level", "warn"))
	ctx := context.Background()
	gl := s.Admin()
	if _, err := gl.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: aws.String("apart"), RuleSetBody: aws.String(apartRules)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String("apart"), RuleSetName: aws.String("apart"),
		RequestTimeoutSeconds: aws.Int32(43200), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeStandalone}); err != nil {
		t.Fatal(err)
	}
	heap0, rss0 := serverMemory(t, s)
	start := time.Now()
	startTickets(t, n, func(i int) error {
		id := fmt.Sprintf("ticket-%06d", i)
		// Skills 100 apart: no two tickets ever match.
		_, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("apart"),
			Players: []types.Player{{PlayerId: aws.String("player-" + id), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(float64(i) * 100)}}}}})
		return err
	})
	last := fmt.Sprintf("ticket-%06d", n-1)
	for {
		out, err := gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{last}})
		if err != nil {
			t.Fatal(err)
		}
		if out.TicketList[0].Status == types.MatchmakingConfigurationStatusSearching {
			break
		}
		time.Sleep(10 * time.Millisecond) // the pool takes the tickets on its own goroutine
	}
	t.Logf("%d tickets started and SEARCHING in %s", n, time.Since(start).Round(time.Millisecond))
	heap1, rss1 := serverMemory(t, s)
	t.Logf("FIGURE: with %d tickets waiting, live heap after a collection %+.0f B per ticket (%.1f → %.1f MiB), RSS %+.0f B per ticket (%.1f → %.1f MiB)",
		n, float64(heap1-heap0)/float64(n), mib(heap0), mib(heap1), float64(rss1-rss0)/float64(n), mib(rss0), mib(rss1))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// serverMemory has the server collect (a heap profile with gc=1 runs a
// collection first), then reads its heap in use right after, which is the
// live heap, from /metrics, and its RSS from /proc.
func serverMemory(t *testing.T, s *testenv.Server) (heap, rss int64) {
	t.Helper()
	ctx := context.Background()
	for range 2 { // the second collection frees what the first one's sweep left
		if res, _, err := s.Bearer(ctx, http.MethodGet, "/debug/pprof/heap?gc=1", ""); err != nil || res.StatusCode != http.StatusOK {
			t.Fatal("heap profile:", err, res)
		}
	}
	res, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_alloc_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			heap = int64(f)
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			rss = kb << 10
		}
	}
	if heap == 0 || rss == 0 {
		t.Fatal("no heap or RSS figure")
	}
	return heap, rss
}
