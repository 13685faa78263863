package server

import (
	"fmt"
	"os"
	"time"

	"github.com/musterhq/muster/internal/api/controlapi"
	"github.com/musterhq/muster/internal/api/playermm"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/session"
)

// Environment settings of matchmaking (until serve has flags for them):
// the longest time between two cycles of a configuration's pool, and how
// long finished tickets stay readable.
const (
	EnvMatchmakingCycle     = "MUSTER_MATCHMAKING_CYCLE_INTERVAL"
	EnvMatchmakingRetention = "MUSTER_MATCHMAKING_TICKET_RETENTION"
)

// mountMatchmaking mounts rule sets, configurations and tickets on the
// control API, the player matchmaking and party routes, and the matching
// loops. It mounts after identity and hosting.
func (s *Server) mountMatchmaking(d *deps) {
	cycle, err := envDuration(EnvMatchmakingCycle)
	if err != nil {
		s.mountErr = err
		return
	}
	retention, err := envDuration(EnvMatchmakingRetention)
	if err != nil {
		s.mountErr = err
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

func envDuration(name string) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration (e.g. 250ms, 1h)", name, v)
	}
	return d, nil
}

// wirePlacement gives matchmaking the placement service for WITH_QUEUE
// matches, once placement exists (docs/matchmaking-placement.md).
func (s *Server) wirePlacement(d *deps, mm *matchmaking.Service) { s.connectMatchmaking(d, mm) }
