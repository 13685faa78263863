package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultUserAgent is the User-Agent sent when WithUserAgent is not used.
const DefaultUserAgent = "muster-go-client/1"

// DefaultPollInterval is how often Wait reads a ticket when polling.
const DefaultPollInterval = 500 * time.Millisecond

// Defaults of how Wait rides out a server it cannot reach (WithRetryBackoff,
// WithMaxOutage) and a silent event stream (WithStreamSilence).
const (
	DefaultRetryMin      = 250 * time.Millisecond
	DefaultRetryMax      = 10 * time.Second
	DefaultMaxOutage     = 12 * time.Hour
	DefaultStreamSilence = 30 * time.Second
)

// Client talks to one Muster server's player API for one player. It is
// safe for concurrent use: goroutines share the player's session, and a
// token refresh happens once for all of them.
type Client struct {
	endpoint string
	http     *http.Client
	agent    string
	poll     time.Duration
	polling  bool // Wait never opens the event stream
	pings    int
	pingWait time.Duration
	// retryMin and retryMax bound the pauses between Wait's attempts to
	// reach the server; maxOutage is how long it keeps trying.
	retryMin, retryMax time.Duration
	maxOutage          time.Duration
	// silence is how long the event stream may stay silent before Wait
	// takes it for dead.
	silence time.Duration
	// refreshBefore is how long before its expiry an access token is
	// replaced; zero means the default (see refreshDue).
	refreshBefore time.Duration
	onSession     func(Session)

	// mu guards sess; refreshMu serialises token exchanges, because the
	// server treats two exchanges of one refresh token as a stolen token
	// and revokes the whole session.
	mu        sync.Mutex
	refreshMu sync.Mutex
	sess      Session
	// lifetime is how long the last access token issued was valid for.
	lifetime time.Duration
	// changed is closed, and replaced, when the session changes: an open
	// event stream then hands the server the new access token.
	changed chan struct{}
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends requests with hc instead of http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header, so that the operator can tell
// games and their versions apart in the server's logs.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// WithPollInterval sets how often Wait reads a ticket when it polls
// (DefaultPollInterval when d <= 0); polling, a failed read is tried again
// no sooner than the next interval. Following the event stream, Wait still
// reads the ticket after 20 intervals without an event about it, and reads
// it every interval while the stream is down and not yet due to be opened
// again.
func WithPollInterval(d time.Duration) Option { return func(c *Client) { c.poll = d } }

// WithRetryBackoff sets the pauses of Wait while it cannot reach the
// server (a restart, a rolling restart of replicas, the player's network):
// after the first failure in a row it waits about lo, and twice as long
// after each further one, up to hi, each pause drawn at random between
// half and the whole of its length so that the players of a restarted
// server do not all come back at the same moment. A failed read of the
// ticket and a failed opening of the event stream back off alike; a
// server's Retry-After (429, 503) is honoured when it is longer. By
// default lo is DefaultRetryMin (250 ms) and hi DefaultRetryMax (10 s); a
// value <= 0 keeps its default, and hi is at least lo.
func WithRetryBackoff(lo, hi time.Duration) Option {
	return func(c *Client) { c.retryMin, c.retryMax = lo, hi }
}

// WithMaxOutage sets how long Wait goes on trying to read a ticket while
// every read fails for want of the server (the network's errors, a
// proxy's 502 or 504, the server's 429 or 503) before it returns the last
// error; any other error ends Wait at once. By default it is
// DefaultMaxOutage (12 h), the longest a matchmaking configuration lets a
// ticket search, so that in practice only the caller's context or the
// ticket's end stops Wait. A value <= 0 keeps the default.
func WithMaxOutage(d time.Duration) Option { return func(c *Client) { c.maxOutage = d } }

// WithStreamSilence sets how long Wait's event stream may go without a
// message or a ping before Wait takes it for dead and opens another: a
// server that went away without closing the connection (a crashed host, a
// dropped NAT mapping) otherwise leaves Wait blocked. By default it is
// DefaultStreamSilence (30 s), twice the 15 s at which Muster's server
// pings every stream. A stream silent for two thirds of d is pinged by the
// client, so that a bound shorter than the server's interval does not
// drop a healthy stream. A value <= 0 keeps the default.
func WithStreamSilence(d time.Duration) Option { return func(c *Client) { c.silence = d } }

// WithPolling makes Wait poll tickets even where the server pushes their
// changes (for a network that refuses WebSockets, say).
func WithPolling() Option { return func(c *Client) { c.polling = true } }

// WithPings sets how many pings MeasureLatencies sends to each location
// (the median is kept; 3 by default) and how long it waits for each answer
// (beacon.DefaultTimeout when zero).
func WithPings(n int, timeout time.Duration) Option {
	return func(c *Client) { c.pings, c.pingWait = n, timeout }
}

// WithRefreshBefore makes the client exchange its refresh token once the
// access token has less than d left (by default a minute, or a fifth of
// the token's lifetime when that is shorter).
func WithRefreshBefore(d time.Duration) Option { return func(c *Client) { c.refreshBefore = d } }

// WithSession starts the client with a saved session (see Client.Session):
// the player is signed in without asking them again. An expired access
// token, or none, is replaced by the refresh token on the first call.
func WithSession(s Session) Option { return func(c *Client) { c.sess = s } }

// OnSessionChange calls f with the new session after every sign-in and
// every token refresh, and with the zero Session after Logout (or when
// the server refuses the refresh token). f must not call the client. Refresh
// tokens are single-use, so a game that keeps the session across runs must
// save it here: after a refresh the token saved before is spent.
func OnSessionChange(f func(Session)) Option { return func(c *Client) { c.onSession = f } }

// New returns a client of the Muster server at endpoint (such as
// "https://muster.example.com" or "http://127.0.0.1:8080").
func New(endpoint string, opts ...Option) *Client {
	c := &Client{endpoint: strings.TrimSuffix(endpoint, "/"), http: http.DefaultClient, agent: DefaultUserAgent,
		poll: DefaultPollInterval, pings: 3}
	for _, o := range opts {
		o(c)
	}
	c.poll = positive(c.poll, DefaultPollInterval)
	c.retryMin = positive(c.retryMin, DefaultRetryMin)
	c.retryMax = max(positive(c.retryMax, DefaultRetryMax), c.retryMin)
	c.maxOutage = positive(c.maxOutage, DefaultMaxOutage)
	c.silence = positive(c.silence, DefaultStreamSilence)
	if c.pings < 1 {
		c.pings = 3
	}
	return c
}

// positive is d, or def when d is not positive.
func positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Endpoint is the server's base URL.
func (c *Client) Endpoint() string { return c.endpoint }

// request is one API call.
type request struct {
	method, path string
	// player sends the player's access token (refreshing it when due, and
	// once more on a 401).
	player bool
	in     any // JSON body; nil sends none
	out    any // decoded from a 2xx answer's body when not nil
	// ifMatch is the If-Match header, when not empty.
	ifMatch string
}

// call sends r and decodes its answer; an error answer is an *Error.
func (c *Client) call(ctx context.Context, r request) error {
	var body []byte
	if r.in != nil {
		var err error
		if body, err = json.Marshal(r.in); err != nil {
			return fmt.Errorf("muster: %s %s: %w", r.method, r.path, err)
		}
	}
	if !r.player {
		return c.send(ctx, r, body, "")
	}
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	err = c.send(ctx, r, body, token)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || c.Session().RefreshToken == "" {
		return err
	}
	// The token was refused before its time (the server restarted with
	// new keys, or the clock of this machine is off): refresh once.
	if token, err = c.refreshStale(ctx, token); err != nil {
		return err
	}
	return c.send(ctx, r, body, token)
}

// send makes one HTTP exchange.
func (c *Client) send(ctx context.Context, r request, body []byte, token string) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.endpoint+r.path, rd)
	if err != nil {
		return fmt.Errorf("muster: %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("User-Agent", c.agent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if r.ifMatch != "" {
		req.Header.Set("If-Match", r.ifMatch)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("muster: %s %s: %w", r.method, r.path, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		return errorOf(res)
	}
	if r.out == nil {
		_, _ = io.Copy(io.Discard, res.Body) // lets the connection be reused
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(r.out); err != nil {
		return fmt.Errorf("muster: %s %s: read the answer: %w", r.method, r.path, err)
	}
	return nil
}
