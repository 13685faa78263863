package server

import (
	"fmt"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/playermm"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
)

// mountMatchmaking mounts rule sets, configurations and tickets on the
// control API, the player matchmaking and party routes, and the matching
// loops. It mounts after identity, hosting and placement, and before the
// SDK endpoint, which serves game servers' backfill requests with it.
func (s *Server) mountMatchmaking(d *deps) {
	d.tags.Register(gamelift.ResourceMatchmakingConfiguration, matchmaking.KindConfig)
	d.tags.Register(gamelift.ResourceMatchmakingRuleSet, matchmaking.KindRuleSet)
	cfg := matchmaking.Config{Base: d.base(), CycleInterval: s.cfg.MatchmakingCycleInterval, TicketRetention: s.cfg.MatchmakingTicketRetention}
	if s.Hosting.Sessions != nil {
		cfg.Sessions = s.Hosting.Sessions
	}
	if d.placement != nil {
		cfg.Placer = d.placement
	}
	if d.player != nil {
		cfg.Attributes, cfg.Gate = d.player.players, d.player.hooks
	}
	if m := s.leaseManager(); m != nil {
		// Each configuration's pool runs on the replica holding its lease;
		// tickets written elsewhere reach it over the bus.
		cfg.Leases, cfg.Bus = m, d.bus
	}
	mm, err := matchmaking.New(cfg)
	if err != nil {
		s.mountErr = fmt.Errorf("--matchmaking-cycle-interval, --matchmaking-ticket-retention: %w", err)
		return
	}
	d.matchmaking = mm
	d.tags.RegisterState(gamelift.ResourceMatchmakingConfiguration, matchmaking.PlayerAccessTag, mm.PlayerAccessState())
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
	playermm.New(playermm.Config{Service: mm, Protect: d.player.api.Protect, Preflight: d.player.api.Preflight(), Operator: d.requireOperator, Logger: d.log, Waiter: d.push}).Register(d.mux)
}
