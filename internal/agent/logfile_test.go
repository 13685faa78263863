package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotatingFile(t *testing.T) {
	tests := []struct {
		name   string
		keep   int
		writes []string
		want   map[string]string // file suffix → content; absent files must not exist
	}{
		{name: "writes that fit stay in one file", keep: 2,
			writes: []string{"aaaa", "bbbb"}, want: map[string]string{"": "aaaabbbb"}},
		{name: "a write that would pass the cap starts a new file", keep: 2,
			writes: []string{"aaaaaaa", "bbbbbbb"}, want: map[string]string{"": "bbbbbbb", ".1": "aaaaaaa"}},
		{name: "only keep old files are kept, newest first", keep: 2,
			writes: []string{"aaaaaaa", "bbbbbbb", "ccccccc", "ddddddd"}, want: map[string]string{"": "ddddddd", ".1": "ccccccc", ".2": "bbbbbbb", ".3": ""}},
		{name: "keep 0 discards the full file", keep: 0,
			writes: []string{"aaaaaaa", "bbbbbbb"}, want: map[string]string{"": "bbbbbbb", ".1": ""}},
		{name: "a line longer than the cap is cut across files", keep: 1,
			writes: []string{"aa", "bbbbbbbbbbbbbbbbbbbb", "cc"}, want: map[string]string{"": "cc", ".1": "bbbbbbbbbb"}},
		{name: "a chunk is cut after its last newline that fits", keep: 2,
			writes: []string{"aaaa\nbbbb\ncc"}, want: map[string]string{"": "cc", ".1": "aaaa\nbbbb\n"}},
		{name: "a line that does not fit starts a new file", keep: 2,
			writes: []string{"aaaaaa\n", "bbbbbb\n"}, want: map[string]string{"": "bbbbbb\n", ".1": "aaaaaa\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.log")
			r, err := openRotating(path, 10, tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.writes {
				if n, err := r.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			for suffix, want := range tc.want {
				b, err := os.ReadFile(path + suffix)
				if want == "" {
					if !os.IsNotExist(err) {
						t.Errorf("p.log%s exists (%q), want it gone", suffix, b)
					}
					continue
				}
				if err != nil || string(b) != want {
					t.Errorf("p.log%s = %q, %v; want %q", suffix, b, err, want)
				}
			}
		})
	}
}

func TestRotatingFileAppendsToAnExistingLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := openRotating(path, 1<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = r.Write([]byte("new\n"))
	r.Close()
	if _, err := r.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != "old\nnew\n" {
		t.Fatalf("log = %q", b)
	}
	if strings.Contains(path, "..") {
		t.Fatal(path)
	}
}

// TestALogThatCannotBeWrittenNeverFailsAWrite: os/exec closes the pipe of a
// process's output at the first error its log returns, and the process dies
// of SIGPIPE; so a log write never fails. A rotation that fails goes on in
// the same file, and a write the file refuses is dropped.
func TestALogThatCannotBeWrittenNeverFailsAWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "game.log")
	r, err := openRotating(path, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// path.1 and path.2 are directories with files in them: moving the old
	// logs along fails.
	for _, old := range []string{".1", ".2"} {
		if err := os.MkdirAll(filepath.Join(path+old, "held"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range []string{"aaaaaaa\n", "bbbbbbb\n"} {
		if n, err := r.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write(%q) with a rotation that fails = %d, %v; want all of it, no error", line, n, err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "aaaaaaa\nbbbbbbb\n" {
		t.Fatalf("log %q, want both lines in the file rotation could not move", b)
	}
	// A file the system refuses to write (here: opened read-only).
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.f.Close()
	r.f, r.size = ro, 0
	r.mu.Unlock()
	if n, err := r.Write([]byte("lost\n")); n != 5 || err != nil {
		t.Fatalf("Write to a file that refuses it = %d, %v; want it dropped without an error", n, err)
	}
}
