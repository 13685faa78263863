package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/musterhq/muster/client"
)

// The phases a flow bot walks, in order. Each is timed from the end of the
// one before it.
const (
	PhaseSignIn    = "sign-in"   // an identity and its tokens
	PhaseRecord    = "record"    // the player reads its player record
	PhaseTicket    = "ticket"    // the event stream opened and the ticket started
	PhaseMatch     = "match"     // the ticket left SEARCHING: a match was made
	PhasePlacement = "placement" // the ticket is COMPLETED: a game session is ACTIVE
	PhaseConnect   = "connect"   // a TCP connection to the game server
	PhaseValidated = "validated" // the game server accepted the player session
)

// Phases lists the phases in the order a bot walks them.
var Phases = []string{PhaseSignIn, PhaseRecord, PhaseTicket, PhaseMatch, PhasePlacement, PhaseConnect, PhaseValidated}

// FlowConfig is a whole-flow load run: bots start at Rate per second for
// Duration (or until Players have started) and each walks every phase.
type FlowConfig struct {
	// Endpoint is the Muster base URL; Configuration the matchmaking
	// configuration the bots ask for a match in.
	Endpoint, Configuration string
	// AccessKeyID and SecretAccessKey are an operator key: bots then sign
	// in as developer-authenticated players (a server-to-server call), so
	// the run is not bounded by the per-IP limit of anonymous sign-in.
	// Without a key bots sign in anonymously.
	AccessKeyID, SecretAccessKey string
	// Rate is bots started per second; Duration how long bots are
	// started; Players, when above 0, caps how many start in all.
	Rate     float64
	Duration time.Duration
	Players  int
	// Timeout bounds each bot's walk (default one minute).
	Timeout time.Duration
	// MaxInFlight, when above 0, caps the bots walking at once: a bot due
	// while that many walk is not started and is counted as Skipped. Past
	// the server's capacity this keeps the load tool's own cost bounded
	// on the machine it shares with the server.
	MaxInFlight int
	// Polling follows tickets by polling instead of the event stream.
	Polling bool
	// Hold is how long a validated bot stays in the game before it quits
	// (a match's length); 0 quits at once, ending the game session.
	Hold time.Duration
	// Progress, when set, is called about once a second while the run
	// lasts, and once at the end.
	Progress func(Progress)
	// HTTP is the client bots share; nil makes one sized for the load.
	HTTP *http.Client
	// OnBot, when set, is called as each bot finishes, from its goroutine.
	OnBot func(BotResult)
}

// BotResult is how one bot's walk ended.
type BotResult struct {
	IdentityID, TicketID, PlayerSessionID string
	// FailedPhase is the phase that failed and Err why; "" and nil for a
	// bot that was validated by the game server.
	FailedPhase string
	Err         error
}

// Progress is a run's state so far.
type Progress struct {
	Elapsed                              time.Duration
	Started, InFlight, Completed, Failed int
}

// Validate names every bad field of c.
func (c *FlowConfig) Validate() error {
	var bad []string
	if c.Endpoint == "" {
		bad = append(bad, "endpoint: required")
	}
	if c.Configuration == "" {
		bad = append(bad, "configuration: required")
	}
	if c.Rate <= 0 {
		bad = append(bad, "rate: must be above 0 bots per second")
	}
	if c.Duration <= 0 {
		bad = append(bad, "duration: must be above 0")
	}
	if c.Players < 0 {
		bad = append(bad, "players: must not be negative")
	}
	if c.MaxInFlight < 0 {
		bad = append(bad, "max in flight: must not be negative")
	}
	if c.Hold < 0 {
		bad = append(bad, "hold: must not be negative")
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		bad = append(bad, "operator key: give both the access key id and the secret, or neither")
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// RunFlow runs the bots and reports. Bots that have started when the
// start window closes finish their walk (up to Timeout); ctx ending stops
// them all, cancelling their tickets.
func RunFlow(ctx context.Context, cfg FlowConfig) (*FlowReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.HTTP == nil {
		tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext}
		cfg.HTTP = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	latencies, err := measureLatencies(ctx, client.New(cfg.Endpoint, client.WithHTTPClient(cfg.HTTP)))
	if err != nil {
		return nil, fmt.Errorf("measure latencies against the location beacons: %w", err)
	}
	rec := newRecorder(time.Now())
	runID := time.Now().UnixNano() % 1_000_000_000
	total := int(cfg.Rate * cfg.Duration.Seconds())
	if cfg.Players > 0 {
		total = min(total, cfg.Players)
	}
	stopProgress := rec.report(ctx, cfg.Progress)
	var wg sync.WaitGroup
	start := rec.start
	for k := range total {
		due := start.Add(time.Duration(float64(k) / cfg.Rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		if cfg.MaxInFlight > 0 && rec.progress().InFlight >= cfg.MaxInFlight {
			rec.skipped()
			continue
		}
		b := &flowBot{cfg: &cfg, rec: rec, latencies: latencies, userID: fmt.Sprintf("flow-%d-%d", runID, k)}
		rec.started()
		wg.Go(func() { b.run(ctx) })
	}
	window := time.Since(start)
	wg.Wait()
	stopProgress()
	return rec.finish(cfg, window), nil
}

// flowBot is one player walking the flow.
type flowBot struct {
	cfg       *FlowConfig
	rec       *recorder
	latencies map[string]int
	userID    string
	c         *client.Client
	result    BotResult
	// last is when the last phase ended.
	last time.Time
}

// phase ends the current phase: it records its duration, or on err the
// failure, named by phase and kind, and reports whether to go on.
func (b *flowBot) phase(name string, err error) bool {
	now := time.Now()
	if err != nil {
		b.rec.failed(name, kindOf(err), err)
		b.result.FailedPhase, b.result.Err = name, err
		return false
	}
	b.rec.phaseDone(name, now.Sub(b.last))
	b.last = now
	return true
}

func (b *flowBot) run(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	if b.cfg.OnBot != nil {
		defer func() { b.cfg.OnBot(b.result) }()
	}
	began := time.Now()
	b.last = began
	if !b.phase(PhaseSignIn, b.signIn(ctx)) {
		return
	}
	b.result.IdentityID = b.c.IdentityID()
	_, err := b.c.Me(ctx)
	if !b.phase(PhaseRecord, err) {
		return
	}
	asked := time.Now()
	m, ok := b.findMatch(ctx)
	if !ok {
		return
	}
	g, err := dialArena(ctx, m.Addr())
	if !b.phase(PhaseConnect, err) {
		return
	}
	defer g.close()
	b.result.PlayerSessionID = m.PlayerSessionID
	if !b.phase(PhaseValidated, g.join(ctx, m.PlayerSessionID)) {
		return
	}
	validated := time.Now()
	if b.cfg.Hold > 0 {
		select {
		case <-time.After(b.cfg.Hold):
		case <-ctx.Done():
		}
	}
	g.quit()
	b.rec.completed(validated.Sub(asked), validated.Sub(began), validated)
}

// signIn makes the bot's identity: developer-authenticated with the
// operator key, anonymous without one.
func (b *flowBot) signIn(ctx context.Context) error {
	opts := []client.Option{client.WithHTTPClient(b.cfg.HTTP), client.WithUserAgent("muster-loadtest-flow/1")}
	if b.cfg.Polling {
		opts = append(opts, client.WithPolling())
	}
	if b.cfg.AccessKeyID == "" {
		b.c = client.New(b.cfg.Endpoint, opts...)
		_, err := b.c.SignInAnonymous(ctx)
		return err
	}
	s, err := DeveloperSignIn(ctx, b.cfg.HTTP, b.cfg.Endpoint, b.cfg.AccessKeyID, b.cfg.SecretAccessKey, b.userID)
	if err != nil {
		return err
	}
	b.c = client.New(b.cfg.Endpoint, append(opts, client.WithSession(s))...)
	return nil
}

// findMatch asks for a match and follows the ticket (client.FindMatch, as
// a game client would): the ticket phase ends with the ticket started, the
// match phase when it leaves SEARCHING (or the queue), the placement phase
// when it is COMPLETED with a seat.
func (b *flowBot) findMatch(ctx context.Context) (*client.Match, bool) {
	started, matched := false, false
	m, err := b.c.FindMatch(ctx, b.cfg.Configuration, b.latencies, client.OnStatus(func(t *client.Ticket) {
		if !started {
			started = true
			b.result.TicketID = t.TicketID
			b.phase(PhaseTicket, nil)
		}
		switch t.Status {
		case client.StatusPlacing, client.StatusRequiresAcceptance, client.StatusCompleted:
			if !matched {
				matched = true
				b.phase(PhaseMatch, nil)
			}
		}
	}), client.OnAcceptance(func(t *client.Ticket) {
		_ = b.c.AcceptMatch(ctx, t.TicketID, true)
	}))
	if err == nil && (m.Addr() == "" || m.PlayerSessionID == "") {
		err = fmt.Errorf("ticket %s COMPLETED without a game server or a seat for this player", m.TicketID)
	}
	switch {
	case err == nil:
		return m, b.phase(PhasePlacement, nil)
	case !started:
		return nil, b.phase(PhaseTicket, err)
	}
	if ctx.Err() != nil {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = b.c.CancelTicket(stop, b.result.TicketID)
		cancel()
	}
	if matched {
		return nil, b.phase(PhasePlacement, err)
	}
	return nil, b.phase(PhaseMatch, err)
}

// DeveloperSignIn signs userID in at endpoint through hc, with the
// operator key keyID:secret as the bearer credential (POST
// /v1/identity/developer, the game backend's server-to-server sign-in).
func DeveloperSignIn(ctx context.Context, hc *http.Client, endpoint, keyID, secret, userID string) (client.Session, error) {
	body, _ := json.Marshal(map[string]string{"userId": userID})
	u := strings.TrimRight(endpoint, "/") + "/v1/identity/developer"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return client.Session{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+keyID+":"+secret)
	res, err := hc.Do(req)
	if err != nil {
		return client.Session{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		return client.Session{}, &client.Error{Status: res.StatusCode, Title: http.StatusText(res.StatusCode), Detail: strings.TrimSpace(string(b))}
	}
	var t struct {
		IdentityID   string `json:"identityId"`
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
		ExpiresIn    int    `json:"expiresIn"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return client.Session{}, fmt.Errorf("developer sign-in answer: %w", err)
	}
	return client.Session{IdentityID: t.IdentityID, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		Expires: time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)}, nil
}

// kindOf names a failure for counting: the HTTP status and the server's
// code, a ticket's terminal status, a refusal, a timeout.
func kindOf(err error) string {
	var apiErr *client.Error
	var tErr *client.TicketError
	var refused *refusedError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.Code != "" {
			return fmt.Sprintf("HTTP %d %s", apiErr.Status, apiErr.Code)
		}
		return fmt.Sprintf("HTTP %d", apiErr.Status)
	case errors.As(err, &tErr):
		if tErr.Reason != "" {
			return tErr.Status + " " + tErr.Reason
		}
		return tErr.Status
	case errors.As(err, &refused):
		if strings.Contains(refused.line, arenaNotStarted) {
			return "refused: its game session had not started"
		}
		return "refused by the game server"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "stopped"
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return "network"
	}
	return "other"
}

// latencyAttempts is how many times the run measures latencies while a
// location with beacons has no answer: on a busy machine a ping can miss
// its wait, and a run whose every bot then reports no latency fails every
// ticket of a rule set with a latency rule.
const latencyAttempts = 3

// measureLatencies measures the round trip to each location's beacons
// once for the whole run, again while some location that has beacons gave
// no answer.
func measureLatencies(ctx context.Context, c *client.Client) (map[string]int, error) {
	locs, err := c.Locations(ctx)
	if err != nil {
		return nil, err
	}
	var out map[string]int
	for range latencyAttempts {
		if out, err = c.MeasureLatencies(ctx); err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(locs, func(l client.Location) bool { _, ok := out[l.Name]; return !ok && len(l.Beacons) > 0 }) {
			break
		}
	}
	return out, nil
}
