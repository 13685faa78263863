package matchmaking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

type ruleSetRec struct {
	Name      string    `json:"name"`
	ARN       string    `json:"arn"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

func (r ruleSetRec) wire() gamelift.MatchmakingRuleSet {
	return gamelift.MatchmakingRuleSet{RuleSetName: r.Name, RuleSetArn: r.ARN, RuleSetBody: r.Body, CreationTime: gamelift.At(r.CreatedAt)}
}

func (s *Service) ruleSet(ctx context.Context, nameOrARN string) (ruleSetRec, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (ruleSetRec, error) {
		rs, _, err := service.Get[ruleSetRec](ctx, r, KindRuleSet, s.nameOf(gamelift.ResourceMatchmakingRuleSet, nameOrARN),
			"RuleSetName: no matchmaking rule set named %s", nameOrARN)
		return rs, err
	})
}

// ruleSetProblems turns a flexmatch parse error into one message listing
// every problem.
func ruleSetProblems(err error) error {
	var ve *flexmatch.ValidationError
	if errors.As(err, &ve) {
		msgs := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			msgs[i] = p.String()
		}
		return fault.New(fault.Invalid, "RuleSetBody: invalid rule set: %s", strings.Join(msgs, "; "))
	}
	return fault.New(fault.Invalid, "RuleSetBody: invalid rule set: %v", err)
}

// CreateMatchmakingRuleSet stores a validated rule set.
func (s *Service) CreateMatchmakingRuleSet(ctx context.Context, in *gamelift.CreateMatchmakingRuleSetInput) (*gamelift.CreateMatchmakingRuleSetOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		v.Check(in.Name != "" && len(in.Name) <= 128, "Name", "must be 1 to 128 characters")
		s.cfg.Formats.Check(v, "Name", "MatchmakingIdStringModel", in.Name)
		v.Check(len(in.RuleSetBody) >= 1 && len(in.RuleSetBody) <= 65535, "RuleSetBody", "must be 1 to 65535 characters")
		tagging.Validate(v, "Tags", in.Tags, 200)
	}); err != nil {
		return nil, err
	}
	if _, err := flexmatch.Parse([]byte(in.RuleSetBody)); err != nil {
		return nil, ruleSetProblems(err)
	}
	rec := ruleSetRec{Name: in.Name, ARN: s.cfg.ARNs.Build(gamelift.ResourceMatchmakingRuleSet, in.Name), Body: in.RuleSetBody, CreatedAt: s.now()}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		return s.cfg.CreateTagged(ctx, w, store.Record{Kind: KindRuleSet, ID: rec.Name, Doc: store.MustJSON(rec)}, rec.ARN, in.Tags,
			fault.New(fault.Invalid, "Name: a matchmaking rule set named %s already exists (rule sets are immutable)", rec.Name))
	})
	if err != nil {
		return nil, fmt.Errorf("create matchmaking rule set: %w", err)
	}
	out := rec.wire()
	return &gamelift.CreateMatchmakingRuleSetOutput{RuleSet: &out}, nil
}

// ValidateMatchmakingRuleSet answers Valid: true or InvalidRequestException
// listing every problem.
func (s *Service) ValidateMatchmakingRuleSet(ctx context.Context, in *gamelift.ValidateMatchmakingRuleSetInput) (*gamelift.ValidateMatchmakingRuleSetOutput, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	if len(in.RuleSetBody) < 1 || len(in.RuleSetBody) > 65535 {
		return nil, fault.New(fault.Invalid, "RuleSetBody: must be 1 to 65535 characters")
	}
	if _, err := flexmatch.Parse([]byte(in.RuleSetBody)); err != nil {
		return nil, ruleSetProblems(err)
	}
	ok := true
	return &gamelift.ValidateMatchmakingRuleSetOutput{Valid: &ok}, nil
}

// DescribeMatchmakingRuleSets lists rule sets by name or all of them.
func (s *Service) DescribeMatchmakingRuleSets(ctx context.Context, in *gamelift.DescribeMatchmakingRuleSetsInput) (*gamelift.DescribeMatchmakingRuleSetsOutput, error) {
	limit, after, err := service.AuthorizeList(ctx, in.Limit, 10, 10, in.NextToken, func(v *fault.Validator) {
		v.Check(in.Names == nil || len(in.Names) >= 1 && len(in.Names) <= 10, "Names", "must have 1 to 10 items")
		for i, n := range in.Names {
			s.cfg.Formats.Check(v, fmt.Sprintf("Names[%d]", i), "MatchmakingRuleSetName", n)
		}
	})
	if err != nil {
		return nil, err
	}
	get := func(r store.Reader, n string) (ruleSetRec, bool, error) {
		rs, _, err := service.Get[ruleSetRec](ctx, r, KindRuleSet, s.nameOf(gamelift.ResourceMatchmakingRuleSet, n), "Names: no matchmaking rule set named %s", n)
		return rs, err == nil, err
	}
	list, next, err := service.Describe(ctx, s.cfg.Store, in.Names, get, store.Query{Kind: KindRuleSet, Prefix: true, After: after}, limit, ruleSetRec.wire)
	if err != nil {
		return nil, fmt.Errorf("describe matchmaking rule sets: %w", err)
	}
	return &gamelift.DescribeMatchmakingRuleSetsOutput{RuleSets: list, NextToken: next}, nil
}

// DeleteMatchmakingRuleSet deletes a rule set no configuration uses.
func (s *Service) DeleteMatchmakingRuleSet(ctx context.Context, in *gamelift.DeleteMatchmakingRuleSetInput) (*gamelift.DeleteMatchmakingRuleSetOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, true, "Name", "MatchmakingRuleSetName", in.Name); err != nil {
		return nil, err
	}
	name := s.nameOf(gamelift.ResourceMatchmakingRuleSet, in.Name)
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		rs, version, err := service.Get[ruleSetRec](ctx, w, KindRuleSet, name, "Name: no matchmaking rule set named %s", in.Name)
		if err != nil {
			return err
		}
		err = service.RefuseInUse(ctx, w, store.Query{Kind: KindConfig, Key: 1, Value: name}, func(config string) error {
			return fault.New(fault.Invalid, "Name: matchmaking rule set %s is used by configuration %s and cannot be deleted", name, config)
		})
		if err != nil {
			return err
		}
		if err := w.Delete(ctx, KindRuleSet, name, version); err != nil {
			return err
		}
		if s.cfg.Tags != nil {
			return s.cfg.Tags.DeleteAll(ctx, w, rs.ARN)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete matchmaking rule set: %w", err)
	}
	return &gamelift.DeleteMatchmakingRuleSetOutput{}, nil
}
