package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// arenaConn is a bot's connection to the example game server
// (examples/arena), which speaks one line of text per message: the player
// sends JOIN <player session id>, the server checks it with Muster
// (AcceptPlayerSession) and answers WELCOME, or ERR/BYE when it refuses.
type arenaConn struct {
	conn net.Conn
	in   *bufio.Scanner
}

// refusedError is a game server's refusal of a player session.
type refusedError struct{ line string }

func (e *refusedError) Error() string { return "the game server refused the player session: " + e.line }

// arenaNotStarted is the arena's refusal of a player who arrives before
// its game session has started on the process.
const arenaNotStarted = "no game session is running here"

func dialArena(ctx context.Context, addr string) (*arenaConn, error) {
	if addr == "" {
		return nil, fmt.Errorf("the match has no game server address")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &arenaConn{conn: conn, in: bufio.NewScanner(conn)}, nil
}

// join hands over the player session and waits for the server's verdict,
// skipping board updates. ctx ending closes the connection.
func (a *arenaConn) join(ctx context.Context, playerSessionID string) error {
	stop := context.AfterFunc(ctx, func() { _ = a.conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := fmt.Fprintf(a.conn, "JOIN %s\n", playerSessionID); err != nil {
		return err
	}
	for a.in.Scan() {
		switch kind, rest, _ := strings.Cut(a.in.Text(), " "); kind {
		case "WELCOME":
			return nil
		case "ERR", "BYE":
			return &refusedError{line: rest}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := a.in.Err(); err != nil {
		return err
	}
	return fmt.Errorf("the game server closed the connection before answering JOIN")
}

// quit leaves the game, so a session whose players have all gone ends and
// frees its process.
func (a *arenaConn) quit() { _, _ = fmt.Fprintln(a.conn, "QUIT") }

func (a *arenaConn) close() { _ = a.conn.Close() }
