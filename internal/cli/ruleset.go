package cli

import (
	"context"

	"github.com/musterhq/muster/internal/rulesetcmd"
)

// RulesetCommand is `muster ruleset validate|simulate|explain`: the FlexMatch
// rule-set tools of package flexmatch, offline.
func RulesetCommand() *Command {
	return &Command{Name: "ruleset", Summary: "validate, simulate and explain FlexMatch rule sets", Sub: []*Command{
		{Name: "validate", Summary: rulesetcmd.ValidateHelp, Run: func(ctx context.Context, env Env, args []string) int {
			return rulesetcmd.Validate(ctx, args, env.Stdout, env.Stderr)
		}},
		{Name: "simulate", Summary: rulesetcmd.SimulateHelp, Run: func(ctx context.Context, env Env, args []string) int {
			return rulesetcmd.Simulate(ctx, args, env.Stdout, env.Stderr)
		}},
		{Name: "explain", Summary: rulesetcmd.ExplainHelp, Run: func(ctx context.Context, env Env, args []string) int {
			return rulesetcmd.Explain(ctx, args, env.Stdout, env.Stderr)
		}},
	}}
}
