package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSessions admits the ids it was given, once each.
type fakeSessions struct {
	mu       sync.Mutex
	reserved map[string]bool
	removed  []string
}

func (f *fakeSessions) Accept(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.reserved[id] {
		return errors.New("player session " + id + " is not RESERVED")
	}
	delete(f.reserved, id)
	return nil
}

func (f *fakeSessions) Remove(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, id)
	return nil
}

func startGame(t *testing.T, open bool, ids ...string) (*Game, *fakeSessions, string) {
	t.Helper()
	s := &fakeSessions{reserved: map[string]bool{}}
	for _, id := range ids {
		s.reserved[id] = true
	}
	g := NewGame(s, slog.New(slog.DiscardHandler))
	if open {
		g.Open(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(t.Context(), ln)
	go g.Run(t.Context())
	return g, s, ln.Addr().String()
}

type client struct {
	t    *testing.T
	conn net.Conn
	in   *bufio.Scanner
}

func dial(t *testing.T, addr, id string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "JOIN %s\n", id)
	return &client{t: t, conn: conn, in: bufio.NewScanner(conn)}
}

// expect reads lines until one starts with prefix.
func (c *client) expect(prefix string) string {
	c.t.Helper()
	for c.in.Scan() {
		if strings.HasPrefix(c.in.Text(), prefix) {
			return c.in.Text()
		}
	}
	c.t.Fatalf("connection ended before a %q line (%v)", prefix, c.in.Err())
	return ""
}

func TestArenaAdmitsOnlyReservedPlayerSessions(t *testing.T) {
	tests := []struct {
		name string
		open bool
		id   string
		want string
	}{
		{"a reserved player session is welcomed", true, "psess-1", "WELCOME p1 16 8"},
		{"a forged player session is refused", true, "psess-forged", "ERR player session refused: player session psess-forged is not RESERVED"},
		{"nobody is admitted before a game session starts", false, "psess-1", "ERR no game session is running here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, addr := startGame(t, tc.open, "psess-1")
			c := dial(t, addr, tc.id)
			if got := c.expect(tc.want[:3]); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestArenaPlayersMoveTagAndLeave(t *testing.T) {
	g, s, addr := startGame(t, true, "psess-1", "psess-2")
	a := dial(t, addr, "psess-1")
	a.expect("WELCOME")
	b := dial(t, addr, "psess-2")
	b.expect("WELCOME")
	fmt.Fprintln(a.conn, "SAY hello there")
	if got := b.expect("CHAT"); got != "CHAT p1 hello there" {
		t.Fatalf("chat %q", got)
	}
	fmt.Fprintln(a.conn, "MOVE E")
	b.expect("STATE")
	fmt.Fprintln(a.conn, "QUIT")
	fmt.Fprintln(b.conn, "QUIT")
	select {
	case <-g.Empty():
	case <-time.After(10 * time.Second):
		t.Fatal("the game did not report itself empty after both players left")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.removed) != 2 {
		t.Fatalf("removed %v, want both player sessions", s.removed)
	}
}
