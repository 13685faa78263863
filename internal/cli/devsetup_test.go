package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/musterhq/muster/client"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/loadtest"
	"github.com/musterhq/muster/internal/server"
)

const (
	testKeyID  = "MKIADEVSETUPTEST0001"
	testSecret = "dev-setup-test-secret-0123456789abcdef"
)

// devRig is a real control plane served in process, and a dev system
// pointed at it, as `serve --dev` sets one up.
type devRig struct {
	d       *devSystem
	control *loadtest.ControlClient
	setup   devSetup
	url     string
	// close stops the server, as a restart does (also run at cleanup).
	close func()
}

func newDevRig(t *testing.T, dataDir string) *devRig {
	t.Helper()
	ctx := context.Background()
	cfg := server.Config{DataDir: dataDir, Region: server.DefaultRegion, Account: "000000000000",
		AdminAccessKeyID: testKeyID, AdminSecretAccessKey: testSecret, SDKListen: "127.0.0.1:0"}
	log := slog.New(slog.DiscardHandler)
	d := newDevSystem(&cfg, log, 3, io.Discard)
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	d.attach(srv)
	stop := srv.StartBackground()
	ts := httptest.NewServer(srv.Handler())
	closeAll := sync.OnceFunc(func() { ts.Close(); stop(); srv.Close() })
	t.Cleanup(closeAll)
	control := loadtest.NewControlClient(ts.URL, cfg.Region, aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, false, 2)
	return &devRig{
		d:       d,
		control: control, url: ts.URL, close: closeAll,
		setup: devSetup{control: control, endpoint: ts.URL, keyID: testKeyID, secret: testSecret, arns: gamelift.ARNBuilder{Region: cfg.Region, Account: cfg.Account}},
	}
}

// operatorEnv is the Env of a command run against the rig with the
// operator key in its environment (MUSTER_ENDPOINT and the key's halves).
func (r *devRig) operatorEnv(stdout, stderr io.Writer) Env {
	vars := map[string]string{"MUSTER_ENDPOINT": r.url, "MUSTER_ACCESS_KEY_ID": testKeyID, "MUSTER_SECRET_ACCESS_KEY": testSecret}
	return Env{Stdout: stdout, Stderr: stderr, Getenv: func(k string) string { return vars[k] }}
}

// start does what `serve --dev` does at each start: the fleet, then the
// matchmaking set-up.
func (r *devRig) start(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	fleetID, err := r.d.ensureFleet(ctx, r.control, "/opt/arena")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.setup.ensure(ctx, fleetID); err != nil {
		t.Fatal(err)
	}
	return fleetID
}

func TestDevSetupIsMadeOnceAndReusedOnRestart(t *testing.T) {
	dataDir := t.TempDir()
	first := newDevRig(t, dataDir)
	fleetID := first.start(t)
	if again := first.start(t); again != fleetID {
		t.Fatalf("a second start in the same run made fleet %s next to %s", again, fleetID)
	}
	first.close()
	restarted := newDevRig(t, dataDir) // same data directory, new process
	if again := restarted.start(t); again != fleetID {
		t.Fatalf("a restart made fleet %s next to %s", again, fleetID)
	}
	r, ctx := restarted, context.Background()

	t.Run("one dev fleet runs the configured processes with an idle time-out", func(t *testing.T) {
		var fleets gamelift.DescribeFleetAttributesOutput
		if err := r.control.Do(ctx, "DescribeFleetAttributes", gamelift.DescribeFleetAttributesInput{}, &fleets); err != nil {
			t.Fatal(err)
		}
		if len(fleets.FleetAttributes) != 1 || fleets.FleetAttributes[0].FleetId != fleetID {
			t.Fatalf("fleets %+v, want only %s", fleets.FleetAttributes, fleetID)
		}
		var rc gamelift.DescribeRuntimeConfigurationOutput
		if err := r.control.Do(ctx, "DescribeRuntimeConfiguration", gamelift.DescribeRuntimeConfigurationInput{FleetId: fleetID}, &rc); err != nil {
			t.Fatal(err)
		}
		sp := rc.RuntimeConfiguration.ServerProcesses
		if len(sp) != 1 || aws.ToInt32(sp[0].ConcurrentExecutions) != 3 || sp[0].Parameters != "--idle-exit 30s" || sp[0].LaunchPath != "/opt/arena" {
			t.Fatalf("runtime configuration %+v", sp)
		}
	})
	t.Run("one queue places on the dev fleet", func(t *testing.T) {
		var qs gamelift.DescribeGameSessionQueuesOutput
		if err := r.control.Do(ctx, "DescribeGameSessionQueues", gamelift.DescribeGameSessionQueuesInput{}, &qs); err != nil {
			t.Fatal(err)
		}
		if len(qs.GameSessionQueues) != 1 || qs.GameSessionQueues[0].Name != devQueue ||
			len(qs.GameSessionQueues[0].Destinations) != 1 || !strings.HasSuffix(qs.GameSessionQueues[0].Destinations[0].DestinationArn, "fleet/"+fleetID) {
			t.Fatalf("queues %+v", qs.GameSessionQueues)
		}
	})
	t.Run("the two sample rule sets and WITH_QUEUE configurations exist once", func(t *testing.T) {
		var rs gamelift.DescribeMatchmakingRuleSetsOutput
		if err := r.control.Do(ctx, "DescribeMatchmakingRuleSets", gamelift.DescribeMatchmakingRuleSetsInput{}, &rs); err != nil {
			t.Fatal(err)
		}
		var cs gamelift.DescribeMatchmakingConfigurationsOutput
		if err := r.control.Do(ctx, "DescribeMatchmakingConfigurations", gamelift.DescribeMatchmakingConfigurationsInput{}, &cs); err != nil {
			t.Fatal(err)
		}
		if len(rs.RuleSets) != 2 || len(cs.Configurations) != 2 {
			t.Fatalf("%d rule sets and %d configurations, want 2 and 2", len(rs.RuleSets), len(cs.Configurations))
		}
		for _, c := range cs.Configurations {
			if c.FlexMatchMode != "WITH_QUEUE" || len(c.GameSessionQueueArns) != 1 || !strings.HasSuffix(c.GameSessionQueueArns[0], "gamesessionqueue/"+devQueue) || c.RuleSetName != c.Name {
				t.Fatalf("configuration %+v", c)
			}
		}
	})
	t.Run("players may start tickets in both configurations", func(t *testing.T) {
		for _, c := range devConfigurations {
			p := client.New(r.url)
			if _, err := p.SignInAnonymous(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := p.StartMatchmaking(ctx, c.name, map[string]int{devLocation: 5}); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
	})
}

func TestDevSetupKeepsAnOperatorsChanges(t *testing.T) {
	r, ctx := newDevRig(t, t.TempDir()), context.Background()
	r.start(t)
	timeout := int32(99)
	if err := r.control.Do(ctx, "UpdateMatchmakingConfiguration", gamelift.UpdateMatchmakingConfigurationInput{Name: "dev-duel", RequestTimeoutSeconds: &timeout}, nil); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	var cs gamelift.DescribeMatchmakingConfigurationsOutput
	if err := r.control.Do(ctx, "DescribeMatchmakingConfigurations", gamelift.DescribeMatchmakingConfigurationsInput{Names: []string{"dev-duel"}}, &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs.Configurations) != 1 || aws.ToInt32(cs.Configurations[0].RequestTimeoutSeconds) != 99 {
		t.Fatalf("configuration after a restart: %+v", cs.Configurations)
	}
}

func TestDevModeIsNotReadyBeforeItsFleetIs(t *testing.T) {
	var d devSystem
	if err := d.readyCheck(context.Background()); err == nil || !strings.Contains(err.Error(), "no ready game server") {
		t.Fatalf("readyCheck before the fleet is ready: %v", err)
	}
	d.ready.Store(true)
	if err := d.readyCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	failed := newDevRig(t, t.TempDir()).d
	failed.addr = make(chan string, 1)
	failed.addr <- "127.0.0.1:1" // nothing listens there: dev mode cannot set up
	_ = failed.background(context.Background())
	if err := failed.readyCheck(context.Background()); err == nil || !strings.Contains(err.Error(), "dev mode stopped") {
		t.Fatalf("readyCheck after dev mode stopped: %v", err)
	}
}
