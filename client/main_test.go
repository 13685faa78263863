package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/musterhq/muster/beacon"
	"github.com/musterhq/muster/internal/testenv"
)

// The tests and the examples share one real `muster serve`, started by
// TestMain (examples take no *testing.T, so testenv.Start cannot start it
// for them). endpoint is its URL, the name the examples use.
var (
	endpoint string
	shared   *testenv.Server // for its admin clients only: TestMain runs the process
)

// homeLocation is the one location with a beacon: a heartbeat reports a
// UDP beacon this test process serves on 127.0.0.1.
const homeLocation = "custom-home"

// oneVOne pits a red player against a blue one, whatever their skills.
const oneVOne = `{"ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}]}`

// twoVTwo is up to two players a side: a party of two against one player.
const twoVTwo = `{"ruleLanguageVersion": "1.0",
  "playerAttributes": [{"name": "skill", "type": "number", "default": 1000}],
  "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 2}, {"name": "blue", "minPlayers": 1, "maxPlayers": 2}]}`

func TestMain(m *testing.M) {
	ctx, cancel := context.WithCancel(context.Background())
	stop, err := startShared(ctx)
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
	code := m.Run()
	cancel()
	stop()
	os.Exit(code)
}

// startShared runs `muster serve` from the binary testenv builds, with
// configurations every test and example uses, and a location whose
// beacon stays listed while the tests run.
func startShared(ctx context.Context) (stop func(), err error) {
	bin, err := testenv.MusterBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "muster-client-test-")
	if err != nil {
		return nil, err
	}
	out := &testenv.Buffer{}
	addrFile := filepath.Join(dir, "addr")
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--addr-file", addrFile, "--data-dir", filepath.Join(dir, "data"),
		"--sdk-listen", "127.0.0.1:0", "--player-ip-rate", "0", "--player-writable-keys", "nickname")
	cmd.Env = append(os.Environ(), "MUSTER_ADMIN_ACCESS_KEY_ID="+testenv.AdminKeyID, "MUSTER_ADMIN_SECRET_ACCESS_KEY="+testenv.AdminSecret)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() { cmd.Process.Kill(); <-done; os.RemoveAll(dir) }
	fail := func(err error) (func(), error) {
		stop()
		return nil, fmt.Errorf("%w\nmuster serve:\n%s", err, out.String())
	}
	addr, err := waitForFile(addrFile, done)
	if err != nil {
		return fail(err)
	}
	endpoint, shared = "http://"+addr, &testenv.Server{Addr: addr}
	if err := setUp(ctx); err != nil {
		return fail(err)
	}
	return stop, nil
}

// waitForFile returns the contents of the file a starting server writes
// its address to, once written.
func waitForFile(path string, exited <-chan struct{}) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b), nil
		}
		select {
		case <-exited:
			return "", errors.New("muster serve exited before listening")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", errors.New("muster serve did not listen within 60s")
}

// setUp makes the matchmaking configurations (STANDALONE, open to players
// unless named closed; acc requires acceptance) and the beacon of
// homeLocation.
func setUp(ctx context.Context) error {
	for name, rules := range map[string]string{"duel": oneVOne, "wait-duel": oneVOne, "lonely": oneVOne, "closed": oneVOne, "acc": oneVOne, "squad": twoVTwo} {
		if err := configuration(ctx, name, rules); err != nil {
			return err
		}
	}
	return serveBeacon(ctx)
}

func configuration(ctx context.Context, name, rules string) error {
	return testenv.CreateMatchmaking(ctx, shared.Admin(), testenv.Matchmaking{Name: name, Rules: rules, Players: name != "closed",
		Mutate: func(in *gamelift.CreateMatchmakingConfigurationInput) {
			in.RequestTimeoutSeconds = aws.Int32(120)
			if name == "acc" {
				in.AcceptanceRequired, in.AcceptanceTimeoutSeconds = aws.Bool(true), aws.Int32(60)
			}
		}})
}

// admin sends an operator request and wants a 2xx answer.
func admin(ctx context.Context, method, path, body string) error {
	res, b, err := shared.Bearer(ctx, method, path, body)
	if err == nil && res.StatusCode >= 300 {
		err = fmt.Errorf("%s %s: %s %s", method, path, res.Status, b)
	}
	return err
}

// serveBeacon plays the part of a host agent in homeLocation (and makes a
// second location, custom-empty, with no agent): it registers a compute,
// answers pings on 127.0.0.1 with package beacon's server, and heartbeats
// with that beacon until ctx ends, so that GET /v1/locations lists it.
func serveBeacon(ctx context.Context) error {
	gl := shared.Admin()
	for _, l := range []string{homeLocation, "custom-empty"} {
		if _, err := gl.CreateLocation(ctx, &gamelift.CreateLocationInput{LocationName: aws.String(l)}); err != nil {
			return err
		}
	}
	f, err := gl.CreateFleet(ctx, &gamelift.CreateFleetInput{Name: aws.String("home"), ComputeType: types.ComputeTypeAnywhere,
		Locations: []types.LocationConfiguration{{Location: aws.String(homeLocation)}}})
	if err != nil {
		return err
	}
	fleetID := aws.ToString(f.FleetAttributes.FleetId)
	if _, err := gl.RegisterCompute(ctx, &gamelift.RegisterComputeInput{FleetId: aws.String(fleetID), ComputeName: aws.String("host-1"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String(homeLocation)}); err != nil {
		return err
	}
	b, err := beacon.Listen(ctx, "127.0.0.1:0", nil)
	if err != nil {
		return err
	}
	go b.Serve(ctx)
	path := "/v1/admin/fleets/" + fleetID + "/computes/host-1/heartbeat"
	body := fmt.Sprintf(`{"draining":false,"processes":[],"beacon":{"domain":"127.0.0.1","port":%d}}`, b.Addr().(*net.UDPAddr).Port)
	if err := admin(ctx, http.MethodPost, path, body); err != nil {
		return err
	}
	// The beacon record lives for three heartbeat intervals (30 s): keep
	// it alive like an agent would, on the wall clock the server runs on.
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = admin(ctx, http.MethodPost, path, body)
			}
		}
	}()
	return nil
}

// ownServer starts a `muster serve` of the test's own, for a test that
// changes the server's life (restarts it, moves its clock), and opens the
// configurations "lonely" and "alone" on it, where a player waits alone
// as long as one of each is there; opts add to its flags.
func ownServer(t *testing.T, opts ...testenv.Option) *testenv.Server {
	t.Helper()
	s := testenv.Start(t, append([]testenv.Option{testenv.WithArgs("--player-ip-rate", "0")}, opts...)...)
	for _, name := range []string{"lonely", "alone"} {
		err := testenv.CreateMatchmaking(context.Background(), s.Admin(), testenv.Matchmaking{Name: name, Rules: oneVOne, Players: true,
			Mutate: func(in *gamelift.CreateMatchmakingConfigurationInput) {
				in.RequestTimeoutSeconds = aws.Int32(43200) // longer than any clock the test moves
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// advance moves the clock of a server started with --fake-clock.
func advance(t *testing.T, s *testenv.Server, seconds int) {
	t.Helper()
	res, b, err := s.Bearer(context.Background(), http.MethodPost, "/v1/admin/clock/advance", fmt.Sprintf(`{"seconds":%d}`, seconds))
	if err == nil && res.StatusCode >= 300 {
		err = fmt.Errorf("%s %s", res.Status, b)
	}
	if err != nil {
		t.Fatal(err)
	}
}
