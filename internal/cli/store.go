package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/musterhq/muster/internal/store/backend"
)

func runStoreCopy(ctx context.Context, env Env, args []string) int {
	fs := flag.NewFlagSet("store copy", flag.ContinueOnError)
	from := fs.String("from", "", "the store to copy: a SQLite file path, sqlite://PATH or postgres://… (required)")
	to := fs.String("to", "", "an empty store to copy into, named the same ways (required)")
	if ok, code := Parse(fs, env, "muster store copy --from URL --to URL   (stop every muster serve on both first)", args); !ok {
		return code
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "muster store copy: --from and --to are both required, and nothing else")
		return ExitUsage
	}
	src, err := backend.Open(ctx, backend.Config{URL: *from, Server: true})
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster store copy: --from: %v\n", err)
		return 1
	}
	defer src.Close()
	dst, err := backend.Open(ctx, backend.Config{URL: *to, Server: true})
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster store copy: --to: %v\n", err)
		return 1
	}
	defer dst.Close()
	stats, err := backend.Copy(ctx, src, dst)
	if err != nil {
		fmt.Fprintf(env.Stderr, "muster store copy: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "copied %d records and %d events from %s to %s\n", stats.Records, stats.Events,
		backend.Describe(*from, ""), backend.Describe(*to, ""))
	return 0
}
