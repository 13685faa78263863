package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binaries are shared between test processes: `go test` runs each package
// as its own process, and linking muster (with -race above all) costs
// seconds that every end-to-end package would otherwise pay again. A build
// lives in a cache folder named by a hash of the source tree, the package
// and the build settings, so any edit to the tree makes a new build and a
// stale binary is never run. A file lock keeps two processes from building
// the same thing at once, and a build becomes visible only by an atomic
// rename, so a reader never sees half a binary.

// CacheEnv names a folder to keep the shared builds in, in place of the
// default: the folder muster-testbin inside Go's build cache ($GOCACHE, or
// its default under the user's cache folder), so that a CI machine that
// keeps its Go build cache between runs keeps the test binaries with it.
// Go's cache trimming and `go clean -cache` touch only their own entries.
const CacheEnv = "MUSTER_TESTBIN_CACHE"

// Every edit of the tree makes new builds (tens of megabytes each, more
// under -race), so old ones are removed: those no test has asked for in
// pruneAfter, and, beyond the keepRecent most recent builds of a package,
// those unused for pruneRecentAfter. Both spans outlast an ordinary test
// run, whose agents may launch the arena binary again long after they
// asked for it.
const (
	pruneAfter       = time.Hour
	keepRecent       = 8
	pruneRecentAfter = 10 * time.Minute
)

var (
	treeOnce sync.Once
	treeSum  string
	treeErr  error
)

// Binary returns the path of the muster binary built from this source
// tree, with -race when the tests run with -race.
func Binary(t testing.TB) string {
	t.Helper()
	return mustBuild(t, "./cmd/muster", RaceEnabled)
}

// MusterBinary is Binary for a caller without a testing.TB, such as a
// TestMain: the muster binary of this source tree, with -race when the
// tests run with -race.
func MusterBinary() (string, error) { return Build("./cmd/muster", RaceEnabled) }

// Arena returns the path of the examples/arena game server built from this
// source tree.
func Arena(t testing.TB) string {
	t.Helper()
	return mustBuild(t, "./examples/arena", false)
}

func mustBuild(t testing.TB, pkg string, race bool) string {
	t.Helper()
	bin, err := Build(pkg, race)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Build returns the path of a binary built from pkg, a package path
// relative to the module root ("./cmd/muster"), shared by every test
// process that asks for the same package of the same source tree. It takes
// no testing.TB so that a TestMain can call it.
func Build(pkg string, race bool) (string, error) {
	treeOnce.Do(func() { treeSum, treeErr = hashTree(moduleRoot()) })
	if treeErr != nil {
		return "", fmt.Errorf("testenv: hash the source tree: %w", treeErr)
	}
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, buildKey(pkg, race))
	name := path.Base(pkg)
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	bin := filepath.Join(dir, name)
	if _, err := os.Stat(bin); err == nil {
		touch(dir)
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testenv: %w", err)
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return "", fmt.Errorf("testenv: lock %s: %w", dir, err)
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil { // built while this process waited for the lock
		return bin, nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	args := []string{"build", "-o", tmp}
	if race {
		args = append(args, "-race")
	}
	if gcflags := testGCFlags(); gcflags != "" {
		args = append(args, "-gcflags="+gcflags)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("testenv: go build %s: %v\n%s", pkg, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("testenv: %w", err)
	}
	prune(root, dir)
	return bin, nil
}

// testGCFlags returns the -gcflags this test binary was built with, so
// the binaries the tests start are compiled as the tests are. The test
// command names there the packages the race detector leaves alone (see
// the README), and a muster server built without them would spend most of
// an end-to-end test's CPU in race checks of SQLite's translated C.
func testGCFlags() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "-gcflags" {
			return s.Value
		}
	}
	return ""
}

// cacheRoot is the folder that holds one folder per build.
func cacheRoot() (string, error) {
	if dir := os.Getenv(CacheEnv); dir != "" {
		return dir, nil
	}
	gocache := os.Getenv("GOCACHE")
	if gocache == "" || gocache == "off" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		gocache = filepath.Join(base, "go-build")
	}
	return filepath.Join(gocache, "muster-testbin"), nil
}

// buildKey names a build by everything that changes its output: the source
// tree, the package, -race, the tests' -gcflags and the toolchain settings
// from the environment.
func buildKey(pkg string, race bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00race=%v\x00gcflags=%s\x00%s\x00%s/%s", treeSum, pkg, race, testGCFlags(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, k := range []string{"GOFLAGS", "CGO_ENABLED", "GOEXPERIMENT", "GOAMD64", "GOARM64"} {
		fmt.Fprintf(h, "\x00%s=%s", k, os.Getenv(k))
	}
	sum := hex.EncodeToString(h.Sum(nil))[:24]
	name := strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "-")
	if race {
		name += "-race"
	}
	return name + "-" + sum
}

// hashTree hashes the files a build reads: Go sources, go.mod and go.sum,
// and the kinds of file the packages embed (SQL migrations, the OpenAPI
// document). It skips folders no build reads: hidden ones, node_modules and
// the data folder `muster serve --dev` writes into the checkout.
func hashTree(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "muster-data") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(name) {
		case ".go", ".mod", ".sum", ".sql", ".json", ".yaml":
		default:
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		n, err := io.Copy(h, f)
		fmt.Fprintf(h, "\x00%d\x00", n)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// touch marks a build folder as used, so prune keeps it.
func touch(dir string) {
	now := time.Now()
	os.Chtimes(dir, now, now)
}

// prune removes old build folders (and their lock files) from root, never
// keep; see pruneAfter. A folder removed while another process used it is
// at worst rebuilt.
func prune(root, keep string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	type build struct {
		path string
		used time.Time
	}
	byPackage := map[string][]build{}
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		info, err := e.Info()
		if !e.IsDir() || p == keep || err != nil {
			continue
		}
		// A folder is named <package>-<hash>.
		pkg := e.Name()[:max(strings.LastIndexByte(e.Name(), '-'), 0)]
		byPackage[pkg] = append(byPackage[pkg], build{p, info.ModTime()})
	}
	for _, builds := range byPackage {
		slices.SortFunc(builds, func(a, b build) int { return b.used.Compare(a.used) })
		for i, b := range builds {
			age := time.Since(b.used)
			if age > pruneAfter || (i >= keepRecent && age > pruneRecentAfter) {
				os.RemoveAll(b.path)
				os.Remove(b.path + ".lock")
			}
		}
	}
}
