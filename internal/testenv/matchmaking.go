package testenv

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// Matchmaking is a FlexMatch configuration for a test: the rule set
// Name-rules holding Rules, and the configuration Name on it, with a 60 s
// request timeout and no acceptance.
type Matchmaking struct {
	Name, Rules string
	// FleetID, when set, makes the configuration WITH_QUEUE: its matches
	// are placed through a new queue Name-queue whose one destination is
	// this fleet. Otherwise it is STANDALONE.
	FleetID string
	// Players opens the configuration to the player API, with the
	// muster:player-access tag any AWS tool can set.
	Players bool
	// Mutate, when set, changes the configuration before it is created.
	Mutate func(*gamelift.CreateMatchmakingConfigurationInput)
}

// CreateMatchmaking creates m's queue, rule set and configuration through
// gl. It returns an error rather than failing a test, so that a TestMain
// can set up with it too.
func CreateMatchmaking(ctx context.Context, gl *gamelift.Client, m Matchmaking) error {
	in := &gamelift.CreateMatchmakingConfigurationInput{Name: aws.String(m.Name), RuleSetName: aws.String(m.Name + "-rules"),
		RequestTimeoutSeconds: aws.Int32(60), AcceptanceRequired: aws.Bool(false), FlexMatchMode: types.FlexMatchModeStandalone}
	if m.FleetID != "" {
		fleets, err := gl.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{FleetIds: []string{m.FleetID}})
		if err != nil || len(fleets.FleetAttributes) != 1 {
			return fmt.Errorf("the fleet %s of %s: %v", m.FleetID, m.Name, err)
		}
		q, err := gl.CreateGameSessionQueue(ctx, &gamelift.CreateGameSessionQueueInput{Name: aws.String(m.Name + "-queue"), TimeoutInSeconds: aws.Int32(60),
			Destinations: []types.GameSessionQueueDestination{{DestinationArn: fleets.FleetAttributes[0].FleetArn}}})
		if err != nil {
			return fmt.Errorf("the queue of %s: %w", m.Name, err)
		}
		in.FlexMatchMode = types.FlexMatchModeWithQueue
		in.GameSessionQueueArns = []string{aws.ToString(q.GameSessionQueue.GameSessionQueueArn)}
	}
	if m.Players {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String("muster:player-access"), Value: aws.String("true")})
	}
	if m.Mutate != nil {
		m.Mutate(in)
	}
	if _, err := gl.CreateMatchmakingRuleSet(ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: in.RuleSetName, RuleSetBody: aws.String(m.Rules)}); err != nil {
		return fmt.Errorf("the rule set of %s: %w", m.Name, err)
	}
	if _, err := gl.CreateMatchmakingConfiguration(ctx, in); err != nil {
		return fmt.Errorf("the configuration %s: %w", m.Name, err)
	}
	return nil
}
