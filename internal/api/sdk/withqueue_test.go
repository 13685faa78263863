package sdk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// These tests run WITH_QUEUE matchmaking on the real services end to end:
// matchmaking, the placement queue, the fleet, game and player sessions, a
// real Go-SDK game server, and the Go SDK client on the control API.

const squadRules = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":1000}],
 "teams":[{"name":"red","minPlayers":1,"maxPlayers":2},{"name":"blue","minPlayers":1,"maxPlayers":2}],
 "rules":[{"name":"FairSkill","type":"distance","measurements":"max(flatten(teams[*].players.attributes[skill]))",
           "referenceValue":"min(flatten(teams[*].players.attributes[skill]))","maxDistance":50}]}`

// backfillRules are a duel whose teams have room for a second player.
const backfillRules = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":10}],
 "teams":[{"name":"red","minPlayers":1,"maxPlayers":2},{"name":"blue","minPlayers":1,"maxPlayers":2}]}`

// withQueue creates the squad rule set, a queue "main" on the test fleet
// and a WITH_QUEUE configuration "q" with the given backfill mode.
func (e *env) withQueue(backfill types.BackfillMode) string {
	e.t.Helper()
	return e.withQueueConfig("q", "squad", squadRules, backfill)
}

// withQueueConfig creates the rule set ruleSet of rules, a queue "main" on
// the test fleet and a WITH_QUEUE configuration name on both with the given
// backfill mode, and returns the queue's ARN.
func (e *env) withQueueConfig(name, ruleSet, rules string, backfill types.BackfillMode) string {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.gl.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String(ruleSet), RuleSetBody: aws.String(rules)}); err != nil {
		e.t.Fatal(err)
	}
	queueARN := e.createQueue("main")
	if _, err := e.gl.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String(name), RuleSetName: aws.String(ruleSet),
		RequestTimeoutSeconds: aws.Int32(120), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeWithQueue,
		GameSessionQueueArns: []string{queueARN}, BackfillMode: backfill}); err != nil {
		e.t.Fatal(err)
	}
	return queueARN
}

func (e *env) createQueue(name string) string {
	e.t.Helper()
	q, err := e.gl.CreateGameSessionQueue(context.Background(), &gl.CreateGameSessionQueueInput{Name: aws.String(name), TimeoutInSeconds: aws.Int32(60),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String("arn:aws:gamelift:mu-local-1:000000000000:fleet/" + e.fleetID)}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(q.GameSessionQueue.GameSessionQueueArn)
}

func (e *env) startTicket(ticket, player string, skill float64) {
	e.t.Helper()
	_, err := e.gl.StartMatchmaking(context.Background(), &gl.StartMatchmakingInput{TicketId: aws.String(ticket), ConfigurationName: aws.String("q"),
		Players: []types.Player{{PlayerId: aws.String(player), PlayerAttributes: map[string]types.AttributeValue{"skill": {N: aws.Float64(skill)}}}}})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) ticket(id string) types.MatchmakingTicket {
	e.t.Helper()
	out, err := e.gl.DescribeMatchmaking(context.Background(), &gl.DescribeMatchmakingInput{TicketIds: []string{id}})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(out.TicketList) != 1 {
		e.t.Fatalf("ticket %s not found", id)
	}
	return out.TicketList[0]
}

func (e *env) waitTicket(id string, want types.MatchmakingConfigurationStatus) types.MatchmakingTicket {
	e.t.Helper()
	var tk types.MatchmakingTicket
	e.waitFor("ticket "+id+" to be "+string(want), func() bool {
		tk = e.ticket(id)
		return tk.Status == want
	})
	return tk
}

func TestAWithQueueMatchIsPlacedAndAutomaticBackfillFillsIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g := e.startReady("")
	e.withQueue(types.BackfillModeAutomatic)

	e.startTicket("a", "pa", 1000)
	e.startTicket("b", "pb", 1000)
	a := e.waitTicket("a", types.MatchmakingConfigurationStatusCompleted)
	gs := aws.ToString(a.GameSessionConnectionInfo.GameSessionArn)
	start := g.Wait("event", "start")
	t.Run("the match is placed on the process and the tickets complete with connection info", func(t *testing.T) {
		ci := a.GameSessionConnectionInfo
		if start["gameSessionId"] != gs || aws.ToString(ci.IpAddress) != "127.0.0.1" || aws.ToInt32(ci.Port) != 7777 ||
			len(ci.MatchedPlayerSessions) != 1 || aws.ToString(ci.MatchedPlayerSessions[0].PlayerId) != "pa" {
			t.Fatalf("connection info %+v for game session %v", ci, start["gameSessionId"])
		}
		if a := g.Wait("event", "activated"); a["err"] != "" {
			t.Fatalf("ActivateGameSession: %v", a["err"])
		}
		if err := g.CallErr("accept", aws.ToString(ci.MatchedPlayerSessions[0].PlayerSessionId)); err != "" {
			t.Fatalf("AcceptPlayerSession of pa: %s", err)
		}
	})
	t.Run("the game session's matchmaker data announces the automatic backfill ticket, which searches", func(t *testing.T) {
		data := e.gameSessionData(gs)
		if data == "" || !strings.Contains(data, `"autoBackfillTicketId":"auto-backfill-`) || !strings.Contains(data, `"skill":{"attributeType":"DOUBLE","valueAttribute":1000.0}`) {
			t.Fatalf("matchmaker data %q", data)
		}
		auto := autoTicket(t, data)
		if tk := e.waitTicket(auto, types.MatchmakingConfigurationStatusSearching); len(tk.Players) != 2 ||
			aws.ToString(tk.GameSessionConnectionInfo.GameSessionArn) != gs {
			t.Fatalf("automatic backfill ticket %+v", tk)
		}
	})
	t.Run("a new player fills the open slot and the game server hears of it", func(t *testing.T) {
		e.startTicket("c", "pc", 1010)
		c := e.waitTicket("c", types.MatchmakingConfigurationStatusCompleted)
		ci := c.GameSessionConnectionInfo
		if aws.ToString(ci.GameSessionArn) != gs || len(ci.MatchedPlayerSessions) != 1 || aws.ToString(ci.MatchedPlayerSessions[0].PlayerId) != "pc" {
			t.Fatalf("connection info %+v", ci)
		}
		if u := g.Wait("event", "update"); u["reason"] != "MATCHMAKING_DATA_UPDATED" {
			t.Fatalf("OnUpdateGameSession %v", u)
		}
		if data := e.gameSessionData(gs); !strings.Contains(data, `"playerId":"pc"`) {
			t.Fatalf("matchmaker data after the backfill %q", data)
		}
		if err := g.CallErr("accept", aws.ToString(ci.MatchedPlayerSessions[0].PlayerSessionId)); err != "" {
			t.Fatalf("AcceptPlayerSession of pc: %s", err)
		}
	})
	t.Run("a player who left is not part of the next backfill request, which can be stopped", func(t *testing.T) {
		b := e.ticket("b")
		if err := g.CallErr("remove", aws.ToString(b.GameSessionConnectionInfo.MatchedPlayerSessions[0].PlayerSessionId)); err != "" {
			t.Fatalf("RemovePlayerSession of pb: %s", err)
		}
		// The automatic ticket following the match may be searching; stop
		// it so that the manual request is the match's only one.
		if auto := autoTicket(t, e.gameSessionData(gs)); auto != "" {
			if tk := e.ticket(auto); tk.Status == types.MatchmakingConfigurationStatusSearching || tk.Status == types.MatchmakingConfigurationStatusQueued {
				if _, err := e.gl.StopMatchmaking(ctx, &gl.StopMatchmakingInput{TicketId: aws.String(auto)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		out, err := e.gl.StartMatchBackfill(ctx, &gl.StartMatchBackfillInput{TicketId: aws.String("manual-1"), ConfigurationName: aws.String("q"), GameSessionArn: aws.String(gs),
			Players: []types.Player{{PlayerId: aws.String("pa"), Team: aws.String("red")}, {PlayerId: aws.String("pb"), Team: aws.String("blue")}, {PlayerId: aws.String("pc"), Team: aws.String("blue")}}})
		if err != nil {
			t.Fatal(err)
		}
		var players []string
		for _, p := range out.MatchmakingTicket.Players {
			players = append(players, aws.ToString(p.PlayerId))
		}
		if strings.Join(players, ",") != "pa,pc" {
			t.Fatalf("backfill request players %v, want pa and pc (pb left)", players)
		}
		if _, err := e.gl.StopMatchmaking(ctx, &gl.StopMatchmakingInput{TicketId: aws.String("manual-1")}); err != nil {
			t.Fatal(err)
		}
		if st := e.ticket("manual-1").Status; st != types.MatchmakingConfigurationStatusCancelled {
			t.Fatalf("stopped backfill ticket %s", st)
		}
		for {
			u := g.Wait("event", "update")
			if u["reason"] == "BACKFILL_CANCELLED" && u["ticket"] == "manual-1" {
				break
			}
		}
	})
}

// matchOf finds the match of a ticket in the PotentialMatchCreated events
// of the outbox.
func (e *env) matchOf(ticket string) string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+e.addr+"/v1/admin/events?type=PotentialMatchCreated&limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey+":"+adminSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Events []struct {
			Envelope struct { // as EventBridge carries it
				Detail struct {
					MatchID string `json:"matchId"`
					Tickets []struct {
						TicketID string `json:"ticketId"`
					} `json:"tickets"`
				} `json:"detail"`
			} `json:"detail"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range out.Events {
		for _, tk := range ev.Envelope.Detail.Tickets {
			if tk.TicketID == ticket {
				return ev.Envelope.Detail.MatchID
			}
		}
	}
	e.t.Fatalf("no PotentialMatchCreated event for ticket %s", ticket)
	return ""
}

// autoTicket reads the automatic backfill ticket id from matchmaker data.
func autoTicket(t *testing.T, data string) string {
	t.Helper()
	const key = `"autoBackfillTicketId":"`
	i := strings.Index(data, key)
	if i < 0 {
		return ""
	}
	rest := data[i+len(key):]
	return rest[:strings.IndexByte(rest, '"')]
}

func (e *env) gameSessionData(arn string) string {
	e.t.Helper()
	out, err := e.gl.DescribeGameSessions(context.Background(), &gl.DescribeGameSessionsInput{GameSessionId: aws.String(arn)})
	if err != nil || len(out.GameSessions) != 1 {
		e.t.Fatalf("DescribeGameSessions %s: %v", arn, err)
	}
	return aws.ToString(out.GameSessions[0].MatchmakerData)
}

func TestAMatchWhosePlacementEndsUnfulfilledFailsItsTickets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.withQueue(types.BackfillModeManual) // no game server: placements wait
	t.Run("a placement that times out times the tickets out", func(t *testing.T) {
		e.startTicket("a", "pa", 1000)
		e.startTicket("b", "pb", 1000)
		e.waitTicket("a", types.MatchmakingConfigurationStatusPlacing)
		e.advance(61 * time.Second) // the queue's TimeoutInSeconds
		a := e.waitTicket("a", types.MatchmakingConfigurationStatusTimedOut)
		if !strings.Contains(aws.ToString(a.StatusMessage), "placement timed out") {
			t.Fatalf("status message %q", aws.ToString(a.StatusMessage))
		}
	})
	t.Run("a placement the operator stops fails the tickets", func(t *testing.T) {
		e.startTicket("x", "px", 3000)
		e.startTicket("y", "py", 3000)
		e.waitTicket("x", types.MatchmakingConfigurationStatusPlacing)
		// A match is placed with its match id as the placement id.
		placement := e.matchOf("x")
		if _, err := e.gl.StopGameSessionPlacement(ctx, &gl.StopGameSessionPlacementInput{PlacementId: aws.String(placement)}); err != nil {
			t.Fatal(err)
		}
		x := e.waitTicket("x", types.MatchmakingConfigurationStatusFailed)
		if aws.ToString(x.StatusReason) != "UNEXPECTED_ERROR" || !strings.Contains(aws.ToString(x.StatusMessage), "CANCELLED") {
			t.Fatalf("ticket x: %s %q", aws.ToString(x.StatusReason), aws.ToString(x.StatusMessage))
		}
	})
}

func TestAMatchWhosePlacementIsRefusedFailsAndThePoolCarriesOn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.startReady("")
	e.withQueue(types.BackfillModeManual)
	if _, err := e.gl.DeleteGameSessionQueue(ctx, &gl.DeleteGameSessionQueueInput{Name: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	e.startTicket("a", "pa", 1000)
	e.startTicket("b", "pb", 1000)
	for _, id := range []string{"a", "b"} {
		tk := e.waitTicket(id, types.MatchmakingConfigurationStatusFailed)
		if aws.ToString(tk.StatusReason) != "UNEXPECTED_ERROR" || !strings.Contains(aws.ToString(tk.StatusMessage), "main") {
			t.Fatalf("ticket %s: %s %q", id, aws.ToString(tk.StatusReason), aws.ToString(tk.StatusMessage))
		}
	}
	// The players are free again and, with the queue back, match and play.
	e.createQueue("main")
	e.startTicket("c", "pa", 1000)
	e.startTicket("d", "pb", 1000)
	if c := e.waitTicket("c", types.MatchmakingConfigurationStatusCompleted); c.GameSessionConnectionInfo == nil {
		t.Fatal("ticket c completed without connection info")
	}
}

// TestAGameServerBackfillsItsSessionThroughMatchmaking drives backfill the
// way a game does: a real game server on the official Go SDK calls
// StartMatchBackfill for its game session, a new player's ticket fills the
// open slot, and the server hears OnUpdateGameSession with the new
// matchmaker data while the new player's ticket completes with a player
// session in that game session.
func TestAGameServerBackfillsItsSessionThroughMatchmaking(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	g := e.startReady("")
	// Backfill into a hosted game session is a WITH_QUEUE matter (a
	// STANDALONE configuration's matches never touch hosting).
	e.withQueueConfig("cfg", "duel", backfillRules, types.BackfillModeManual)
	id := e.activeSession(g, "backfilled", 4)

	// The game server asks for backfill with its one current player, p1 on red.
	if r := g.Call("backfill", nil); r["err"] != "" {
		t.Fatalf("StartMatchBackfill from the game server: %v", r["err"])
	}
	if _, err := e.gl.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String("newcomer"), ConfigurationName: aws.String("cfg"),
		Players: []types.Player{{PlayerId: aws.String("p2")}}}); err != nil {
		t.Fatal(err)
	}

	update := g.Wait("event", "update")
	if update["reason"] != "MATCHMAKING_DATA_UPDATED" {
		t.Fatalf("OnUpdateGameSession reason %v, want MATCHMAKING_DATA_UPDATED (%v)", update["reason"], update)
	}
	ticket := e.waitTicket("newcomer", types.MatchmakingConfigurationStatusCompleted)
	ci := ticket.GameSessionConnectionInfo
	if ci == nil || aws.ToString(ci.GameSessionArn) != id || len(ci.MatchedPlayerSessions) != 1 || aws.ToString(ci.MatchedPlayerSessions[0].PlayerId) != "p2" {
		t.Fatalf("connection info %+v, want p2's player session in %s", ci, id)
	}
	psess := aws.ToString(ci.MatchedPlayerSessions[0].PlayerSessionId)
	if ps := e.playerSession(psess); ps.Status != types.PlayerSessionStatusReserved || aws.ToString(ps.GameSessionId) != id {
		t.Fatalf("p2's player session %s is %s in %s", psess, ps.Status, aws.ToString(ps.GameSessionId))
	}
	// The server admits the newcomer with that id.
	if err := g.CallErr("accept", psess); err != "" {
		t.Fatalf("AcceptPlayerSession for the backfilled player: %s", err)
	}
}
