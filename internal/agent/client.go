package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/musterhq/muster/internal/agent/agentwire"
	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/gamelift"
)

// DefaultRegion is the signing region when ClientConfig.Region is empty.
const DefaultRegion = "mu-local-1"

// signingService is the SigV4 service name of the control plane.
const signingService = "gamelift"

// maxResponseBytes bounds what the client reads of an answer.
const maxResponseBytes = 4 << 20

// ClientConfig configures a Client.
type ClientConfig struct {
	// Endpoint is the control plane's base URL, e.g. http://127.0.0.1:8080.
	Endpoint string
	// AccessKeyID and SecretAccessKey are an operator key.
	AccessKeyID, SecretAccessKey string
	// Region is the SigV4 signing region; empty means DefaultRegion.
	Region string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// Clock dates the signatures; nil means the wall clock.
	Clock clock.Clock
}

// Client calls the control plane: four GameLift operations over AWS JSON 1.1
// and Muster's heartbeat, all SigV4-signed with an operator key.
type Client struct {
	base   *url.URL
	creds  aws.Credentials
	region string
	http   *http.Client
	clock  clock.Clock
	signer *v4.Signer
}

// NewClient checks cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.Endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("agent: endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return nil, errors.New("agent: an operator access key id and secret are required (MUSTER_ACCESS_KEY_ID, MUSTER_SECRET_ACCESS_KEY)")
	}
	c := &Client{
		base:   u,
		creds:  aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey},
		region: cfg.Region,
		http:   cfg.HTTPClient,
		clock:  cfg.Clock,
		signer: v4.NewSigner(),
	}
	if c.region == "" {
		c.region = DefaultRegion
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.clock == nil {
		c.clock = clock.Real{}
	}
	return c, nil
}

// APIError is an error answer of the control plane.
type APIError struct {
	// Operation is the GameLift operation or "Heartbeat".
	Operation string
	// StatusCode is the HTTP status.
	StatusCode int
	// Type is the GameLift exception name (JSON 1.1 __type) or, for the
	// heartbeat, the problem type or title.
	Type    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.Operation, e.StatusCode, e.Type, e.Message)
}

// IsNotFound reports whether err is a control-plane "not found" answer (for
// the heartbeat: the compute is not registered).
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.Type == "NotFoundException")
}

// IsConflict reports whether err is a 409 answer: for the heartbeat,
// another agent instance runs the compute.
func IsConflict(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusConflict
}

// IsClientError reports whether err is a 4xx answer that retrying will not
// fix (bad input, unknown fleet, bad credentials).
func IsClientError(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 && ae.StatusCode != http.StatusTooManyRequests && ae.Type != "ThrottlingException"
}

// RegisterCompute registers (or re-registers) a compute and returns it,
// with the SDK endpoint its processes must dial.
func (c *Client) RegisterCompute(ctx context.Context, in gamelift.RegisterComputeInput) (*gamelift.Compute, error) {
	var out gamelift.RegisterComputeOutput
	if err := c.call(ctx, "RegisterCompute", in, &out); err != nil {
		return nil, err
	}
	if out.Compute == nil {
		return nil, errors.New("RegisterCompute: the answer has no Compute")
	}
	return out.Compute, nil
}

// AuthToken is GetComputeAuthToken's answer.
type AuthToken struct {
	Token     string
	ExpiresAt time.Time
}

// GetComputeAuthToken returns a fresh auth token for the compute's processes.
func (c *Client) GetComputeAuthToken(ctx context.Context, fleetID, computeName string) (*AuthToken, error) {
	in := map[string]string{"FleetId": fleetID, "ComputeName": computeName}
	var out gamelift.GetComputeAuthTokenOutput
	if err := c.call(ctx, "GetComputeAuthToken", in, &out); err != nil {
		return nil, err
	}
	if out.AuthToken == "" {
		return nil, errors.New("GetComputeAuthToken: the answer has no AuthToken")
	}
	t := &AuthToken{Token: out.AuthToken}
	if out.ExpirationTimestamp != nil {
		t.ExpiresAt = out.ExpirationTimestamp.Time()
	}
	return t, nil
}

// DescribeRuntimeConfiguration returns the fleet's runtime configuration.
func (c *Client) DescribeRuntimeConfiguration(ctx context.Context, fleetID string) (*gamelift.RuntimeConfiguration, error) {
	var out struct {
		RuntimeConfiguration *gamelift.RuntimeConfiguration
	}
	if err := c.call(ctx, "DescribeRuntimeConfiguration", map[string]string{"FleetId": fleetID}, &out); err != nil {
		return nil, err
	}
	if out.RuntimeConfiguration == nil {
		return &gamelift.RuntimeConfiguration{}, nil
	}
	return out.RuntimeConfiguration, nil
}

// DeregisterCompute removes the compute from its fleet.
func (c *Client) DeregisterCompute(ctx context.Context, fleetID, computeName string) error {
	in := map[string]string{"FleetId": fleetID, "ComputeName": computeName}
	return c.call(ctx, "DeregisterCompute", in, &struct{}{})
}

// Heartbeat reports the compute's processes and returns the control plane's
// view. An error satisfying IsNotFound means the compute is not registered.
func (c *Client) Heartbeat(ctx context.Context, fleetID, computeName string, in agentwire.Heartbeat) (*agentwire.Reply, error) {
	if in.Processes == nil {
		in.Processes = []agentwire.Process{}
	}
	path := "/v1/admin/fleets/" + url.PathEscape(fleetID) + "/computes/" + url.PathEscape(computeName) + "/heartbeat"
	var out agentwire.Reply
	if err := c.do(ctx, "Heartbeat", path, map[string]string{"Content-Type": "application/json"}, in, &out); err != nil {
		return nil, err
	}
	if out.ComputeStatus == "" {
		// Not the control plane's answer (an empty body from a proxy, say):
		// acting on it would stop every process for an empty runtime
		// configuration. It counts as a failed heartbeat instead.
		return nil, errors.New("Heartbeat: the answer carries no computeStatus")
	}
	return &out, nil
}

// call performs one GameLift operation over AWS JSON 1.1.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	h := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "GameLift." + op}
	return c.do(ctx, op, "/", h, in, out)
}

func (c *Client) do(ctx context.Context, op, path string, headers map[string]string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), signingService, c.region, c.clock.Now()); err != nil {
		return fmt.Errorf("%s: sign: %w", op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(op, resp, data)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", op, err)
	}
	return nil
}

// decodeError reads a JSON 1.1 error ({"__type", "message"}) or an RFC 9457
// problem ({"type", "title", "detail"}).
func decodeError(op string, resp *http.Response, data []byte) error {
	var body struct {
		Type         string `json:"__type"`
		Message      string `json:"message"`
		MessageUpper string `json:"Message"`
		ProblemType  string `json:"type"`
		Title        string `json:"title"`
		Detail       string `json:"detail"`
	}
	_ = json.Unmarshal(data, &body)
	e := &APIError{Operation: op, StatusCode: resp.StatusCode, Type: body.Type, Message: body.Message}
	if e.Type == "" {
		e.Type = resp.Header.Get("X-Amzn-ErrorType")
	}
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		e.Type = e.Type[i+1:]
	}
	if i := strings.IndexByte(e.Type, ':'); i >= 0 {
		e.Type = e.Type[:i]
	}
	if e.Type == "" {
		e.Type = body.Title
	}
	if e.Message == "" {
		e.Message = body.MessageUpper
	}
	if e.Message == "" {
		e.Message = body.Detail
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(data[:min(len(data), 200)]))
	}
	return e
}
