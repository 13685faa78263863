package capacity

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// Webhook asks the operator's service for hosts with a signed HTTP POST
// (Standard Webhooks headers, signed as webhook deliveries are) of
//
//	{"action": "provision"|"release", "fleetId": …, "location": …, "computeName": …}
//
// through the webhook client, whose dialer refuses metadata and Muster's
// own addresses. A 2xx answer within Timeout is success.
type Webhook struct {
	URL     string
	Signer  *sign.Signer
	Client  *http.Client
	Clock   clock.Clock
	Timeout time.Duration
}

// Provision posts "provision".
func (wh *Webhook) Provision(ctx context.Context, h Host) error { return wh.call(ctx, "provision", h) }

// Release posts "release".
func (wh *Webhook) Release(ctx context.Context, h Host) error { return wh.call(ctx, "release", h) }

func (wh *Webhook) call(ctx context.Context, action string, h Host) error {
	body, err := json.Marshal(struct {
		Action string `json:"action"`
		Host
	}{action, h})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, wh.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	wh.Signer.Sign(req.Header, "msg_"+rand.Text(), wh.Clock.Now(), body)
	resp, err := wh.Client.Do(req)
	if err != nil {
		return fmt.Errorf("provisioner webhook %s: %w", action, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("provisioner webhook %s: HTTP %d: %s", action, resp.StatusCode, lastLine(string(msg)))
	}
	return nil
}
