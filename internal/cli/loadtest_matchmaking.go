package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/loadtest"
)

const loadRules = `{"ruleLanguageVersion": "1.0",
 "playerAttributes": [{"name": "skill", "type": "number", "default": 0}],
 "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
 "rules": [{"name": "FairSkill", "type": "distance",
            "measurements": "max(flatten(teams[*].players.attributes[skill]))",
            "referenceValue": "min(flatten(teams[*].players.attributes[skill]))", "maxDistance": 50}]}`

func runLoadtestMatchmaking(ctx context.Context, env Env, args []string) int {
	fs, o := operatorFlagSet("loadtest matchmaking", true)
	concurrency := fs.Int("concurrency", 64, "requests in flight")
	duration := fs.Duration("duration", 10*time.Second, "how long to send tickets")
	rate := fs.Int("rate", 0, "tickets per second (0: as fast as possible)")
	preload := fs.Int("preload", 0, "tickets that never match, started first, so the pool holds that many waiting tickets")
	keep := fs.Bool("keep", false, "keep the run's configuration and rule set, and leave its preloaded tickets waiting (default: stop them and delete both)")
	if ok, code := Parse(fs, env, "muster loadtest matchmaking [flags]", args); !ok {
		return code
	}
	var checks flagChecks
	o.checkKey(&checks)
	checks.check(*concurrency >= 1, "--concurrency", strconv.Itoa(*concurrency), "must be at least 1")
	checks.check(*duration > 0, "--duration", duration.String(), "must be above 0")
	checks.check(*rate >= 0, "--rate", strconv.Itoa(*rate), "must be 0 (as fast as possible) or more")
	checks.check(*preload >= 0, "--preload", strconv.Itoa(*preload), "must not be negative")
	if checks.report(env.Stderr, "muster loadtest matchmaking") {
		return ExitUsage
	}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = *concurrency*2, *concurrency*2, 0
	})
	// --endpoint may list several replicas (comma-separated): tickets go
	// to each in turn, the two tickets of a match to different ones.
	var gls []*gamelift.Client
	for _, ep := range strings.Split(o.endpoint, ",") {
		gls = append(gls, gamelift.NewFromConfig(aws.Config{Region: o.region, Credentials: credentials.NewStaticCredentialsProvider(o.keyID, o.secret, ""), RetryMaxAttempts: 1, HTTPClient: hc},
			func(opts *gamelift.Options) { opts.BaseEndpoint = aws.String(ep) }))
	}
	o.endpoint, _, _ = strings.Cut(o.endpoint, ",")
	gl := gls[0]
	var sent atomic.Int64
	run := fmt.Sprintf("lt-%d", time.Now().UnixNano()%1_000_000_000)
	if _, err := gl.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: aws.String(run), RuleSetBody: aws.String(loadRules)}); err != nil {
		fmt.Fprintf(env.Stderr, "muster loadtest matchmaking: create rule set: %v\n", err)
		return 1
	}
	if _, err := gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String(run), RuleSetName: aws.String(run),
		RequestTimeoutSeconds: aws.Int32(43200), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeStandalone}); err != nil {
		fmt.Fprintf(env.Stderr, "muster loadtest matchmaking: create configuration: %v\n", err)
		return 1
	}
	start := func(ctx context.Context, id string, skill float64) error {
		gl := gls[int(sent.Add(1))%len(gls)]
		_, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String(run),
			Players: []types.Player{{PlayerId: aws.String(id), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(skill)}}}}})
		return err
	}
	if *preload > 0 {
		var next, errs atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		for range *concurrency {
			wg.Go(func() {
				for k := next.Add(1) - 1; k < int64(*preload) && ctx.Err() == nil; k = next.Add(1) - 1 {
					if start(ctx, fmt.Sprintf("%s-pre-%d", run, k), 1e9+float64(k)*1000) != nil {
						errs.Add(1)
					}
				}
			})
		}
		wg.Wait()
		fmt.Fprintf(env.Stdout, "preloaded %d waiting tickets in %.1fs (%d errors)\n", *preload, time.Since(t0).Seconds(), errs.Load())
		time.Sleep(time.Second)
	}
	// lonely holds the tickets whose partner may never have come (its start
	// failed or was cut off by the end of the run): they wait until stopped.
	var lonely sync.Map
	res := loadtest.RunAt(ctx, *concurrency, *duration, *rate, func(ctx context.Context, _, _, k int) error {
		// Tickets 2n and 2n+1 share a skill far from every other pair's:
		// each pair makes one match, on the arrival of its second ticket.
		err := start(ctx, fmt.Sprintf("%s-%d", run, k), float64(k/2)*1000)
		if err != nil { // it may yet have been made, its partner not
			lonely.Store(fmt.Sprintf("%s-%d", run, k), true)
			lonely.Store(fmt.Sprintf("%s-%d", run, k^1), true)
		}
		return err
	})
	label := "StartMatchmaking (Go SDK, CBOR)"
	if *rate > 0 {
		label += fmt.Sprintf(" at %d/s offered", *rate)
	}
	res.Print(env.Stdout, label, *concurrency)
	time.Sleep(2 * time.Second) // let the last cycles finish
	lat, err := matchLatencies(ctx, *o, run)
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster loadtest matchmaking: read events: %v\n", err)
		return 1
	}
	if len(lat) == 0 {
		fmt.Fprintln(env.Stdout, "no matches formed")
		return 1
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Fprintf(env.Stdout, "last ticket → PotentialMatchCreated over %d matches (pool of %d preloaded): p50 %s, p99 %s, max %s\n",
		len(lat), *preload, q(0.50).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
	if !*keep {
		var waiting []string
		for k := range *preload {
			waiting = append(waiting, fmt.Sprintf("%s-pre-%d", run, k))
		}
		// The run's last tickets, started side by side, may have had no
		// partner.
		for k := max(0, res.Requests-int64(2**concurrency)-2); k < res.Requests+int64(*concurrency); k++ {
			waiting = append(waiting, fmt.Sprintf("%s-%d", run, k))
		}
		lonely.Range(func(id, _ any) bool { waiting = append(waiting, id.(string)); return true })
		if err := removeMatchmakingRun(ctx, gl, run, waiting, *concurrency); err != nil {
			fmt.Fprintf(env.Stderr, "muster loadtest matchmaking: %v (remove it by hand, or pass --keep to keep runs)\n", err)
			return 1
		}
		fmt.Fprintf(env.Stdout, "removed the run's configuration and rule set %s\n", run)
	}
	if res.Errors > 0 {
		return 1
	}
	return 0
}

// removeMatchmakingRun stops the tickets of a run that may still wait (the
// preloaded ones, which never match, and those whose partner never came)
// and deletes the run's configuration and rule set, so runs do
// not pile up in the operator's listings. Stopping a ticket that already
// ended is refused; that refusal is expected and ignored.
func removeMatchmakingRun(ctx context.Context, gl *gamelift.Client, run string, waiting []string, concurrency int) error {
	ids := make(chan string)
	go func() {
		defer close(ids)
		for _, id := range waiting {
			ids <- id
		}
	}()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for id := range ids {
				_, _ = gl.StopMatchmaking(ctx, &gamelift.StopMatchmakingInput{TicketId: aws.String(id)})
			}
		})
	}
	wg.Wait()
	if _, err := gl.DeleteMatchmakingConfiguration(ctx, &gamelift.DeleteMatchmakingConfigurationInput{Name: aws.String(run)}); err != nil {
		return fmt.Errorf("delete configuration %s: %w", run, err)
	}
	if _, err := gl.DeleteMatchmakingRuleSet(ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: aws.String(run)}); err != nil {
		return fmt.Errorf("delete rule set %s: %w", run, err)
	}
	return nil
}

// matchLatencies reads PotentialMatchCreated events of a configuration
// from the outbox: event time minus its newest ticket's start time.
func matchLatencies(ctx context.Context, o operatorFlags, config string) ([]time.Duration, error) {
	var out []time.Duration
	after := int64(0)
	for {
		res, err := o.get(ctx, fmt.Sprintf("/v1/admin/events?type=PotentialMatchCreated&limit=1000&after=%d", after))
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s", res.Status, body)
		}
		var page struct {
			Events []struct {
				Time     time.Time `json:"time"`
				Resource string    `json:"resource"`
				Detail   struct {
					Detail struct {
						Tickets []struct {
							StartTime time.Time `json:"startTime"`
						} `json:"tickets"`
					} `json:"detail"`
				} `json:"detail"`
			} `json:"events"`
			Next int64 `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			if !strings.HasSuffix(e.Resource, "/"+config) {
				continue
			}
			var last time.Time
			for _, t := range e.Detail.Detail.Tickets {
				if t.StartTime.After(last) {
					last = t.StartTime
				}
			}
			out = append(out, e.Time.Sub(last))
		}
		if len(page.Events) < 1000 {
			return out, nil
		}
		after = page.Next
	}
}
