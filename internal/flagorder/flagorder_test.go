package flagorder_test

import (
	"flag"
	"io"
	"slices"
	"testing"

	"github.com/musterhq/muster/internal/flagorder"
)

func TestReorderPutsFlagsBeforePositionalArguments(t *testing.T) {
	tests := []struct {
		name       string
		args, want []string
		// positional is what fs.Args() holds after fs.Parse; bad says the
		// parse fails instead.
		positional []string
		bad        bool
	}{
		{name: "flags after positional arguments move in front", args: []string{"a.json", "--n", "3", "b.json", "--json"},
			want: []string{"--n", "3", "--json", "--", "a.json", "b.json"}, positional: []string{"a.json", "b.json"}},
		{name: "a flag with = takes no next argument", args: []string{"a.json", "-n=4", "b.json"},
			want: []string{"-n=4", "--", "a.json", "b.json"}, positional: []string{"a.json", "b.json"}},
		{name: "everything after -- is positional", args: []string{"-json", "--", "-n", "x.json"},
			want: []string{"-json", "--", "-n", "x.json"}, positional: []string{"-n", "x.json"}},
		{name: "a lone dash is positional", args: []string{"-", "-json"},
			want: []string{"-json", "--", "-"}, positional: []string{"-"}},
		{name: "an unknown flag stays among the flags for the parse to refuse", args: []string{"a", "--nope", "b"},
			want: []string{"--nope", "--", "a", "b"}, bad: true},
		{name: "a value flag last is left last, without a value", args: []string{"a", "-n"},
			want: []string{"-n"}, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.Int("n", 0, "")
			fs.Bool("json", false, "")
			got := flagorder.Reorder(fs, tc.args)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Reorder(%q) = %q, want %q", tc.args, got, tc.want)
			}
			err := fs.Parse(got)
			if (err != nil) != tc.bad {
				t.Fatalf("parse: %v", err)
			}
			if err == nil && !slices.Equal(fs.Args(), tc.positional) {
				t.Fatalf("fs.Args() = %q, want %q", fs.Args(), tc.positional)
			}
		})
	}
}
