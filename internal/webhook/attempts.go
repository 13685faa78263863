package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/store"
)

// Attempt is one delivery attempt as GET .../deliveries shows it.
type Attempt struct {
	EventID   string    `json:"eventId"`
	EventType string    `json:"eventType"`
	Seq       int64     `json:"seq"`
	Attempt   int       `json:"attempt"`
	Time      time.Time `json:"time"`
	// Status is the receiver's HTTP status (0 when there was no answer).
	Status    int   `json:"status,omitempty"`
	LatencyMs int64 `json:"latencyMs"`
	// Outcome is delivered, retrying, dead-lettered or disabled.
	Outcome string `json:"outcome"`
	// Failure is the kind of failure (see the failures metric) and Error
	// what went wrong.
	Failure string `json:"failure,omitempty"`
	Error   string `json:"error,omitempty"`
}

// attemptLog keeps a subscription's recent attempts, newest last.
type attemptLog struct {
	mu    sync.Mutex
	items []Attempt
	dirty bool
	// saving serialises flushes, so an older copy never overwrites a newer.
	saving sync.Mutex
}

func (s *Service) logFor(id string) *attemptLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.attempts[id]
	if l == nil {
		l = &attemptLog{}
		s.attempts[id] = l
	}
	return l
}

// record adds an attempt, dropping the oldest beyond KeepAttempts.
func (s *Service) record(id string, a Attempt) {
	l := s.logFor(id)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, a)
	if n := len(l.items) - s.cfg.KeepAttempts; n > 0 {
		l.items = append(l.items[:0], l.items[n:]...)
	}
	l.dirty = true
}

type attemptsDoc struct {
	Attempts []Attempt `json:"attempts"`
}

// flush saves a subscription's recent attempts when they changed. The log
// starts from what is saved, so a restart keeps the history.
func (s *Service) flush(ctx context.Context, id string) error {
	l := s.logFor(id)
	l.saving.Lock()
	defer l.saving.Unlock()
	l.mu.Lock()
	if !l.dirty {
		l.mu.Unlock()
		return nil
	}
	doc := store.MustJSON(attemptsDoc{Attempts: l.items})
	l.dirty = false
	l.mu.Unlock()
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := fenced(ctx, w); err != nil {
			return err
		}
		if _, err := w.Get(ctx, KindSubscription, id); err != nil {
			return err // deleted meanwhile: keep nothing of it
		}
		_, err := w.Put(ctx, store.Record{Kind: KindDeliveries, ID: id, Doc: doc, Upsert: true})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// loadLog fills a subscription's log from the store before its worker
// records anything.
func (s *Service) loadLog(ctx context.Context, id string) error {
	var doc attemptsDoc
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		var err error
		doc, _, err = store.GetJSON[attemptsDoc](ctx, r, KindDeliveries, id)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	l := s.logFor(id)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) == 0 {
		l.items = doc.Attempts
	}
	return nil
}

// Deliveries returns a subscription's recent attempts, newest first.
func (s *Service) Deliveries(ctx context.Context, id string) ([]Attempt, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	var doc attemptsDoc
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		if _, _, err := s.read(ctx, r, id); err != nil {
			return err
		}
		var err error
		doc, _, err = store.GetJSON[attemptsDoc](ctx, r, KindDeliveries, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", id, err)
	}
	// This process's log, when it delivers to the subscription, is ahead
	// of what it last saved.
	s.mu.Lock()
	l := s.attempts[id]
	s.mu.Unlock()
	if l != nil {
		l.mu.Lock()
		if len(l.items) > 0 {
			doc.Attempts = slices.Clone(l.items)
		}
		l.mu.Unlock()
	}
	slices.Reverse(doc.Attempts)
	if doc.Attempts == nil {
		doc.Attempts = []Attempt{}
	}
	return doc.Attempts, nil
}
