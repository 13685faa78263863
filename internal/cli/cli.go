package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/musterhq/muster/internal/flagorder"
)

// Env is what a command may use of its process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Version is the build's version string.
	Version string
}

// Command is one verb of the muster binary.
type Command struct {
	Name    string
	Summary string
	// Run executes the command and returns the process exit code.
	Run func(ctx context.Context, env Env, args []string) int
	// Sub lists subcommands (muster keys create …); Run is then unused.
	Sub []*Command
}

// ExitUsage is the exit code for a command line that could not be parsed.
const ExitUsage = 2

// Main runs the command named by args[0] of the table.
func Main(ctx context.Context, env Env, table []*Command, args []string) int {
	return dispatch(ctx, env, "muster", table, args)
}

func dispatch(ctx context.Context, env Env, prefix string, table []*Command, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) >= 2 && args[0] == "help" {
			// muster help serve  ==  muster serve -h
			return dispatch(ctx, env, prefix, table, append(args[1:], "-h"))
		}
		printHelp(env.Stdout, prefix, table)
		if len(args) == 0 {
			return ExitUsage
		}
		return 0
	}
	for _, c := range table {
		if c.Name != args[0] {
			continue
		}
		if len(c.Sub) > 0 {
			return dispatch(ctx, env, prefix+" "+c.Name, c.Sub, args[1:])
		}
		return c.Run(ctx, env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "%s: unknown command %q\n", prefix, args[0])
	printHelp(env.Stderr, prefix, table)
	return ExitUsage
}

func printHelp(w io.Writer, prefix string, table []*Command) {
	fmt.Fprintf(w, "Usage: %s <command> [flags] [args]\n\nCommands:\n", prefix)
	cmds := append([]*Command(nil), table...)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags and where else it reads them from.\n", prefix)
}

// layeredNote ends the help of a command whose flags Layer fills: from the
// environment and, when it has a --config flag, from that file.
func layeredNote(fs *flag.FlagSet) string {
	if fs.Lookup("config") != nil {
		return "\nEvery flag can also be set with a MUSTER_* environment variable (--a-flag:\nMUSTER_A_FLAG) or a key in the JSON file given by --config; a flag beats the\nenvironment, which beats the file.\n"
	}
	return "\nEvery flag can also be set with a MUSTER_* environment variable (--a-flag:\nMUSTER_A_FLAG); a flag beats the environment.\n"
}

// Parse parses args into fs (flags may follow positional arguments), then
// layers the environment and config file under them. It prints errors and
// help itself; ok false means the caller should return code.
func Parse(fs *flag.FlagSet, env Env, usage string, args []string) (ok bool, code int) {
	fs.SetOutput(env.Stderr)
	printUsage := func() {
		fmt.Fprintf(fs.Output(), "Usage: %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), layeredNote(fs))
	}
	// The flag package prints the usage itself on -h and on errors; it is
	// printed here instead, once: help to stdout, after an error to stderr.
	fs.Usage = func() {}
	err := fs.Parse(flagorder.Reorder(fs, args))
	fs.Usage = printUsage
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return false, 0
		}
		fs.Usage()
		return false, ExitUsage
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if err := Layer(fs, getenv); err != nil {
		fmt.Fprintf(env.Stderr, "muster %s: %s\n", fs.Name(), strings.TrimSpace(err.Error()))
		return false, ExitUsage
	}
	return true, 0
}
