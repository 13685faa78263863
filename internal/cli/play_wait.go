package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/clock"
)

// readyPollInterval is how often play asks a server that is not ready yet.
const readyPollInterval = 250 * time.Millisecond

// waitReady waits up to wait, on clk, for the server at endpoint to
// answer /readyz with 200, so that `muster play` typed while `serve --dev`
// still builds or starts its dev fleet plays once it is up instead of
// failing at once. It says once what it waits for.
func waitReady(ctx context.Context, clk clock.Clock, endpoint string, wait time.Duration, out io.Writer) error {
	if wait <= 0 {
		return nil
	}
	deadline := clk.NewTimer(wait)
	defer deadline.Stop()
	hc := &http.Client{Timeout: 2 * time.Second}
	url := strings.TrimSuffix(endpoint, "/") + "/readyz"
	for said := false; ; said = true {
		why := probeReady(ctx, hc, url)
		if why == "" {
			return nil
		}
		if !said {
			fmt.Fprintf(out, "waiting up to %s for Muster at %s to be ready (%s); start it with `muster serve --dev`\n", wait, endpoint, why)
		}
		poll := clk.NewTimer(readyPollInterval)
		select {
		case <-ctx.Done():
			poll.Stop()
			return ctx.Err()
		case <-deadline.C():
			poll.Stop()
			return fmt.Errorf("Muster at %s was not ready within %s: %s", endpoint, wait, why)
		case <-poll.C():
		}
	}
}

// probeReady asks url once and says why the server is not ready, or ""
// when it is.
func probeReady(ctx context.Context, hc *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	res, err := hc.Do(req)
	if err != nil {
		return oneLine(err.Error())
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		return ""
	}
	return fmt.Sprintf("/readyz answered %d %s", res.StatusCode, strings.TrimSpace(string(body)))
}
