package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: client IP PORT PLAYER_SESSION_ID")
		os.Exit(2)
	}
	conn, err := net.Dial("tcp", net.JoinHostPort(os.Args[1], os.Args[2]))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	os.Exit(play(conn, os.Args[3], os.Stdin, os.Stdout, isTerminal(os.Stdin)))
}

// isTerminal reports whether f is a terminal rather than a pipe or file.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// play joins the game and relays keys and the board until the server ends
// the game. The end of keys from a terminal (Ctrl-D) quits; from a pipe or
// a file it does not: the player stays until the game ends. The exit code
// is 1 when the server refused the player.
func play(conn net.Conn, playerSessionID string, keys io.Reader, screen io.Writer, interactive bool) int {
	fmt.Fprintf(conn, "JOIN %s\n", playerSessionID)
	go send(conn, keys, interactive)
	me, width, height := "", 0, 0
	refused := false
	server := bufio.NewScanner(conn)
	for server.Scan() { // server → screen
		kind, rest, _ := strings.Cut(server.Text(), " ")
		switch kind {
		case "WELCOME":
			f := strings.Fields(rest)
			if len(f) == 3 {
				me = f[0]
				width, _ = strconv.Atoi(f[1])
				height, _ = strconv.Atoi(f[2])
			}
			fmt.Fprintf(screen, "joined as %s\n", me)
		case "STATE":
			draw(screen, me, width, height, rest)
		case "CHAT":
			name, text, _ := strings.Cut(rest, " ")
			fmt.Fprintf(screen, "<%s> %s\n", name, text)
		case "ERR", "BYE":
			refused = refused || (kind == "ERR" && me == "")
			fmt.Fprintf(screen, "%s: %s\n", strings.ToLower(kind), rest)
		}
	}
	if refused || me == "" {
		return 1
	}
	return 0
}

// send turns keys into commands: keyboard → server.
func send(conn net.Conn, keys io.Reader, interactive bool) {
	moves := map[string]string{"w": "MOVE N", "a": "MOVE W", "s": "MOVE S", "d": "MOVE E", "n": "MOVE N", "e": "MOVE E"}
	in := bufio.NewScanner(keys)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		switch {
		case moves[strings.ToLower(line)] != "":
			fmt.Fprintln(conn, moves[strings.ToLower(line)])
		case strings.HasPrefix(strings.ToLower(line), "say "):
			fmt.Fprintln(conn, "SAY "+line[4:])
		case strings.EqualFold(line, "quit"):
			fmt.Fprintln(conn, "QUIT")
			return
		}
	}
	if interactive {
		fmt.Fprintln(conn, "QUIT")
	}
}

// draw prints the board of a STATE line: "<tick> name@x,y:score ...".
func draw(screen io.Writer, me string, width, height int, state string) {
	fields := strings.Fields(state)
	if width == 0 || len(fields) == 0 {
		return
	}
	board := make([][]byte, height)
	for y := range board {
		board[y] = []byte(strings.Repeat(".", width))
	}
	var scores []string
	for _, f := range fields[1:] {
		var name string
		var x, y, score int
		at := strings.IndexByte(f, '@')
		if at < 0 {
			continue
		}
		name = f[:at]
		if _, err := fmt.Sscanf(f[at+1:], "%d,%d:%d", &x, &y, &score); err != nil || x < 0 || y < 0 || x >= width || y >= height {
			continue
		}
		mark := byte('o')
		if name == me {
			mark = '@'
		}
		board[y][x] = mark
		scores = append(scores, fmt.Sprintf("%s=%d", name, score))
	}
	fmt.Fprint(screen, "\033[H\033[2J") // clear the terminal
	for _, row := range board {
		fmt.Fprintln(screen, string(row))
	}
	fmt.Fprintln(screen, strings.Join(scores, "  "))
}
