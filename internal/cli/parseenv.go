package cli

import (
	"errors"
	"flag"
	"io"

	"github.com/musterhq/muster/internal/flagorder"
)

// parseWithEnv parses args into fs for a command whose --config names a
// matchmaking configuration rather than a config file, so Parse's layers do
// not apply: usage writes the command's help (to stdout when asked for, to
// stderr after a bad flag), and each flag named in fromEnv that was not
// given takes its value from the environment (EnvName) when set there.
func parseWithEnv(fs *flag.FlagSet, env Env, args []string, usage func(io.Writer), fromEnv ...string) (ok bool, code int) {
	// The flag package prints the usage itself on an error; it is printed
	// here once instead, on stdout when asked for.
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {}
	if err := fs.Parse(flagorder.Reorder(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(env.Stdout)
			return false, 0
		}
		usage(env.Stderr)
		return false, ExitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	getenv := getenvOf(env)
	for _, name := range fromEnv {
		if v := getenv(EnvName(name)); !set[name] && v != "" {
			_ = fs.Set(name, v)
			if s, ok := fs.Lookup(name).Value.(sourced); ok {
				s.setSource(EnvName(name))
			}
		}
	}
	return true, 0
}

func getenvOf(env Env) func(string) string {
	if env.Getenv == nil {
		return func(string) string { return "" }
	}
	return env.Getenv
}
