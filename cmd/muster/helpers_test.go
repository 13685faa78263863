package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/aws/smithy-go"

	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/testenv"
)

// The set-up and reads the end-to-end tests of this package share: an
// admin's requests, the outbox, matchmaking rule sets and configurations,
// players of the player API, and the muster CLI.

// e2eDuelRules and e2eOneVOne pit a red team against a blue one of up to
// two and one players: skills within 50, or anything after 20 s.
var e2eDuelRules, e2eOneVOne = redVersusBlue(2), redVersusBlue(1)

func redVersusBlue(maxPlayers int) string {
	return fmt.Sprintf(`{
  "ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": %[1]d}, {"name": "blue", "minPlayers": 1, "maxPlayers": %[1]d}],
  "rules": [{"name": "FairSkill", "type": "distance",
             "measurements": "max(flatten(teams[*].players.attributes[skill]))",
             "referenceValue": "min(flatten(teams[*].players.attributes[skill]))",
             "maxDistance": 50}],
  "expansions": [{"target": "rules[FairSkill].maxDistance", "steps": [{"waitTimeSeconds": 20, "value": 5000}]}]
}`, maxPlayers)
}

// mmSetup creates the rule set <name>-rules and a standalone configuration
// name on it (60 s timeout, no acceptance), which mutate may change first.
func mmSetup(t *testing.T, gl *gamelift.Client, name, rules string, mutate func(*gamelift.CreateMatchmakingConfigurationInput)) {
	t.Helper()
	if err := testenv.CreateMatchmaking(context.Background(), gl, testenv.Matchmaking{Name: name, Rules: rules, Mutate: mutate}); err != nil {
		t.Fatal(err)
	}
}

func skillPlayer(id string, skill float64) types.Player {
	return types.Player{PlayerId: aws.String(id), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(skill)}}}
}

// waitTicket polls DescribeMatchmaking until the ticket has the status
// (the matching loop runs on its own).
func waitTicket(t *testing.T, gl *gamelift.Client, id string, status types.MatchmakingConfigurationStatus) types.MatchmakingTicket {
	t.Helper()
	return waitTicketWithin(t, gl, id, status, 10*time.Second)
}

// waitTicketWithin is waitTicket with its own timeout, for tickets that
// wait on game servers or on a lease moving between replicas.
func waitTicketWithin(t *testing.T, gl *gamelift.Client, id string, status types.MatchmakingConfigurationStatus, timeout time.Duration) types.MatchmakingTicket {
	t.Helper()
	var tk types.MatchmakingTicket
	testenv.Eventually(t, fmt.Sprintf("ticket %s to be %s", id, status), timeout, func() bool {
		out, err := gl.DescribeMatchmaking(context.Background(), &gamelift.DescribeMatchmakingInput{TicketIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TicketList) == 1 {
			tk = out.TicketList[0]
		}
		return tk.Status == status
	})
	return tk
}

// waitGameSessionActive polls DescribeGameSessions until the game session
// is ACTIVE; a failed call is tried again, as a replica may be going away.
func waitGameSessionActive(t *testing.T, gl *gamelift.Client, id string, timeout time.Duration) types.GameSession {
	t.Helper()
	var gs types.GameSession
	testenv.Eventually(t, "the game session "+id+" to be ACTIVE", timeout, func() bool {
		out, err := gl.DescribeGameSessions(context.Background(), &gamelift.DescribeGameSessionsInput{GameSessionId: aws.String(id)})
		if err != nil || len(out.GameSessions) != 1 {
			return false
		}
		gs = out.GameSessions[0]
		return gs.Status == types.GameSessionStatusActive
	})
	return gs
}

// playerClient is a game client with an anonymous identity.
type playerClient struct {
	t     *testing.T
	s     *testenv.Server
	id    string
	token string
}

func newPlayer(t *testing.T, s *testenv.Server) *playerClient {
	t.Helper()
	res, body, err := s.Request(context.Background(), http.MethodPost, "/v1/identity/anonymous", "", `{}`)
	if err != nil || res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		t.Fatalf("anonymous identity: %v %v %s", err, res, body)
	}
	var tok struct{ IdentityID, AccessToken string }
	json.Unmarshal(body, &tok)
	return &playerClient{t: t, s: s, id: tok.IdentityID, token: tok.AccessToken}
}

func (p *playerClient) do(method, path, body string) (int, map[string]any) {
	p.t.Helper()
	res, b, err := p.s.Request(context.Background(), method, path, p.token, body)
	if err != nil {
		p.t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return res.StatusCode, m
}

func waitPlayerTicket(t *testing.T, p *playerClient, id, status string) map[string]any {
	t.Helper()
	var (
		code int
		tk   map[string]any
	)
	testenv.Eventually(t, fmt.Sprintf("the player's ticket %s to be %s", id, status), 10*time.Second, func() bool {
		code, tk = p.do(http.MethodGet, "/v1/matchmaking/tickets/"+id, "")
		return code == http.StatusOK && tk["status"] == status
	})
	return tk
}

// adminDo sends an admin's request to s and fails the test unless it is
// answered with a 2xx status; it returns the body.
func adminDo(t testing.TB, s *testenv.Server, method, path, body string) []byte {
	t.Helper()
	res, b, err := s.Bearer(context.Background(), method, path, body)
	if err != nil || res.StatusCode >= 300 {
		t.Fatalf("%s %s: %v %v %s", method, path, err, res, b)
	}
	return b
}

func setSkill(t *testing.T, s *testenv.Server, id string, skill float64) {
	t.Helper()
	adminDo(t, s, http.MethodPatch, "/v1/admin/players/"+id, fmt.Sprintf(`{"attributes":{"skill":{"N":%g}}}`, skill))
}

// allowPlayers lets players start tickets in the configuration through the
// player API.
func allowPlayers(t testing.TB, s *testenv.Server, configuration string) {
	t.Helper()
	adminDo(t, s, http.MethodPut, "/v1/admin/matchmaking/configurations/"+configuration+"/player-access", `{"allowed":true}`)
}

// advance moves the fake clock of a server started with --fake-clock.
func advance(t testing.TB, s *testenv.Server, seconds int) {
	t.Helper()
	adminDo(t, s, http.MethodPost, "/v1/admin/clock/advance", fmt.Sprintf(`{"seconds":%d}`, seconds))
}

// adminEvents reads every outbox event of the type ("" for all) through
// GET /v1/admin/events, page after page.
func adminEvents(t testing.TB, s *testenv.Server, typ string) []push.OperatorEvent {
	t.Helper()
	var all []push.OperatorEvent
	after := int64(0)
	for {
		body := adminDo(t, s, http.MethodGet, "/v1/admin/events?limit=1000&after="+strconv.FormatInt(after, 10)+"&type="+typ, "")
		var page struct {
			Events []push.OperatorEvent `json:"events"`
			Next   int64                `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("events: %v: %s", err, body)
		}
		if len(page.Events) == 0 {
			return all
		}
		all = append(all, page.Events...)
		after = page.Next
	}
}

// flexMatchOf decodes the detail of a FlexMatch event.
func flexMatchOf(t testing.TB, e push.OperatorEvent) matchmaking.Detail {
	t.Helper()
	var env matchmaking.Envelope
	if err := json.Unmarshal(e.Detail, &env); err != nil {
		t.Fatalf("event %s: %v: %s", e.ID, err, e.Detail)
	}
	return env.Detail
}

// musterCLI runs the muster command with an admin's key in its
// environment and returns what it wrote.
func musterCLI(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), args...)
	cmd.Env = append(os.Environ(), "MUSTER_ACCESS_KEY_ID="+testenv.AdminKeyID, "MUSTER_SECRET_ACCESS_KEY="+testenv.AdminSecret)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func locationNames(t *testing.T, gl *gamelift.Client) []string {
	t.Helper()
	var names []string
	p := gamelift.NewListLocationsPaginator(gl, &gamelift.ListLocationsInput{Limit: aws.Int32(200)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListLocations: %v", err)
		}
		for _, l := range out.Locations {
			names = append(names, aws.ToString(l.LocationName))
		}
	}
	return names
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// runJSTests runs one node:test file of test/js against a fresh `muster
// serve`, with the real @aws-sdk/client-gamelift (AWS JSON 1.1). It gives
// the file the endpoint, an admin key and a read-only key in MUSTER_*
// variables. In CI a missing npm install fails the test; elsewhere it skips.
func runJSTests(t *testing.T, file string) {
	t.Helper()
	node, jsDir := testenv.JSTests(t, "@aws-sdk/client-gamelift")
	s := testenv.Start(t)
	id, secret := s.ReadOnlyKey(t)
	cmd := exec.Command(node, "--test", "--test-reporter=spec", file)
	cmd.Dir = jsDir
	cmd.Env = append(os.Environ(), "MUSTER_ENDPOINT="+s.URL(), "MUSTER_ACCESS_KEY_ID="+testenv.AdminKeyID,
		"MUSTER_SECRET_ACCESS_KEY="+testenv.AdminSecret, "MUSTER_RO_ACCESS_KEY_ID="+id, "MUSTER_RO_SECRET_ACCESS_KEY="+secret)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test %s:\n%s", file, out)
	if err != nil {
		t.Fatalf("JavaScript SDK tests in %s failed: %v", file, err)
	}
}
