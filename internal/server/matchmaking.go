package server

import (
	"fmt"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/playermm"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/session"
)

// mountMatchmaking mounts rule sets, configurations and tickets on the
// control API, the player matchmaking and party routes, and the matching
// loops. It mounts after identity and hosting.
func (s *Server) mountMatchmaking(d *deps) {
	cycle, retention := s.cfg.MatchmakingCycleInterval, s.cfg.MatchmakingTicketRetention
	if cycle < 0 || retention < 0 {
		s.mountErr = fmt.Errorf("--matchmaking-cycle-interval and --matchmaking-ticket-retention must be positive durations (e.g. 250ms, 1h)")
		return
	}
	d.tags.Register(gamelift.ResourceMatchmakingConfiguration, matchmaking.KindConfig)
	d.tags.Register(gamelift.ResourceMatchmakingRuleSet, matchmaking.KindRuleSet)
	cfg := matchmaking.Config{Store: d.store, Clock: d.clock, Logger: d.log, ARNs: d.arns, Formats: d.formats, Tags: d.tags,
		CycleInterval: cycle, TicketRetention: retention}
	if s.Hosting.Sessions != nil {
		cfg.Sessions = s.Hosting.Sessions
	}
	if d.player != nil {
		cfg.Attributes = d.player.players
	}
	mm := matchmaking.New(cfg)
	// The server SDK's StartMatchBackfill/StopMatchBackfill reach
	// matchmaking once the SDK endpoint can be told its Backfiller.
	if b, ok := any(s.Hosting.SDK).(interface{ SetBackfiller(session.Backfiller) }); ok && s.Hosting.SDK != nil {
		b.SetBackfiller(mm.Backfiller())
	}
	s.wirePlacement(d, mm)
	s.background = append(s.background, mm.Run)
	controlapi.Register(d.table, "CreateMatchmakingRuleSet", mm.CreateMatchmakingRuleSet)
	controlapi.Register(d.table, "DescribeMatchmakingRuleSets", mm.DescribeMatchmakingRuleSets)
	controlapi.Register(d.table, "DeleteMatchmakingRuleSet", mm.DeleteMatchmakingRuleSet)
	controlapi.Register(d.table, "ValidateMatchmakingRuleSet", mm.ValidateMatchmakingRuleSet)
	controlapi.Register(d.table, "CreateMatchmakingConfiguration", mm.CreateMatchmakingConfiguration)
	controlapi.Register(d.table, "DescribeMatchmakingConfigurations", mm.DescribeMatchmakingConfigurations)
	controlapi.Register(d.table, "UpdateMatchmakingConfiguration", mm.UpdateMatchmakingConfiguration)
	controlapi.Register(d.table, "DeleteMatchmakingConfiguration", mm.DeleteMatchmakingConfiguration)
	controlapi.Register(d.table, "StartMatchmaking", mm.StartMatchmaking)
	controlapi.Register(d.table, "DescribeMatchmaking", mm.DescribeMatchmaking)
	controlapi.Register(d.table, "StopMatchmaking", mm.StopMatchmaking)
	controlapi.Register(d.table, "AcceptMatch", mm.AcceptMatch)
	controlapi.Register(d.table, "StartMatchBackfill", mm.StartMatchBackfill)
	if d.player == nil {
		return // identity failed to mount; New reports its error
	}
	playermm.New(playermm.Config{Service: mm, Protect: d.player.api.Protect, Operator: d.requireOperator, Logger: d.log}).Register(d.mux)
}

// wirePlacement gives matchmaking the placement service for WITH_QUEUE
// matches, once placement exists (docs/matchmaking-placement.md).
func (s *Server) wirePlacement(d *deps, mm *matchmaking.Service) { s.connectMatchmaking(d, mm) }
