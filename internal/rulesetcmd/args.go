package rulesetcmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/flagorder"
)

// Exit codes of every verb.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	maxFileSize = 8 << 20
)

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may come before or after the positional
// arguments (Go's flag package stops at the first positional one).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(flagorder.Reorder(fs, args)); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// usageExit maps a parse error to an exit code.
func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("file is larger than %d bytes", maxFileSize)
	}
	return b, nil
}

// loadRuleSet reads and parses a rule-set file, printing problems as
// "FILE: PATH: reason" lines.
func loadRuleSet(name string, out io.Writer) (*flexmatch.RuleSet, bool) {
	body, err := readFile(name)
	if err != nil {
		fmt.Fprintf(out, "%s: %v\n", name, err)
		return nil, false
	}
	rs, err := flexmatch.Parse(body)
	if err != nil {
		var ve *flexmatch.ValidationError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				fmt.Fprintf(out, "%s: %s\n", name, p)
			}
		} else {
			fmt.Fprintf(out, "%s: %v\n", name, err)
		}
		return nil, false
	}
	return rs, true
}

// printJSON prints v for --json, indented.
func printJSON(stdout, stderr io.Writer, verb string, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, verb+":", err)
		return exitFailed
	}
	return exitOK
}
