package hook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"

	"github.com/musterhq/muster/flexmatch"
	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/identity"
	"github.com/musterhq/muster/internal/matchmaking"
	"github.com/musterhq/muster/internal/store"
)

// Limits of answers.
const (
	maxReason     = 256
	maxSignInData = 4 << 10
)

// MaxSignInDataTotal bounds a player's signInData: the JSON object the
// beforeSignIn hooks of one sign-in attach, merged (each at most
// maxSignInData), as it is kept and sent with every later hook call about
// the player — a match's call carries every player's.
const MaxSignInDataTotal = 16 << 10

var (
	_ matchmaking.Gate    = (*Service)(nil)
	_ identity.SignInGate = (*Service)(nil)
)

// failed applies a hook's fail mode to a call that brought no answer: nil
// lets the request through (failOpen), a NotReady fault (503) refuses it.
func failed(e *entry, err error) error {
	if e.FailMode == FailOpen {
		return nil
	}
	var f *failure
	why := "it failed"
	if errors.As(err, &f) {
		why = strings.ReplaceAll(f.outcome, "_", " ")
	}
	return fault.New(fault.NotReady, "a %s hook could not decide (%s); try again later", e.Point, why)
}

func refused(reason string) error { return fault.New(fault.Forbidden, "%s", reason) }

// verdict is what one call of a gate point (beforeTicket, beforeSignIn)
// means for the request: a call that brought no answer, the hook's fail mode
// (see failed); a refusal, a Forbidden fault; an allowing answer, apply.
func verdict(e *entry, err error, allow bool, reason string) (apply bool, _ error) {
	switch {
	case err != nil:
		return false, failed(e, err)
	case !allow:
		return false, refused(reason)
	}
	return true, nil
}

// checkReason validates an answer's reason: required with a refusal,
// absent otherwise.
func checkReason(allow bool, reason string) error {
	switch {
	case allow && reason != "":
		return errors.New("$.reason: only a refusal has a reason")
	case !allow && (reason == "" || utf8.RuneCountInString(reason) > maxReason || strings.ContainsFunc(reason, isControl)):
		return fmt.Errorf("$.reason: a refusal needs a reason of 1 to %d characters without control characters", maxReason)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// GatesTickets reports whether BeforeTicket may act on a ticket of the
// configuration: some beforeTicket hook applies to it. Without the
// registrations read, it cannot tell and says true, so that BeforeTicket
// refuses the ticket as it would.
func (s *Service) GatesTickets(ctx context.Context, configuration string) bool {
	hooks, err := s.hooks(ctx, BeforeTicket)
	if err != nil {
		return true
	}
	for _, e := range hooks {
		if e.applies(configuration) {
			return true
		}
	}
	return false
}

// BeforeTicket runs the beforeTicket hooks that apply to d's
// configuration, in order: the first refusal wins; each allowing answer's
// configuration and attributes apply before the next hook is called. A
// hook that moves the ticket to another configuration starts the order
// again for the hooks not yet called, so that every hook scoped to the
// new configuration decides on it, as on a ticket sent there directly.
func (s *Service) BeforeTicket(ctx context.Context, d *matchmaking.TicketDraft) error {
	hooks, err := s.hooks(ctx, BeforeTicket)
	if err != nil || len(hooks) == 0 {
		return err
	}
	var players []TicketPlayer
	called := make([]bool, len(hooks))
	for i := 0; i < len(hooks); i++ {
		e := hooks[i]
		if called[i] || !e.applies(d.ConfigurationName) {
			continue
		}
		called[i] = true
		before := d.ConfigurationName
		if players == nil {
			if players, err = s.ticketPlayers(ctx, d); err != nil {
				return err
			}
		}
		for i := range players {
			players[i].Attributes = d.Players[i].Attributes
		}
		call := TicketCall{Point: BeforeTicket, PlayerID: d.PlayerID, ConfigurationName: d.ConfigurationName, PartyID: d.PartyID,
			AttributeTypes: d.Types, Players: players}
		var ans TicketAnswer
		types := d.Types
		err := s.call(ctx, e, call, &ans, func() (bool, error) {
			var err error
			types, err = checkTicketAnswer(ctx, d, &ans)
			return ans.Allow, err
		})
		switch apply, err := verdict(e, err, ans.Allow, ans.Reason); {
		case err != nil:
			return err
		case apply:
			applyTicketAnswer(d, &ans, types)
		}
		if d.ConfigurationName != before {
			i = -1 // from the first hook again; each is called at most once
		}
	}
	return nil
}

// ticketPlayers reads what hooks are told about d's players.
func (s *Service) ticketPlayers(ctx context.Context, d *matchmaking.TicketDraft) ([]TicketPlayer, error) {
	ids := make([]string, len(d.Players))
	for i, p := range d.Players {
		ids[i] = p.PlayerID
	}
	data, err := s.signInDataIfHooked(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]TicketPlayer, len(d.Players))
	for i, p := range d.Players {
		rec, err := s.record(ctx, p.PlayerID)
		if err != nil {
			return nil, err
		}
		out[i] = TicketPlayer{PlayerID: p.PlayerID, LatencyInMs: orEmpty(p.LatencyInMs), Record: rec, SignInData: data[p.PlayerID]}
	}
	return out, nil
}

func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

func (s *Service) record(ctx context.Context, id string) (PlayerRecord, error) {
	if s.cfg.Records == nil {
		return PlayerRecord{Attributes: map[string]gamelift.AttributeValue{}, Data: map[string]json.RawMessage{}}, nil
	}
	rec, err := s.cfg.Records.Me(ctx, id)
	if err != nil {
		return PlayerRecord{}, fmt.Errorf("hooks: read the record of %s: %w", id, err)
	}
	return PlayerRecord{Attributes: orEmpty(rec.Attributes), Data: orEmpty(rec.Data)}, nil
}

// checkTicketAnswer validates an answer against the draft: a refusal
// changes nothing; a configuration must be open to players; attributes
// must be for the ticket's players, declared by the rule set (of the
// configuration answered, when it changes) and of the declared type. It
// returns the attribute types in force after the answer.
func checkTicketAnswer(ctx context.Context, d *matchmaking.TicketDraft, ans *TicketAnswer) (map[string]string, error) {
	if err := checkReason(ans.Allow, ans.Reason); err != nil {
		return nil, err
	}
	if !ans.Allow {
		if ans.ConfigurationName != "" || len(ans.Attributes) > 0 {
			return nil, errors.New("$: a refusal changes no configuration and no attributes")
		}
		return nil, nil
	}
	types := d.Types
	if ans.ConfigurationName != "" && ans.ConfigurationName != d.ConfigurationName {
		t, err := d.Open(ctx, ans.ConfigurationName)
		if err != nil {
			return nil, fmt.Errorf("$.configurationName: %q cannot take players' tickets: %v", ans.ConfigurationName, err)
		}
		types = t
	}
	in := map[string]bool{}
	for _, p := range d.Players {
		in[p.PlayerID] = true
	}
	var v fault.Validator
	for pid, attrs := range ans.Attributes {
		path := fmt.Sprintf("$.attributes[%q]", pid)
		if !in[pid] {
			v.Add(path, "is not a player of the ticket")
			continue
		}
		for name, val := range attrs {
			at := fmt.Sprintf("%s[%q]", path, name)
			t, ok := types[name]
			if !ok {
				v.Add(at, "is not an attribute the rule set declares")
				continue
			}
			val.Validate(at, &v)
			v.Check(fits(val, t), at, "must be of the declared type %s", t)
		}
	}
	return types, v.Err()
}

// fits says whether a value has a declared type.
func fits(a gamelift.AttributeValue, t string) bool {
	switch t {
	case flexmatch.AttrString.String():
		return a.S != nil
	case flexmatch.AttrNumber.String():
		return a.N != nil
	case flexmatch.AttrStringList.String():
		return a.SL != nil
	case flexmatch.AttrStringNumberMap.String():
		return a.SDM != nil
	}
	return false
}

// applyTicketAnswer merges a validated allowing answer into the draft.
func applyTicketAnswer(d *matchmaking.TicketDraft, ans *TicketAnswer, types map[string]string) {
	if ans.ConfigurationName != "" {
		d.ConfigurationName, d.Types = ans.ConfigurationName, types
	}
	for i, p := range d.Players {
		if add := ans.Attributes[p.PlayerID]; len(add) > 0 {
			attrs := maps.Clone(p.Attributes)
			if attrs == nil {
				attrs = map[string]gamelift.AttributeValue{}
			}
			maps.Copy(attrs, add)
			d.Players[i].Attributes = attrs
		}
	}
}

// BeforeSignIn runs the beforeSignIn hooks in order: the first refusal
// wins; the data objects allowing answers attach merge in order (a later
// hook's member replaces an earlier one's) and are kept for later hooks.
func (s *Service) BeforeSignIn(ctx context.Context, in identity.SignIn) error {
	hooks, err := s.hooks(ctx, BeforeSignIn)
	if err != nil || len(hooks) == 0 {
		return err
	}
	rec, err := s.record(ctx, in.IdentityID)
	if err != nil {
		return err
	}
	call := SignInCall{Point: BeforeSignIn, PlayerID: in.IdentityID, Method: in.Method, Created: in.Created, Refresh: in.Refresh, Record: rec}
	var data map[string]json.RawMessage
	for _, e := range hooks {
		var ans SignInAnswer
		var merged map[string]json.RawMessage
		err := s.call(ctx, e, call, &ans, func() (bool, error) {
			var err error
			merged, err = mergeSignInData(data, &ans)
			return ans.Allow, err
		})
		switch apply, err := verdict(e, err, ans.Allow, ans.Reason); {
		case err != nil:
			return err
		case apply && merged != nil:
			data = merged
		}
	}
	if data == nil {
		return nil
	}
	return s.keepSignInData(ctx, in.IdentityID, data)
}

// mergeSignInData validates a beforeSignIn answer and returns the data of
// the hooks before it with the answer's merged in (nil when it attaches
// none). An answer whose data would take the merged object past
// MaxSignInDataTotal is a bad answer, so its hook's fail mode decides and
// the log names it; its members are not clipped one by one, since a
// silently partial object would mislead the hooks that read it later.
func mergeSignInData(before map[string]json.RawMessage, ans *SignInAnswer) (map[string]json.RawMessage, error) {
	if err := checkReason(ans.Allow, ans.Reason); err != nil {
		return nil, err
	}
	if len(ans.Data) == 0 {
		return nil, nil
	}
	if !ans.Allow {
		return nil, errors.New("$.data: a refusal attaches no data")
	}
	var obj map[string]json.RawMessage
	if len(ans.Data) > maxSignInData || json.Unmarshal(ans.Data, &obj) != nil || obj == nil {
		return nil, fmt.Errorf("$.data: must be a JSON object of at most %d bytes", maxSignInData)
	}
	merged := maps.Clone(before)
	if merged == nil {
		merged = map[string]json.RawMessage{}
	}
	maps.Copy(merged, obj)
	// Measured as it is kept (keepSignInData) and sent to later hooks.
	if n := len(store.MustJSON(merged)); n > MaxSignInDataTotal {
		return nil, fmt.Errorf("$.data: merged with the data of the hooks before it, the player's signInData would be %d bytes of JSON, more than %d",
			n, MaxSignInDataTotal)
	}
	return merged, nil
}

// signInRecord is what KindSignInData keeps.
type signInRecord struct {
	Data json.RawMessage `json:"data"`
}

// keepSignInData stores the data hooks attached at a sign-in.
func (s *Service) keepSignInData(ctx context.Context, id string, data map[string]json.RawMessage) error {
	doc := store.MustJSON(signInRecord{Data: store.MustJSON(data)})
	err := s.cfg.Store.Update(ctx, func(w store.Writer) error {
		_, err := w.Put(ctx, store.Record{Kind: KindSignInData, ID: id, Doc: doc, Upsert: true, ExpiresAt: s.now().Add(s.cfg.SignInDataTTL)})
		return err
	})
	if err != nil {
		return fmt.Errorf("hooks: keep sign-in data of %s: %w", id, err)
	}
	return nil
}

// signInData reads the data kept for players, by id.
func (s *Service) signInData(ctx context.Context, ids []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	err := s.cfg.Store.View(ctx, func(r store.Reader) error {
		for _, id := range ids {
			rec, _, err := store.GetJSON[signInRecord](ctx, r, KindSignInData, id)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			default:
				out[id] = rec.Data
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hooks: read sign-in data: %w", err)
	}
	return out, nil
}

// signInDataIfHooked reads the players' sign-in data while beforeSignIn
// hooks are registered (enabled), and saves the read otherwise: data a
// removed hook attached is not sent.
func (s *Service) signInDataIfHooked(ctx context.Context, ids []string) (map[string]json.RawMessage, error) {
	hooks, err := s.hooks(ctx, BeforeSignIn)
	if err != nil || len(hooks) == 0 {
		return map[string]json.RawMessage{}, err
	}
	return s.signInData(ctx, ids)
}
