package sdk_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

const backfillRules = `{"ruleLanguageVersion":"1.0",
 "playerAttributes":[{"name":"skill","type":"number","default":10}],
 "teams":[{"name":"red","minPlayers":1,"maxPlayers":2},{"name":"blue","minPlayers":1,"maxPlayers":2}]}`

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
	if _, err := e.gl.CreateMatchmakingRuleSet(ctx, &gl.CreateMatchmakingRuleSetInput{Name: aws.String("duel"), RuleSetBody: aws.String(backfillRules)}); err != nil {
		t.Fatal(err)
	}
	// Backfill into a hosted game session is a WITH_QUEUE matter (a
	// STANDALONE configuration's matches never touch hosting).
	q, err := e.gl.CreateGameSessionQueue(ctx, &gl.CreateGameSessionQueueInput{Name: aws.String("main"),
		Destinations: []types.GameSessionQueueDestination{{DestinationArn: aws.String("arn:aws:gamelift:mu-local-1:000000000000:fleet/" + e.fleetID)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.gl.CreateMatchmakingConfiguration(ctx, &gl.CreateMatchmakingConfigurationInput{Name: aws.String("cfg"), RuleSetName: aws.String("duel"),
		RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeWithQueue,
		GameSessionQueueArns: []string{aws.ToString(q.GameSessionQueue.GameSessionQueueArn)}, BackfillMode: types.BackfillModeManual}); err != nil {
		t.Fatal(err)
	}
	gs := e.createGameSession("backfilled", 4)
	id := aws.ToString(gs.GameSessionId)
	g.wait("event", "start")
	if a := g.wait("event", "activated"); a["err"] != "" {
		t.Fatalf("ActivateGameSession: %v", a["err"])
	}

	// The game server asks for backfill with its one current player, p1 on red.
	if r := g.call("backfill", nil); r["err"] != "" {
		t.Fatalf("StartMatchBackfill from the game server: %v", r["err"])
	}
	_, err = e.gl.StartMatchmaking(ctx, &gl.StartMatchmakingInput{TicketId: aws.String("newcomer"), ConfigurationName: aws.String("cfg"),
		Players: []types.Player{{PlayerId: aws.String("p2")}}})
	if err != nil {
		t.Fatal(err)
	}

	update := g.wait("event", "update")
	if update["reason"] != "MATCHMAKING_DATA_UPDATED" {
		t.Fatalf("OnUpdateGameSession reason %v, want MATCHMAKING_DATA_UPDATED (%v)", update["reason"], update)
	}
	var ticket types.MatchmakingTicket
	e.waitFor("the newcomer's ticket to complete", func() bool {
		d, err := e.gl.DescribeMatchmaking(ctx, &gl.DescribeMatchmakingInput{TicketIds: []string{"newcomer"}})
		if err != nil || len(d.TicketList) != 1 {
			return false
		}
		ticket = d.TicketList[0]
		return ticket.Status == types.MatchmakingConfigurationStatusCompleted
	})
	ci := ticket.GameSessionConnectionInfo
	if ci == nil || aws.ToString(ci.GameSessionArn) != id || len(ci.MatchedPlayerSessions) != 1 || aws.ToString(ci.MatchedPlayerSessions[0].PlayerId) != "p2" {
		t.Fatalf("connection info %+v, want p2's player session in %s", ci, id)
	}
	psess := aws.ToString(ci.MatchedPlayerSessions[0].PlayerSessionId)
	if ps := e.playerSession(psess); ps.Status != types.PlayerSessionStatusReserved || aws.ToString(ps.GameSessionId) != id {
		t.Fatalf("p2's player session %s is %s in %s", psess, ps.Status, aws.ToString(ps.GameSessionId))
	}
	// The server admits the newcomer with that id.
	if err := g.callErr("accept", psess); err != "" {
		t.Fatalf("AcceptPlayerSession for the backfilled player: %s", err)
	}
}
