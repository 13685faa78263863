package server

import (
	"context"
	"net/http"

	"github.com/musterhq/muster/internal/lease"
	"github.com/musterhq/muster/internal/push"
	"github.com/musterhq/muster/internal/store"
)

// mountPush mounts the players' event streams (GET /v1/ws, GET /v1/events,
// POST /v1/events/tokens), the operators' (GET /v1/admin/events) and the
// Hub that follows the outbox for them. It
// mounts after identity and before matchmaking, whose ticket reads wait on
// the Hub (?waitSeconds=).
func (s *Server) mountPush(d *deps) {
	if d.player == nil {
		return // identity failed to mount; New reports its error
	}
	hub, err := push.New(push.Config{Base: d.base(), Verifier: d.player.identities,
		CORSOrigins: s.cfg.Player.CORSOrigins, Registerer: d.reg, Wake: d.bus.Wake})
	if err != nil {
		s.mountErr = err
		return
	}
	hub.Register(d.mux, d.player.api.Public, d.player.api.Protect)
	// The operators' event page, and their stream, which the Hub serves
	// so that it wakes on the bus and counts its resets as the players' do.
	events := adminAPI{store: d.store, log: d.log, stream: hub.OperatorStream()}
	d.mux.Handle("GET /v1/admin/events", d.requireOperator(http.HandlerFunc(events.listEvents)))
	d.push = hub
	s.background = append(s.background, hub.Run)
	if d.bus.publisher != nil {
		// Every outbox event once to JetStream: one replica at a time
		// (the stream's duplicate window drops what a replica that lost
		// the lease mid-batch published again).
		pub := d.bus.publisher
		s.leasedUnder("nats-publisher", pub.Run, func(ctx context.Context, l lease.Lease) error {
			return pub.RunUnder(ctx, func(ctx context.Context, w store.Writer) error { return lease.Check(ctx, w, l, d.clock.Now()) })
		})
	}
}
