package hook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/api/httpx"
	"github.com/musterhq/muster/internal/webhook/safehttp"
)

// maxAnswer bounds a hook's answer body.
const maxAnswer = 64 << 10

// Outcomes of a call, as the metrics count them.
const (
	outcomeAllowed   = "allowed"
	outcomeRefused   = "refused"
	outcomeTimeout   = "timeout"
	outcomeError     = "error"      // no answer: connection, refused destination
	outcomeStatus    = "status"     // an answer other than 200
	outcomeBad       = "bad_answer" // 200 with a body that is not a valid answer
	outcomeOverload  = "overloaded" // MaxConcurrent calls already in flight
	outcomeOpen      = "short_circuited"
	outcomeCancelled = "cancelled" // the caller went away
	outcomeUnusable  = "unusable"  // not made: see entry.unusable
)

// runner is one hook's breaker and concurrency cap, kept across reloads.
type runner struct {
	slots chan struct{}

	// mu guards the breaker.
	mu        sync.Mutex
	failures  int       // in a row
	openUntil time.Time // zero: closed
	trial     bool      // a half-open trial call is in flight
}

// admit says whether the breaker lets a call through at now: closed, or
// open past its cool-down with no trial in flight (this call is the trial).
func (r *runner) admit(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.openUntil.IsZero() {
		return true
	}
	if now.Before(r.openUntil) || r.trial {
		return false
	}
	r.trial = true
	return true
}

// done records a call's result; it returns true when it opened the
// breaker.
func (r *runner) done(ok bool, now time.Time, failures int, cooldown time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	wasTrial := r.trial
	r.trial = false
	if ok {
		r.failures, r.openUntil = 0, time.Time{}
		return false
	}
	r.failures++
	if wasTrial || (r.openUntil.IsZero() && r.failures >= failures) {
		r.openUntil = now.Add(cooldown)
		return true
	}
	return false
}

// failure is a call that brought no usable answer: the hook's fail mode
// decides what it means.
type failure struct {
	outcome string
	err     error
}

func (f *failure) Error() string { return f.outcome + ": " + f.err.Error() }

// call sends body to a hook and decodes its answer into out, strictly. A
// nil error means out holds an answer (which may refuse); a *failure
// means there is none. check validates the decoded answer beyond its
// shape and says whether it allows.
func (s *Service) call(ctx context.Context, e *entry, body any, out any, check func() (bool, error)) error {
	start := s.now()
	outcome, err := s.exchange(ctx, e, body, out, check)
	m := s.metrics
	m.calls.WithLabelValues(e.ID, e.Point, outcome).Inc()
	if outcome != outcomeOpen && outcome != outcomeOverload && outcome != outcomeUnusable {
		m.latency.WithLabelValues(e.ID).Observe(s.now().Sub(start).Seconds())
	}
	if outcome == outcomeRefused {
		m.refusals.WithLabelValues(e.ID).Inc()
	}
	if err == nil {
		return nil
	}
	switch outcome {
	case outcomeTimeout:
		m.timeouts.WithLabelValues(e.ID).Inc()
	case outcomeBad:
		m.badAnswers.WithLabelValues(e.ID).Inc()
		s.cfg.Logger.Warn("hooks: a hook answered badly; its fail mode applies", "hook", e.ID, "point", e.Point, "err", err)
	}
	return &failure{outcome: outcome, err: err}
}

// exchange makes one call under the hook's breaker and concurrency cap.
func (s *Service) exchange(ctx context.Context, e *entry, body any, out any, check func() (bool, error)) (string, error) {
	if e.unusable != nil {
		// Logged when the registrations were read; not a failure of the
		// hook's answers, so its breaker is left as it is.
		return outcomeUnusable, e.unusable
	}
	r := e.run
	if !r.admit(s.now()) {
		return outcomeOpen, errors.New("the hook's circuit breaker is open after repeated failures")
	}
	select {
	case r.slots <- struct{}{}:
	default:
		// Not a failure of the hook's answer: the breaker is left as it is
		// (a trial that never ran is given back).
		r.mu.Lock()
		r.trial = false
		r.mu.Unlock()
		return outcomeOverload, fmt.Errorf("%d calls to the hook are already in flight", cap(r.slots))
	}
	outcome, err := s.post(ctx, e, body, out, check)
	<-r.slots
	if outcome == outcomeCancelled {
		r.mu.Lock()
		r.trial = false
		r.mu.Unlock()
		return outcome, err
	}
	if r.done(err == nil, s.now(), s.cfg.BreakerFailures, s.cfg.BreakerCooldown) {
		s.cfg.Logger.Warn("hooks: a hook keeps failing; its breaker opens and its fail mode applies without calling it",
			"hook", e.ID, "point", e.Point, "cooldown", s.cfg.BreakerCooldown, "err", err)
	}
	return outcome, err
}

// post signs and sends one request and reads its answer.
func (s *Service) post(ctx context.Context, e *entry, body any, out any, check func() (bool, error)) (string, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return outcomeError, err
	}
	// The call's time-out is real time: how long a network peer has to
	// answer, not business time.
	cctx, cancel := context.WithTimeout(ctx, time.Duration(e.TimeoutMs)*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, e.URL, bytes.NewReader(data))
	if err != nil {
		return outcomeError, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Muster-Hooks")
	req.Header.Set("Muster-Hook-Point", e.Point)
	now := s.now()
	e.signing.at(now).Sign(req.Header, "msg_"+rand.Text(), now, data)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return outcomeCancelled, ctx.Err()
		case cctx.Err() != nil:
			return outcomeTimeout, fmt.Errorf("no answer within %d ms", e.TimeoutMs)
		case safehttp.IsRefused(err):
			return outcomeError, err
		}
		return outcomeError, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	switch {
	case err != nil && cctx.Err() != nil && ctx.Err() == nil:
		return outcomeTimeout, fmt.Errorf("the answer did not arrive within %d ms", e.TimeoutMs)
	case err != nil:
		return outcomeError, err
	case resp.StatusCode != http.StatusOK:
		return outcomeStatus, fmt.Errorf("answered %d, not 200", resp.StatusCode)
	case len(raw) > maxAnswer:
		return outcomeBad, fmt.Errorf("the answer is larger than %d bytes", maxAnswer)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return outcomeBad, fmt.Errorf("the answer's Content-Type is %q, not application/json", resp.Header.Get("Content-Type"))
	}
	if err := httpx.Decode(raw, out); err != nil {
		return outcomeBad, err
	}
	allowed, err := check()
	switch {
	case err != nil:
		return outcomeBad, err
	case !allowed:
		return outcomeRefused, nil
	}
	return outcomeAllowed, nil
}
