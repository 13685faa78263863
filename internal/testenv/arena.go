package testenv

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"
)

// ArenaPlayer is a player connected to an examples/arena game server.
type ArenaPlayer struct {
	Conn  net.Conn
	In    *bufio.Scanner // the server's lines after First
	First string         // the server's answer to JOIN: WELCOME … or ERR …
}

// DialArena connects to the arena game server at addr as a player and sends
// JOIN with the player session id; it returns once the server has answered.
// The connection has a deadline of a minute.
func DialArena(addr, playerSessionID string) (*ArenaPlayer, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(time.Minute))
	if _, err := fmt.Fprintf(conn, "JOIN %s\n", playerSessionID); err != nil {
		conn.Close()
		return nil, err
	}
	in := bufio.NewScanner(conn)
	if !in.Scan() {
		conn.Close()
		return nil, fmt.Errorf("no answer to JOIN from %s: %v", addr, in.Err())
	}
	return &ArenaPlayer{Conn: conn, In: in, First: in.Text()}, nil
}

// JoinArena is DialArena for a test: it fails the test if the server does
// not answer, and closes the connection at the end of the test.
func JoinArena(t testing.TB, addr, playerSessionID string) *ArenaPlayer {
	t.Helper()
	p, err := DialArena(addr, playerSessionID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Conn.Close() })
	return p
}
