package main_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/store/postgres/pgtest"
	"github.com/musterhq/muster/internal/testenv"
)

// TestReplicasStartedAtOnceOnAFreshDatabase starts three `muster serve`
// replicas at the same instant on a new PostgreSQL database, all naming
// the first admin key: every one comes up and accepts that key.
func TestReplicasStartedAtOnceOnAFreshDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	key := make([]byte, 32)
	rand.Read(key)
	bin := testenv.Binary(t)
	type proc struct {
		cmd      *exec.Cmd
		addrFile string
		log      testenv.Buffer
		done     chan struct{}
	}
	procs := make([]*proc, 3)
	for i := range procs {
		p := &proc{addrFile: filepath.Join(t.TempDir(), "addr"), done: make(chan struct{})}
		p.cmd = exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--addr-file", p.addrFile, "--data-dir", t.TempDir(),
			"--store", url, "--sdk-listen", "127.0.0.1:0", "--replica-id", fmt.Sprintf("r%d", i+1), "--master-key", hex.EncodeToString(key))
		p.cmd.Env = append(os.Environ(), "MUSTER_ADMIN_ACCESS_KEY_ID="+testenv.AdminKeyID, "MUSTER_ADMIN_SECRET_ACCESS_KEY="+testenv.AdminSecret)
		p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
		procs[i] = p
	}
	for _, p := range procs { // back to back: the replicas race on the first admin key
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	}
	for i, p := range procs {
		var addr []byte
		testenv.Eventually(t, fmt.Sprintf("replica r%d listens", i+1), 60*time.Second, func() bool {
			select {
			case <-p.done:
				t.Fatalf("replica r%d exited: %s", i+1, p.log.String())
			default:
			}
			addr, _ = os.ReadFile(p.addrFile)
			return len(addr) > 0
		})
		req, _ := http.NewRequest(http.MethodGet, "http://"+string(addr)+"/v1/admin/leases", nil)
		req.Header.Set("Authorization", "Bearer "+testenv.AdminKeyID+":"+testenv.AdminSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("replica r%d answers the admin key with %s", i+1, resp.Status)
		}
	}
}
