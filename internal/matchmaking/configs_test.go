package matchmaking_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
)

const queueARN = "arn:aws:gamelift:mu-local-1:000000000000:gamesessionqueue/main"

func TestCreateMatchmakingConfigurationNamesEveryBadMember(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("duel", duelRules)
	long := func(n int) *string { s := strings.Repeat("x", n); return &s }
	yes := true
	wantRefusals(t, w, []refusal[func(*gamelift.CreateMatchmakingConfigurationInput)]{
		{"a configuration without a name is refused naming Name",
			func(in *gamelift.CreateMatchmakingConfigurationInput) { in.Name = "" }, fault.Invalid, []string{"Name"}},
		{"RequestTimeoutSeconds, AcceptanceRequired and RuleSetName are required, all named at once",
			func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.RequestTimeoutSeconds, in.AcceptanceRequired, in.RuleSetName = nil, nil, ""
			}, fault.Invalid, []string{"RequestTimeoutSeconds", "AcceptanceRequired", "RuleSetName"}},
		{"a request timeout over 43200 seconds is refused naming RequestTimeoutSeconds",
			func(in *gamelift.CreateMatchmakingConfigurationInput) { in.RequestTimeoutSeconds = ptr(int32(43201)) }, fault.Invalid, []string{"RequestTimeoutSeconds"}},
		{"an acceptance timeout over 600 seconds is refused naming AcceptanceTimeoutSeconds",
			func(in *gamelift.CreateMatchmakingConfigurationInput) { in.AcceptanceTimeoutSeconds = ptr(int32(601)) }, fault.Invalid, []string{"AcceptanceTimeoutSeconds"}},
		{"acceptance without an acceptance timeout is refused naming AcceptanceTimeoutSeconds",
			func(in *gamelift.CreateMatchmakingConfigurationInput) { in.AcceptanceRequired = &yes }, fault.Invalid, []string{"AcceptanceTimeoutSeconds", "AcceptanceRequired"}},
		{"an empty description is refused naming Description",
			func(in *gamelift.CreateMatchmakingConfigurationInput) { in.Description = ptr("") }, fault.Invalid, []string{"Description"}},
		{"custom event data over 256 characters is refused naming CustomEventData",
			func(in *gamelift.CreateMatchmakingConfigurationInput) { in.CustomEventData = long(257) }, fault.Invalid, []string{"CustomEventData"}},
		{"a notification target that is not an SNS ARN is refused naming NotificationTarget",
			func(in *gamelift.CreateMatchmakingConfigurationInput) { in.NotificationTarget = ptr("not an arn") }, fault.Invalid, []string{"NotificationTarget"}},
		{"a negative additional player count is refused naming AdditionalPlayerCount",
			func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.FlexMatchMode, in.GameSessionQueueArns, in.AdditionalPlayerCount = gamelift.FlexMatchWithQueue, []string{queueARN}, ptr(int32(-1))
			}, fault.Invalid, []string{"AdditionalPlayerCount"}},
		{"an unknown backfill mode and an unknown FlexMatch mode are both named",
			func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.BackfillMode, in.FlexMatchMode = "SOMETIMES", "ALONE"
			}, fault.Invalid, []string{"BackfillMode", "FlexMatchMode"}},
		{"more than 16 game properties, and a long key, are refused naming GameProperties",
			func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.FlexMatchMode, in.GameSessionQueueArns = gamelift.FlexMatchWithQueue, []string{queueARN}
				in.GameProperties = make([]gamelift.GameProperty, 17)
				in.GameProperties[3].Key = strings.Repeat("k", 33)
			}, fault.Invalid, []string{"GameProperties", "GameProperties[3].Key"}},
		{"game session data over 4096 characters is refused naming GameSessionData",
			func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.FlexMatchMode, in.GameSessionQueueArns, in.GameSessionData = gamelift.FlexMatchWithQueue, []string{queueARN}, long(4097)
			}, fault.Invalid, []string{"GameSessionData"}},
		{"a queue ARN that is not an ARN is refused naming its index",
			func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.FlexMatchMode, in.GameSessionQueueArns = gamelift.FlexMatchWithQueue, []string{"main queue"}
			}, fault.Invalid, []string{"GameSessionQueueArns[0]"}},
		{"STANDALONE refuses a queue, additional players, game properties and game session data, each named",
			func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.GameSessionQueueArns, in.AdditionalPlayerCount = []string{queueARN}, ptr(int32(2))
				in.GameProperties, in.GameSessionData = []gamelift.GameProperty{{Key: "k", Value: "v"}}, ptr("data")
			}, fault.Invalid, []string{"GameSessionQueueArns", "AdditionalPlayerCount", "GameProperties", "GameSessionData"}},
		{"a rule set that does not exist is NotFound naming RuleSetName",
			func(in *gamelift.CreateMatchmakingConfigurationInput) { in.RuleSetName = "ghost" }, fault.NotFound, []string{"RuleSetName", "ghost"}},
		{"a tag with a key over 128 characters is refused naming Tags",
			func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.Tags = []gamelift.Tag{{Key: strings.Repeat("k", 129)}}
			}, fault.Invalid, []string{"Tags"}},
	}, func(w *world, change func(*gamelift.CreateMatchmakingConfigurationInput)) error {
		timeout, no := int32(60), false
		in := &gamelift.CreateMatchmakingConfigurationInput{Name: "c", RuleSetName: "duel", RequestTimeoutSeconds: &timeout,
			AcceptanceRequired: &no, FlexMatchMode: gamelift.FlexMatchStandalone}
		change(in)
		_, err := w.svc.CreateMatchmakingConfiguration(w.ctx, in)
		return err
	})
	t.Run("nothing refused was stored", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.DescribeMatchmakingConfigurations(w.ctx, &gamelift.DescribeMatchmakingConfigurationsInput{})
		if err != nil || len(out.Configurations) != 0 {
			t.Fatalf("configurations %+v, %v", out, err)
		}
	})
}

func TestMatchmakingConfigurationLifecycle(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("duel", duelRules)
	w.ruleSet("duel-2", duelRules)
	created := w.standalone("ranked", "duel", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.Description, in.CustomEventData = ptr("ranked duels"), ptr("season-7")
		in.Tags = []gamelift.Tag{{Key: "mode", Value: "ranked"}}
	})
	arn := created.ConfigurationArn
	t.Run("the configuration answers with its ARN, its rule set's ARN and defaults", func(t *testing.T) {
		if arn != "arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/ranked" ||
			created.RuleSetArn != "arn:aws:gamelift:mu-local-1:000000000000:matchmakingruleset/duel" ||
			created.BackfillMode != gamelift.BackfillManual || created.Description != "ranked duels" || created.CreationTime == nil {
			t.Fatalf("configuration %+v", created)
		}
	})
	t.Run("its tags are stored with it", func(t *testing.T) {
		w := w.in(t)
		tags, err := w.tags.ListTagsForResource(w.ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil || len(tags.Tags) != 1 || tags.Tags[0].Value != "ranked" {
			t.Fatalf("tags %+v, %v", tags, err)
		}
	})
	t.Run("a second configuration of the same name is refused naming Name", func(t *testing.T) {
		w := w.in(t)
		w.standalone("other", "duel", nil)
		timeout, no := int32(60), false
		_, err := w.svc.CreateMatchmakingConfiguration(w.ctx, &gamelift.CreateMatchmakingConfigurationInput{Name: "ranked", RuleSetName: "duel",
			RequestTimeoutSeconds: &timeout, AcceptanceRequired: &no, FlexMatchMode: gamelift.FlexMatchStandalone})
		wantFault(t, err, fault.Invalid, "Name", "already exists")
	})
	t.Run("events carry the configuration's CustomEventData and ARN", func(t *testing.T) {
		w := w.in(t)
		w.startTicket("ranked", "t1", "p1", 1000)
		w.cycle("ranked")
		evs := w.outbox(matchmaking.EventSearching)
		if len(evs) != 1 || evs[0].Detail.CustomEventData != "season-7" || evs[0].Resources[0] != arn || evs[0].Source != "aws.gamelift" {
			t.Fatalf("events %+v", evs)
		}
	})
	t.Run("an update is refused naming each bad member, and changes nothing", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.UpdateMatchmakingConfiguration(w.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: "ranked",
			RequestTimeoutSeconds: ptr(int32(0)), BackfillMode: gamelift.BackfillAutomatic})
		wantFault(t, err, fault.Invalid, "RequestTimeoutSeconds")
		_, err = w.svc.UpdateMatchmakingConfiguration(w.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: "ranked", BackfillMode: gamelift.BackfillAutomatic})
		wantFault(t, err, fault.Invalid, "BackfillMode", "STANDALONE")
		_, err = w.svc.UpdateMatchmakingConfiguration(w.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: "ranked", RuleSetName: "ghost"})
		wantFault(t, err, fault.NotFound, "RuleSetName", "ghost")
		if got := w.configuration("ranked"); got.RuleSetName != "duel" || *got.RequestTimeoutSeconds != 60 {
			t.Fatalf("configuration after refused updates %+v", got)
		}
	})
	t.Run("updating a configuration that does not exist is NotFound", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.UpdateMatchmakingConfiguration(w.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: "ghost", Description: ptr("d")})
		wantFault(t, err, fault.NotFound, "ghost")
	})
	t.Run("a shorter request timeout applies to a waiting ticket, measured from its start", func(t *testing.T) {
		w := w.in(t)
		w.advance("ranked", 20*time.Second)
		w.wantStatus(gamelift.TicketSearching, "t1")
		out, err := w.svc.UpdateMatchmakingConfiguration(w.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: arn,
			RequestTimeoutSeconds: ptr(int32(30)), RuleSetName: "duel-2"})
		if err != nil || *out.Configuration.RequestTimeoutSeconds != 30 || out.Configuration.RuleSetName != "duel-2" {
			t.Fatalf("updated %+v, %v", out, err)
		}
		w.advance("ranked", 9*time.Second)
		w.wantStatus(gamelift.TicketSearching, "t1")
		w.advance("ranked", 2*time.Second)
		w.wantStatus(gamelift.TicketTimedOut, "t1")
	})
	t.Run("the rule set a configuration left can be deleted", func(t *testing.T) {
		w := w.in(t)
		if _, err := w.svc.DeleteMatchmakingRuleSet(w.ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: "duel-2"}); !fault.Is(err, fault.Invalid) {
			t.Fatalf("deleting the rule set in use: %v", err)
		}
		w.svc.UpdateMatchmakingConfiguration(w.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: "ranked", RuleSetName: "duel"})
		if _, err := w.svc.DeleteMatchmakingRuleSet(w.ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: "duel-2"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("deleting removes the configuration and its tags; a second delete is NotFound", func(t *testing.T) {
		w := w.in(t)
		if _, err := w.svc.DeleteMatchmakingConfiguration(w.ctx, &gamelift.DeleteMatchmakingConfigurationInput{Name: arn}); err != nil {
			t.Fatal(err)
		}
		_, err := w.svc.DeleteMatchmakingConfiguration(w.ctx, &gamelift.DeleteMatchmakingConfigurationInput{Name: "ranked"})
		wantFault(t, err, fault.NotFound, "ranked")
		_, err = w.tags.ListTagsForResource(w.ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
		wantFault(t, err, fault.NotFound)
		w.standalone("ranked", "duel", nil)
		tags, err := w.tags.ListTagsForResource(w.ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil || len(tags.Tags) != 0 {
			t.Fatalf("tags of the new configuration %+v, %v", tags, err)
		}
	})
	t.Run("a ticket for a deleted configuration is NotFound naming ConfigurationName", func(t *testing.T) {
		w := w.in(t)
		if _, err := w.svc.DeleteMatchmakingConfiguration(w.ctx, &gamelift.DeleteMatchmakingConfigurationInput{Name: "other"}); err != nil {
			t.Fatal(err)
		}
		_, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{ConfigurationName: "other", Players: []gamelift.Player{{PlayerId: "p"}}})
		wantFault(t, err, fault.NotFound, "ConfigurationName", "other")
	})
}

func TestDescribeMatchmakingConfigurations(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("duel", duelRules)
	w.ruleSet("solo", duelRules)
	for i := range 5 {
		w.standalone(fmt.Sprint("c-", i), "duel", nil)
	}
	w.standalone("s-0", "solo", nil)
	t.Run("names and ARNs select configurations; unknown names are left out", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.DescribeMatchmakingConfigurations(w.ctx, &gamelift.DescribeMatchmakingConfigurationsInput{
			Names: []string{"c-4", "ghost", w.arns.Build(gamelift.ResourceMatchmakingConfiguration, "s-0")}})
		if err != nil || len(out.Configurations) != 2 || out.Configurations[0].Name != "c-4" || out.Configurations[1].Name != "s-0" {
			t.Fatalf("configurations %+v, %v", out, err)
		}
	})
	pages := func(t *testing.T, in gamelift.DescribeMatchmakingConfigurationsInput) ([]string, int) {
		t.Helper()
		var names []string
		n := 0
		for {
			out, err := w.svc.DescribeMatchmakingConfigurations(w.ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			n++
			for _, c := range out.Configurations {
				names = append(names, c.Name)
			}
			if in.NextToken = out.NextToken; in.NextToken == "" {
				return names, n
			}
		}
	}
	t.Run("pages of Limit configurations carry every configuration once", func(t *testing.T) {
		names, n := pages(t, gamelift.DescribeMatchmakingConfigurationsInput{Limit: ptr(int32(4))})
		if strings.Join(names, ",") != "c-0,c-1,c-2,c-3,c-4,s-0" || n != 2 {
			t.Fatalf("%d pages of %v", n, names)
		}
	})
	t.Run("a rule set name selects the configurations that use it, page by page", func(t *testing.T) {
		w := w.in(t)
		names, n := pages(t, gamelift.DescribeMatchmakingConfigurationsInput{RuleSetName: "duel", Limit: ptr(int32(2))})
		if strings.Join(names, ",") != "c-0,c-1,c-2,c-3,c-4" || n != 3 {
			t.Fatalf("%d pages of %v", n, names)
		}
		names, _ = pages(t, gamelift.DescribeMatchmakingConfigurationsInput{RuleSetName: w.arns.Build(gamelift.ResourceMatchmakingRuleSet, "solo")})
		if strings.Join(names, ",") != "s-0" {
			t.Fatalf("configurations of solo %v", names)
		}
	})
	wantRefusals(t, w, []refusal[gamelift.DescribeMatchmakingConfigurationsInput]{
		{"a Limit over 10 is refused naming Limit", gamelift.DescribeMatchmakingConfigurationsInput{Limit: ptr(int32(11))}, fault.Invalid, []string{"Limit"}},
		{"a token this API did not return is refused naming NextToken", gamelift.DescribeMatchmakingConfigurationsInput{NextToken: "!"}, fault.Invalid, []string{"NextToken"}},
		{"a name over 256 characters is refused naming its index", gamelift.DescribeMatchmakingConfigurationsInput{Names: []string{"ok", strings.Repeat("n", 257)}}, fault.Invalid, []string{"Names[1]"}},
		{"a rule set name over 256 characters is refused naming RuleSetName", gamelift.DescribeMatchmakingConfigurationsInput{RuleSetName: strings.Repeat("r", 257)}, fault.Invalid, []string{"RuleSetName"}},
	}, func(w *world, in gamelift.DescribeMatchmakingConfigurationsInput) error {
		_, err := w.svc.DescribeMatchmakingConfigurations(w.ctx, &in)
		return err
	})
}

// configuration describes one configuration.
func (w *world) configuration(name string) gamelift.MatchmakingConfiguration {
	w.t.Helper()
	out, err := w.svc.DescribeMatchmakingConfigurations(w.ctx, &gamelift.DescribeMatchmakingConfigurationsInput{Names: []string{name}})
	if err != nil || len(out.Configurations) != 1 {
		w.t.Fatalf("configuration %s: %+v, %v", name, out, err)
	}
	return out.Configurations[0]
}

// TestLengthsCountCharacters: GameLift's length limits count characters,
// so text in a script of several bytes a character fits as it does on
// GameLift (and in CreateGameSession's game properties).
func TestLengthsCountCharacters(t *testing.T) {
	w := newWorld(t)
	w.ruleSet("duel", duelRules)
	w.ruleSet("profile", profileRules)
	kana := func(n int) string { return strings.Repeat("あ", n) } // 3 bytes each
	c := w.standalone("kana", "duel", func(in *gamelift.CreateMatchmakingConfigurationInput) {
		in.Description, in.CustomEventData = ptr(kana(1024)), ptr(kana(256))
	})
	if c.Description != kana(1024) {
		t.Fatalf("description of %d characters stored as %q", 1024, c.Description)
	}
	_, err := w.svc.UpdateMatchmakingConfiguration(w.ctx, &gamelift.UpdateMatchmakingConfigurationInput{Name: "kana", Description: ptr(kana(1025))})
	wantFault(t, err, fault.Invalid, "Description", "1 to 1024 characters")
	w.standalone("teams", "profile", nil)
	if _, err := w.svc.StartMatchmaking(w.ctx, &gamelift.StartMatchmakingInput{ConfigurationName: "teams",
		Players: []gamelift.Player{{PlayerId: kana(1024), Team: kana(1024)}}}); err != nil {
		t.Fatalf("a player id of 1024 characters was refused: %v", err)
	}
}
