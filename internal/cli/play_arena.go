package cli

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// arenaGame is a bot's connection to the example game server
// (examples/arena): one line of text per message, JOIN first.
type arenaGame struct {
	conn  net.Conn
	lines chan string // what the server sends, closed when it hangs up
}

// notStarted is the arena's refusal of a player who arrives before the
// game session it was matched to has started on the process.
const notStarted = "no game session is running here"

func dialArena(ctx context.Context, addr string) (*arenaGame, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	g := &arenaGame{conn: conn, lines: make(chan string, 256)}
	go g.read()
	return g, nil
}

func (g *arenaGame) read() {
	defer close(g.lines)
	in := bufio.NewScanner(g.conn)
	for in.Scan() {
		select {
		case g.lines <- in.Text():
		default: // a bot that falls behind drops board updates
		}
	}
}

// next returns the next line from the server, or an error when it hung
// up or said nothing within wait.
func (g *arenaGame) next(ctx context.Context, wait time.Duration) (string, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case line, ok := <-g.lines:
		if !ok {
			return "", fmt.Errorf("the game server closed the connection")
		}
		return line, nil
	case <-t.C:
		return "", fmt.Errorf("the game server said nothing for %s", wait)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// join hands the game server the player session id; the server validates
// it with Muster (AcceptPlayerSession) before it says WELCOME.
func (g *arenaGame) join(ctx context.Context, playerSessionID string) (string, error) {
	if _, err := fmt.Fprintf(g.conn, "JOIN %s\n", playerSessionID); err != nil {
		return "", err
	}
	for {
		line, err := g.next(ctx, 10*time.Second)
		if err != nil {
			return "", err
		}
		switch kind, rest, _ := strings.Cut(line, " "); kind {
		case "WELCOME":
			return "joined as " + strings.Fields(rest)[0] + " with " + playerSessionID, nil
		case "ERR", "BYE":
			return "", fmt.Errorf("the game server refused %s: %s", playerSessionID, rest)
		}
	}
}

// play moves around the board for d, then quits; it reports how many
// board updates arrived and the bot's last score.
func (g *arenaGame) play(ctx context.Context, d time.Duration) (string, error) {
	moves, states := 0, 0
	dirs := []string{"N", "E", "S", "W"}
	move := time.NewTicker(250 * time.Millisecond)
	defer move.Stop()
	end := time.NewTimer(d)
	defer end.Stop()
	for {
		select {
		case <-end.C:
			fmt.Fprintln(g.conn, "QUIT")
			return fmt.Sprintf("%d moves, %d board updates", moves, states), nil
		case <-ctx.Done():
			return "", ctx.Err()
		case <-move.C:
			if _, err := fmt.Fprintf(g.conn, "MOVE %s\n", dirs[moves%len(dirs)]); err != nil {
				return "", err
			}
			moves++
		case line, ok := <-g.lines:
			if !ok {
				return "", fmt.Errorf("the game server closed the connection after %d moves", moves)
			}
			if strings.HasPrefix(line, "STATE ") {
				states++
			}
		}
	}
}

func (g *arenaGame) close() { _ = g.conn.Close() }

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
