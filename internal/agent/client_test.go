package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/musterhq/muster/internal/agent"
	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/sigv4"
)

type oneKey struct{ id, secret string }

func (k oneKey) OperatorSecret(_ context.Context, id string) (string, auth.Principal, error) {
	if id != k.id {
		return "", auth.Principal{}, fault.New(fault.NotFound, "no key %s", id)
	}
	return k.secret, auth.Principal{Kind: auth.Operator, AccessKeyID: id}, nil
}

// controlPlaneStub verifies every request's SigV4 signature with Muster's own
// verifier and answers from the table by X-Amz-Target or path.
func controlPlaneStub(t *testing.T, answers map[string]func(body map[string]any) (int, any)) *httptest.Server {
	t.Helper()
	v := &sigv4.Verifier{Secrets: oneKey{"AKIDAGENT", "agent-secret"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(r, body); err != nil {
			w.WriteHeader(400)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": "InvalidSignatureException", "message": err.Error()})
			return
		}
		key := r.Header.Get("X-Amz-Target")
		if key == "" {
			key = r.URL.Path
		} else if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
			t.Errorf("%s sent Content-Type %q", key, ct)
		}
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		answer, ok := answers[key]
		if !ok {
			t.Errorf("unexpected call %s", key)
			w.WriteHeader(500)
			return
		}
		status, out := answer(in)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClientSignsAndSpeaksTheProtocol(t *testing.T) {
	var heartbeat map[string]any
	srv := controlPlaneStub(t, map[string]func(map[string]any) (int, any){
		"GameLift.RegisterCompute": func(in map[string]any) (int, any) {
			if in["FleetId"] != "fleet-1" || in["ComputeName"] != "host-1" || in["IpAddress"] != "10.0.0.5" {
				t.Errorf("RegisterCompute input %v", in)
			}
			return 200, map[string]any{"Compute": map[string]any{"FleetId": "fleet-1", "ComputeName": "host-1", "GameLiftServiceSdkEndpoint": "ws://x:1/"}}
		},
		"GameLift.GetComputeAuthToken": func(map[string]any) (int, any) {
			return 200, map[string]any{"AuthToken": "tok", "ExpirationTimestamp": 1795653468.5}
		},
		"GameLift.DescribeRuntimeConfiguration": func(map[string]any) (int, any) {
			return 200, map[string]any{"RuntimeConfiguration": map[string]any{"ServerProcesses": []any{map[string]any{"LaunchPath": "/bin/game", "Parameters": "-x", "ConcurrentExecutions": 3}}}}
		},
		"GameLift.DeregisterCompute": func(map[string]any) (int, any) {
			return 400, map[string]any{"__type": "com.amazonaws.gamelift#NotFoundException", "message": "no such compute"}
		},
		"/v1/admin/fleets/fleet-1/computes/host-1/heartbeat": func(in map[string]any) (int, any) {
			heartbeat = in
			return 200, map[string]any{"computeStatus": "ACTIVE", "heartbeatIntervalSeconds": 7, "processes": []any{map[string]any{"processId": "p1", "status": "ACTIVE"}}, "extra": true}
		},
	})
	c, err := agent.NewClient(agent.ClientConfig{Endpoint: srv.URL + "/", AccessKeyID: "AKIDAGENT", SecretAccessKey: "agent-secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	comp, err := c.RegisterCompute(ctx, gamelift.RegisterComputeInput{FleetId: "fleet-1", ComputeName: "host-1", IpAddress: "10.0.0.5"})
	if err != nil || comp.GameLiftServiceSdkEndpoint != "ws://x:1/" {
		t.Fatalf("RegisterCompute = %+v, %v", comp, err)
	}
	tok, err := c.GetComputeAuthToken(ctx, "fleet-1", "host-1")
	if err != nil || tok.Token != "tok" || !tok.ExpiresAt.Equal(time.Unix(1795653468, 500e6)) {
		t.Fatalf("GetComputeAuthToken = %+v, %v", tok, err)
	}
	rc, err := c.DescribeRuntimeConfiguration(ctx, "fleet-1")
	if err != nil || len(rc.ServerProcesses) != 1 || rc.ServerProcesses[0].ConcurrentExecutions == nil || *rc.ServerProcesses[0].ConcurrentExecutions != 3 {
		t.Fatalf("DescribeRuntimeConfiguration = %+v, %v", rc, err)
	}
	hb, err := c.Heartbeat(ctx, "fleet-1", "host-1", agentwire.Heartbeat{Beacon: &agent.BeaconAddress{Domain: "127.0.0.1", Port: 7770}})
	if err != nil || hb.HeartbeatIntervalSeconds != 7 || len(hb.Processes) != 1 {
		t.Fatalf("Heartbeat = %+v, %v", hb, err)
	}
	if ps, ok := heartbeat["processes"].([]any); !ok || len(ps) != 0 || heartbeat["draining"] != false {
		t.Fatalf("heartbeat body %v: want draining false and an empty processes array", heartbeat)
	}
	err = c.DeregisterCompute(ctx, "fleet-1", "host-1")
	if !agent.IsNotFound(err) || !agent.IsClientError(err) {
		t.Fatalf("DeregisterCompute = %v, want a NotFoundException", err)
	}
}

func TestClientReportsErrors(t *testing.T) {
	srv := controlPlaneStub(t, map[string]func(map[string]any) (int, any){
		"/v1/admin/fleets/fleet-1/computes/gone/heartbeat": func(map[string]any) (int, any) {
			return 404, map[string]any{"type": "about:blank", "title": "Not Found", "detail": "compute gone is not registered"}
		},
		"GameLift.GetComputeAuthToken": func(map[string]any) (int, any) {
			return 500, map[string]any{"__type": "InternalServiceException", "message": "internal error"}
		},
		// A proxy's empty 200 is not the control plane's answer: acted on, its
		// empty runtime configuration would stop every process.
		"/v1/admin/fleets/fleet-1/computes/proxied/heartbeat": func(map[string]any) (int, any) { return 200, nil },
	})
	tests := []struct {
		name       string
		secret     string
		call       func(c *agent.Client) error
		notFound   bool
		clientSide bool
	}{
		{"a heartbeat for an unknown compute is not found", "agent-secret", func(c *agent.Client) error {
			_, err := c.Heartbeat(t.Context(), "fleet-1", "gone", agentwire.Heartbeat{})
			return err
		}, true, true},
		{"a heartbeat answer without computeStatus is an error, retried", "agent-secret", func(c *agent.Client) error {
			_, err := c.Heartbeat(t.Context(), "fleet-1", "proxied", agentwire.Heartbeat{})
			return err
		}, false, false},
		{"a server error is retryable", "agent-secret", func(c *agent.Client) error {
			_, err := c.GetComputeAuthToken(t.Context(), "fleet-1", "h")
			return err
		}, false, false},
		{"a wrong secret is a client error", "wrong", func(c *agent.Client) error {
			_, err := c.GetComputeAuthToken(t.Context(), "fleet-1", "h")
			return err
		}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := agent.NewClient(agent.ClientConfig{Endpoint: srv.URL, AccessKeyID: "AKIDAGENT", SecretAccessKey: tc.secret})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(c)
			if err == nil || agent.IsNotFound(err) != tc.notFound || agent.IsClientError(err) != tc.clientSide {
				t.Fatalf("err = %v; want notFound %v, client error %v", err, tc.notFound, tc.clientSide)
			}
		})
	}
}

func TestNewClientChecksItsConfig(t *testing.T) {
	for _, cfg := range []agent.ClientConfig{
		{Endpoint: "ftp://x", AccessKeyID: "a", SecretAccessKey: "b"},
		{Endpoint: "http://x"},
	} {
		if _, err := agent.NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v) succeeded", cfg)
		}
	}
}
