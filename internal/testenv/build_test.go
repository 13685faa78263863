package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestPruneKeepsRecentBuildsAndTheOneInUse(t *testing.T) {
	root := t.TempDir()
	mkdir := func(name string, age time.Duration) string {
		p := filepath.Join(root, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+".lock", nil, 0o644); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-age)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Twelve builds of cmd-muster-race, used 20 to 31 minutes ago; one of
	// examples-arena used 5 minutes ago and one two hours ago; the build
	// just made, which is older than all of them by its times.
	for i := range 12 {
		mkdir(fmt.Sprintf("cmd-muster-race-%02d", i), time.Duration(20+i)*time.Minute)
	}
	mkdir("examples-arena-new", 5*time.Minute)
	mkdir("examples-arena-old", 2*time.Hour)
	keep := mkdir("cmd-muster-race-kept", 3*time.Hour)

	prune(root, keep)

	var left []string
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.IsDir() {
			left = append(left, e.Name())
		} else if _, err := os.Stat(filepath.Join(root, e.Name()[:len(e.Name())-len(".lock")])); err != nil {
			t.Errorf("lock file %s outlived its build", e.Name())
		}
	}
	want := []string{"cmd-muster-race-00", "cmd-muster-race-01", "cmd-muster-race-02", "cmd-muster-race-03",
		"cmd-muster-race-04", "cmd-muster-race-05", "cmd-muster-race-06", "cmd-muster-race-07",
		"cmd-muster-race-kept", "examples-arena-new"}
	if !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
}
