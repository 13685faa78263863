package matchmaking

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/service"
	"github.com/musterhq/muster/internal/store"
)

// MaxPartySize is the most players a party holds (a ticket's limit).
const MaxPartySize = 10

// Party is a group of players who are matched together, on one team.
type Party struct {
	ID         string        `json:"partyId"`
	Leader     string        `json:"leaderId"`
	Members    []partyMember `json:"members"`
	InviteCode string        `json:"inviteCode,omitempty"`
	CreatedAt  time.Time     `json:"createdAt"`
}

type partyMember struct {
	ID      string           `json:"identityId"`
	Latency map[string]int32 `json:"latencyInMs,omitempty"`
}

// PartyView is a party as its members see it.
type PartyView struct {
	ID         string   `json:"partyId"`
	Leader     string   `json:"leaderId"`
	Members    []string `json:"members"`
	InviteCode string   `json:"inviteCode"`
}

func (p Party) view() PartyView {
	v := PartyView{ID: p.ID, Leader: p.Leader, InviteCode: p.InviteCode, Members: []string{}}
	for _, m := range p.Members {
		v.Members = append(v.Members, m.ID)
	}
	return v
}

func (s *Service) party(ctx context.Context, id string) (Party, error) {
	return service.Read(ctx, s.cfg.Store, func(r store.Reader) (Party, error) {
		p, _, err := getParty(ctx, r, id)
		return p, err
	})
}

func getParty(ctx context.Context, r store.Reader, id string) (Party, int64, error) {
	return service.Get[Party](ctx, r, KindParty, id, "no party %s", id)
}

func inviteCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// CreateParty makes a party led by the caller; latencyInMs is optional.
func (s *Service) CreateParty(ctx context.Context, latency map[string]int32) (PartyView, error) {
	me, err := playerOf(ctx)
	if err != nil {
		return PartyView{}, err
	}
	if err := s.checkPartyLatencies(ctx, latency); err != nil {
		return PartyView{}, err
	}
	p := Party{ID: uuid.NewString(), Leader: me, Members: []partyMember{{ID: me, Latency: latency}}, InviteCode: inviteCode(), CreatedAt: s.now()}
	err = s.cfg.Store.Update(ctx, func(w store.Writer) error {
		if err := s.joinIn(ctx, w, me, p.ID); err != nil {
			return err
		}
		_, err := w.Put(ctx, store.Record{Kind: KindParty, ID: p.ID, Doc: store.MustJSON(p)})
		return err
	})
	if err != nil {
		return PartyView{}, fmt.Errorf("create party: %w", err)
	}
	return p.view(), nil
}

// checkPartyLatencies checks a party member's latencies as a ticket's
// (checkPlayerLatencies) against every location Muster knows: the party's
// configuration is chosen when its ticket starts, which drops the ones it
// cannot place in.
func (s *Service) checkPartyLatencies(ctx context.Context, latency map[string]int32) error {
	var v fault.Validator
	checkPlayerLatencies(&v, latency)
	if err := v.Err(); err != nil {
		return err
	}
	_, err := s.usableLatencies(ctx, nil, latencyField{"$.latencyInMs", latency, ""})
	return err
}

func (s *Service) joinIn(ctx context.Context, w store.Writer, me, party string) error {
	_, err := w.Put(ctx, store.Record{Kind: KindMember, ID: me, Doc: store.MustJSON(map[string]string{"partyId": party})})
	if errors.Is(err, store.ErrConflict) {
		return fault.New(fault.Invalid, "you are already in a party; leave it first")
	}
	return err
}

// JoinParty adds the caller to a party whose invite code it knows.
func (s *Service) JoinParty(ctx context.Context, id, code string, latency map[string]int32) (PartyView, error) {
	me, err := playerOf(ctx)
	if err != nil {
		return PartyView{}, err
	}
	if err := s.checkPartyLatencies(ctx, latency); err != nil {
		return PartyView{}, err
	}
	var p Party
	err = s.cfg.Store.Update(ctx, func(w store.Writer) error {
		var version int64
		var err error
		p, version, err = getParty(ctx, w, id)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(code), []byte(p.InviteCode)) != 1 {
			return fault.New(fault.Forbidden, "$.inviteCode: wrong invite code for party %s", id)
		}
		if slices.ContainsFunc(p.Members, func(m partyMember) bool { return m.ID == me }) {
			return nil
		}
		if len(p.Members) >= MaxPartySize {
			return fault.New(fault.Conflict, "party %s is full (%d players)", id, MaxPartySize)
		}
		if err := s.joinIn(ctx, w, me, p.ID); err != nil {
			return err
		}
		p.Members = append(p.Members, partyMember{ID: me, Latency: latency})
		_, err = w.Put(ctx, store.Record{Kind: KindParty, ID: p.ID, Doc: store.MustJSON(p), Version: version})
		return err
	})
	if err != nil {
		return PartyView{}, fmt.Errorf("join party: %w", err)
	}
	return p.view(), nil
}

// GetParty shows a party to one of its members.
func (s *Service) GetParty(ctx context.Context, id string) (PartyView, error) {
	me, err := playerOf(ctx)
	if err != nil {
		return PartyView{}, err
	}
	p, err := s.party(ctx, id)
	if err != nil {
		return PartyView{}, err
	}
	if !slices.ContainsFunc(p.Members, func(m partyMember) bool { return m.ID == me }) {
		return PartyView{}, fault.New(fault.NotFound, "no party %s of yours", id)
	}
	return p.view(), nil
}

// LeaveParty takes the caller out of a party; when the leader leaves, the
// next member leads, and the last one out deletes the party.
func (s *Service) LeaveParty(ctx context.Context, id string) error {
	me, err := playerOf(ctx)
	if err != nil {
		return err
	}
	err = s.cfg.Store.Update(ctx, func(w store.Writer) error {
		p, version, err := getParty(ctx, w, id)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(p.Members, func(m partyMember) bool { return m.ID == me })
		if i < 0 {
			return fault.New(fault.NotFound, "no party %s of yours", id)
		}
		p.Members = slices.Delete(p.Members, i, i+1)
		if err := store.Forget(ctx, w, KindMember, me); err != nil {
			return err
		}
		if len(p.Members) == 0 {
			return w.Delete(ctx, KindParty, id, version)
		}
		if p.Leader == me {
			p.Leader = p.Members[0].ID
		}
		_, err = w.Put(ctx, store.Record{Kind: KindParty, ID: p.ID, Doc: store.MustJSON(p), Version: version})
		return err
	})
	if err != nil {
		return fmt.Errorf("leave party: %w", err)
	}
	return nil
}
