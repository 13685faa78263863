package main_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
)

func TestMatchmakingWithTheGoSDK(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t)
	ctx := context.Background()
	gl := s.Admin()
	mmSetup(t, gl, "duel", e2eOneVOne, nil)

	t.Run("an invalid rule set is refused with every problem", func(t *testing.T) {
		_, err := gl.ValidateMatchmakingRuleSet(ctx, &gamelift.ValidateMatchmakingRuleSetInput{RuleSetBody: aws.String(`{"ruleLanguageVersion":"1.0","teams":[{"name":"a","maxPlayers":0}],"rules":[{"name":"x","type":"nope"}]}`)})
		if apiCode(err) != "InvalidRequestException" || !strings.Contains(err.Error(), "maxPlayers") || !strings.Contains(err.Error(), "rules[0]") {
			t.Fatal(err)
		}
		out, err := gl.ValidateMatchmakingRuleSet(ctx, &gamelift.ValidateMatchmakingRuleSetInput{RuleSetBody: aws.String(e2eDuelRules)})
		if err != nil || !aws.ToBool(out.Valid) {
			t.Fatal(err)
		}
	})
	t.Run("rule sets and configurations are described by name or ARN", func(t *testing.T) {
		rs, err := gl.DescribeMatchmakingRuleSets(ctx, &gamelift.DescribeMatchmakingRuleSetsInput{Names: []string{"arn:aws:gamelift:mu-local-1:000000000000:matchmakingruleset/duel-rules"}})
		if err != nil || len(rs.RuleSets) != 1 || aws.ToString(rs.RuleSets[0].RuleSetBody) != e2eOneVOne {
			t.Fatal(err, rs)
		}
		cs, err := gl.DescribeMatchmakingConfigurations(ctx, &gamelift.DescribeMatchmakingConfigurationsInput{Names: []string{"duel"}})
		if err != nil || len(cs.Configurations) != 1 {
			t.Fatal(err)
		}
		c := cs.Configurations[0]
		if aws.ToString(c.ConfigurationArn) != "arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/duel" || c.FlexMatchMode != types.FlexMatchModeStandalone ||
			aws.ToInt32(c.RequestTimeoutSeconds) != 60 || c.BackfillMode != types.BackfillModeManual {
			t.Fatalf("%+v", c)
		}
		up, err := gl.UpdateMatchmakingConfiguration(ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: aws.String("duel"), CustomEventData: aws.String("season-7")})
		if err != nil || aws.ToString(up.Configuration.CustomEventData) != "season-7" {
			t.Fatal(err)
		}
		_, err = gl.DeleteMatchmakingRuleSet(ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: aws.String("duel-rules")})
		if apiCode(err) != "InvalidRequestException" {
			t.Fatalf("deleting a rule set in use: %v", err)
		}
		_, err = gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String("q"), RuleSetName: aws.String("duel-rules"),
			RequestTimeoutSeconds: aws.Int32(0), AcceptanceRequired: aws.Bool(true)})
		if apiCode(err) != "InvalidRequestException" || !strings.Contains(err.Error(), "RequestTimeoutSeconds") {
			t.Fatal(err)
		}
	})
	t.Run("two close players are matched: QUEUED, then COMPLETED with teams", func(t *testing.T) {
		a, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String("t-a"), ConfigurationName: aws.String("duel"), Players: []types.Player{skillPlayer("p-a", 1000)}})
		if err != nil || a.MatchmakingTicket.Status != types.MatchmakingConfigurationStatusQueued {
			t.Fatal(err)
		}
		waitTicket(t, gl, "t-a", types.MatchmakingConfigurationStatusSearching)
		if _, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String("t-b"), ConfigurationName: aws.String("arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/duel"),
			Players: []types.Player{skillPlayer("p-b", 1020)}}); err != nil {
			t.Fatal(err)
		}
		ta := waitTicket(t, gl, "t-a", types.MatchmakingConfigurationStatusCompleted)
		tb := waitTicket(t, gl, "t-b", types.MatchmakingConfigurationStatusCompleted)
		if aws.ToString(ta.Players[0].Team) == aws.ToString(tb.Players[0].Team) || ta.EndTime == nil || ta.StartTime == nil {
			t.Fatalf("%+v %+v", ta.Players, tb.Players)
		}
	})
	t.Run("a player in an active ticket cannot start another; the same TicketId is idempotent", func(t *testing.T) {
		in := &gamelift.StartMatchmakingInput{TicketId: aws.String("t-c"), ConfigurationName: aws.String("duel"), Players: []types.Player{skillPlayer("p-c", 3000)}}
		if _, err := gl.StartMatchmaking(ctx, in); err != nil {
			t.Fatal(err)
		}
		again, err := gl.StartMatchmaking(ctx, in)
		if err != nil || aws.ToString(again.MatchmakingTicket.TicketId) != "t-c" {
			t.Fatal(err)
		}
		_, err = gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{ConfigurationName: aws.String("duel"), Players: []types.Player{skillPlayer("p-c", 3000)}})
		if apiCode(err) != "InvalidRequestException" {
			t.Fatal(err)
		}
	})
	t.Run("StopMatchmaking cancels a ticket, then refuses", func(t *testing.T) {
		if _, err := gl.StopMatchmaking(ctx, &gamelift.StopMatchmakingInput{TicketId: aws.String("t-c")}); err != nil {
			t.Fatal(err)
		}
		tk := waitTicket(t, gl, "t-c", types.MatchmakingConfigurationStatusCancelled)
		if aws.ToString(tk.StatusReason) != "Cancelled" {
			t.Fatal(aws.ToString(tk.StatusReason))
		}
		if _, err := gl.StopMatchmaking(ctx, &gamelift.StopMatchmakingInput{TicketId: aws.String("t-c")}); apiCode(err) != "InvalidRequestException" {
			t.Fatal(err)
		}
		if _, err := gl.StopMatchmaking(ctx, &gamelift.StopMatchmakingInput{TicketId: aws.String("nope")}); apiCode(err) != "NotFoundException" {
			t.Fatal(err)
		}
	})
	t.Run("DescribeMatchmaking omits unknown ids", func(t *testing.T) {
		out, err := gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"t-a", "zzz", "t-b"}})
		if err != nil || len(out.TicketList) != 2 {
			t.Fatal(err, out)
		}
	})
	t.Run("manual backfill adds a new player to a match's open slot", func(t *testing.T) {
		mmSetup(t, gl, "squad", e2eDuelRules, nil)
		out, err := gl.StartMatchBackfill(ctx, &gamelift.StartMatchBackfillInput{TicketId: aws.String("bf-1"), ConfigurationName: aws.String("squad"), Players: []types.Player{
			{PlayerId: aws.String("old-1"), Team: aws.String("red"), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(1000)}}},
			{PlayerId: aws.String("old-2"), Team: aws.String("blue"), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(1000)}}},
		}})
		if err != nil || out.MatchmakingTicket.Status != types.MatchmakingConfigurationStatusQueued {
			t.Fatal(err)
		}
		waitTicket(t, gl, "bf-1", types.MatchmakingConfigurationStatusSearching)
		if _, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String("new-1"), ConfigurationName: aws.String("squad"), Players: []types.Player{skillPlayer("new-1", 1010)}}); err != nil {
			t.Fatal(err)
		}
		bf := waitTicket(t, gl, "bf-1", types.MatchmakingConfigurationStatusCompleted)
		nw := waitTicket(t, gl, "new-1", types.MatchmakingConfigurationStatusCompleted)
		if len(bf.Players) != 2 || nw.Players[0].Team == nil {
			t.Fatalf("%+v %+v", bf.Players, nw.Players)
		}
		_, err = gl.StartMatchBackfill(ctx, &gamelift.StartMatchBackfillInput{ConfigurationName: aws.String("squad"), Players: []types.Player{{PlayerId: aws.String("x")}}})
		if apiCode(err) != "InvalidRequestException" || !strings.Contains(err.Error(), "Team") {
			t.Fatal(err)
		}
	})
	t.Run("a read-only key may describe but not start", func(t *testing.T) {
		id, secret := s.ReadOnlyKey(t)
		ro := s.GameLift(id, secret)
		if _, err := ro.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{"t-a"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := ro.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{ConfigurationName: aws.String("duel"), Players: []types.Player{skillPlayer("ro", 1)}}); err == nil {
			t.Fatal("a read-only key started a ticket")
		}
	})
}

func TestMatchmakingThroughThePlayerAPI(t *testing.T) {
	t.Parallel()
	// The player API's rate limits refill on the server's clock, which
	// stands still here: without lifting them, the polls below would run
	// the client IP's bucket dry and be answered 429.
	s := testenv.Start(t, testenv.WithArgs("--fake-clock", "--player-ip-rate", "0", "--player-identity-rate", "0"))
	ctx := context.Background()
	gl := s.Admin()
	mmSetup(t, gl, "squad", e2eDuelRules, nil)
	mmSetup(t, gl, "acc", e2eOneVOne, func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.AcceptanceRequired, in.AcceptanceTimeoutSeconds = aws.Bool(true), aws.Int32(30)
	})
	mmSetup(t, gl, "closed", e2eOneVOne, nil)
	// The players' latencies name custom-home: a location Muster must know.
	if _, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String("custom-home")}); err != nil {
		t.Fatal(err)
	}
	allowPlayers(t, s, "squad")
	allowPlayers(t, s, "acc")
	ann, bob, cat, dan := newPlayer(t, s), newPlayer(t, s), newPlayer(t, s), newPlayer(t, s)
	for _, p := range []*playerClient{ann, bob, cat, dan} {
		setSkill(t, s, p.id, 1500)
	}
	var annTicket string

	t.Run("every route needs a player token", func(t *testing.T) {
		for _, r := range [][2]string{{"POST", "/v1/matchmaking/tickets"}, {"GET", "/v1/matchmaking/tickets/x"}, {"DELETE", "/v1/matchmaking/tickets/x"},
			{"POST", "/v1/matchmaking/tickets/x/accept"}, {"GET", "/v1/matchmaking/tickets/x/explain"}, {"POST", "/v1/parties"}, {"POST", "/v1/parties/x/join"},
			{"POST", "/v1/parties/x/leave"}, {"GET", "/v1/parties/x"}, {"GET", "/v1/admin/matchmaking/tickets/x/explain"}} {
			res, _, err := s.Request(ctx, r[0], r[1], "", "")
			if err != nil || res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s %s: %v %v", r[0], r[1], err, res.StatusCode)
			}
		}
		if res, _, err := s.Request(ctx, http.MethodPut, "/v1/admin/matchmaking/configurations/squad/player-access", "", `{"allowed":false}`); err != nil || res.StatusCode != http.StatusUnauthorized {
			t.Fatal("player-access without credentials", err)
		}
		roID, roSecret := s.ReadOnlyKey(t)
		if res, _, err := s.Request(ctx, http.MethodPut, "/v1/admin/matchmaking/configurations/squad/player-access", roID+":"+roSecret, `{"allowed":false}`); err != nil || res.StatusCode != http.StatusForbidden {
			t.Fatal("a read-only key changed player access", err, res.StatusCode)
		}
		if res, _, err := s.Request(ctx, http.MethodGet, "/v1/admin/matchmaking/tickets/x/explain", roID+":"+roSecret, ""); err != nil || res.StatusCode != http.StatusNotFound {
			t.Fatal("a read-only key cannot explain", err, res.StatusCode)
		}
		// a player token is not an operator credential
		if code, _ := ann.do(http.MethodGet, "/v1/admin/matchmaking/tickets/x/explain", ""); code != http.StatusUnauthorized && code != http.StatusForbidden {
			t.Fatal(code)
		}
	})
	t.Run("a client that sends attributes is refused", func(t *testing.T) {
		code, body := ann.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"squad","attributes":{"skill":{"N":9999}}}`)
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body), "attributes") {
			t.Fatal(code, body)
		}
	})
	t.Run("configurations players may not use are refused", func(t *testing.T) {
		if code, _ := ann.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"closed"}`); code != http.StatusForbidden {
			t.Fatal(code)
		}
	})
	t.Run("a player starts a ticket and only its players can read it", func(t *testing.T) {
		code, tk := ann.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"squad","latencyInMs":{"custom-home":20}}`)
		if code != http.StatusCreated || tk["status"] != "QUEUED" {
			t.Fatal(code, tk)
		}
		annTicket = tk["ticketId"].(string)
		if code, _ := bob.do(http.MethodGet, "/v1/matchmaking/tickets/"+annTicket, ""); code != http.StatusNotFound {
			t.Fatal(code)
		}
		if code, _ := bob.do(http.MethodDelete, "/v1/matchmaking/tickets/"+annTicket, ""); code != http.StatusNotFound {
			t.Fatal(code)
		}
		tk = waitPlayerTicket(t, ann, annTicket, "SEARCHING")
		players := tk["players"].([]any)
		if players[0].(map[string]any)["playerId"] != ann.id {
			t.Fatal(tk)
		}
		// The backend filled the attributes from the player data table.
		out, _ := gl.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: []string{annTicket}})
		if aws.ToFloat64(out.TicketList[0].Players[0].PlayerAttributes["skill"].N) != 1500 {
			t.Fatalf("%+v", out.TicketList[0].Players[0].PlayerAttributes)
		}
		if code, _ := ann.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"squad"}`); code != http.StatusBadRequest {
			t.Fatal("a second active ticket was accepted", code)
		}
	})
	t.Run("explain: players see their own ticket's explanation, operators any", func(t *testing.T) {
		code, x := ann.do(http.MethodGet, "/v1/matchmaking/tickets/"+annTicket+"/explain", "")
		if code != http.StatusOK || x["status"] != "SEARCHING" || x["text"] == "" {
			t.Fatal(code, x)
		}
		if code, _ := bob.do(http.MethodGet, "/v1/matchmaking/tickets/"+annTicket+"/explain", ""); code != http.StatusNotFound {
			t.Fatal(code)
		}
		res, body, err := s.Bearer(ctx, http.MethodGet, "/v1/admin/matchmaking/tickets/"+annTicket+"/explain", "")
		if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(body), "engine") {
			t.Fatal(err, res.StatusCode, string(body))
		}
		out, err := musterCLI(t, "ticket", "explain", "--endpoint", s.URL(), annTicket)
		if err != nil || !strings.Contains(out, annTicket) {
			t.Fatalf("muster ticket explain: %v\n%s", err, out)
		}
	})
	t.Run("parties: only joined members are matched, on one team", func(t *testing.T) {
		code, party := bob.do(http.MethodPost, "/v1/parties", `{"latencyInMs":{"custom-home":30}}`)
		if code != http.StatusCreated {
			t.Fatal(code, party)
		}
		pid, invite := party["partyId"].(string), party["inviteCode"].(string)
		if code, _ := cat.do(http.MethodPost, "/v1/parties/"+pid+"/join", `{"inviteCode":"WRONG"}`); code != http.StatusForbidden {
			t.Fatal("joined with a wrong code", code)
		}
		if code, _ := cat.do(http.MethodPost, "/v1/parties/"+pid+"/join", `{"inviteCode":"`+invite+`","latencyInMs":{"custom-home":25}}`); code != http.StatusOK {
			t.Fatal(code)
		}
		if code, _ := cat.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"squad","partyId":"`+pid+`"}`); code != http.StatusForbidden {
			t.Fatal("a member who is not the leader started the party's ticket", code)
		}
		code, tk := bob.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"squad","partyId":"`+pid+`","latencyInMs":{"custom-home":30}}`)
		if code != http.StatusCreated {
			t.Fatal(code, tk)
		}
		id := tk["ticketId"].(string)
		// ann (alone) and the party (bob + cat) make a 1v2 or 2v1 match.
		done := waitPlayerTicket(t, cat, id, "COMPLETED")
		players := done["players"].([]any)
		if len(players) != 2 {
			t.Fatal(players)
		}
		t1, t2 := players[0].(map[string]any)["team"], players[1].(map[string]any)["team"]
		if t1 == nil || t1 != t2 {
			t.Fatalf("party split across teams: %v", players)
		}
		for _, p := range players {
			if id := p.(map[string]any)["playerId"]; id != bob.id && id != cat.id {
				t.Fatalf("a player who did not join is in the party's ticket: %v", id)
			}
		}
		a := waitPlayerTicket(t, ann, annTicket, "COMPLETED")
		if a["players"].([]any)[0].(map[string]any)["team"] == t1 {
			t.Fatal("ann is on the party's team")
		}
		if code, _ := cat.do(http.MethodPost, "/v1/parties/"+pid+"/leave", ""); code != http.StatusNoContent {
			t.Fatal(code)
		}
		_, pv := bob.do(http.MethodGet, "/v1/parties/"+pid, "")
		if len(pv["members"].([]any)) != 1 {
			t.Fatal(pv)
		}
	})
	t.Run("acceptance through the player API: one rejects", func(t *testing.T) {
		_, ta := ann.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"acc"}`)
		_, td := dan.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"acc"}`)
		a, d := ta["ticketId"].(string), td["ticketId"].(string)
		waitPlayerTicket(t, ann, a, "REQUIRES_ACCEPTANCE")
		waitPlayerTicket(t, dan, d, "REQUIRES_ACCEPTANCE")
		if code, _ := ann.do(http.MethodPost, "/v1/matchmaking/tickets/"+a+"/accept", `{"accept":true}`); code != http.StatusNoContent {
			t.Fatal(code)
		}
		if code, _ := dan.do(http.MethodPost, "/v1/matchmaking/tickets/"+d+"/accept", `{"accept":false}`); code != http.StatusNoContent {
			t.Fatal(code)
		}
		if tk := waitPlayerTicket(t, dan, d, "CANCELLED"); tk["statusReason"] != "REJECTED" {
			t.Fatal(tk)
		}
		waitPlayerTicket(t, ann, a, "SEARCHING")
		if code, _ := ann.do(http.MethodDelete, "/v1/matchmaking/tickets/"+a, ""); code != http.StatusNoContent {
			t.Fatal(code)
		}
		waitPlayerTicket(t, ann, a, "CANCELLED")
	})
	t.Run("with the fake clock: acceptance times out, expansions open, tickets time out", func(t *testing.T) {
		_, ta := ann.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"acc"}`)
		_, td := dan.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"acc"}`)
		a, d := ta["ticketId"].(string), td["ticketId"].(string)
		waitPlayerTicket(t, ann, a, "REQUIRES_ACCEPTANCE")
		ann.do(http.MethodPost, "/v1/matchmaking/tickets/"+a+"/accept", `{"accept":true}`)
		advance(t, s, 31)
		waitPlayerTicket(t, ann, a, "SEARCHING")
		if tk := waitPlayerTicket(t, dan, d, "CANCELLED"); tk["statusReason"] != "ACCEPTANCE_TIMEOUT" {
			t.Fatal(tk)
		}
		// a far-apart opponent is matched once the expansion starts (20 s)
		setSkill(t, s, cat.id, 3000)
		_, tc := cat.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"acc"}`)
		c := tc["ticketId"].(string)
		waitPlayerTicket(t, cat, c, "SEARCHING")
		advance(t, s, 21)
		waitPlayerTicket(t, cat, c, "REQUIRES_ACCEPTANCE")
		ann.do(http.MethodPost, "/v1/matchmaking/tickets/"+a+"/accept", `{"accept":true}`)
		cat.do(http.MethodPost, "/v1/matchmaking/tickets/"+c+"/accept", `{"accept":true}`)
		if tk := waitPlayerTicket(t, cat, c, "COMPLETED"); tk["endTime"] == "" {
			t.Fatal(tk)
		}
		_, tdd := dan.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"acc"}`)
		dd := tdd["ticketId"].(string)
		waitPlayerTicket(t, dan, dd, "SEARCHING")
		advance(t, s, 61)
		if tk := waitPlayerTicket(t, dan, dd, "TIMED_OUT"); tk["statusReason"] != "TimedOut" {
			t.Fatal(tk)
		}
	})
	t.Run("every FlexMatch event type was written to the outbox", func(t *testing.T) {
		written := map[string]bool{}
		for _, e := range adminEvents(t, s, "") {
			written[e.Type] = true
		}
		for _, ty := range []string{"MatchmakingSearching", "PotentialMatchCreated", "AcceptMatch", "AcceptMatchCompleted", "MatchmakingSucceeded", "MatchmakingTimedOut", "MatchmakingCancelled"} {
			if !written[ty] {
				t.Errorf("no %s event", ty)
			}
		}
	})
}

// TestUnmatchableTicketFailsAtOnce starts tickets the rule set can never
// match through the Go SDK and the player API on a server whose clock
// stands still: each fails with UNMATCHABLE and its reason, visible in
// DescribeMatchmaking, the player's ticket, and `muster ticket explain`,
// without its request timeout passing.
func TestUnmatchableTicketFailsAtOnce(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.WithArgs("--fake-clock"))
	ctx := context.Background()
	gl := s.Admin()
	// Skill has no default: a ticket without one can never match.
	mmSetup(t, gl, "strict", strings.Replace(e2eDuelRules, `, "default": 1000`, "", 1), nil)
	allowPlayers(t, s, "strict")

	t.Run("StartMatchmaking: a party larger than every team fails, naming why", func(t *testing.T) {
		_, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String("crowd"), ConfigurationName: aws.String("strict"),
			Players: []types.Player{skillPlayer("c1", 1000), skillPlayer("c2", 1000), skillPlayer("c3", 1000)}})
		if err != nil {
			t.Fatal(err)
		}
		tk := waitTicket(t, gl, "crowd", types.MatchmakingConfigurationStatusFailed)
		if aws.ToString(tk.StatusReason) != "UNMATCHABLE" || !strings.Contains(aws.ToString(tk.StatusMessage), "3 players but the largest team holds 2") {
			t.Fatalf("ticket %s: %s", aws.ToString(tk.StatusReason), aws.ToString(tk.StatusMessage))
		}
		out, err := musterCLI(t, "ticket", "explain", "--endpoint", s.URL(), "crowd")
		if err != nil || !strings.Contains(out, "UNMATCHABLE") || !strings.Contains(out, "largest team") {
			t.Fatalf("muster ticket explain: %v\n%s", err, out)
		}
	})
	t.Run("player API: a player without the attribute sees the failure and its reason", func(t *testing.T) {
		p := newPlayer(t, s) // no skill in the player data table
		code, tk := p.do(http.MethodPost, "/v1/matchmaking/tickets", `{"configurationName":"strict"}`)
		if code != http.StatusCreated && code != http.StatusOK {
			t.Fatal(code, tk)
		}
		id, _ := tk["ticketId"].(string)
		got := waitPlayerTicket(t, p, id, "FAILED")
		if got["statusReason"] != "UNMATCHABLE" || !strings.Contains(got["statusMessage"].(string), `no value for attribute "skill"`) {
			t.Fatalf("the player sees %v", got)
		}
		code, x := p.do(http.MethodGet, "/v1/matchmaking/tickets/"+id+"/explain", "")
		if code != http.StatusOK || !strings.Contains(x["text"].(string), "UNMATCHABLE") {
			t.Fatal(code, x)
		}
	})
}

// TestMatchmakingSurvivesKill9 kills muster serve while tickets arrive and
// match, restarts it, and checks every accepted ticket's fate: none lost,
// none matched twice.
func TestMatchmakingSurvivesKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := testenv.Start(t, testenv.WithDataDir(dir))
	ctx := context.Background()
	gl := s.Admin()
	mmSetup(t, gl, "crash", e2eOneVOne, nil)
	var accepted sync.Map
	var n atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", w, i)
				_, err := gl.StartMatchmaking(ctx, &gamelift.StartMatchmakingInput{TicketId: aws.String(id), ConfigurationName: aws.String("crash"),
					Players: []types.Player{skillPlayer("p-"+id, 1000)}})
				if err == nil {
					accepted.Store(id, true)
					n.Add(1)
				}
			}
		})
	}
	for n.Load() < 300 {
		time.Sleep(time.Millisecond)
	}
	s.Kill() // SIGKILL
	close(stop)
	wg.Wait()
	s2 := testenv.Start(t, testenv.WithDataDir(dir))
	gl2 := s2.Admin()
	var ids []string
	accepted.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	t.Logf("%d tickets accepted before the kill", len(ids))
	// Let the restarted loop match what it can, then check every ticket.
	deadline := time.Now().Add(10 * time.Second)
	for {
		searching, matched := 0, map[string]int{}
		var stuck []string
		var lost []string
		for i := 0; i < len(ids); i += 10 {
			batch := ids[i:min(i+10, len(ids))]
			out, err := gl2.DescribeMatchmaking(ctx, &gamelift.DescribeMatchmakingInput{TicketIds: batch})
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]bool{}
			for _, tk := range out.TicketList {
				found[aws.ToString(tk.TicketId)] = true
				switch tk.Status {
				case types.MatchmakingConfigurationStatusSearching, types.MatchmakingConfigurationStatusQueued:
					searching++
					stuck = append(stuck, aws.ToString(tk.TicketId))
				case types.MatchmakingConfigurationStatusCompleted:
					matched[aws.ToString(tk.Players[0].PlayerId)]++
				default:
					t.Fatalf("ticket %s is %s", aws.ToString(tk.TicketId), tk.Status)
				}
			}
			for _, id := range batch {
				if !found[id] {
					lost = append(lost, id)
				}
			}
		}
		if len(lost) > 0 {
			t.Fatalf("tickets lost across kill -9: %v", lost)
		}
		for p, c := range matched {
			if c != 1 {
				t.Fatalf("player %s matched %d times", p, c)
			}
		}
		if searching <= 1 || time.Now().After(deadline) {
			t.Logf("after restart: %d completed, %d still searching", len(matched), searching)
			if searching > 1 {
				for _, id := range stuck[:min(3, len(stuck))] {
					_, body, _ := s2.Bearer(ctx, http.MethodGet, "/v1/admin/matchmaking/tickets/"+id+"/explain", "")
					t.Logf("%s", body)
				}
				t.Fatalf("%d tickets still searching 10 s after the restart", searching)
			}
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the restarted server's real state, not waiting out a timeout
	}
}

func TestMatchmakingWithTheJavaScriptSDK(t *testing.T) {
	t.Parallel()
	runJSTests(t, "matchmaking.test.mjs")
}
