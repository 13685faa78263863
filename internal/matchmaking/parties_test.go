package matchmaking_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/musterhq/muster/internal/fault"
	"github.com/musterhq/muster/internal/gamelift"
	"github.com/musterhq/muster/internal/matchmaking"
)

func (w *world) createParty(leader string, latency map[string]int32) matchmaking.PartyView {
	w.t.Helper()
	p, err := w.svc.CreateParty(player(w.ctx, leader), latency)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) join(p matchmaking.PartyView, member string, latency map[string]int32) matchmaking.PartyView {
	w.t.Helper()
	v, err := w.svc.JoinParty(player(w.ctx, member), p.ID, p.InviteCode, latency)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

func TestPartyMembership(t *testing.T) {
	w := playerWorld(t)
	p := w.createParty("lead", nil)
	t.Run("a new party is led by its creator, its only member, with an invite code", func(t *testing.T) {
		if p.ID == "" || p.Leader != "lead" || !slices.Equal(p.Members, []string{"lead"}) || len(p.InviteCode) != 16 {
			t.Fatalf("party %+v", p)
		}
	})
	t.Run("an operator's key cannot make a party", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.CreateParty(w.ctx, nil)
		wantFault(t, err, fault.Unauthenticated)
	})
	t.Run("the wrong invite code is Forbidden naming the invite code", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.JoinParty(player(w.ctx, "m1"), p.ID, "WRONG", nil)
		wantFault(t, err, fault.Forbidden, "inviteCode")
	})
	t.Run("a party that does not exist is NotFound", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.JoinParty(player(w.ctx, "m1"), "ghost", p.InviteCode, nil)
		wantFault(t, err, fault.NotFound, "ghost")
	})
	t.Run("the right code adds the member; joining twice changes nothing", func(t *testing.T) {
		w := w.in(t)
		w.join(p, "m1", nil)
		v := w.join(p, "m1", nil)
		if !slices.Equal(v.Members, []string{"lead", "m1"}) {
			t.Fatalf("members %v", v.Members)
		}
	})
	t.Run("a player in one party cannot make or join another", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.CreateParty(player(w.ctx, "m1"), nil)
		wantFault(t, err, fault.Invalid, "already in a party")
		other := w.createParty("other-lead", nil)
		_, err = w.svc.JoinParty(player(w.ctx, "m1"), other.ID, other.InviteCode, nil)
		wantFault(t, err, fault.Invalid, "already in a party")
	})
	t.Run("members see the party; others do not", func(t *testing.T) {
		w := w.in(t)
		v, err := w.svc.GetParty(player(w.ctx, "m1"), p.ID)
		if err != nil || v.Leader != "lead" || len(v.Members) != 2 {
			t.Fatalf("party %+v, %v", v, err)
		}
		_, err = w.svc.GetParty(player(w.ctx, "stranger"), p.ID)
		wantFault(t, err, fault.NotFound)
		_, err = w.svc.GetParty(player(w.ctx, "m1"), "ghost")
		wantFault(t, err, fault.NotFound, "ghost")
	})
	t.Run("a party holds at most MaxPartySize players", func(t *testing.T) {
		w := w.in(t)
		for i := 2; i < matchmaking.MaxPartySize; i++ {
			w.join(p, fmt.Sprint("m", i), nil)
		}
		_, err := w.svc.JoinParty(player(w.ctx, "one-too-many"), p.ID, p.InviteCode, nil)
		wantFault(t, err, fault.Conflict, "full")
	})
	t.Run("when the leader leaves, the next member leads", func(t *testing.T) {
		w := w.in(t)
		if err := w.svc.LeaveParty(player(w.ctx, "lead"), p.ID); err != nil {
			t.Fatal(err)
		}
		v, err := w.svc.GetParty(player(w.ctx, "m1"), p.ID)
		if err != nil || v.Leader != "m1" || slices.Contains(v.Members, "lead") {
			t.Fatalf("party %+v, %v", v, err)
		}
	})
	t.Run("one who left may make a new party; a stranger cannot leave", func(t *testing.T) {
		w := w.in(t)
		w.createParty("lead", nil)
		wantFault(t, w.svc.LeaveParty(player(w.ctx, "stranger"), p.ID), fault.NotFound)
		wantFault(t, w.svc.LeaveParty(player(w.ctx, "m1"), "ghost"), fault.NotFound)
	})
	t.Run("the last member out deletes the party", func(t *testing.T) {
		w := w.in(t)
		for i := 1; i < matchmaking.MaxPartySize; i++ {
			if err := w.svc.LeaveParty(player(w.ctx, fmt.Sprint("m", i)), p.ID); err != nil {
				t.Fatal(err)
			}
		}
		_, err := w.svc.JoinParty(player(w.ctx, "late"), p.ID, p.InviteCode, nil)
		wantFault(t, err, fault.NotFound, p.ID)
	})
}

func TestAPartyIsMatchedAsOneTicketOnOneTeam(t *testing.T) {
	w := playerWorld(t)
	red := w.createParty("r1", map[string]int32{"custom-home": 40})
	w.join(red, "r2", nil)
	blue := w.createParty("b1", nil)
	w.join(blue, "b2", map[string]int32{"custom-home": 80})
	t.Run("only the leader may start the party's ticket", func(t *testing.T) {
		w := w.in(t)
		_, err := w.svc.StartForPlayer(player(w.ctx, "r2"), matchmaking.PlayerTicketRequest{ConfigurationName: "teams", PartyID: red.ID})
		wantFault(t, err, fault.Forbidden, "partyId")
	})
	var redTicket, blueTicket gamelift.MatchmakingTicket
	t.Run("the leader's ticket holds every member; the request's latencies are the leader's and those of members without their own", func(t *testing.T) {
		w := w.in(t)
		redTicket = w.startAs("r1", matchmaking.PlayerTicketRequest{ConfigurationName: "teams", PartyID: red.ID, LatencyInMs: map[string]int32{"custom-home": 30}})
		if len(redTicket.Players) != 2 || redTicket.Players[0].LatencyInMs["custom-home"] != 30 || redTicket.Players[1].PlayerId != "r2" ||
			redTicket.Players[1].LatencyInMs["custom-home"] != 30 {
			t.Fatalf("players %+v", redTicket.Players)
		}
		blueTicket = w.startAs("b1", matchmaking.PlayerTicketRequest{ConfigurationName: "teams", PartyID: blue.ID, LatencyInMs: map[string]int32{"custom-home": 20}})
		if blueTicket.Players[0].LatencyInMs["custom-home"] != 20 || blueTicket.Players[1].LatencyInMs["custom-home"] != 80 {
			t.Fatalf("players %+v", blueTicket.Players)
		}
	})
	t.Run("every member of a party is on the same team, facing the other party", func(t *testing.T) {
		w := w.in(t)
		w.cycle("teams")
		r, b := w.ticket(redTicket.TicketId), w.ticket(blueTicket.TicketId)
		if r.Status != gamelift.TicketCompleted || b.Status != gamelift.TicketCompleted {
			t.Fatalf("statuses %s %s", r.Status, b.Status)
		}
		if r.Players[0].Team == "" || r.Players[0].Team != r.Players[1].Team || b.Players[0].Team != b.Players[1].Team || r.Players[0].Team == b.Players[0].Team {
			t.Fatalf("teams %+v / %+v", r.Players, b.Players)
		}
	})
	t.Run("a member of a party in a waiting ticket cannot start a ticket alone", func(t *testing.T) {
		w := w.in(t)
		w.startAs("r1", matchmaking.PlayerTicketRequest{ConfigurationName: "teams", PartyID: red.ID})
		_, err := w.svc.StartForPlayer(player(w.ctx, "r2"), matchmaking.PlayerTicketRequest{ConfigurationName: "teams"})
		wantFault(t, err, fault.Invalid, "r2")
	})
}
