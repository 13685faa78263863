package main

import (
	"bufio"
	"fmt"
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
	fmt.Fprintf(conn, "JOIN %s\n", os.Args[3])

	go func() { // keyboard → server
		keys := map[string]string{"w": "MOVE N", "a": "MOVE W", "s": "MOVE S", "d": "MOVE E", "n": "MOVE N", "e": "MOVE E"}
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			line := strings.TrimSpace(in.Text())
			switch {
			case keys[strings.ToLower(line)] != "":
				fmt.Fprintln(conn, keys[strings.ToLower(line)])
			case strings.HasPrefix(strings.ToLower(line), "say "):
				fmt.Fprintln(conn, "SAY "+line[4:])
			case strings.EqualFold(line, "quit"):
				fmt.Fprintln(conn, "QUIT")
				return
			}
		}
		fmt.Fprintln(conn, "QUIT")
	}()

	me, width, height := "", 0, 0
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
			fmt.Printf("joined as %s\n", me)
		case "STATE":
			draw(me, width, height, rest)
		case "CHAT":
			name, text, _ := strings.Cut(rest, " ")
			fmt.Printf("<%s> %s\n", name, text)
		case "ERR", "BYE":
			fmt.Printf("%s: %s\n", strings.ToLower(kind), rest)
		}
	}
}

// draw prints the board of a STATE line: "<tick> name@x,y:score ...".
func draw(me string, width, height int, state string) {
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
	fmt.Print("\033[H\033[2J") // clear the terminal
	for _, row := range board {
		fmt.Println(string(row))
	}
	fmt.Println(strings.Join(scores, "  "))
}
