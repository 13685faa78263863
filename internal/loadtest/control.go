package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/fxamacker/cbor/v2"
)

// ControlClient sends SigV4-signed control-API requests in either codec,
// the way the AWS SDKs do, with a connection pool sized for the load.
type ControlClient struct {
	Endpoint string
	Region   string
	Creds    aws.Credentials
	// CBOR selects Smithy RPC v2 CBOR; otherwise AWS JSON 1.1.
	CBOR   bool
	HTTP   *http.Client
	signer *v4.Signer
}

// NewControlClient returns a client with a pool of maxConns connections.
func NewControlClient(endpoint, region string, creds aws.Credentials, useCBOR bool, maxConns int) *ControlClient {
	tr := &http.Transport{MaxIdleConns: maxConns, MaxIdleConnsPerHost: maxConns, MaxConnsPerHost: maxConns, IdleConnTimeout: time.Minute}
	return &ControlClient{Endpoint: endpoint, Region: region, Creds: creds, CBOR: useCBOR,
		HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}, signer: v4.NewSigner()}
}

// Call sends op with input (a map or struct with GameLift member names) and
// fails unless the answer is 200.
func (c *ControlClient) Call(ctx context.Context, op string, input any) error {
	return c.Do(ctx, op, input, nil)
}

// APIError is a control-API error answer.
type APIError struct {
	Status  int
	Type    string
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Type, e.Message) }

// Do sends op with input and, when output is not nil, decodes the answer
// into it (JSON 1.1 only). Errors answered by the server are *APIError.
func (c *ControlClient) Do(ctx context.Context, op string, input, output any) error {
	var body []byte
	var err error
	var req *http.Request
	if c.CBOR {
		body, err = cbor.Marshal(input)
		if err != nil {
			return err
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"/service/GameLift/operation/"+op, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/cbor")
		req.Header.Set("Accept", "application/cbor")
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	} else {
		body, err = json.Marshal(input)
		if err != nil {
			return err
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"/", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "GameLift."+op)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.Creds, req, hex.EncodeToString(sum[:]), "gamelift", c.Region, time.Now()); err != nil {
		return err
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		apiErr := &APIError{Status: res.StatusCode, Message: string(truncate(b, 200))}
		if !c.CBOR {
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if json.Unmarshal(b, &e) == nil && e.Type != "" {
				apiErr.Type, apiErr.Message = e.Type, e.Message
			}
		}
		return fmt.Errorf("%s: %w", op, apiErr)
	}
	if output != nil && !c.CBOR {
		if err := json.Unmarshal(b, output); err != nil {
			return fmt.Errorf("%s: decode answer: %w", op, err)
		}
	}
	return nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
