package rulesetcmd

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ValidateHelp summarises the validate verb.
const ValidateHelp = "check rule-set files and list every problem as FILE: PATH: reason"

const validateUsage = `Usage: muster ruleset validate [--timeout SECONDS|DURATION] [--quiet] FILE...

Validates FlexMatch rule-set files. Exits 0 when every file is valid, 1 when
any is not (one line per problem: FILE: PATH: reason), 2 on usage errors.
Warnings are printed as FILE: PATH: warning: reason and do not fail.`

// Validate runs "muster ruleset validate".
func Validate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("validate", validateUsage, stderr)
	var timeout seconds
	fs.Var(&timeout, "timeout", "request timeout of the configuration that will use the rule set, in seconds (60) or as a duration (1m); expansion steps after it are errors (0: do not check)")
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
		if timeout > 0 {
			for _, p := range rs.CheckTimeout(float64(timeout)) {
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
			fmt.Fprintf(stdout, "%s: ok (%s, %s, up to %d players, %s match)\n", name, count(len(rs.TeamNames()), "team"), count(len(rs.RuleNames()), "rule"), rs.MaxPlayers(), kind)
		}
	}
	return code
}

// count says n things: "1 rule", "2 rules".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// seconds is a flag of seconds given as a number (60, 2.5) or a Go
// duration (1m, 90s), as the other commands' time flags are.
type seconds float64

func (s *seconds) String() string { return strconv.FormatFloat(float64(*s), 'g', -1, 64) }

func (s *seconds) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		*s = seconds(f)
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%q: must be seconds (60) or a duration (1m), not negative", v)
	}
	*s = seconds(d.Seconds())
	return nil
}
