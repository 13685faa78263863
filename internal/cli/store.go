package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

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
	if err := requireSQLiteFile(*from); err != nil {
		fmt.Fprintf(env.Stderr, "muster store copy: --from: %v\n", err)
		return 1
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

// requireSQLiteFile refuses a SQLite store URL whose file does not exist:
// opening it would make an empty store (and its lock file), and copying
// from that would report success. Other stores are not looked at.
func requireSQLiteFile(rawURL string) error {
	kind, path, err := backend.Parse(rawURL, "")
	if err != nil || kind != backend.SQLite {
		return nil // backend.Open names a bad URL
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file", path)
	}
	return nil
}
