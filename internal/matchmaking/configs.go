package matchmaking

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

type configRec struct {
	Name                  string                  `json:"name"`
	ARN                   string                  `json:"arn"`
	Description           string                  `json:"description,omitempty"`
	QueueArns             []string                `json:"queueArns,omitempty"`
	RequestTimeout        int32                   `json:"requestTimeout"`
	AcceptanceTimeout     int32                   `json:"acceptanceTimeout,omitempty"`
	AcceptanceRequired    bool                    `json:"acceptanceRequired"`
	RuleSetName           string                  `json:"ruleSetName"`
	RuleSetArn            string                  `json:"ruleSetArn"`
	NotificationTarget    string                  `json:"notificationTarget,omitempty"`
	AdditionalPlayerCount int32                   `json:"additionalPlayerCount,omitempty"`
	CustomEventData       string                  `json:"customEventData,omitempty"`
	CreatedAt             time.Time               `json:"createdAt"`
	GameProperties        []gamelift.GameProperty `json:"gameProperties,omitempty"`
	GameSessionData       string                  `json:"gameSessionData,omitempty"`
	BackfillMode          string                  `json:"backfillMode"`
	FlexMatchMode         string                  `json:"flexMatchMode"`
	// PlayerAccess lets players start tickets through the player API.
	PlayerAccess bool `json:"playerAccess,omitempty"`
}

func (c configRec) standalone() bool { return c.FlexMatchMode == gamelift.FlexMatchStandalone }

func (c configRec) wire() gamelift.MatchmakingConfiguration {
	acc := c.AcceptanceRequired
	m := gamelift.MatchmakingConfiguration{Name: c.Name, ConfigurationArn: c.ARN, Description: c.Description, GameSessionQueueArns: c.QueueArns,
		RequestTimeoutSeconds: &c.RequestTimeout, AcceptanceRequired: &acc, RuleSetName: c.RuleSetName, RuleSetArn: c.RuleSetArn,
		NotificationTarget: c.NotificationTarget, AdditionalPlayerCount: &c.AdditionalPlayerCount, CustomEventData: c.CustomEventData,
		CreationTime: gamelift.At(c.CreatedAt), GameProperties: c.GameProperties, GameSessionData: c.GameSessionData,
		BackfillMode: c.BackfillMode, FlexMatchMode: c.FlexMatchMode}
	if c.AcceptanceTimeout > 0 {
		m.AcceptanceTimeoutSeconds = &c.AcceptanceTimeout
	}
	return m
}

// nameOf turns a name or an ARN of resource type typ into the name.
func (s *Service) nameOf(typ, nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		if t, id, ok := s.cfg.ARNs.Parse(nameOrARN); ok && t == typ {
			return id
		}
		if i := strings.LastIndex(nameOrARN, ":"+typ+"/"); i >= 0 {
			return nameOrARN[i+len(typ)+2:]
		}
	}
	return nameOrARN
}

// Config returns a configuration by name or ARN.
func (s *Service) config(ctx context.Context, r store.Reader, nameOrARN, member string) (configRec, int64, error) {
	return service.Get[configRec](ctx, r, KindConfig, s.nameOf(gamelift.ResourceMatchmakingConfiguration, nameOrARN),
		"%s: no matchmaking configuration named %s", member, nameOrARN)
}

// configFields is what Create and Update share.
type configFields struct {
	Description              *string
	GameSessionQueueArns     []string
	RequestTimeoutSeconds    *int32
	AcceptanceTimeoutSeconds *int32
	AcceptanceRequired       *bool
	RuleSetName              string
	NotificationTarget       *string
	AdditionalPlayerCount    *int32
	CustomEventData          *string
	GameProperties           []gamelift.GameProperty
	GameSessionData          *string
	BackfillMode             string
	FlexMatchMode            string
}

// apply validates f's members and applies them to c.
func (s *Service) apply(v *fault.Validator, c *configRec, f configFields) {
	if f.Description != nil {
		gamelift.CheckLength(v, "Description", *f.Description, 1, 1024)
		c.Description = *f.Description
	}
	if f.GameSessionQueueArns != nil {
		for i, a := range f.GameSessionQueueArns {
			s.cfg.Formats.Check(v, fmt.Sprintf("GameSessionQueueArns[%d]", i), "ArnStringModel", a)
		}
		c.QueueArns = f.GameSessionQueueArns
	}
	if f.RequestTimeoutSeconds != nil {
		v.Check(*f.RequestTimeoutSeconds >= 1 && *f.RequestTimeoutSeconds <= 43200, "RequestTimeoutSeconds", "must be 1 to 43200")
		c.RequestTimeout = *f.RequestTimeoutSeconds
	}
	if f.AcceptanceTimeoutSeconds != nil {
		v.Check(*f.AcceptanceTimeoutSeconds >= 1 && *f.AcceptanceTimeoutSeconds <= 600, "AcceptanceTimeoutSeconds", "must be 1 to 600")
		c.AcceptanceTimeout = *f.AcceptanceTimeoutSeconds
	}
	if f.AcceptanceRequired != nil {
		c.AcceptanceRequired = *f.AcceptanceRequired
	}
	if f.RuleSetName != "" {
		s.cfg.Formats.Check(v, "RuleSetName", "MatchmakingRuleSetName", f.RuleSetName)
		c.RuleSetName = s.nameOf(gamelift.ResourceMatchmakingRuleSet, f.RuleSetName)
		c.RuleSetArn = s.cfg.ARNs.Build(gamelift.ResourceMatchmakingRuleSet, c.RuleSetName)
	}
	if f.NotificationTarget != nil {
		s.cfg.Formats.Check(v, "NotificationTarget", "SnsArnStringModel", *f.NotificationTarget)
		c.NotificationTarget = *f.NotificationTarget
	}
	if f.AdditionalPlayerCount != nil {
		v.Check(*f.AdditionalPlayerCount >= 0, "AdditionalPlayerCount", "must be at least 0")
		c.AdditionalPlayerCount = *f.AdditionalPlayerCount
	}
	if f.CustomEventData != nil {
		gamelift.CheckLength(v, "CustomEventData", *f.CustomEventData, 0, 256)
		c.CustomEventData = *f.CustomEventData
	}
	if f.GameProperties != nil {
		v.Check(len(f.GameProperties) <= 16, "GameProperties", "must have at most 16 items")
		for i, p := range f.GameProperties {
			gamelift.CheckLength(v, fmt.Sprintf("GameProperties[%d].Key", i), p.Key, 0, 32)
			gamelift.CheckLength(v, fmt.Sprintf("GameProperties[%d].Value", i), p.Value, 0, 96)
		}
		c.GameProperties = f.GameProperties
	}
	if f.GameSessionData != nil {
		gamelift.CheckLength(v, "GameSessionData", *f.GameSessionData, 1, 4096)
		c.GameSessionData = *f.GameSessionData
	}
	if f.BackfillMode != "" {
		v.Check(f.BackfillMode == gamelift.BackfillAutomatic || f.BackfillMode == gamelift.BackfillManual, "BackfillMode", "must be AUTOMATIC or MANUAL")
		c.BackfillMode = f.BackfillMode
	}
	if f.FlexMatchMode != "" {
		v.Check(f.FlexMatchMode == gamelift.FlexMatchStandalone || f.FlexMatchMode == gamelift.FlexMatchWithQueue, "FlexMatchMode", "must be STANDALONE or WITH_QUEUE")
		c.FlexMatchMode = f.FlexMatchMode
	}
}

// checkConsistent validates the members against each other.
func checkConsistent(v *fault.Validator, c configRec) {
	if c.AcceptanceRequired {
		v.Check(c.AcceptanceTimeout > 0, "AcceptanceTimeoutSeconds", "is required when AcceptanceRequired is true")
	}
	if c.standalone() {
		v.Check(len(c.QueueArns) == 0, "GameSessionQueueArns", "must not be set with FlexMatchMode STANDALONE")
		v.Check(c.BackfillMode != gamelift.BackfillAutomatic, "BackfillMode", "AUTOMATIC is not allowed with FlexMatchMode STANDALONE")
		v.Check(c.AdditionalPlayerCount == 0, "AdditionalPlayerCount", "is not used with FlexMatchMode STANDALONE")
		v.Check(len(c.GameProperties) == 0, "GameProperties", "are not used with FlexMatchMode STANDALONE")
		v.Check(c.GameSessionData == "", "GameSessionData", "is not used with FlexMatchMode STANDALONE")
	} else {
		v.Check(len(c.QueueArns) > 0, "GameSessionQueueArns", "is required with FlexMatchMode WITH_QUEUE")
	}
}

// CreateMatchmakingConfiguration creates a matchmaker and starts its pool.
func (s *Service) CreateMatchmakingConfiguration(ctx context.Context, in *gamelift.CreateMatchmakingConfigurationInput) (*gamelift.CreateMatchmakingConfigurationOutput, error) {
	c := configRec{Name: in.Name, ARN: s.cfg.ARNs.Build(gamelift.ResourceMatchmakingConfiguration, in.Name), CreatedAt: s.now(),
		BackfillMode: gamelift.BackfillManual, FlexMatchMode: gamelift.FlexMatchWithQueue}
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		gamelift.CheckLength(v, "Name", in.Name, 1, 128)
		s.cfg.Formats.Check(v, "Name", "MatchmakingIdStringModel", in.Name)
		v.Check(in.RequestTimeoutSeconds != nil, "RequestTimeoutSeconds", "is required")
		v.Check(in.AcceptanceRequired != nil, "AcceptanceRequired", "is required")
		v.Check(in.RuleSetName != "", "RuleSetName", "is required")
		tagging.Validate(v, "Tags", in.Tags, 200)
		s.apply(v, &c, configFields{in.Description, in.GameSessionQueueArns, in.RequestTimeoutSeconds, in.AcceptanceTimeoutSeconds, in.AcceptanceRequired,
			in.RuleSetName, in.NotificationTarget, in.AdditionalPlayerCount, in.CustomEventData, in.GameProperties, in.GameSessionData, in.BackfillMode, in.FlexMatchMode})
		if v.OK() {
			checkConsistent(v, c)
		}
	}); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if _, _, err := service.Get[ruleSetRec](ctx, w, KindRuleSet, c.RuleSetName, "RuleSetName: no matchmaking rule set named %s", in.RuleSetName); err != nil {
			return err
		}
		return s.cfg.CreateTagged(ctx, w, store.Record{Kind: KindConfig, ID: c.Name, Doc: store.MustJSON(c), Keys: store.Keys{c.RuleSetName}}, c.ARN, in.Tags,
			fault.New(fault.Invalid, "Name: a matchmaking configuration named %s already exists", c.Name))
	})
	if err != nil {
		return nil, fmt.Errorf("create matchmaking configuration: %w", err)
	}
	if s.cfg.Leases != nil {
		s.register(c.Name)
		s.configChanged(c.Name)
	} else if err := s.startPool(ctx, c); err != nil {
		return nil, err
	}
	out := c.wire()
	return &gamelift.CreateMatchmakingConfigurationOutput{Configuration: &out}, nil
}

// UpdateMatchmakingConfiguration changes a matchmaker; its pool restarts
// with the new settings (waiting tickets keep their places and ages).
func (s *Service) UpdateMatchmakingConfiguration(ctx context.Context, in *gamelift.UpdateMatchmakingConfigurationInput) (*gamelift.UpdateMatchmakingConfigurationOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, true, "Name", "MatchmakingConfigurationName", in.Name); err != nil {
		return nil, err
	}
	var c configRec
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		c, version, err = s.config(ctx, w, in.Name, "Name")
		if err != nil {
			return err
		}
		var v fault.Validator
		s.apply(&v, &c, configFields{in.Description, in.GameSessionQueueArns, in.RequestTimeoutSeconds, in.AcceptanceTimeoutSeconds, in.AcceptanceRequired,
			in.RuleSetName, in.NotificationTarget, in.AdditionalPlayerCount, in.CustomEventData, in.GameProperties, in.GameSessionData, in.BackfillMode, in.FlexMatchMode})
		if v.OK() {
			checkConsistent(&v, c)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if _, _, err := service.Get[ruleSetRec](ctx, w, KindRuleSet, c.RuleSetName, "RuleSetName: no matchmaking rule set named %s", in.RuleSetName); err != nil {
			return err
		}
		_, err = w.Put(ctx, store.Record{Kind: KindConfig, ID: c.Name, Doc: store.MustJSON(c), Keys: store.Keys{c.RuleSetName}, Version: version})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update matchmaking configuration: %w", err)
	}
	if err := s.startPool(ctx, c); err != nil {
		return nil, err
	}
	s.configChanged(c.Name)
	out := c.wire()
	return &gamelift.UpdateMatchmakingConfigurationOutput{Configuration: &out}, nil
}

// SetPlayerAccess chooses whether players may start tickets in a
// configuration through the player API.
func (s *Service) SetPlayerAccess(ctx context.Context, name string, allowed bool) error {
	if err := auth.RequireOperator(ctx, true); err != nil {
		return err
	}
	var c configRec
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		c, version, err = s.config(ctx, w, name, "name")
		if err != nil {
			return err
		}
		c.PlayerAccess = allowed
		_, err = w.Put(ctx, store.Record{Kind: KindConfig, ID: c.Name, Doc: store.MustJSON(c), Keys: store.Keys{c.RuleSetName}, Version: version})
		return err
	})
	if err != nil {
		return fmt.Errorf("set player access: %w", err)
	}
	if p := s.pool(c.Name); p != nil {
		p.setConfig(c)
	}
	if s.relay != nil {
		s.relay.Send(keyAccess+c.Name, s.cfg.Leases.Replica())
	}
	return nil
}

// DescribeMatchmakingConfigurations lists configurations by name, by rule
// set, or all of them.
func (s *Service) DescribeMatchmakingConfigurations(ctx context.Context, in *gamelift.DescribeMatchmakingConfigurationsInput) (*gamelift.DescribeMatchmakingConfigurationsOutput, error) {
	limit, after, err := service.AuthorizeList(ctx, in.Limit, 10, 10, in.NextToken, func(v *fault.Validator) {
		for i, n := range in.Names {
			s.cfg.Formats.Check(v, fmt.Sprintf("Names[%d]", i), "MatchmakingConfigurationName", n)
		}
		if in.RuleSetName != "" {
			s.cfg.Formats.Check(v, "RuleSetName", "MatchmakingRuleSetName", in.RuleSetName)
		}
	})
	if err != nil {
		return nil, err
	}
	get := func(r store.Reader, n string) (configRec, bool, error) {
		c, _, err := s.config(ctx, r, n, "Names")
		return service.Dropped(c, err)
	}
	q := store.Query{Kind: KindConfig, Prefix: true, After: after}
	if in.RuleSetName != "" {
		q = store.Query{Kind: KindConfig, Key: 1, Value: s.nameOf(gamelift.ResourceMatchmakingRuleSet, in.RuleSetName), After: after}
	}
	list, next, err := service.Describe(ctx, s.cfg.Store, in.Names, get, q, limit, configRec.wire)
	if err != nil {
		return nil, fmt.Errorf("describe matchmaking configurations: %w", err)
	}
	return &gamelift.DescribeMatchmakingConfigurationsOutput{Configurations: list, NextToken: next}, nil
}

// DeleteMatchmakingConfiguration deletes a matchmaker with no active tickets.
func (s *Service) DeleteMatchmakingConfiguration(ctx context.Context, in *gamelift.DeleteMatchmakingConfigurationInput) (*gamelift.DeleteMatchmakingConfigurationOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, true, "Name", "MatchmakingConfigurationName", in.Name); err != nil {
		return nil, err
	}
	var name string
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		c, version, err := s.config(ctx, w, in.Name, "Name")
		if err != nil {
			return err
		}
		name = c.Name
		err = service.RefuseInUse(ctx, w, store.Query{Kind: KindTicket, Key: 1, Value: c.Name}, func(ticket string) error {
			return fault.New(fault.Invalid, "Name: matchmaking configuration %s has active tickets (%s) and cannot be deleted", c.Name, ticket)
		})
		if err != nil {
			return err
		}
		if err := w.Delete(ctx, KindConfig, c.Name, version); err != nil {
			return err
		}
		if s.cfg.Tags != nil {
			if err := s.cfg.Tags.DeleteAll(ctx, w, c.ARN); err != nil {
				return err
			}
		}
		if p := s.pool(c.Name); p != nil {
			p.closed.Store(true) // later StartMatchmaking transactions read the store
		}
		return nil
	})
	if err != nil {
		if p := s.pool(s.nameOf(gamelift.ResourceMatchmakingConfiguration, in.Name)); p != nil {
			p.closed.Store(false)
		}
		return nil, fmt.Errorf("delete matchmaking configuration: %w", err)
	}
	s.stopPool(name)
	if s.cfg.Leases != nil {
		s.unregister(ctx, name)
		s.configChanged(name)
	}
	return &gamelift.DeleteMatchmakingConfigurationOutput{}, nil
}

func secs(n int32) time.Duration { return time.Duration(n) * time.Second }
