package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDevModeOutsideACheckoutWarnsWhatToDo: serve --dev run where there
// is no examples/arena (the tests run in internal/cli) builds nothing, and
// says at WARN level why the dev fleet may never become ready and what to
// do about it.
func TestDevModeOutsideACheckoutWarnsWhatToDo(t *testing.T) {
	if _, err := os.Stat(filepath.Join("examples", "arena", "main.go")); err == nil {
		t.Fatal("the test needs a working directory without examples/arena")
	}
	var logs bytes.Buffer
	d := &devSystem{log: slog.New(slog.NewTextHandler(&logs, nil)), dataDir: t.TempDir()}
	if path := d.buildArena(context.Background()); path != "" {
		t.Fatalf("built %q without the source", path)
	}
	got := logs.String()
	for _, want := range []string{"level=WARN", "examples/arena not found", "repository root", "UpdateRuntimeConfiguration"} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %q:\n%s", want, got)
		}
	}
}
