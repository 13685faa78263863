package server

import (
	"github.com/musterhq/muster/internal/hook"
	"github.com/musterhq/muster/internal/playerdata"
)

// newHooks builds the studio hooks (package hook) and mounts their
// operator routes (/v1/admin/hooks). mountIdentity calls it, as sign-in
// runs beforeSignIn hooks; matchmaking gets it through playerParts for
// beforeTicket and matchProposed. Hooks reach the same destinations as
// webhook deliveries: never the control plane's own listeners, loopback
// and private networks only with --webhook-allow-private.
func (s *Server) newHooks(d *deps, players *playerdata.Service) *hook.Service {
	svc := hook.New(hook.Config{Base: d.base(), Box: d.box, Registerer: d.reg, Records: players,
		Destinations: s.outbound(s.cfg.WebhookAllowPrivate)})
	hook.NewAPI(hook.APIConfig{Service: svc, Operator: d.requireOperator, Logger: d.log}).Register(d.mux)
	// Every replica reads the registrations in the background, so the
	// matchmaking cycle never waits on the store for them.
	s.background = append(s.background, svc.Run)
	return svc
}
