package session

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/musterhq/muster/internal/auth"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/fleet"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// describe lists game sessions for DescribeGameSessions and
// DescribeGameSessionDetails, as stored and as GameLift shapes.
func (s *Service) describe(ctx context.Context, in *gamelift.DescribeGameSessionsInput) ([]GameSession, []gamelift.GameSession, string, error) {
	n, after, err := service.AuthorizeList(ctx, in.Limit, 50, 0, in.NextToken, func(v *fault.Validator) {
		switch {
		case in.GameSessionId != "":
			s.cfg.Formats.Check(v, "GameSessionId", "ArnStringModel", in.GameSessionId)
		case in.FleetId != "" && in.AliasId != "":
			v.Add("FleetId", "give FleetId or AliasId, not both")
		case in.FleetId != "":
			s.cfg.Formats.Check(v, "FleetId", "FleetIdOrArn", in.FleetId)
		case in.AliasId != "":
			s.cfg.Formats.Check(v, "AliasId", "AliasIdOrArn", in.AliasId)
		default:
			v.Add("FleetId", "one of FleetId, AliasId and GameSessionId is required")
		}
		s.cfg.Formats.CheckSet(v, "Location", "LocationStringModel", in.Location)
		switch in.StatusFilter {
		case "", gamelift.GameSessionActive, gamelift.GameSessionActivating, gamelift.GameSessionTerminating, gamelift.GameSessionTerminated, gamelift.GameSessionError:
		default:
			v.Add("StatusFilter", "must be ACTIVE, ACTIVATING, TERMINATING, TERMINATED or ERROR")
		}
	})
	if err != nil {
		return nil, nil, "", err
	}
	keep := func(g *GameSession) bool {
		*g = g.effective(s.now())
		return in.StatusFilter == "" || in.StatusFilter == g.Status
	}
	var out []GameSession
	var next string
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		if in.GameSessionId != "" {
			g, _, err := s.getGameSession(ctx, r, in.GameSessionId)
			if fault.Is(err, fault.NotFound) {
				return nil
			}
			if err == nil && keep(&g) {
				out = append(out, g)
			}
			return err
		}
		q, err := s.fleetSessions(ctx, r, in.FleetId, in.AliasId, in.Location)
		if err != nil {
			return err
		}
		q.After = after
		out, next, err = store.FilterPage(ctx, r, q, n, keep)
		return err
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("describe game sessions: %w", err)
	}
	w, err := s.wireAll(ctx, out)
	if err != nil {
		return nil, nil, "", fmt.Errorf("describe game sessions: %w", err)
	}
	return out, w, next, nil
}

// fleetSessions resolves a fleet (by id, ARN or alias) and returns the
// query for its game sessions, in one location or all.
func (s *Service) fleetSessions(ctx context.Context, r store.Reader, fleetIdOrArn, aliasIdOrArn, location string) (store.Query, error) {
	fleetID, err := s.cfg.Fleets.Resolve(ctx, r, fleetIdOrArn, aliasIdOrArn)
	if err != nil {
		return store.Query{}, err
	}
	if _, _, err := fleet.GetFleet(ctx, r, fleetID); err != nil {
		return store.Query{}, err
	}
	if location != "" {
		return store.Query{Kind: KindGameSession, Key: 1, Value: fleetID + "/" + location}, nil
	}
	return store.Query{Kind: KindGameSession, Key: 1, Value: fleetID + "/", Prefix: true}, nil
}

func (s *Service) wireAll(ctx context.Context, gs []GameSession) ([]gamelift.GameSession, error) {
	out := make([]gamelift.GameSession, 0, len(gs))
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		for _, g := range gs {
			w, err := s.wire(ctx, r, g)
			if err != nil {
				return err
			}
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

// DescribeGameSessions is the control-API operation.
func (s *Service) DescribeGameSessions(ctx context.Context, in *gamelift.DescribeGameSessionsInput) (*gamelift.DescribeGameSessionsOutput, error) {
	_, w, next, err := s.describe(ctx, in)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeGameSessionsOutput{GameSessions: w, NextToken: next}, nil
}

// DescribeGameSessionDetails is the control-API operation.
func (s *Service) DescribeGameSessionDetails(ctx context.Context, in *gamelift.DescribeGameSessionDetailsInput) (*gamelift.DescribeGameSessionDetailsOutput, error) {
	gs, w, next, err := s.describe(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &gamelift.DescribeGameSessionDetailsOutput{GameSessionDetails: make([]gamelift.GameSessionDetail, 0, len(w)), NextToken: next}
	for i := range w {
		out.GameSessionDetails = append(out.GameSessionDetails, gamelift.GameSessionDetail{GameSession: &w[i], ProtectionPolicy: gs[i].Protection})
	}
	return out, nil
}

// MaxSearchPage is SearchGameSessions' page size cap (GameLift: 20).
const MaxSearchPage = 20

// SearchGameSessions searches the ACTIVE game sessions of one fleet
// (optionally one location) with GameLift's filter and sort expressions.
// NextToken is an offset into the sorted result of the same query.
func (s *Service) SearchGameSessions(ctx context.Context, in *gamelift.SearchGameSessionsInput) (*gamelift.SearchGameSessionsOutput, error) {
	if err := auth.RequireOperator(ctx, false); err != nil {
		return nil, err
	}
	filter, sorter, n, offset, err := s.checkSearch(in)
	if err != nil {
		return nil, err
	}
	var hits []searchHit
	err = s.cfg.Store.View(ctx, func(r store.Reader) error {
		q, err := s.fleetSessions(ctx, r, in.FleetId, in.AliasId, in.Location)
		if err != nil {
			return err
		}
		hits, err = s.searchHits(ctx, r, q, filter)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search game sessions: %w", err)
	}
	if sorter != nil {
		slices.SortStableFunc(hits, func(a, b searchHit) int {
			switch {
			case sorter.Less(&a.row, &b.row):
				return -1
			case sorter.Less(&b.row, &a.row):
				return 1
			}
			return 0
		})
	}
	out := &gamelift.SearchGameSessionsOutput{GameSessions: []gamelift.GameSession{}}
	if offset >= len(hits) {
		return out, nil
	}
	end := min(offset+n, len(hits))
	page := make([]GameSession, 0, end-offset)
	for _, h := range hits[offset:end] {
		page = append(page, h.g)
	}
	if out.GameSessions, err = s.wireAll(ctx, page); err != nil {
		return nil, fmt.Errorf("search game sessions: %w", err)
	}
	if end < len(hits) {
		out.NextToken = store.EncodePageToken(strconv.Itoa(end))
	}
	return out, nil
}

// parseExpression reads a search's optional expression member (1 to 1024
// characters): nil when it is not given, or when it is bad, which is then
// named in v.
func parseExpression[T any](v *fault.Validator, member, expr string, parse func(string) (*T, error)) *T {
	if expr == "" {
		return nil
	}
	if p := gamelift.Length(expr, 1, 1024); p != "" {
		v.Add(member, "%s", p)
		return nil
	}
	x, err := parse(expr)
	if err != nil {
		v.Add(member, "%s", err.Error())
		return nil
	}
	return x
}

// checkSearch validates a search, naming every bad member, and returns its
// parsed filter and sort (nil when not given), the page size and the
// offset its NextToken resumes from.
func (s *Service) checkSearch(in *gamelift.SearchGameSessionsInput) (filter *Filter, sorter *Sort, n, offset int, err error) {
	var v fault.Validator
	s.checkFleetRef(&v, in.FleetId, in.AliasId)
	s.cfg.Formats.CheckSet(&v, "Location", "LocationStringModel", in.Location)
	filter = parseExpression(&v, "FilterExpression", in.FilterExpression, ParseFilter)
	sorter = parseExpression(&v, "SortExpression", in.SortExpression, ParseSort)
	n = MaxSearchPage
	if in.Limit != nil {
		v.Check(*in.Limit >= 1, "Limit", "must be at least 1")
		n = min(int(*in.Limit), MaxSearchPage)
	}
	if tok, err := store.DecodePageToken(in.NextToken); err != nil {
		v.Add("NextToken", "is not a token this API returned")
	} else if tok != "" {
		o, err := strconv.Atoi(tok)
		v.Check(err == nil && o >= 0, "NextToken", "is not a token this API returned")
		offset = o
	}
	return filter, sorter, n, offset, v.Err()
}

// searchHit is an ACTIVE game session that matched a search, with the row
// the search evaluated.
type searchHit struct {
	g   GameSession
	row Row
}

// searchHits evaluates filter on every ACTIVE game session of q.
func (s *Service) searchHits(ctx context.Context, r store.Reader, q store.Query, filter *Filter) ([]searchHit, error) {
	var hits []searchHit
	err := store.Walk(ctx, r, q, func(it store.Item) error {
		gs, err := store.Decode[GameSession]([]store.Item{it})
		if err != nil || gs[0].Status != gamelift.GameSessionActive {
			return err
		}
		g := gs[0]
		players, err := s.livePlayers(ctx, r, g.ID)
		if err != nil {
			return err
		}
		row := Row{ID: g.ID, Name: g.Name, Properties: map[string]string{}, MaximumSessions: float64(g.MaxPlayers),
			CreationTimeMillis: float64(g.CreatedAt.UnixMilli()), PlayerSessionCount: float64(players),
			HasAvailable: players < int(g.MaxPlayers) && g.PlayerPolicy == gamelift.AcceptAll}
		for _, p := range g.Properties {
			row.Properties[p.Key] = p.Value
		}
		if filter.Match(&row) {
			hits = append(hits, searchHit{g, row})
		}
		return nil
	})
	return hits, err
}
