package client_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/musterhq/muster/client"
)

// A game signs its player in with the device's own id and secret, and
// saves the session so that its next run signs the player in without
// asking them. The session must be saved on every change: refresh tokens
// are single-use.
func ExampleClient_SignInDevice() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example-game-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "session.json")
	save := func(s client.Session) {
		b, _ := json.Marshal(s)
		if err := os.WriteFile(file, b, 0o600); err != nil {
			fmt.Println("cannot save the session:", err)
		}
	}
	// Generated once, on the game's first run, and kept on the device.
	deviceID, deviceSecret := "device-"+rand.Text(), rand.Text()

	c := client.New(endpoint, client.WithUserAgent("example-game/1.0"), client.OnSessionChange(save))
	first, err := c.SignInDevice(ctx, deviceID, deviceSecret)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The next run: the saved session signs the player in again.
	var s client.Session
	b, err := os.ReadFile(file)
	if err != nil || json.Unmarshal(b, &s) != nil {
		fmt.Println("no saved session: sign in again", err)
		return
	}
	next := client.New(endpoint, client.WithUserAgent("example-game/1.0"), client.WithSession(s), client.OnSessionChange(save))
	me, err := next.Me(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same player:", me.IdentityID == first.IdentityID)
	// Output: same player: true
}

// Latencies need no sign-in: the game measures them while the player
// signs in, or before showing the play button.
func ExampleClient_MeasureLatencies() {
	c := client.New(endpoint)
	ms, err := c.MeasureLatencies(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	// ms maps each location with a live beacon to a round trip in whole
	// milliseconds, at least 1: the latencies a ticket takes.
	fmt.Println(slices.Sorted(maps.Keys(ms)))
	// Output: [custom-home]
}

// Two players ask for a duel; each game client runs play.
func ExampleClient_Wait() {
	ctx := context.Background()
	play := func() (*client.Match, error) {
		c := client.New(endpoint, client.WithUserAgent("example-game/1.0"))
		if _, err := c.SignInAnonymous(ctx); err != nil {
			return nil, err
		}
		latencies, err := c.MeasureLatencies(ctx)
		if err != nil {
			return nil, err
		}
		t, err := c.StartMatchmaking(ctx, "duel", latencies)
		if err != nil {
			return nil, err
		}
		// In a configuration that requires acceptance, the game would ask
		// the player here.
		accept := client.OnAcceptance(func(t *client.Ticket) { _ = c.AcceptMatch(ctx, t.TicketID, true) })
		return c.Wait(ctx, t.TicketID, accept)
	}
	var wg sync.WaitGroup
	matches, errs := make([]*client.Match, 2), make([]error, 2)
	for i := range matches {
		wg.Go(func() { matches[i], errs[i] = play() })
	}
	wg.Wait()
	for _, err := range errs {
		var te *client.TicketError
		switch {
		case errors.As(err, &te):
			fmt.Printf("no match: the ticket is %s (%s)\n", te.Status, te.Reason)
			return
		case err != nil:
			fmt.Println(err)
			return
		}
	}
	// "duel" is a STANDALONE configuration: the studio's backend hosts the
	// match. Where Muster places a game session, m.Addr() is the game
	// server and m.PlayerSessionID the seat the game client presents to it.
	fmt.Println("matched on different teams:", matches[0].Team != matches[1].Team)
	// Output: matched on different teams: true
}

// FindMatch asks for a match and waits for it in one call. Two players
// ask for a duel at the same time.
func ExampleClient_FindMatch() {
	ctx := context.Background()
	teams := make([]string, 2)
	var wg sync.WaitGroup
	for i := range teams {
		wg.Go(func() {
			c := client.New(endpoint)
			if _, err := c.SignInAnonymous(ctx); err != nil {
				fmt.Println(err)
				return
			}
			m, err := c.FindMatch(ctx, "duel", map[string]int{"custom-home": 20})
			if err != nil {
				fmt.Println(err)
				return
			}
			teams[i] = m.Team
		})
	}
	wg.Wait()
	fmt.Println("matched on different teams:", teams[0] != "" && teams[0] != teams[1])
	// Output: matched on different teams: true
}

// The API's problem documents are *client.Error values, with every bad
// member of the request named by its JSON path.
func ExampleError() {
	ctx := context.Background()
	c := client.New(endpoint)
	if _, err := c.SignInAnonymous(ctx); err != nil {
		fmt.Println(err)
		return
	}
	var e *client.Error
	_, err := c.StartMatchmaking(ctx, "closed", nil)
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Title)
	}
	_, err = c.StartMatchmaking(ctx, "duel", map[string]int{"custom-home": 0})
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			fmt.Println(e.Status, f.Field)
		}
	}
	// Output:
	// 403 Forbidden
	// 400 $.latencyInMs.custom-home
}

// Friends play on one team: the leader makes a party, shares its id and
// invite code (in the game's own chat, say), and asks for a match for the
// whole party; every member follows the party's ticket.
func ExampleClient_CreateParty() {
	ctx := context.Background()
	signIn := func() *client.Client {
		c := client.New(endpoint)
		if _, err := c.SignInAnonymous(ctx); err != nil {
			fmt.Println(err)
		}
		return c
	}
	leader, friend, rival := signIn(), signIn(), signIn()
	latencies := map[string]int{"custom-home": 20}
	party, err := leader.CreateParty(ctx, latencies)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := friend.JoinParty(ctx, party.PartyID, party.InviteCode, latencies); err != nil {
		fmt.Println(err)
		return
	}
	ours, err := leader.StartMatchmaking(ctx, "squad", latencies, client.ForParty(party.PartyID))
	if err != nil {
		fmt.Println(err)
		return
	}
	theirs, err := rival.StartMatchmaking(ctx, "squad", latencies)
	if err != nil {
		fmt.Println(err)
		return
	}
	var wg sync.WaitGroup
	matches := map[string]*client.Match{}
	var mu sync.Mutex
	for name, c := range map[string]*client.Client{"leader": leader, "friend": friend, "rival": rival} {
		id := ours.TicketID
		if c == rival {
			id = theirs.TicketID
		}
		wg.Go(func() {
			m, err := c.Wait(ctx, id)
			if err != nil {
				fmt.Println(name, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			matches[name] = m
		})
	}
	wg.Wait()
	if len(matches) != 3 {
		return
	}
	fmt.Println("friends together:", matches["leader"].Team == matches["friend"].Team)
	fmt.Println("rival apart:", matches["rival"].Team != matches["leader"].Team)
	// Output:
	// friends together: true
	// rival apart: true
}
