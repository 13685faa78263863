//go:build unix

package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/api/locations"
	"github.com/musterhq/muster/internal/testenv"
)

// These tests run `muster serve`, real `muster agent`s in two locations and
// the examples/arena game server (built on the GameLift Go server SDK), and
// drive placement with the real AWS SDK for Go v2 client.

// joinArena connects to a game server as a player and sends JOIN with the
// player session id; it retries while the game session is still
// activating. It returns the first line the server answered.
func joinArena(t *testing.T, ip string, port int32, playerSessionID string) string {
	t.Helper()
	addr := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	var last string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p, err := testenv.DialArena(addr, playerSessionID)
		if err != nil {
			last = err.Error()
		} else if last = p.First; strings.HasPrefix(last, "WELCOME") {
			t.Cleanup(func() { p.Conn.Close() })
			return last
		} else {
			p.Conn.Close()
		}
		time.Sleep(100 * time.Millisecond) // the game session is still activating
	}
	return last
}

func waitPlacement(t *testing.T, gl *gamelift.Client, id string, status types.GameSessionPlacementState) *types.GameSessionPlacement {
	t.Helper()
	var p *types.GameSessionPlacement
	testenv.Eventually(t, "placement "+id+" to be "+string(status), 30*time.Second, func() bool {
		out, err := gl.DescribeGameSessionPlacement(context.Background(), &gamelift.DescribeGameSessionPlacementInput{PlacementId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		p = out.GameSessionPlacement
		return p.Status == status
	})
	return p
}

func TestPlacementWithAgentsArenaAndMatchmaking(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs muster, agents and arena")
	}
	s := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	gl := s.Admin()
	ctx := context.Background()
	fleetID, _ := s.StartArenaFleet(t, testenv.ArenaFleet{Name: "arena", Cost: "0.5", Processes: 2, Locations: []string{"custom-near", "custom-far"}})
	fleetArn := "arn:aws:gamelift:mu-local-1:000000000000:fleet/" + fleetID

	t.Run("GET /v1/locations lists both locations with their agents' beacons, and MeasureAll pings them", func(t *testing.T) {
		var l locations.List
		testenv.Eventually(t, "beacons in both locations", 30*time.Second, func() bool {
			res, err := http.Get(s.URL() + "/v1/locations")
			if err != nil {
				return false
			}
			defer res.Body.Close()
			l = locations.List{}
			json.NewDecoder(res.Body).Decode(&l)
			n := 0
			for _, loc := range l.Locations {
				if len(loc.PingBeacons) > 0 {
					n++
				}
			}
			return n == 2
		})
		ms, err := locations.MeasureAll(ctx, nil, s.URL(), 3)
		if err != nil || ms["custom-near"] < 1 || ms["custom-far"] < 1 {
			t.Fatalf("MeasureAll = %v, %v (list %+v)", ms, err, l)
		}
	})

	q, err := gl.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: aws.String("arena-queue"), TimeoutInSeconds: aws.Int32(60),
		Destinations:          []types.GameSessionQueueDestination{{DestinationArn: aws.String(fleetArn)}},
		PlayerLatencyPolicies: []types.PlayerLatencyPolicy{{MaximumIndividualPlayerLatencyMilliseconds: aws.Int32(100)}},
		Tags:                  []types.Tag{{Key: aws.String("team"), Value: aws.String("arena")}}})
	if err != nil {
		t.Fatal(err)
	}
	queueArn := aws.ToString(q.GameSessionQueue.GameSessionQueueArn)

	t.Run("queues are described and updated with the Go SDK", func(t *testing.T) {
		out, err := gl.DescribeGameSessionQueues(ctx, &gamelift.DescribeGameSessionQueuesInput{Names: []string{queueArn}})
		if err != nil || len(out.GameSessionQueues) != 1 || aws.ToInt32(out.GameSessionQueues[0].TimeoutInSeconds) != 60 ||
			aws.ToString(out.GameSessionQueues[0].Destinations[0].DestinationArn) != fleetArn {
			t.Fatalf("%+v %v", out, err)
		}
		up, err := gl.UpdateGameSessionQueue(ctx, &gamelift.UpdateGameSessionQueueInput{Name: aws.String("arena-queue"), CustomEventData: aws.String("e2e"),
			PriorityConfiguration: &types.PriorityConfiguration{PriorityOrder: []types.PriorityType{types.PriorityTypeLatency, types.PriorityTypeCost}}})
		if err != nil || aws.ToString(up.GameSessionQueue.CustomEventData) != "e2e" || len(up.GameSessionQueue.PriorityConfiguration.PriorityOrder) != 2 {
			t.Fatalf("%+v %v", up, err)
		}
		tags, err := gl.ListTagsForResource(ctx, &gamelift.ListTagsForResourceInput{ResourceARN: aws.String(queueArn)})
		if err != nil || len(tags.Tags) != 1 {
			t.Fatalf("tags %+v %v", tags, err)
		}
		_, err = gl.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: aws.String("bad queue"),
			Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String("arn:aws:gamelift:mu-local-1:000000000000:fleet/fleet-nope")}}})
		if apiCode(err) != "InvalidRequestException" || !strings.Contains(err.Error(), "Name") {
			t.Fatalf("bad queue: %v", err)
		}
	})

	t.Run("a placement goes to the lowest-latency location and each player is let in with its player session", func(t *testing.T) {
		_, err := gl.StartGameSessionPlacement(ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: aws.String("e2e-1"),
			GameSessionQueueName: aws.String("arena-queue"), MaximumPlayerSessionCount: aws.Int32(4),
			PlayerLatencies: []types.PlayerLatency{
				{PlayerId: aws.String("alice"), RegionIdentifier: aws.String("custom-near"), LatencyInMilliseconds: aws.Float32(20)},
				{PlayerId: aws.String("alice"), RegionIdentifier: aws.String("custom-far"), LatencyInMilliseconds: aws.Float32(90)},
				{PlayerId: aws.String("bob"), RegionIdentifier: aws.String("custom-near"), LatencyInMilliseconds: aws.Float32(30)},
				{PlayerId: aws.String("bob"), RegionIdentifier: aws.String("custom-far"), LatencyInMilliseconds: aws.Float32(10)}},
			DesiredPlayerSessions: []types.DesiredPlayerSession{{PlayerId: aws.String("alice")}, {PlayerId: aws.String("bob")}}})
		if err != nil {
			t.Fatal(err)
		}
		p := waitPlacement(t, gl, "e2e-1", types.GameSessionPlacementStateFulfilled)
		if aws.ToString(p.GameSessionRegion) != "custom-near" || len(p.PlacedPlayerSessions) != 2 || aws.ToString(p.IpAddress) != "127.0.0.1" {
			t.Fatalf("placement %+v", p)
		}
		for _, ps := range p.PlacedPlayerSessions {
			if got := joinArena(t, aws.ToString(p.IpAddress), aws.ToInt32(p.Port), aws.ToString(ps.PlayerSessionId)); !strings.HasPrefix(got, "WELCOME") {
				t.Fatalf("%s's JOIN answered %q", aws.ToString(ps.PlayerId), got)
			}
		}
	})

	t.Run("queues and placements speak AWS JSON 1.1 too", func(t *testing.T) {
		res, body, err := s.SignedJSON(ctx, testenv.AdminKeyID, testenv.AdminSecret, "StartGameSessionPlacement",
			`{"PlacementId":"json-1","GameSessionQueueName":"arena-queue","MaximumPlayerSessionCount":2,`+
				`"PlayerLatencies":[{"PlayerId":"erin","RegionIdentifier":"custom-far","LatencyInMilliseconds":12.5}],"DesiredPlayerSessions":[{"PlayerId":"erin"}]}`, time.Now())
		if err != nil || res.StatusCode != 200 || !strings.Contains(string(body), `"Status":"PENDING"`) {
			t.Fatalf("start: %v %v %s", err, res, body)
		}
		waitPlacement(t, gl, "json-1", types.GameSessionPlacementStateFulfilled)
		res, body, err = s.SignedJSON(ctx, testenv.AdminKeyID, testenv.AdminSecret, "DescribeGameSessionPlacement", `{"PlacementId":"json-1"}`, time.Now())
		if err != nil || res.StatusCode != 200 || !strings.Contains(string(body), `"GameSessionRegion":"custom-far"`) || !strings.Contains(string(body), `"LatencyInMilliseconds":12.5`) {
			t.Fatalf("describe: %v %v %s", err, res, body)
		}
		res, body, err = s.SignedJSON(ctx, testenv.AdminKeyID, testenv.AdminSecret, "DescribeGameSessionQueues", `{}`, time.Now())
		if err != nil || res.StatusCode != 200 || !strings.Contains(string(body), `"Name":"arena-queue"`) {
			t.Fatalf("describe queues: %v %v %s", err, res, body)
		}
	})

	t.Run("StopGameSessionPlacement of a fulfilled placement is refused", func(t *testing.T) {
		_, err := gl.StopGameSessionPlacement(ctx, &gamelift.StopGameSessionPlacementInput{PlacementId: aws.String("e2e-1")})
		if apiCode(err) != "InvalidRequestException" {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("a WITH_QUEUE match completes with connection info and every player is let in", func(t *testing.T) {
		mmSetup(t, gl, "arena-mm", e2eOneVOne, func(in *gamelift.CreateMatchmakingConfigurationInput) {
			in.FlexMatchMode = types.FlexMatchModeWithQueue
			in.GameSessionQueueArns = []string{queueArn}
		})
		for _, id := range []string{"carol", "dave"} {
			p := skillPlayer(id, 1000)
			p.LatencyInMs = map[string]int32{"custom-near": 80, "custom-far": 15}
			if _, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String("t-" + id), ConfigurationName: aws.String("arena-mm"),
				Players: []types.Player{p}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"carol", "dave"} {
			tk := waitTicket(t, gl, "t-"+id, types.MatchmakingConfigurationStatusCompleted)
			c := tk.GameSessionConnectionInfo
			if c == nil || aws.ToString(c.IpAddress) != "127.0.0.1" || aws.ToInt32(c.Port) == 0 || !strings.Contains(aws.ToString(c.GameSessionArn), "/custom-far/") {
				t.Fatalf("ticket %s connection info %+v", id, c)
			}
			var mine string
			for _, m := range c.MatchedPlayerSessions {
				if aws.ToString(m.PlayerId) == id {
					mine = aws.ToString(m.PlayerSessionId)
				}
			}
			if got := joinArena(t, aws.ToString(c.IpAddress), aws.ToInt32(c.Port), mine); !strings.HasPrefix(got, "WELCOME") {
				t.Fatalf("%s's JOIN with %q answered %q", id, mine, got)
			}
		}
	})
}

// TestPlacementsSurviveKill9 kills muster serve while placements wait for
// capacity, restarts it, then brings processes: every placement is
// fulfilled once, each on its own process, or still PENDING; none is lost.
func TestPlacementsSurviveKill9(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs muster, an agent and arena")
	}
	dir := t.TempDir()
	s := testenv.Start(t, testenv.WithDataDir(dir), testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	gl := s.Admin()
	ctx := context.Background()
	fleetID := s.CreateArenaFleet(t, testenv.ArenaFleet{Name: "arena", Cost: "0.5", Processes: 3, Locations: []string{"custom-one"}})
	fleetArn := "arn:aws:gamelift:mu-local-1:000000000000:fleet/" + fleetID
	if _, err := gl.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: aws.String("q"), TimeoutInSeconds: aws.Int32(600),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String(fleetArn)}}}); err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		if _, err := gl.StartGameSessionPlacement(ctx, &gamelift.StartGameSessionPlacementInput{PlacementId: aws.String(fmt.Sprintf("crash-%d", i)),
			GameSessionQueueName: aws.String("q"), MaximumPlayerSessionCount: aws.Int32(2),
			DesiredPlayerSessions: []types.DesiredPlayerSession{{PlayerId: aws.String(fmt.Sprintf("player-%d", i))}}}); err != nil {
			t.Fatal(err)
		}
	}
	s.Kill() // SIGKILL while every placement is PENDING
	s2 := testenv.Start(t, testenv.WithDataDir(dir), testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	gl2 := s2.Admin()
	testenv.StartAgent(t, s2, testenv.AgentConfig{FleetID: fleetID, Location: "custom-one", ComputeName: "host-1"})
	count := func() (fulfilled, pending int, sessions map[string]string) {
		sessions = map[string]string{}
		for i := range n {
			out, err := gl2.DescribeGameSessionPlacement(ctx, &gamelift.DescribeGameSessionPlacementInput{PlacementId: aws.String(fmt.Sprintf("crash-%d", i))})
			if err != nil {
				t.Fatal(err)
			}
			switch out.GameSessionPlacement.Status {
			case types.GameSessionPlacementStateFulfilled:
				fulfilled++
				sessions[aws.ToString(out.GameSessionPlacement.GameSessionArn)] = aws.ToString(out.GameSessionPlacement.PlacementId)
			case types.GameSessionPlacementStatePending:
				pending++
			default:
				t.Fatalf("placement crash-%d is %s", i, out.GameSessionPlacement.Status)
			}
		}
		return fulfilled, pending, sessions
	}
	testenv.Eventually(t, "three placements fulfilled on the three processes", 60*time.Second, func() bool { f, _, _ := count(); return f == 3 })
	f, p, sessions := count()
	if f != 3 || p != n-3 || len(sessions) != 3 {
		t.Fatalf("%d fulfilled (%d distinct game sessions), %d pending; want 3, 3, %d", f, len(sessions), p, n-3)
	}
	gs, err := gl2.DescribeGameSessions(ctx, &gamelift.DescribeGameSessionsInput{FleetId: aws.String(fleetID)})
	if err != nil || len(gs.GameSessions) != 3 {
		t.Fatalf("%d game sessions, %v; want 3 (no placement doubled)", len(gs.GameSessions), err)
	}
	for _, g := range gs.GameSessions {
		if _, ok := sessions[aws.ToString(g.GameSessionId)]; !ok {
			t.Fatalf("game session %s belongs to no placement", aws.ToString(g.GameSessionId))
		}
	}
}

// matchEventTimes reads the outbox times of an event type by match id.
func matchEventTimes(t *testing.T, s *testenv.Server, typ string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, e := range adminEvents(t, s, typ) {
		out[flexMatchOf(t, e).MatchID] = e.Time
	}
	return out
}

// TestMatchToCompletedLatencyWithWarmProcesses makes many WITH_QUEUE 1v1
// matches at once against warm arena processes and reports the time from
// each match being made (PotentialMatchCreated) to its tickets COMPLETED
// (MatchmakingSucceeded), from the server's own event times.
//
// It is a measurement, not a check of speed (tests never assert timings):
// it runs only with MUSTER_FIGURES=1, and fails only if a match does not
// complete.
func TestMatchToCompletedLatencyWithWarmProcesses(t *testing.T) {
	if os.Getenv("MUSTER_FIGURES") == "" {
		t.Skip("a measurement with 80 warm arena processes: run with MUSTER_FIGURES=1")
	}
	const perAgent, agents = 40, 2
	s := testenv.Start(t, testenv.WithArgs("--sdk-listen", "127.0.0.1:0"))
	gl := s.Admin()
	ctx := context.Background()
	fleetID, _ := s.StartArenaFleet(t, testenv.ArenaFleet{Name: "arena", Cost: "0.5", Processes: perAgent, Locations: []string{"custom-l1", "custom-l2"}})
	if err := testenv.CreateMatchmaking(ctx, gl, testenv.Matchmaking{Name: "lat-mm", Rules: e2eOneVOne, FleetID: fleetID}); err != nil {
		t.Fatal(err)
	}
	// One match at a time first, then the rest in one burst (all tickets
	// at once), each with its own figures.
	const total = perAgent * agents
	const oneByOne = total / 4
	ticket := func(i int) {
		p := skillPlayer(fmt.Sprintf("p%d", i), 1000)
		p.LatencyInMs = map[string]int32{"custom-l1": int32(10 + i%7), "custom-l2": int32(10 + i%5)}
		if _, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(fmt.Sprintf("t%d", i)),
			ConfigurationName: aws.String("lat-mm"), Players: []types.Player{p}}); err != nil {
			t.Error(err)
		}
	}
	report := func(what string, matches int, seen map[string]bool) {
		t.Helper()
		made := matchEventTimes(t, s, "PotentialMatchCreated")
		done := matchEventTimes(t, s, "MatchmakingSucceeded")
		var lat []time.Duration
		for id, t0 := range made {
			if t1, ok := done[id]; ok && !seen[id] {
				seen[id] = true
				lat = append(lat, t1.Sub(t0))
			}
		}
		if len(lat) != matches {
			t.Fatalf("%d matches completed; want %d", len(lat), matches)
		}
		slices.Sort(lat)
		p50, p99 := lat[len(lat)/2], lat[(len(lat)*99+99)/100-1]
		t.Logf("match made → tickets COMPLETED, %s, %d matches with warm processes: p50 %v, p99 %v (target ≤ 250ms), max %v", what, len(lat), p50, p99, lat[len(lat)-1])
	}
	seen := map[string]bool{}
	for m := range oneByOne {
		ticket(2 * m)
		ticket(2*m + 1)
		waitTicket(t, gl, fmt.Sprintf("t%d", 2*m), types.MatchmakingConfigurationStatusCompleted)
		waitTicket(t, gl, fmt.Sprintf("t%d", 2*m+1), types.MatchmakingConfigurationStatusCompleted)
	}
	report("one match at a time", oneByOne, seen)
	var wg sync.WaitGroup
	for i := 2 * oneByOne; i < 2*total; i++ {
		wg.Go(func() { ticket(i) })
	}
	wg.Wait()
	for i := 2 * oneByOne; i < 2*total; i++ {
		waitTicket(t, gl, fmt.Sprintf("t%d", i), types.MatchmakingConfigurationStatusCompleted)
	}
	report(fmt.Sprintf("a burst of %d tickets", 2*(total-oneByOne)), total-oneByOne, seen)
}
