package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/musterhq/muster/internal/clock"
	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/outbox"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/webhook/safehttp"
	"github.com/musterhq/muster/internal/webhook/sign"
)

// errStopped ends a worker whose subscription was disabled or deleted.
var errStopped = errors.New("webhook: subscription stopped")

// Run supervises the delivery workers until ctx ends: one stream worker
// and one redrive worker per enabled subscription, started and stopped as
// subscriptions change here (at once) or in another process (within Poll).
// With Config.Leases it registers the subscriptions with the Manager
// instead, which runs the workers of the leases it holds.
func (s *Service) Run(ctx context.Context) error {
	var sv supervisor = &local{s: s, workers: map[string]*running{}}
	if s.cfg.Leases != nil {
		sv = &leased{s: s, m: s.cfg.Leases, registered: map[string]bool{}}
	}
	defer sv.stopAll()
	for {
		wake := s.changed.Wait()
		enabled, err := s.enabled(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.cfg.Logger.Error("webhook: reading subscriptions", "err", err)
		} else {
			sv.keep(ctx, enabled)
		}
		if !s.wait(ctx, wake) {
			return nil
		}
	}
}

// supervisor runs the workers of a set of subscriptions.
type supervisor interface {
	// keep runs the workers of the subscriptions in ids, and only those.
	keep(ctx context.Context, ids map[string]bool)
	stopAll()
}

type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// local runs every subscription's workers in this process.
type local struct {
	s       *Service
	workers map[string]*running
}

func (l *local) keep(ctx context.Context, ids map[string]bool) {
	for id, w := range l.workers {
		select {
		case <-w.done:
			delete(l.workers, id) // ended on its own: restarted below if still enabled
			continue
		default:
		}
		if !ids[id] {
			w.cancel()
			<-w.done
			delete(l.workers, id)
			l.s.tidy(ctx, id)
		}
	}
	for id := range ids {
		if l.workers[id] == nil {
			wctx, cancel := context.WithCancel(ctx)
			w := &running{cancel: cancel, done: make(chan struct{})}
			l.workers[id] = w
			go func() {
				stopped := errors.Is(l.s.work(wctx, id, nil), errStopped)
				close(w.done)
				if stopped {
					// The subscription was disabled or deleted, and may be
					// enabled again before keep sees this worker gone:
					// look again at once (done is closed first, so keep
					// sees it) rather than within Poll.
					l.s.changed.Fire()
				}
			}()
		}
	}
}

func (l *local) stopAll() {
	for _, w := range l.workers {
		w.cancel()
		<-w.done
	}
}

// leased registers each subscription as a piece of work with a lease
// Manager.
type leased struct {
	s          *Service
	m          *lease.Manager
	registered map[string]bool
}

func (l *leased) keep(ctx context.Context, ids map[string]bool) {
	for id := range l.registered {
		if !ids[id] {
			l.m.Unregister(ctx, consumer(id))
			delete(l.registered, id)
			l.s.tidy(ctx, id)
		}
	}
	for id := range ids {
		if !l.registered[id] {
			l.m.Register(consumer(id), func(ctx context.Context, held lease.Lease) { l.s.workUntil(ctx, id, &held) })
			l.registered[id] = true
		}
	}
}

func (l *leased) stopAll() {
	for id := range l.registered {
		l.m.Unregister(context.Background(), consumer(id))
	}
}

// tidy removes what a deleted subscription's worker may have written after
// Delete, while it was being stopped (its cursor, its recent attempts).
func (s *Service) tidy(ctx context.Context, id string) {
	gone := false
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if _, err := w.Get(ctx, KindSubscription, id); !errors.Is(err, store.ErrNotFound) {
			return err // still there (disabled), or unreadable
		}
		gone = true
		return deleteAll(ctx, w, id)
	})
	if err != nil || !gone {
		if ctx.Err() == nil {
			s.cfg.Logger.Warn("webhook: tidying a deleted subscription", "subscription", id, "err", err)
		}
		return
	}
	s.mu.Lock()
	delete(s.attempts, id)
	s.mu.Unlock()
	s.metrics.forget(id)
}

// workUntil runs a subscription's workers under l until ctx ends, starting
// them again within Poll when they stop (a lease's work must last as long
// as the lease).
func (s *Service) workUntil(ctx context.Context, id string, l *lease.Lease) {
	for {
		// Taken before the work starts, so that enabling the subscription
		// again while its workers stop restarts them at once.
		wake := s.changed.Wait()
		if errors.Is(s.work(ctx, id, l), lease.ErrLost) {
			// Another replica delivers now. The Manager ends ctx at its
			// next Tick; until then this one must not start again.
			<-ctx.Done()
			return
		}
		if !s.wait(ctx, wake) {
			return
		}
	}
}

// wait returns when wake is closed or Poll passes; false when ctx ended.
func (s *Service) wait(ctx context.Context, wake <-chan struct{}) bool {
	t := s.cfg.Clock.NewTimer(s.cfg.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C():
	}
	return true
}

// enabled returns the ids of the enabled subscriptions.
func (s *Service) enabled(ctx context.Context) (map[string]bool, error) {
	subs, err := s.enabledRecords(ctx)
	ids := map[string]bool{}
	for _, sub := range subs {
		ids[sub.ID] = true
	}
	return ids, err
}

// enabledRecords returns the enabled subscriptions.
func (s *Service) enabledRecords(ctx context.Context) ([]record, error) {
	var out []record
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		all, err := store.FindAll[record](ctx, r, store.Query{Kind: KindSubscription, Prefix: true})
		for _, rec := range all {
			if rec.Enabled {
				out = append(out, rec)
			}
		}
		return err
	})
	return out, err
}

// work runs a subscription's two workers, under l when it is given, until
// ctx ends or a worker ends. It returns errStopped when the subscription
// stopped (disabled or deleted), an error wrapping lease.ErrLost when l
// moved on, and nil otherwise.
func (s *Service) work(ctx context.Context, id string, l *lease.Lease) error {
	ctx = withFence(ctx, s.leaseCheck(l))
	if err := s.loadLog(ctx, id); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("webhook: reading recent attempts", "subscription", id, "err", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var end error
	for _, run := range []func() error{
		func() error { return s.stream(ctx, id, l) },
		func() error { return s.redrive(ctx, id) },
	} {
		wg.Go(func() {
			err := run()
			switch {
			case errors.Is(err, errStopped) || errors.Is(err, lease.ErrLost):
				mu.Lock()
				if end == nil {
					end = err
				}
				mu.Unlock()
				if errors.Is(err, lease.ErrLost) {
					s.cfg.Logger.Warn("webhook: delivery lease lost", "subscription", id, "err", err)
				}
			case err != nil && ctx.Err() == nil:
				s.cfg.Logger.Error("webhook: worker stopped", "subscription", id, "err", err)
			}
			cancel() // the supervisor restarts both: at once after a stop, within Poll after a failure
		})
	}
	wg.Wait()
	return end
}

// stream delivers the outbox to a subscription from its cursor, under l
// when it is given: every move of the cursor checks that l is still held.
func (s *Service) stream(ctx context.Context, id string, l *lease.Lease) error {
	p := &progress{store: s.cfg.Store, consumer: outbox.Consumer{Name: consumer(id), Check: s.leaseCheck(l)}}
	return s.reader.ConsumeSettled(ctx, p.consumer, func(ctx context.Context, evs []store.Event) (int64, error) {
		err := s.deliverBatch(ctx, id, evs, p)
		if err == nil {
			p.saved = p.settled // ConsumeSettled saves the whole batch
		}
		return p.settled, err
	})
}

// deliverBatch delivers a batch in order, keeping in p how far it got: an
// error leaves the cursor after the last event delivered or dead-lettered,
// so that a 410 Gone, a stop or a lost lease mid-batch sends none of them
// again.
func (s *Service) deliverBatch(ctx context.Context, id string, evs []store.Event, p *progress) error {
	sub, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	targets := map[string]string{}
	for _, e := range evs {
		if e.Seq > sub.StartSeq && s.routes(ctx, sub.record, e, targets) {
			s.metrics.lag.WithLabelValues(id).Set(max(0, s.now().Sub(e.Time).Seconds()))
			if err := s.deliver(ctx, &sub, e, p.pause); err != nil {
				return err
			}
		}
		if err := p.settle(ctx, e.Seq); err != nil {
			return err
		}
	}
	if len(evs) < s.cfg.Batch {
		s.metrics.lag.WithLabelValues(id).Set(0)
	}
	return s.flush(ctx, id)
}

// leaseCheck returns the check of a write made under l (a cursor move, an
// attempt log, a dead letter): that l is still the lease on the
// subscription (nil without a lease).
func (s *Service) leaseCheck(l *lease.Lease) func(context.Context, store.Writer) error {
	if l == nil {
		return nil
	}
	return func(ctx context.Context, w store.Writer) error { return lease.Check(ctx, w, *l, s.now()) }
}

// progress is how far a stream worker has settled its batch: delivered,
// dead-lettered or passed over (not for this subscription). The cursor is
// saved at the end of each batch and when the batch is cut short
// (outbox.Reader.ConsumeSettled), and besides only around waits between
// attempts, so that the usual run of first-time deliveries costs one
// cursor write per batch.
type progress struct {
	store    store.Store
	consumer outbox.Consumer
	settled  int64
	saved    int64
	// waited is set while the event being delivered has waited to be
	// retried.
	waited bool
}

// pause is called before each wait between attempts. It saves the cursor
// before the event: a crash while an event is retried, for up to RetryFor,
// then resumes at that event and sends none of those before it again.
func (p *progress) pause(ctx context.Context) error {
	p.waited = true
	return p.save(ctx)
}

// settle records that the event at seq is done. After one that waited to
// be retried the cursor is saved at once (one write beside those waits), so
// that a dead letter is not retried for a fresh RetryFor after a crash.
func (p *progress) settle(ctx context.Context, seq int64) error {
	p.settled = seq
	if !p.waited {
		return nil
	}
	p.waited = false
	return p.save(ctx)
}

func (p *progress) save(ctx context.Context) error {
	if p.settled <= p.saved {
		return nil
	}
	if err := outbox.Advance(ctx, p.store, p.consumer, p.settled); err != nil {
		return err
	}
	p.saved = p.settled
	return nil
}

// routes reports whether e goes to sub, by the NotificationTarget recorded
// with e (RecordedTarget) or, for an event without one, looking it up once
// per batch and resource.
func (s *Service) routes(ctx context.Context, sub record, e store.Event, targets map[string]string) bool {
	ev, ok := Deliverable(s.cfg.ARNs, e)
	if !ok {
		return false
	}
	return Routes(s.cfg.ARNs, sub.Subscription, e.Type, ev, func(arn string) string {
		if t, ok := RecordedTarget(e, arn); ok {
			return t
		}
		t, seen := targets[arn]
		if !seen {
			var err error
			if t, err = s.cfg.Targets(ctx, arn); err != nil {
				s.cfg.Logger.Warn("webhook: reading a NotificationTarget", "resource", arn, "err", err)
			}
			targets[arn] = t
		}
		return t
	})
}

// live is a subscription as a worker delivers to it.
type live struct {
	record
	signer *sign.Signer
}

// load reads a subscription for delivery: errStopped once it is disabled
// or deleted.
func (s *Service) load(ctx context.Context, id string) (live, error) {
	var rec record
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		rec, _, err = store.GetJSON[record](ctx, r, KindSubscription, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || err == nil && !rec.Enabled {
		return live{}, errStopped
	}
	if err != nil {
		return live{}, err
	}
	signer, err := s.signer(rec, s.now())
	if err != nil {
		return live{}, fmt.Errorf("subscription %s: signing secret: %w", id, err)
	}
	return live{record: rec, signer: signer}, nil
}

// deliver sends e to sub until it is delivered (nil), becomes a dead
// letter (nil), or the subscription stops (errStopped, also after 410
// Gone disabled it) or ctx ends. pause, when given, runs before each wait
// between attempts, and an error from it ends the delivery.
func (s *Service) deliver(ctx context.Context, sub *live, e store.Event, pause func(context.Context) error) error {
	deadline := s.now().Add(s.cfg.RetryFor)
	for n := 1; ; n++ {
		if n > 1 {
			fresh, err := s.load(ctx, sub.ID) // a new URL or secret applies to the next attempt
			if err != nil {
				return err
			}
			*sub = fresh
		}
		res := s.attempt(ctx, *sub, e, n)
		if ctx.Err() != nil {
			return ctx.Err() // stopping: the cursor stays before e
		}
		if res.ok() {
			s.record(sub.ID, res.log("delivered"))
			return nil
		}
		s.metrics.failures.WithLabelValues(sub.ID, res.kind).Inc()
		if res.status == http.StatusGone {
			s.record(sub.ID, res.log("disabled"))
			return s.disable(ctx, sub.ID, fmt.Sprintf("the receiver answered 410 Gone to event %s", e.ID))
		}
		next := s.now().Add(s.backoff(n, res.retryAfter))
		if next.After(deadline) {
			s.record(sub.ID, res.log("dead-lettered"))
			return s.deadLetter(ctx, sub.ID, e, n, res)
		}
		s.record(sub.ID, res.log("retrying"))
		if err := s.flush(ctx, sub.ID); err != nil {
			return err
		}
		if pause != nil {
			if err := pause(ctx); err != nil {
				return err
			}
		}
		if err := s.sleepUntil(ctx, next); err != nil {
			return err
		}
	}
}

// sleepUntil waits on the clock until at; ctx's error if it ends first.
func (s *Service) sleepUntil(ctx context.Context, at time.Time) error {
	due := make(chan struct{})
	t := clock.AfterFuncAt(s.cfg.Clock, at, func() { close(due) })
	defer t.Stop()
	if s.onSleep != nil {
		s.onSleep(at)
	}
	select {
	case <-due:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is the wait after attempt n: the receiver's Retry-After when it
// gave one, otherwise MinBackoff doubled per attempt up to MaxBackoff, with
// jitter over its upper half so that receivers recovering from an outage
// are not hit by every subscription at once.
func (s *Service) backoff(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	d := s.cfg.MinBackoff
	for i := 1; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// result is one attempt's outcome.
type result struct {
	e          store.Event
	n          int
	at         time.Time
	status     int
	kind       string
	err        error
	latency    time.Duration
	retryAfter time.Duration
}

func (r result) ok() bool { return r.err == nil && r.status/100 == 2 }

func (r result) log(outcome string) Attempt {
	a := Attempt{EventID: r.e.ID, EventType: r.e.Type, Seq: r.e.Seq, Attempt: r.n, Time: r.at, Status: r.status,
		LatencyMs: r.latency.Milliseconds(), Outcome: outcome}
	if !r.ok() {
		a.Failure = r.kind
		if r.err != nil {
			a.Error = r.err.Error()
		}
	}
	return a
}

// maxAnswer is how much of a receiver's answer is read (and dropped) so
// the connection can carry the next delivery.
const maxAnswer = 64 << 10

// attempt POSTs e once, signed afresh, bounded by AttemptTimeout on the
// clock.
func (s *Service) attempt(ctx context.Context, sub live, e store.Event, n int) result {
	now := s.now()
	res := result{e: e, n: n, at: now}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	t := clock.AfterFuncAt(s.cfg.Clock, now.Add(s.cfg.AttemptTimeout), func() {
		timedOut.Store(true)
		cancel()
	})
	defer t.Stop()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, sub.URL, bytes.NewReader(e.Doc))
	if err != nil {
		res.kind, res.err = "connection", err
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Muster-Webhooks/1")
	sub.signer.Sign(req.Header, eventID(e), now, e.Doc)
	s.metrics.attempts.WithLabelValues(sub.ID).Inc()
	resp, err := s.cfg.Client.Do(req)
	res.latency = s.cfg.Clock.Now().Sub(now)
	s.metrics.latency.WithLabelValues(sub.ID).Observe(res.latency.Seconds())
	switch {
	case timedOut.Load():
		// An answer that races the deadline's cancellation is too late all
		// the same: the attempt has timed out.
		if err == nil {
			resp.Body.Close()
		}
		res.kind, res.err = "timeout", fmt.Errorf("no answer within %s", s.cfg.AttemptTimeout)
	case err != nil && safehttp.IsRefused(err):
		res.kind, res.err = "refused", err
	case err != nil:
		res.kind, res.err = "connection", err
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		resp.Body.Close()
		res.status, res.kind = resp.StatusCode, statusKind(resp.StatusCode)
		if res.kind != "" {
			res.err = fmt.Errorf("the receiver answered %s", resp.Status)
		}
		res.retryAfter = s.retryAfter(resp.Header.Get("Retry-After"))
	}
	if res.ok() {
		s.metrics.successes.WithLabelValues(sub.ID).Inc()
	}
	return res
}

// eventID is the webhook-id of an event: its id, or its place in the
// outbox for an event written without one.
func eventID(e store.Event) string {
	if e.ID != "" {
		return e.ID
	}
	return "seq-" + strconv.FormatInt(e.Seq, 10)
}

func statusKind(code int) string {
	switch {
	case code/100 == 2:
		return ""
	case code == http.StatusGone:
		return "gone"
	case code == http.StatusTooManyRequests:
		return "status_429"
	default:
		return fmt.Sprintf("status_%dxx", code/100)
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date compared
// with the clock. Zero when absent or unreadable.
func (s *Service) retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		return time.Duration(min(max(secs, 0), int64(s.cfg.RetryFor/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(h); err == nil {
		return max(at.Sub(s.now()), 0)
	}
	return 0
}

// Retain returns how far an outbox pruner may go: the events after seq are
// still to be delivered to some enabled subscription (the lowest cursor
// among them). ok is false when no subscription is enabled, and nothing
// limits pruning on their account.
func (s *Service) Retain(ctx context.Context) (seq int64, ok bool, err error) {
	subs, err := s.enabledRecords(ctx)
	if err != nil {
		return 0, false, err
	}
	for _, sub := range subs {
		c, err := outbox.Cursor(ctx, s.cfg.Store, consumer(sub.ID))
		if err != nil {
			return 0, false, err
		}
		if at := max(c, sub.StartSeq); !ok || at < seq {
			seq, ok = at, true
		}
	}
	return seq, ok, nil
}

type fenceKey struct{}

// withFence gives a worker's writes the check that its lease is still held
// (none when check is nil). A replica paused past its lease wakes with the
// rest of its batch in hand: without the check, its stale attempt log
// would overwrite the new holder's and a failed attempt could add a dead
// letter for an event the new holder delivered.
func withFence(ctx context.Context, check func(context.Context, store.Writer) error) context.Context {
	if check == nil {
		return ctx
	}
	return context.WithValue(ctx, fenceKey{}, check)
}

// fenced runs the fence of ctx's worker, if any, inside a write.
func fenced(ctx context.Context, w store.Writer) error {
	if check, ok := ctx.Value(fenceKey{}).(func(context.Context, store.Writer) error); ok {
		return check(ctx, w)
	}
	return nil
}
