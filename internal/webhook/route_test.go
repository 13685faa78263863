package webhook_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/placement"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/webhook"
)

func TestTopicName(t *testing.T) {
	for target, want := range map[string]string{
		"arn:aws:sns:mu-local-1:000000000000:studio-events": "studio-events",
		"arn:aws:sns:us-west-2:000000000000:studio-events":  "",
		"arn:aws:sns:mu-local-1:111111111111:studio-events": "",
		"arn:aws:sqs:mu-local-1:000000000000:studio-events": "",
		"arn:aws:sns:mu-local-1:000000000000:":              "",
		"":                                                  "",
	} {
		if got, ok := webhook.TopicName(arns, target); got != want || ok != (want != "") {
			t.Errorf("TopicName(%q) = %q, %v; want %q", target, got, ok, want)
		}
	}
}

func TestRoutes(t *testing.T) {
	queue := arns.Build(gamelift.ResourceGameSessionQueue, "q")
	ev := webhook.Event{Resources: []string{configARN("arena")}}
	target := func(t string) func(string) string { return func(string) string { return t } }
	for _, tt := range []struct {
		name   string
		sub    webhook.Subscription
		typ    string
		target string
		want   bool
	}{
		{"no filters take everything", webhook.Subscription{Name: "s"}, "MatchmakingSucceeded", "", true},
		{"the type filter leaves other types", webhook.Subscription{Name: "s", EventTypes: []string{"MatchmakingTimedOut"}}, "MatchmakingSucceeded", "", false},
		{"the resource filter takes its resources", webhook.Subscription{Name: "s", Resources: []string{configARN("arena")}}, "MatchmakingSucceeded", "", true},
		{"the resource filter leaves others", webhook.Subscription{Name: "s", Resources: []string{queue}}, "MatchmakingSucceeded", "", false},
		{"a NotificationTarget naming the subscription routes past its resource filter", webhook.Subscription{Name: "s", Resources: []string{queue}},
			"MatchmakingSucceeded", "arn:aws:sns:mu-local-1:000000000000:s", true},
		{"a NotificationTarget naming another subscription does not", webhook.Subscription{Name: "s", Resources: []string{queue}},
			"MatchmakingSucceeded", "arn:aws:sns:mu-local-1:000000000000:other", false},
		{"the type filter still applies to a targeted event", webhook.Subscription{Name: "s", Resources: []string{queue}, EventTypes: []string{"MatchmakingTimedOut"}},
			"MatchmakingSucceeded", "arn:aws:sns:mu-local-1:000000000000:s", false},
	} {
		if got := webhook.Routes(arns, tt.sub, tt.typ, ev, target(tt.target)); got != tt.want {
			t.Errorf("%s: Routes = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNotificationTargetRouting(t *testing.T) {
	t.Run("a configuration's NotificationTarget sends its events to the subscription it names", func(t *testing.T) {
		e := newEnv(t, nil)
		queue := arns.Build(gamelift.ResourceGameSessionQueue, "elsewhere")
		named := e.subscribe("studio-events", func(in *webhook.CreateInput) { in.Resources = []string{queue} })
		other := e.subscribe("other", func(in *webhook.CreateInput) { in.Resources = []string{queue} })
		mm, err := matchmaking.New(matchmaking.Config{Base: service.Base{Store: e.db, Clock: e.clock, ARNs: arns}})
		if err != nil {
			t.Fatal(err)
		}
		if err := mm.Start(e.ctx); err != nil {
			t.Fatal(err)
		}
		defer mm.Stop()
		rules := `{"ruleLanguageVersion": "1.0", "teams": [{"name": "red", "minPlayers": 2, "maxPlayers": 2}]}`
		must[*gamelift.CreateMatchmakingRuleSetOutput](t)(mm.CreateMatchmakingRuleSet(e.ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: "r", RuleSetBody: rules}))
		to, no, target := int32(600), false, named.Arn
		must[*gamelift.CreateMatchmakingConfigurationOutput](t)(mm.CreateMatchmakingConfiguration(e.ctx, &gamelift.CreateMatchmakingConfigurationInput{
			Name: "arena", RuleSetName: "r", RequestTimeoutSeconds: &to, AcceptanceRequired: &no, FlexMatchMode: "STANDALONE", NotificationTarget: &target}))
		must[*gamelift.StartMatchmakingOutput](t)(mm.StartMatchmaking(e.ctx, &gamelift.StartMatchmakingInput{TicketId: "tk-1", ConfigurationName: "arena",
			Players: []gamelift.Player{{PlayerId: "p1"}}}))
		if err := mm.Process(e.ctx, "arena"); err != nil {
			t.Fatal(err)
		}
		d := e.rcv.next()
		var doc gamelift.Envelope[matchmaking.Detail]
		if err := json.Unmarshal(d.body, &doc); err != nil {
			t.Fatal(err)
		}
		if d.path != "/hooks/studio-events" || doc.Detail.Type != "MatchmakingSearching" || doc.Resources[0] != configARN("arena") || doc.DetailType != "GameLift Matchmaking Event" {
			t.Errorf("delivered to %s: %s", d.path, d.body)
		}
		if err := verify(t, named.Secret, d, e.clock.Now()); err != nil {
			t.Error(err)
		}
		e.rcv.none(func() { e.caughtUp(named.ID); e.caughtUp(other.ID) })
	})
	t.Run("StoreTargets reads a queue's and a configuration's target and nothing for other resources", func(t *testing.T) {
		e := newEnv(t, nil)
		queues := placement.New(placement.Config{Base: service.Base{Store: e.db, Clock: e.clock, ARNs: arns}})
		target := "arn:aws:sns:mu-local-1:000000000000:qs"
		must[*gamelift.CreateGameSessionQueueOutput](t)(queues.CreateGameSessionQueue(e.ctx, &gamelift.CreateGameSessionQueueInput{Name: "q", NotificationTarget: &target}))
		lookup := webhook.StoreTargets(e.db, arns)
		for arn, want := range map[string]string{
			arns.Build(gamelift.ResourceGameSessionQueue, "q"):       target,
			arns.Build(gamelift.ResourceGameSessionQueue, "missing"): "",
			arns.Build(gamelift.ResourceFleet, "fleet-1"):            "",
			"not-an-arn": "",
		} {
			if got, err := lookup(e.ctx, arn); err != nil || got != want {
				t.Errorf("lookup(%s) = %q, %v; want %q", arn, got, err, want)
			}
		}
		if !strings.HasPrefix(e.subscribe("x", nil).Arn, "arn:aws:sns:mu-local-1:000000000000:x") {
			t.Error("a subscription's Arn is not the SNS-shaped ARN of its name")
		}
	})
}
