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
	api := fs.String("api", "control", "API the timed tickets go through: control (StartMatchmaking through the Go SDK, with the operator key) or player (POST /v1/matchmaking/tickets through the Go client package, with signed-in players' access tokens; the server limits player requests per client IP, see serve --player-ip-rate)")
	perWorker := fs.Int("players-per-worker", 32, "with --api player: players each request in flight takes in turn; a player holds one active ticket at a time, and sends this share of its worker's tickets, which serve --player-identity-rate limits")
	if ok, code := Parse(fs, env, "muster loadtest matchmaking [flags]", args); !ok {
		return code
	}
	var checks flagChecks
	o.checkKey(&checks)
	checks.check(*concurrency >= 1, "--concurrency", strconv.Itoa(*concurrency), "must be at least 1")
	checks.check(*duration > 0, "--duration", duration.String(), "must be above 0")
	checks.check(*rate >= 0, "--rate", strconv.Itoa(*rate), "must be 0 (as fast as possible) or more")
	checks.check(*preload >= 0, "--preload", strconv.Itoa(*preload), "must not be negative")
	checks.check(*api == "control" || *api == "player", "--api", *api, "must be control or player")
	checks.check(*perWorker >= 1, "--players-per-worker", strconv.Itoa(*perWorker), "must be at least 1")
	if checks.report(env.Stderr, "muster loadtest matchmaking") {
		return ExitUsage
	}
	lt := newMatchmakingRun(*o, *concurrency)
	endpoints := strings.Split(o.endpoint, ",")
	o.endpoint = endpoints[0]
	if err := lt.create(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "muster loadtest matchmaking: %v\n", err)
		return 1
	}
	if *api == "player" {
		if err := lt.usePlayers(ctx, env.Stdout, *o, endpoints, *concurrency, *perWorker); err != nil {
			fmt.Fprintf(env.Stderr, "muster loadtest matchmaking: %v\n", err)
			if !*keep {
				if err := lt.remove(ctx, nil, *concurrency); err != nil {
					fmt.Fprintf(env.Stderr, "muster loadtest matchmaking: %v (remove it by hand)\n", err)
				}
			}
			return 1
		}
	}
	if *preload > 0 {
		t0 := time.Now()
		errs := lt.preload(ctx, *preload, *concurrency)
		fmt.Fprintf(env.Stdout, "preloaded %d waiting tickets in %.1fs (%d errors)\n", *preload, time.Since(t0).Seconds(), errs)
		time.Sleep(time.Second)
	}
	send, label := lt.sender(ctx)
	res := loadtest.RunAt(ctx, *concurrency, *duration, *rate, send)
	if *rate > 0 {
		label += fmt.Sprintf(" at %d/s offered", *rate)
	}
	res.Print(env.Stdout, label, *concurrency)
	time.Sleep(2 * time.Second) // let the last cycles finish
	if code := reportMatchLatencies(ctx, env, *o, lt.name, *preload); code != 0 {
		return code
	}
	if !*keep {
		if err := lt.remove(ctx, lt.waiting(*preload, res.Requests, *concurrency), *concurrency); err != nil {
			fmt.Fprintf(env.Stderr, "muster loadtest matchmaking: %v (remove it by hand, or pass --keep to keep runs)\n", err)
			return 1
		}
		fmt.Fprintf(env.Stdout, "removed the run's configuration and rule set %s\n", lt.name)
	}
	if res.Errors > 0 {
		return 1
	}
	return 0
}

// reportMatchLatencies prints the time from each match's last ticket to
// its PotentialMatchCreated event, and returns the exit code of a run that
// could not read them or formed no match (0 otherwise).
func reportMatchLatencies(ctx context.Context, env Env, o operatorFlags, config string, preload int) int {
	lat, err := matchLatencies(ctx, o, config)
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
		len(lat), preload, q(0.50).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
	return 0
}

// matchmakingRun is one loadtest matchmaking run: its configuration and
// rule set (both named after the run) and the tickets it starts.
type matchmakingRun struct {
	name string
	// gls has a client per replica --endpoint lists (comma-separated):
	// tickets go to each in turn, the two tickets of a match to different
	// ones.
	gls  []*gamelift.Client
	sent atomic.Int64
	// players, with --api player, start the timed tickets instead.
	players *playerTickets
	// lonely holds the tickets whose partner may never have come (its start
	// failed or was cut off by the end of the run): they wait until stopped.
	lonely sync.Map
}

func newMatchmakingRun(o operatorFlags, concurrency int) *matchmakingRun {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = concurrency*2, concurrency*2, 0
	})
	lt := &matchmakingRun{name: fmt.Sprintf("lt-%d", time.Now().UnixNano()%1_000_000_000)}
	for _, ep := range strings.Split(o.endpoint, ",") {
		lt.gls = append(lt.gls, gamelift.NewFromConfig(aws.Config{Region: o.region, Credentials: credentials.NewStaticCredentialsProvider(o.keyID, o.secret, ""), RetryMaxAttempts: 1, HTTPClient: hc},
			func(opts *gamelift.Options) { opts.BaseEndpoint = aws.String(ep) }))
	}
	return lt
}

// create makes the run's rule set and STANDALONE configuration.
func (lt *matchmakingRun) create(ctx context.Context) error {
	gl := lt.gls[0]
	if _, err := gl.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: aws.String(lt.name), RuleSetBody: aws.String(loadRules)}); err != nil {
		return fmt.Errorf("create rule set: %w", err)
	}
	if _, err := gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String(lt.name), RuleSetName: aws.String(lt.name),
		RequestTimeoutSeconds: aws.Int32(43200), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeStandalone}); err != nil {
		return fmt.Errorf("create configuration: %w", err)
	}
	return nil
}

func (lt *matchmakingRun) start(ctx context.Context, id string, skill float64) error {
	gl := lt.gls[int(lt.sent.Add(1))%len(lt.gls)]
	_, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String(lt.name),
		Players: []types.Player{{PlayerId: aws.String(id), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(skill)}}}}})
	return err
}

// sender returns what starts the run's timed tickets, and its label in the
// report.
func (lt *matchmakingRun) sender(ctx context.Context) (func(ctx context.Context, worker, seq, k int) error, string) {
	if lt.players == nil {
		return func(ctx context.Context, _, _, k int) error { return lt.startPaired(ctx, k) }, "StartMatchmaking (Go SDK, CBOR)"
	}
	// The server names a player's ticket in its answer: a start cut off by
	// the end of the run may have made a ticket the clean-up could not
	// name. So player starts outlive the run and end only with ctx.
	return func(_ context.Context, worker, seq, _ int) error { return lt.players.start(ctx, worker, seq) },
		"POST /v1/matchmaking/tickets (player API, JSON)"
}

// startPaired starts loaded ticket k. Tickets 2n and 2n+1 share a skill far
// from every other pair's: each pair makes one match, on the arrival of its
// second ticket.
func (lt *matchmakingRun) startPaired(ctx context.Context, k int) error {
	err := lt.start(ctx, fmt.Sprintf("%s-%d", lt.name, k), float64(k/2)*1000)
	if err != nil { // it may yet have been made, its partner not
		lt.lonely.Store(fmt.Sprintf("%s-%d", lt.name, k), true)
		lt.lonely.Store(fmt.Sprintf("%s-%d", lt.name, k^1), true)
	}
	return err
}

// preload starts n tickets far from every other's skill, which never
// match, and says how many starts failed.
func (lt *matchmakingRun) preload(ctx context.Context, n, concurrency int) int64 {
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for k := next.Add(1) - 1; k < int64(n) && ctx.Err() == nil; k = next.Add(1) - 1 {
				if lt.start(ctx, fmt.Sprintf("%s-pre-%d", lt.name, k), 1e9+float64(k)*1000) != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return errs.Load()
}

// waiting lists the tickets that may still wait after the run: the
// preloaded ones, those whose partner never came, and the run's last ones,
// started side by side, which may have had no partner. With --api player
// they are the preloaded ones and each player's newest ticket.
func (lt *matchmakingRun) waiting(preload int, loaded int64, concurrency int) []string {
	var ids []string
	for k := range preload {
		ids = append(ids, fmt.Sprintf("%s-pre-%d", lt.name, k))
	}
	if lt.players != nil {
		return append(ids, lt.players.started()...)
	}
	for k := max(0, loaded-int64(2*concurrency)-2); k < loaded+int64(concurrency); k++ {
		ids = append(ids, fmt.Sprintf("%s-%d", lt.name, k))
	}
	lt.lonely.Range(func(id, _ any) bool { ids = append(ids, id.(string)); return true })
	return ids
}

// remove stops the tickets that may still wait and deletes the run's
// configuration and rule set, so runs do not pile up in the operator's
// listings. Stopping a ticket that already ended is refused; that refusal
// is expected and ignored.
func (lt *matchmakingRun) remove(ctx context.Context, waiting []string, concurrency int) error {
	gl := lt.gls[0]
	var next atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(waiting)) && ctx.Err() == nil; i = next.Add(1) - 1 {
				_, _ = gl.StopMatchmaking(ctx, &gamelift.StopMatchmakingInput{TicketId: aws.String(waiting[i])})
			}
		})
	}
	wg.Wait()
	if _, err := gl.DeleteMatchmakingConfiguration(ctx, &gamelift.DeleteMatchmakingConfigurationInput{Name: aws.String(lt.name)}); err != nil {
		return fmt.Errorf("delete configuration %s: %w", lt.name, err)
	}
	if _, err := gl.DeleteMatchmakingRuleSet(ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: aws.String(lt.name)}); err != nil {
		return fmt.Errorf("delete rule set %s: %w", lt.name, err)
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
