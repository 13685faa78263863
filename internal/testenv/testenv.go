package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
)

// Admin credentials every test server starts with.
const (
	AdminKeyID  = "MKIATESTADMIN0000001"
	AdminSecret = "test-admin-secret-0123456789abcdef"
	Region      = "mu-local-1"
)

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Server is a running `muster serve`.
type Server struct {
	t       testing.TB
	DataDir string
	Addr    string
	cmd     *exec.Cmd
	done    chan struct{}
	log     Buffer
	args    []string
	env     []string
	dir     string
}

// Option changes how a Server starts.
type Option func(*Server)

// WithArgs adds flags to `muster serve`.
func WithArgs(args ...string) Option { return func(s *Server) { s.args = append(s.args, args...) } }

// WithEnv adds environment variables (KEY=VALUE).
func WithEnv(env ...string) Option { return func(s *Server) { s.env = append(s.env, env...) } }

// WithDir runs the server in dir (serve --dev builds examples/arena from
// the working directory).
func WithDir(dir string) Option { return func(s *Server) { s.dir = dir } }

// ModuleRoot is the repository's root directory.
func ModuleRoot() string { return moduleRoot() }

// WithDataDir reuses a data directory (for restart tests).
func WithDataDir(dir string) Option { return func(s *Server) { s.DataDir = dir } }

// Buffer collects a child process's output while tests read it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs `muster serve` on 127.0.0.1:0 and waits until it is ready.
// The server is killed at the end of the test if still running.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if s.DataDir == "" {
		s.DataDir = t.TempDir()
	}
	addrFile := filepath.Join(t.TempDir(), "addr")
	// Shedding at the door is off unless a test turns it on: on a CI
	// machine running several end-to-end packages at once the store's
	// writer can fall behind for a moment, and the tests' clients, which
	// do not retry, would see the refusal. Shedding has tests of its own.
	// The SDK endpoint takes a free port too (a test's own --sdk-listen,
	// later, wins): the default 7777 is shared by every server the tests
	// run at once, and a server whose SDK port is taken does not start.
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0", "--addr-file", addrFile, "--data-dir", s.DataDir,
		"--log-level", "debug", "--shed-write-delay", "0"}, s.args...)
	s.cmd = exec.Command(Binary(t), args...)
	s.cmd.Dir = s.dir
	s.cmd.Env = append(os.Environ(), "MUSTER_ADMIN_ACCESS_KEY_ID="+AdminKeyID, "MUSTER_ADMIN_SECRET_ACCESS_KEY="+AdminSecret)
	s.cmd.Env = append(s.cmd.Env, s.env...)
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("muster serve log:\n%s", s.Logs())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			s.Addr = string(b)
			break
		}
		select {
		case <-s.done:
			t.Fatalf("muster serve exited before listening:\n%s", s.Logs())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("muster serve did not listen within 60s:\n%s", s.Logs())
		}
	}
	return s
}

// Logs returns what the server printed so far.
func (s *Server) Logs() string { return s.log.String() }

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// Kill sends SIGKILL and waits for the process to go.
func (s *Server) Kill() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	<-s.done
}

// Signal sends sig to the server process: SIGSTOP and SIGCONT in fault
// tests, to pause it as a long GC or an overloaded host would.
func (s *Server) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// Pid is the server process's id, for reading its memory from /proc.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM and waits for a clean exit.
func (s *Server) Stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.Kill()
		return fmt.Errorf("muster serve did not stop within 30s of SIGTERM")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("muster serve exited with %d", code)
	}
	return nil
}

// GameLift returns the real AWS SDK GameLift client (RPC v2 CBOR) for the
// server, with retries off so tests see raw errors.
func (s *Server) GameLift(keyID, secret string) *gamelift.Client {
	cfg := aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1}
	return gamelift.NewFromConfig(cfg, BufferedBodies, func(o *gamelift.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

// Admin is GameLift with the admin key.
func (s *Server) Admin() *gamelift.Client { return s.GameLift(AdminKeyID, AdminSecret) }

// SignedJSON sends a SigV4-signed AWS JSON 1.1 request for op, signed at
// the given time.
func (s *Server) SignedJSON(ctx context.Context, keyID, secret, op, body string, at time.Time) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/", strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "GameLift."+op)
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), "gamelift", Region, at); err != nil {
		return nil, nil, err
	}
	return do(req)
}

// Bearer sends a request with the admin key as `Authorization: Bearer id:secret`.
func (s *Server) Bearer(ctx context.Context, method, path, body string) (*http.Response, []byte, error) {
	return s.Request(ctx, method, path, AdminKeyID+":"+AdminSecret, body)
}

// Request sends a request with `Authorization: Bearer <bearer>` when bearer
// is not empty (a player's access token, or an operator's id:secret) and a
// JSON body when body is not empty.
func (s *Server) Request(ctx context.Context, method, path, bearer, body string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL()+path, rd)
	if err != nil {
		return nil, nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(req)
}

func do(req *http.Request) (*http.Response, []byte, error) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}
