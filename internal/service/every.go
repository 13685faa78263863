package service

import (
	"context"
	"time"
)

// Every runs work every interval on b's clock until ctx ends, logging the
// errors work returns (as what): a service's background sweep.
func (b Base) Every(ctx context.Context, interval time.Duration, what string, work func(context.Context) error) error {
	t := b.Clock.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C():
			if err := work(ctx); err != nil && ctx.Err() == nil {
				b.Logger.Error(what, "err", err)
			}
		}
	}
}
