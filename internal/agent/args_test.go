package agent_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/agent"
)

func TestSplitParameters(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "an empty string has no arguments", in: "", want: nil},
		{name: "words split on runs of blanks", in: "  -port 7777\t-map  arena ", want: []string{"-port", "7777", "-map", "arena"}},
		{name: "single quotes keep everything literally", in: `-name 'a "b" \c'`, want: []string{"-name", `a "b" \c`}},
		{name: "double quotes group words and unescape quotes", in: `-motd "hello \"you\" \\ there"`, want: []string{"-motd", `hello "you" \ there`}},
		{name: "quotes join with adjacent text", in: `--opt='x y'z`, want: []string{"--opt=x yz"}},
		{name: "a backslash escapes a blank", in: `a\ b c`, want: []string{"a b", "c"}},
		{name: "empty quotes are an empty argument", in: `a "" b`, want: []string{"a", "", "b"}},
		{name: "an unterminated single quote is an error", in: `a 'b`, wantErr: true},
		{name: "an unterminated double quote is an error", in: `a "b`, wantErr: true},
		{name: "a trailing backslash is an error", in: `a \`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := agent.SplitParameters(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("SplitParameters(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !tc.wantErr && !slices.Equal(got, tc.want) {
				t.Fatalf("SplitParameters(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzSplitParameters(f *testing.F) {
	for _, s := range []string{"", "-a b", `'x y' "z \" w"`, `a\ b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := agent.SplitParameters(s)
		if err != nil {
			return
		}
		// Quoting every argument in single quotes (no quote inside) must
		// give the same arguments back.
		var b strings.Builder
		for _, a := range args {
			if strings.Contains(a, "'") {
				return
			}
			b.WriteString("'" + a + "' ")
		}
		again, err := agent.SplitParameters(b.String())
		if err != nil || !slices.Equal(again, args) {
			t.Fatalf("re-split of %q = %q, %v; want %q", b.String(), again, err, args)
		}
	})
}
