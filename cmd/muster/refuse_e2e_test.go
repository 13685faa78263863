package main_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/internal/testenv"
)

// TestUnmatchableTicketFailsAtOnce starts tickets the rule set can never
// match through the Go SDK and the player API on a server whose clock
// stands still: each fails with UNMATCHABLE and its reason, visible in
// DescribeMatchmaking, the player's ticket, and `muster ticket explain`,
// without its request timeout passing.
func TestUnmatchableTicketFailsAtOnce(t *testing.T) {
	s := testenv.Start(t, testenv.WithArgs("--fake-clock"))
	ctx := context.Background()
	gl := s.Admin()
	// Skill has no default: a ticket without one can never match.
	mmSetup(t, gl, "strict", strings.Replace(e2eDuelRules, `, "default": 1000`, "", 1), nil)
	res, body, err := s.Bearer(ctx, http.MethodPut, "/v1/admin/matchmaking/configurations/strict/player-access", `{"allowed":true}`)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("player access: %v %v %s", err, res, body)
	}

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
		cmd := exec.Command(testenv.Binary(t), "ticket", "explain", "--endpoint", s.URL(), "crowd")
		cmd.Env = append(os.Environ(), "MUSTER_ACCESS_KEY_ID="+testenv.AdminKeyID, "MUSTER_SECRET_ACCESS_KEY="+testenv.AdminSecret)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "UNMATCHABLE") || !strings.Contains(string(out), "largest team") {
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
