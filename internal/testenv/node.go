package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// JSTests readies a test that runs node:test files of test/js: it returns
// the node binary and the test/js folder once the npm package pkg is
// installed there. Without the package the test fails in CI, whose
// .ci/run installs it with npm ci, and skips elsewhere.
func JSTests(t testing.TB, pkg string) (node, dir string) {
	t.Helper()
	dir = filepath.Join(moduleRoot(), "test", "js")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg))); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed in %s: .ci/run must run npm ci there", pkg, dir)
		}
		t.Skipf("run `npm ci` in %s to enable the tests that use %s", dir, pkg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	return node, dir
}
