package cli

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/loadtest"
)

// The rule sets `serve --dev` installs are teaching examples: their files
// are in devsetup/, explained rule by rule in devsetup/README.md.
//
//go:embed devsetup/*.json
var devRuleSets embed.FS

// Dev mode's matchmaking: one queue on the dev fleet and, for each sample
// rule set, a configuration of the same name placing through the queue.
const (
	devQueue = "dev-queue"
	// devIdleExit is how long the example server keeps a game session
	// nobody joins: a laptop's few processes must not fill up with
	// matches whose players went away.
	devIdleExit = 30 * time.Second
)

// devMatchmaking is a sample configuration: its name is also its rule
// set's name and file (devsetup/<name>.json).
type devMatchmaking struct {
	name, description string
	timeoutSeconds    int32
}

var devConfigurations = []devMatchmaking{
	{name: "dev-duel", description: "1v1 duel (serve --dev sample)", timeoutSeconds: 60},
	{name: "dev-5v5", description: "5v5 with skill and latency (serve --dev sample)", timeoutSeconds: 120},
}

// devSetup makes dev mode's matchmaking exist, reusing whatever a previous
// run made: every step looks first and creates only what is missing, so a
// restart neither duplicates nor fails.
type devSetup struct {
	control  *loadtest.ControlClient
	endpoint string
	// keyID and secret are an operator key, sent as a bearer credential
	// to the admin routes (the control plane is on this host).
	keyID, secret string
	arns          gamelift.ARNBuilder
}

// ensure sets up the queue on fleetID, the rule sets and the
// configurations, and opens the configurations to players.
func (s *devSetup) ensure(ctx context.Context, fleetID string) error {
	queueArn, err := s.ensureQueue(ctx, fleetID)
	if err != nil {
		return fmt.Errorf("dev mode: queue %s: %w", devQueue, err)
	}
	for _, c := range devConfigurations {
		if err := s.ensureRuleSet(ctx, c.name); err != nil {
			return fmt.Errorf("dev mode: rule set %s: %w", c.name, err)
		}
		if err := s.ensureConfiguration(ctx, c, queueArn); err != nil {
			return fmt.Errorf("dev mode: matchmaking configuration %s: %w", c.name, err)
		}
		if err := s.openToPlayers(ctx, c.name); err != nil {
			return fmt.Errorf("dev mode: open %s to players: %w", c.name, err)
		}
	}
	return nil
}

// found runs a Describe call: false (no error) when the server answers
// that the resource does not exist. Describing by name may also answer
// with an empty list: callers check the output too.
func (s *devSetup) found(ctx context.Context, op string, in, out any) (bool, error) {
	err := s.control.Do(ctx, op, in, out)
	var apiErr *loadtest.APIError
	if errors.As(err, &apiErr) && apiErr.Type == "NotFoundException" {
		return false, nil
	}
	return err == nil, err
}

// ensureQueue returns the ARN of the dev queue, pointing it at the dev
// fleet (a restart may come with a fleet made anew).
func (s *devSetup) ensureQueue(ctx context.Context, fleetID string) (string, error) {
	dest := []gamelift.GameSessionQueueDestination{{DestinationArn: s.arns.Build(gamelift.ResourceFleet, fleetID)}}
	var out gamelift.DescribeGameSessionQueuesOutput
	ok, err := s.found(ctx, "DescribeGameSessionQueues", gamelift.DescribeGameSessionQueuesInput{Names: []string{devQueue}}, &out)
	if err != nil {
		return "", err
	}
	if ok && len(out.GameSessionQueues) == 1 {
		q := out.GameSessionQueues[0]
		if len(q.Destinations) == 1 && q.Destinations[0] == dest[0] {
			return q.GameSessionQueueArn, nil
		}
		err := s.control.Do(ctx, "UpdateGameSessionQueue", gamelift.UpdateGameSessionQueueInput{Name: devQueue, Destinations: dest}, nil)
		return q.GameSessionQueueArn, err
	}
	timeout := int32(60)
	var created gamelift.CreateGameSessionQueueOutput
	in := gamelift.CreateGameSessionQueueInput{Name: devQueue, TimeoutInSeconds: &timeout, Destinations: dest}
	if err := s.control.Do(ctx, "CreateGameSessionQueue", in, &created); err != nil {
		return "", err
	}
	return created.GameSessionQueue.GameSessionQueueArn, nil
}

// ensureRuleSet creates the rule set from its file unless one of that
// name exists. Rule sets are immutable: an edited file takes effect once
// the old rule set (and its configuration) is deleted.
func (s *devSetup) ensureRuleSet(ctx context.Context, name string) error {
	var out gamelift.DescribeMatchmakingRuleSetsOutput
	ok, err := s.found(ctx, "DescribeMatchmakingRuleSets", gamelift.DescribeMatchmakingRuleSetsInput{Names: []string{name}}, &out)
	if err != nil || ok && len(out.RuleSets) > 0 {
		return err
	}
	body, err := devRuleSets.ReadFile("devsetup/" + name + ".json")
	if err != nil {
		return err
	}
	return s.control.Do(ctx, "CreateMatchmakingRuleSet", gamelift.CreateMatchmakingRuleSetInput{Name: name, RuleSetBody: string(body)}, nil)
}

// ensureConfiguration creates a WITH_QUEUE configuration unless one of
// that name exists; an operator's later changes to it are kept.
func (s *devSetup) ensureConfiguration(ctx context.Context, c devMatchmaking, queueArn string) error {
	var out gamelift.DescribeMatchmakingConfigurationsOutput
	ok, err := s.found(ctx, "DescribeMatchmakingConfigurations", gamelift.DescribeMatchmakingConfigurationsInput{Names: []string{c.name}}, &out)
	if err != nil || ok && len(out.Configurations) > 0 {
		return err
	}
	accept := false
	in := gamelift.CreateMatchmakingConfigurationInput{
		Name: c.name, Description: &c.description, RuleSetName: c.name, GameSessionQueueArns: []string{queueArn},
		RequestTimeoutSeconds: &c.timeoutSeconds, AcceptanceRequired: &accept, FlexMatchMode: "WITH_QUEUE",
	}
	return s.control.Do(ctx, "CreateMatchmakingConfiguration", in, nil)
}

// openToPlayers lets players start tickets in the configuration.
func (s *devSetup) openToPlayers(ctx context.Context, name string) error {
	o := operatorFlags{endpoint: s.endpoint, keyID: s.keyID, secret: s.secret}
	return o.openToPlayers(ctx, s.control.HTTP, name)
}
