package matchmaking_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
)

func TestCreateMatchmakingRuleSetNamesEveryBadMember(t *testing.T) {
	w := newWorld(t)
	wantRefusals(t, w, []refusal[gamelift.CreateMatchmakingRuleSetInput]{
		{"a rule set without a name is refused naming Name", gamelift.CreateMatchmakingRuleSetInput{RuleSetBody: duelRules}, fault.Invalid, []string{"Name"}},
		{"a name over 128 characters is refused naming Name", gamelift.CreateMatchmakingRuleSetInput{Name: strings.Repeat("n", 129), RuleSetBody: duelRules}, fault.Invalid, []string{"Name", "128"}},
		{"a name with a space is refused naming Name", gamelift.CreateMatchmakingRuleSetInput{Name: "two words", RuleSetBody: duelRules}, fault.Invalid, []string{"Name"}},
		{"an empty body is refused naming RuleSetBody", gamelift.CreateMatchmakingRuleSetInput{Name: "r"}, fault.Invalid, []string{"RuleSetBody"}},
		{"a body that is not JSON is refused naming RuleSetBody", gamelift.CreateMatchmakingRuleSetInput{Name: "r", RuleSetBody: "{"}, fault.Invalid, []string{"RuleSetBody", "invalid rule set"}},
		{"a rule set without teams lists the problem", gamelift.CreateMatchmakingRuleSetInput{Name: "r", RuleSetBody: `{"ruleLanguageVersion":"1.0","teams":[]}`}, fault.Invalid, []string{"RuleSetBody", "teams"}},
		{"a tag without a key is refused naming Tags", gamelift.CreateMatchmakingRuleSetInput{Name: "r", RuleSetBody: duelRules, Tags: []gamelift.Tag{{Value: "v"}}}, fault.Invalid, []string{"Tags"}},
	}, func(w *world, in gamelift.CreateMatchmakingRuleSetInput) error {
		_, err := w.svc.CreateMatchmakingRuleSet(w.ctx, &in)
		return err
	})
	t.Run("nothing refused was stored", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.DescribeMatchmakingRuleSets(w.ctx, &gamelift.DescribeMatchmakingRuleSetsInput{})
		if err != nil || len(out.RuleSets) != 0 {
			t.Fatalf("rule sets %+v, %v", out, err)
		}
	})
}

func TestRuleSetsAreImmutableAndTagged(t *testing.T) {
	w := newWorld(t)
	out, err := w.svc.CreateMatchmakingRuleSet(w.ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: "duel", RuleSetBody: duelRules,
		Tags: []gamelift.Tag{{Key: "team", Value: "core"}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.RuleSet.RuleSetArn
	t.Run("the rule set answers with its ARN, body and creation time", func(t *testing.T) {
		rs := out.RuleSet
		if arn != "arn:aws:gamelift:mu-local-1:000000000000:matchmakingruleset/duel" || rs.RuleSetBody != duelRules || rs.CreationTime == nil {
			t.Fatalf("rule set %+v", rs)
		}
	})
	t.Run("its tags are stored with it", func(t *testing.T) {
		w := w.in(t)
		tags, err := w.tags.ListTagsForResource(w.ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil || len(tags.Tags) != 1 || tags.Tags[0] != (gamelift.Tag{Key: "team", Value: "core"}) {
			t.Fatalf("tags %+v, %v", tags, err)
		}
	})
	t.Run("a second rule set of the same name is refused: rule sets are immutable", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.CreateMatchmakingRuleSet(w.ctx, &gamelift.CreateMatchmakingRuleSetInput{Name: "duel", RuleSetBody: duelRules})
		wantFault(t, err, fault.Invalid, "Name", "already exists")
	})
	t.Run("deleting it by ARN removes its tags with it", func(t *testing.T) {
		w := w.in(t)
		if _, err := w.svc.DeleteMatchmakingRuleSet(w.ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: arn}); err != nil {
			t.Fatal(err)
		}
		_, err := w.svc.DescribeMatchmakingRuleSets(w.ctx, &gamelift.DescribeMatchmakingRuleSetsInput{Names: []string{"duel"}})
		wantFault(t, err, fault.NotFound, "duel")
		w.ruleSet("duel", duelRules) // the name is free again, without the old tags
		tags, err := w.tags.ListTagsForResource(w.ctx, &gamelift.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil || len(tags.Tags) != 0 {
			t.Fatalf("tags of the new rule set %+v, %v", tags, err)
		}
	})
	t.Run("deleting a rule set that does not exist is NotFound", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.DeleteMatchmakingRuleSet(w.ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: "nope"})
		wantFault(t, err, fault.NotFound, "nope")
	})
	t.Run("a rule set in use is not deleted, and the refusal names the configuration", func(t *testing.T) {
		w := w.in(t)
		w.standalone("ranked", "duel", nil)
		_, err := w.svc.DeleteMatchmakingRuleSet(w.ctx, &gamelift.DeleteMatchmakingRuleSetInput{Name: "duel"})
		wantFault(t, err, fault.Invalid, "Name", "ranked")
	})
}

func TestDescribeMatchmakingRuleSets(t *testing.T) {
	w := newWorld(t)
	for i := range 5 {
		w.ruleSet(fmt.Sprint("rs-", i), duelRules)
	}
	t.Run("names, and ARNs, select rule sets in the order asked", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.DescribeMatchmakingRuleSets(w.ctx, &gamelift.DescribeMatchmakingRuleSetsInput{
			Names: []string{"rs-3", w.arns.Build(gamelift.ResourceMatchmakingRuleSet, "rs-1")}})
		if err != nil || len(out.RuleSets) != 2 || out.RuleSets[0].RuleSetName != "rs-3" || out.RuleSets[1].RuleSetName != "rs-1" {
			t.Fatalf("rule sets %+v, %v", out, err)
		}
	})
	t.Run("an unknown name among them is NotFound", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.DescribeMatchmakingRuleSets(w.ctx, &gamelift.DescribeMatchmakingRuleSetsInput{Names: []string{"rs-1", "ghost"}})
		wantFault(t, err, fault.NotFound, "ghost")
	})
	t.Run("pages of Limit rule sets carry every rule set once", func(t *testing.T) {
		w := w.in(t)
		limit := int32(2)
		var names []string
		tok, pages := "", 0
		for {
			out, err := w.svc.DescribeMatchmakingRuleSets(w.ctx, &gamelift.DescribeMatchmakingRuleSetsInput{Limit: &limit, NextToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.RuleSets) > int(limit) {
				t.Fatalf("page of %d rule sets with Limit %d", len(out.RuleSets), limit)
			}
			for _, rs := range out.RuleSets {
				names = append(names, rs.RuleSetName)
			}
			if tok = out.NextToken; tok == "" {
				break
			}
		}
		if strings.Join(names, ",") != "rs-0,rs-1,rs-2,rs-3,rs-4" || pages != 3 {
			t.Fatalf("%d pages of %v", pages, names)
		}
	})
	wantRefusals(t, w, []refusal[gamelift.DescribeMatchmakingRuleSetsInput]{
		{"a Limit over 10 is refused naming Limit", gamelift.DescribeMatchmakingRuleSetsInput{Limit: ptr(int32(11))}, fault.Invalid, []string{"Limit"}},
		{"a Limit of 0 is refused naming Limit", gamelift.DescribeMatchmakingRuleSetsInput{Limit: ptr(int32(0))}, fault.Invalid, []string{"Limit"}},
		{"more than 10 names are refused naming Names", gamelift.DescribeMatchmakingRuleSetsInput{Names: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}, fault.Invalid, []string{"Names"}},
		{"a token this API did not return is refused naming NextToken", gamelift.DescribeMatchmakingRuleSetsInput{NextToken: "%%%"}, fault.Invalid, []string{"NextToken"}},
	}, func(w *world, in gamelift.DescribeMatchmakingRuleSetsInput) error {
		_, err := w.svc.DescribeMatchmakingRuleSets(w.ctx, &in)
		return err
	})
}

func TestValidateMatchmakingRuleSet(t *testing.T) {
	w := newWorld(t)
	t.Run("a body over 65535 characters is refused naming RuleSetBody", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.ValidateMatchmakingRuleSet(w.ctx, &gamelift.ValidateMatchmakingRuleSetInput{RuleSetBody: strings.Repeat(" ", 65536)})
		wantFault(t, err, fault.Invalid, "RuleSetBody")
	})
	t.Run("a rule naming an attribute the rule set does not declare is a problem", func(t *testing.T) {
		w := w.in(t)
		body := strings.Replace(duelRules, "attributes[skill]))\",\n             \"referenceValue\"", "attributes[speed]))\",\n             \"referenceValue\"", 1)
		if body == duelRules {
			t.Fatal("the test's rule set did not change")
		}
		_, err := w.svc.ValidateMatchmakingRuleSet(w.ctx, &gamelift.ValidateMatchmakingRuleSetInput{RuleSetBody: body})
		wantFault(t, err, fault.Invalid, "RuleSetBody", "speed")
	})
	t.Run("a read-only key may validate", func(t *testing.T) {
		w := w.in(t)
		out, err := w.svc.ValidateMatchmakingRuleSet(readOnly(t), &gamelift.ValidateMatchmakingRuleSetInput{RuleSetBody: duelRules})
		if err != nil || !*out.Valid {
			t.Fatal(err)
		}
	})
	t.Run("a read-only key may not create", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.CreateMatchmakingRuleSet(readOnly(t), &gamelift.CreateMatchmakingRuleSetInput{Name: "r", RuleSetBody: duelRules})
		wantFault(t, err, fault.Forbidden)
	})
}
