//go:build soak

package soak_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
)

var (
	faultPhase  = flag.Duration("soak.faults", 22*time.Second, "length of the phase with faults (by hand: 30m)")
	faultEvery  = flag.Duration("soak.fault-every", 5*time.Second, "a fault is injected this often (by hand: 1m)")
	pauseFor    = flag.Duration("soak.pause", 3*time.Second, "how long SIGSTOP and a full disk last (by hand: 10s)")
	faultRate   = flag.Int("soak.rate", 20, "tickets per second in the fault phase")
	processes   = flag.Int("soak.processes", 10, "game server processes per host in the fault phase")
	steadyPhase = flag.Duration("soak.steady", 30*time.Second, "length of the steady phase (by hand: 30m)")
	steadyRate  = flag.Int("soak.steady-rate", 200, "tickets per second in the steady phase (by hand: 1000)")
)

const (
	location = "custom-soak"
	// pairConfig matches any two tickets (WITH_QUEUE, placed on arena
	// processes); lonelyConfig can never match (STANDALONE, each ticket's
	// skill is 10 from every other's and the rule allows 1), so every
	// accepted lonely ticket must end TIMED_OUT.
	pairConfig   = "soak-pair"
	lonelyConfig = "soak-lonely"
)

const pairRules = `{
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
  "rules": [{"name": "FairSkill", "type": "distance",
             "measurements": "max(flatten(teams[*].players.attributes[skill]))",
             "referenceValue": "min(flatten(teams[*].players.attributes[skill]))",
             "maxDistance": 50}]
}`

const lonelyRules = `{
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 0}],
  "teams": [{"name": "all", "minPlayers": 2, "maxPlayers": 2}],
  "rules": [{"name": "Same", "type": "distance",
             "measurements": "max(flatten(teams[*].players.attributes[skill]))",
             "referenceValue": "min(flatten(teams[*].players.attributes[skill]))",
             "maxDistance": 1}]
}`

// cluster is one muster serve on fixed addresses (so clients and agents
// find it again after a restart) and the agents hosting its fleet.
type cluster struct {
	t                 *testing.T
	dir               string
	listen, sdkListen string
	extra             []string

	mu      sync.Mutex
	srv     *testenv.Server
	agents  []*testenv.Agent
	hosts   int
	fleetID string
}

func newCluster(t *testing.T, dir string, extra ...string) *cluster {
	c := &cluster{t: t, dir: dir, listen: freeAddr(t), sdkListen: freeAddr(t), extra: extra}
	c.start()
	return c
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs muster serve on the cluster's data directory and addresses.
func (c *cluster) start() {
	args := append([]string{"--listen", c.listen, "--sdk-listen", c.sdkListen, "--log-level", "info"}, c.extra...)
	s := testenv.Start(c.t, testenv.WithDataDir(c.dir), testenv.WithArgs(args...))
	c.mu.Lock()
	c.srv = s
	c.mu.Unlock()
}

func (c *cluster) server() *testenv.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.srv
}

// url is the control plane's address, the same across restarts.
func (c *cluster) url() string { return "http://" + c.listen }

// admin is an AWS SDK client that outlives restarts (its address is fixed),
// with retries off: the load counts every failed request.
func (c *cluster) admin() *gamelift.Client { return c.server().Admin() }

// checker is an AWS SDK client with the SDK's standard retries, for the
// checks after the faults: a connection a killed server left in its pool
// is retried, as any client would.
func (c *cluster) checker() *gamelift.Client {
	cfg := aws.Config{Region: testenv.Region, Credentials: credentials.NewStaticCredentialsProvider(testenv.AdminKeyID, testenv.AdminSecret, ""),
		RetryMaxAttempts: 5}
	return gamelift.NewFromConfig(cfg, func(o *gamelift.Options) { o.BaseEndpoint = aws.String(c.url()) })
}

// addHost starts an agent as a new compute of the fleet.
func (c *cluster) addHost() {
	c.hosts++
	a := testenv.StartAgent(c.t, c.server(), testenv.AgentConfig{FleetID: c.fleetID, Location: location,
		ComputeName: fmt.Sprintf("host-%d", c.hosts), Endpoint: c.url()})
	c.agents = append(c.agents, a)
}

// setUp creates the fleet (two hosts), the queue and both configurations,
// and opens the pair configuration to players.
func (c *cluster) setUp(ctx context.Context, processesPerHost int32) {
	t := c.t
	s := c.server()
	gl := s.Admin()
	c.fleetID = s.CreateArenaFleet(t, testenv.ArenaFleet{Name: "soak", Processes: processesPerHost,
		Locations: []string{location}, Parameters: "--idle-exit 20s"})
	fleetArn := "arn:aws:gamelift:mu-local-1:000000000000:fleet/" + c.fleetID
	q, err := gl.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: aws.String("soak-q"),
		TimeoutInSeconds: aws.Int32(600), Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String(fleetArn)}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, rules := range map[string]string{pairConfig: pairRules, lonelyConfig: lonelyRules} {
		if _, err := gl.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: aws.String(name + "-rules"), RuleSetBody: aws.String(rules)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String(pairConfig),
		RuleSetName: aws.String(pairConfig + "-rules"), RequestTimeoutSeconds: aws.Int32(900), AcceptanceRequired: aws.Bool(false),
		FlexMatchMode: types.FlexMatchModeWithQueue, GameSessionQueueArns: []string{aws.ToString(q.GameSessionQueue.GameSessionQueueArn)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String(lonelyConfig),
		RuleSetName: aws.String(lonelyConfig + "-rules"), RequestTimeoutSeconds: aws.Int32(5), AcceptanceRequired: aws.Bool(false),
		FlexMatchMode: types.FlexMatchModeStandalone}); err != nil {
		t.Fatal(err)
	}
	res, body, err := s.Bearer(ctx, http.MethodPut, "/v1/admin/matchmaking/configurations/"+pairConfig+"/player-access", `{"allowed": true}`)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("player access: %v %v %s", err, res, body)
	}
	c.addHost()
	c.addHost()
}

// outboxEvent is an event as GET /v1/admin/events pages it, with the
// FlexMatch detail the checks read.
type outboxEvent struct {
	Seq    int64  `json:"seq"`
	ID     string `json:"id"`
	Type   string `json:"type"`
	Detail struct {
		Detail struct {
			MatchID string `json:"matchId"`
			Tickets []struct {
				TicketID string `json:"ticketId"`
			} `json:"tickets"`
			GameSessionInfo struct {
				GameSessionArn string `json:"gameSessionArn"`
			} `json:"gameSessionInfo"`
		} `json:"detail"`
	} `json:"detail"`
}

// events reads the whole outbox.
func (c *cluster) events(ctx context.Context) []outboxEvent {
	var all []outboxEvent
	after := int64(0)
	for {
		res, body, err := c.server().Bearer(ctx, http.MethodGet, fmt.Sprintf("/v1/admin/events?after=%d&limit=1000", after), "")
		if err != nil || res.StatusCode != http.StatusOK {
			c.t.Fatalf("events: %v %v %s", err, res, body)
		}
		var page struct {
			Events []outboxEvent `json:"events"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			c.t.Fatal(err)
		}
		all = append(all, page.Events...)
		if len(page.Events) < 1000 {
			return all
		}
		after = page.Events[len(page.Events)-1].Seq
	}
}

// mountTmpfs puts dir on a small tmpfs so the disk can be filled, and
// reports whether it could (it needs root and a kernel that allows it).
func mountTmpfs(t *testing.T, dir string, size string) bool {
	if os.Geteuid() != 0 {
		return false
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Logf("no tmpfs (%v): the disk-full fault is left out", err)
		return false
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return true
}

// fillDisk writes a file until the file system is full and returns a
// function that frees the space again.
func fillDisk(t *testing.T, dir string) (free func()) {
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	f.Close()
	return func() { os.Remove(path) }
}
