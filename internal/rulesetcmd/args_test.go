package rulesetcmd

import (
	"io"
	"slices"
	"testing"
)

func TestParseArgsAcceptsFlagsOnEitherSideOfFiles(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		files []string
		n     int
		json  bool
	}{
		{"flags before the file", []string{"-n", "3", "-json", "a.json"}, []string{"a.json"}, 3, true},
		{"flags after the file", []string{"a.json", "--n", "3", "--json"}, []string{"a.json"}, 3, true},
		{"flags between files", []string{"a.json", "-n=4", "b.json"}, []string{"a.json", "b.json"}, 4, false},
		{"everything after -- is a file", []string{"-json", "--", "-n", "x.json"}, []string{"-n", "x.json"}, 0, true},
		{"a lone dash is a file", []string{"-"}, []string{"-"}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlags("t", "usage", io.Discard)
			n := fs.Int("n", 0, "")
			js := fs.Bool("json", false, "")
			files, err := parseArgs(fs, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(files, tc.files) || *n != tc.n || *js != tc.json {
				t.Fatalf("files %v n %d json %v; want %v %d %v", files, *n, *js, tc.files, tc.n, tc.json)
			}
		})
	}
	t.Run("an unknown flag is an error", func(t *testing.T) {
		fs := newFlags("t", "usage", io.Discard)
		if _, err := parseArgs(fs, []string{"a.json", "--nope"}); err == nil {
			t.Fatal("no error")
		}
	})
}
