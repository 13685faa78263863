package rulesetcmd

import (
	"context"
	"fmt"
	"io"
)

// ValidateHelp summarises the validate verb.
const ValidateHelp = "check rule-set files and list every problem as FILE: PATH: reason"

const validateUsage = `usage: muster ruleset validate [--timeout SECONDS] [--quiet] FILE...

Validates FlexMatch rule-set files. Exits 0 when every file is valid, 1 when
any is not (one line per problem: FILE: PATH: reason), 2 on usage errors.
Warnings are printed as FILE: PATH: warning: reason and do not fail.`

// Validate runs "muster ruleset validate".
func Validate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("validate", validateUsage, stderr)
	timeout := fs.Float64("timeout", 0, "request timeout in seconds of the configuration that will use the rule set; expansion steps after it are errors (0: do not check)")
	quiet := fs.Bool("quiet", false, "print nothing for valid files")
	files, err := parseArgs(fs, args)
	if err != nil {
		return usageExit(err)
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "validate: name at least one rule-set FILE")
		fs.Usage()
		return exitUsage
	}
	code := exitOK
	for _, name := range files {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "validate:", ctx.Err())
			return exitFailed
		}
		rs, ok := loadRuleSet(name, stdout)
		if !ok {
			code = exitFailed
			continue
		}
		bad := false
		if *timeout > 0 {
			for _, p := range rs.CheckTimeout(*timeout) {
				fmt.Fprintf(stdout, "%s: %s\n", name, p)
				bad = true
			}
		}
		for _, w := range rs.Warnings() {
			fmt.Fprintf(stdout, "%s: %s: warning: %s\n", name, w.Path, w.Reason)
		}
		if bad {
			code = exitFailed
			continue
		}
		if !*quiet {
			kind := "small"
			if rs.Large() {
				kind = "large"
			}
			fmt.Fprintf(stdout, "%s: ok (%d teams, %d rules, up to %d players, %s match)\n", name, len(rs.TeamNames()), len(rs.RuleNames()), rs.MaxPlayers(), kind)
		}
	}
	return code
}
