package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
	"github.com/musterhq/muster/internal/tagging"
)

// Alias is an alias as stored.
type Alias struct {
	ID          string                   `json:"id"`
	ARN         string                   `json:"arn"`
	Name        string                   `json:"name"`
	Description string                   `json:"description,omitempty"`
	Routing     gamelift.RoutingStrategy `json:"routing"`
	CreatedAt   time.Time                `json:"createdAt"`
	UpdatedAt   time.Time                `json:"updatedAt"`
}

func (a Alias) wire() gamelift.Alias {
	r := a.Routing
	return gamelift.Alias{AliasId: a.ID, Name: a.Name, AliasArn: a.ARN, Description: a.Description, RoutingStrategy: &r,
		CreationTime: gamelift.At(a.CreatedAt), LastUpdatedTime: gamelift.At(a.UpdatedAt)}
}

func (s *Service) aliasID(idOrArn string) string {
	if typ, id, ok := s.cfg.ARNs.Parse(idOrArn); ok && typ == gamelift.ResourceAlias {
		return id
	}
	return idOrArn
}

func (s *Service) validateRouting(v *fault.Validator, r *gamelift.RoutingStrategy) {
	switch r.Type {
	case gamelift.RoutingSimple:
		s.cfg.Formats.Check(v, "RoutingStrategy.FleetId", "FleetId", r.FleetId)
		v.Check(r.Message == "", "RoutingStrategy.Message", "is only for TERMINAL aliases")
	case gamelift.RoutingTerminal:
		v.Check(r.Message != "", "RoutingStrategy.Message", "is required for a TERMINAL alias")
		v.Check(r.FleetId == "", "RoutingStrategy.FleetId", "is only for SIMPLE aliases")
	default:
		v.Add("RoutingStrategy.Type", "must be SIMPLE or TERMINAL")
	}
}

func checkFleetExists(ctx context.Context, r store.Reader, id string) error {
	if _, err := r.Get(ctx, KindFleet, id); errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound, "RoutingStrategy.FleetId: fleet %s not found", id)
	} else if err != nil {
		return err
	}
	return nil
}

// CreateAlias creates a SIMPLE or TERMINAL alias.
func (s *Service) CreateAlias(ctx context.Context, in *gamelift.CreateAliasInput) (*gamelift.CreateAliasOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "Name", "NonBlankAndLengthConstraintString", in.Name)
		gamelift.CheckLengthSet(v, "Description", in.Description, 1, 1024)
		if in.RoutingStrategy == nil {
			v.Add("RoutingStrategy", "is required")
		} else {
			s.validateRouting(v, in.RoutingStrategy)
		}
		tagging.Validate(v, "Tags", in.Tags, 200)
	}); err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now().UTC()
	id := "alias-" + uuid.NewString()
	a := Alias{ID: id, ARN: s.cfg.ARNs.Build(gamelift.ResourceAlias, id), Name: in.Name, Description: in.Description,
		Routing: *in.RoutingStrategy, CreatedAt: now, UpdatedAt: now}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if a.Routing.Type == gamelift.RoutingSimple {
			if err := checkFleetExists(ctx, w, a.Routing.FleetId); err != nil {
				return err
			}
		}
		return s.cfg.CreateTagged(ctx, w, store.Record{Kind: KindAlias, ID: a.ID, Doc: store.MustJSON(a), Keys: store.Keys{a.Name, a.Routing.Type}}, a.ARN, in.Tags, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("create alias: %w", err)
	}
	wa := a.wire()
	return &gamelift.CreateAliasOutput{Alias: &wa}, nil
}

func (s *Service) getAlias(ctx context.Context, r store.Reader, idOrArn string) (Alias, int64, error) {
	id := s.aliasID(idOrArn)
	return service.Get[Alias](ctx, r, KindAlias, id, "AliasId: alias %s not found", id)
}

// DescribeAlias returns one alias.
func (s *Service) DescribeAlias(ctx context.Context, in *gamelift.DescribeAliasInput) (*gamelift.DescribeAliasOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, false, "AliasId", "AliasIdOrArn", in.AliasId); err != nil {
		return nil, err
	}
	a, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (Alias, error) {
		a, _, err := s.getAlias(ctx, r, in.AliasId)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("describe alias: %w", err)
	}
	wa := a.wire()
	return &gamelift.DescribeAliasOutput{Alias: &wa}, nil
}

// ListAliases pages through aliases, optionally filtered by routing type
// and exact name.
func (s *Service) ListAliases(ctx context.Context, in *gamelift.ListAliasesInput) (*gamelift.ListAliasesOutput, error) {
	n, after, err := service.AuthorizeList(ctx, in.Limit, 50, 0, in.NextToken, func(v *fault.Validator) {
		v.Check(in.RoutingStrategyType == "" || in.RoutingStrategyType == gamelift.RoutingSimple || in.RoutingStrategyType == gamelift.RoutingTerminal,
			"RoutingStrategyType", "must be SIMPLE or TERMINAL")
	})
	if err != nil {
		return nil, err
	}
	keep := func(a *Alias) bool {
		return (in.Name == "" || a.Name == in.Name) && (in.RoutingStrategyType == "" || a.Routing.Type == in.RoutingStrategyType)
	}
	aliases, next, err := service.List(ctx, s.cfg.Store, store.Query{Kind: KindAlias, Prefix: true, After: after}, n, keep, Alias.wire)
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return &gamelift.ListAliasesOutput{Aliases: aliases, NextToken: next}, nil
}

// UpdateAlias changes an alias's name, description or routing.
func (s *Service) UpdateAlias(ctx context.Context, in *gamelift.UpdateAliasInput) (*gamelift.UpdateAliasOutput, error) {
	if err := service.Authorize(ctx, true, func(v *fault.Validator) {
		s.cfg.Formats.Check(v, "AliasId", "AliasIdOrArn", in.AliasId)
		s.cfg.Formats.CheckSet(v, "Name", "NonBlankAndLengthConstraintString", in.Name)
		if in.RoutingStrategy != nil {
			s.validateRouting(v, in.RoutingStrategy)
		}
	}); err != nil {
		return nil, err
	}
	var a Alias
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		a, version, err = s.getAlias(ctx, w, in.AliasId)
		if err != nil {
			return err
		}
		if in.Name != "" {
			a.Name = in.Name
		}
		if in.Description != "" {
			a.Description = in.Description
		}
		if in.RoutingStrategy != nil {
			if in.RoutingStrategy.Type == gamelift.RoutingSimple {
				if err := checkFleetExists(ctx, w, in.RoutingStrategy.FleetId); err != nil {
					return err
				}
			}
			a.Routing = *in.RoutingStrategy
		}
		a.UpdatedAt = s.cfg.Clock.Now().UTC()
		_, err = w.Put(ctx, store.Record{Kind: KindAlias, ID: a.ID, Doc: store.MustJSON(a), Keys: store.Keys{a.Name, a.Routing.Type}, Version: version})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update alias: %w", err)
	}
	wa := a.wire()
	return &gamelift.UpdateAliasOutput{Alias: &wa}, nil
}

// DeleteAlias deletes an alias.
func (s *Service) DeleteAlias(ctx context.Context, in *gamelift.DeleteAliasInput) (*gamelift.DeleteAliasOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, true, "AliasId", "AliasIdOrArn", in.AliasId); err != nil {
		return nil, err
	}
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		a, version, err := s.getAlias(ctx, w, in.AliasId)
		if err != nil {
			return err
		}
		if err := w.Delete(ctx, KindAlias, a.ID, version); err != nil {
			return err
		}
		return s.cfg.Tags.DeleteAll(ctx, w, a.ARN)
	})
	if err != nil {
		return nil, fmt.Errorf("delete alias: %w", err)
	}
	return &gamelift.DeleteAliasOutput{}, nil
}

// ResolveAlias returns the fleet a SIMPLE alias points to.
func (s *Service) ResolveAlias(ctx context.Context, in *gamelift.ResolveAliasInput) (*gamelift.ResolveAliasOutput, error) {
	if err := s.cfg.RequireOperatorOn(ctx, false, "AliasId", "AliasIdOrArn", in.AliasId); err != nil {
		return nil, err
	}
	fleetID, err := service.Read(ctx, s.cfg.Store, func(r store.Reader) (string, error) {
		return s.Resolve(ctx, r, "", in.AliasId)
	})
	if err != nil {
		return nil, fmt.Errorf("resolve alias: %w", err)
	}
	return &gamelift.ResolveAliasOutput{FleetId: fleetID, FleetArn: s.cfg.ARNs.Build(gamelift.ResourceFleet, fleetID)}, nil
}

// Resolve turns a FleetId-or-AliasId pair (exactly one set) into a fleet
// id: a TERMINAL alias fails with TerminalRoutingStrategy and its message.
func (s *Service) Resolve(ctx context.Context, r store.Reader, fleetIDOrArn, aliasIDOrArn string) (string, error) {
	if aliasIDOrArn == "" {
		return s.FleetID(fleetIDOrArn), nil
	}
	a, _, err := s.getAlias(ctx, r, aliasIDOrArn)
	if err != nil {
		return "", err
	}
	if a.Routing.Type == gamelift.RoutingTerminal {
		return "", fault.New(fault.TerminalRoutingStrategy, "%s", a.Routing.Message)
	}
	return a.Routing.FleetId, nil
}
