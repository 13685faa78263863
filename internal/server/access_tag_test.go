package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/client"
)

const accessRules = `{"ruleLanguageVersion":"1.0","teams":[{"name":"a","minPlayers":1,"maxPlayers":1},{"name":"b","minPlayers":1,"maxPlayers":1}]}`

// A configuration's player access is one piece of state: the REST route
// and the muster:player-access tag (written with the real AWS SDK's
// TagResource and UntagResource) both write it, ListTagsForResource reads
// it back, and the player API obeys whichever wrote last.
func TestPlayerAccessIsOneStateForTheRouteAndTheTag(t *testing.T) {
	srv, url := newServer(t)
	t.Cleanup(srv.StartBackground()) // the matchmaking pools
	gl := sdkClient(url)
	ctx := context.Background()
	arn := standaloneConfiguration(t, gl, "duel", accessRules, 60).ConfigurationArn
	tagIs := func(want string) {
		t.Helper()
		out, err := gl.ListTagsForResource(ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tag := range out.Tags {
			if aws.ToString(tag.Key) == "muster:player-access" {
				got = append(got, aws.ToString(tag.Value))
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("muster:player-access tags %v, want one %q", got, want)
		}
	}
	player := client.New(url)
	if _, err := player.SignInAnonymous(ctx); err != nil {
		t.Fatal(err)
	}
	mayPlay := func(want bool) {
		t.Helper()
		tk, err := player.StartMatchmaking(ctx, "duel", nil)
		var apiErr *client.Error
		switch {
		case want && err != nil:
			t.Fatalf("a player was refused: %v", err)
		case want:
			_ = player.CancelTicket(ctx, tk.TicketID)
		case !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden:
			t.Fatalf("a player was not refused with 403: %v", err)
		}
	}
	setRoute := func(allowed string) {
		t.Helper()
		if status, body := adminCall(t, url, http.MethodPut, "/v1/admin/matchmaking/configurations/duel/player-access", `{"allowed":`+allowed+`}`); status != http.StatusOK {
			t.Fatalf("PUT player-access: %d %s", status, body)
		}
	}
	tag := func(value string) error {
		_, err := gl.TagResource(ctx, &gamelift.TagResourceInput{ResourceARN: arn, Tags: []types.Tag{
			{Key: aws.String("team"), Value: aws.String("red")}, {Key: aws.String("muster:player-access"), Value: aws.String(value)}}})
		return err
	}

	tagIs("false")
	mayPlay(false)
	setRoute("true")
	tagIs("true")
	mayPlay(true)
	if err := tag("false"); err != nil {
		t.Fatal(err)
	}
	tagIs("false")
	mayPlay(false)
	if err := tag("TRUE"); err != nil {
		t.Fatal(err)
	}
	tagIs("true")
	mayPlay(true)

	var bad *types.InvalidRequestException
	if err := tag("yes"); !errors.As(err, &bad) || !strings.Contains(err.Error(), "Tags[1].Value") {
		t.Fatalf("TagResource muster:player-access=yes: %v, want InvalidRequestException naming Tags[1].Value", err)
	}
	tagIs("true") // the refusal changed nothing
	if _, err := gl.UntagResource(ctx, &gamelift.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"muster:player-access"}}); err != nil {
		t.Fatal(err)
	}
	tagIs("false")
	mayPlay(false)
	out, err := gl.ListTagsForResource(ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || len(out.Tags) != 2 {
		t.Fatalf("tags after untagging access: %+v %v; want team and muster:player-access", out, err)
	}

	// A configuration made with the tag is open from the start.
	if _, err := gl.CreateMatchmakingConfiguration(ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String("open"), RuleSetName: aws.String("duel"),
		RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeStandalone,
		Tags: []types.Tag{{Key: aws.String("muster:player-access"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	if tk, err := player.StartMatchmaking(ctx, "open", nil); err != nil {
		t.Fatalf("a configuration created with muster:player-access=true refused a player: %v", err)
	} else {
		_ = player.CancelTicket(ctx, tk.TicketID)
	}
}
