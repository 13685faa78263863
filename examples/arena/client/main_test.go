package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// serveOne accepts one player and runs script with its connection; the
// lines the player sent after JOIN arrive on the returned channel, once
// the player has hung up.
func serveOne(t *testing.T, script func(conn net.Conn, in *bufio.Scanner)) (string, <-chan []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	sent := make(chan []string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a hung test fails instead of hanging
		in := bufio.NewScanner(conn)
		if !in.Scan() || !strings.HasPrefix(in.Text(), "JOIN ") {
			sent <- []string{"no JOIN"}
			return
		}
		script(conn, in)
		conn.(*net.TCPConn).CloseWrite()
		var rest []string
		for in.Scan() {
			rest = append(rest, in.Text())
		}
		sent <- rest
	}()
	return ln.Addr().String(), sent
}

func dialPlay(t *testing.T, addr string, keys io.Reader, interactive bool) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var screen strings.Builder
	code := play(conn, "psess-1", keys, &screen, interactive)
	return code, screen.String()
}

// drained is keys that are already at their end, and says when the
// client has read that end.
type drained chan struct{}

func (d drained) Read([]byte) (int, error) {
	select {
	case <-d:
	default:
		close(d)
	}
	return 0, io.EOF
}

func TestClientExitsNonZeroWhenRefused(t *testing.T) {
	addr, _ := serveOne(t, func(conn net.Conn, _ *bufio.Scanner) {
		fmt.Fprintln(conn, "ERR player session refused: not RESERVED")
	})
	code, screen := dialPlay(t, addr, strings.NewReader(""), false)
	if code != 1 || !strings.Contains(screen, "err: player session refused") {
		t.Fatalf("exit %d, screen %q", code, screen)
	}
}

func TestClientWithoutATerminalStaysUntilTheGameEnds(t *testing.T) {
	keys := make(drained)
	addr, sent := serveOne(t, func(conn net.Conn, _ *bufio.Scanner) {
		fmt.Fprintln(conn, "WELCOME p1 16 8")
		<-keys // the client has read the end of its keys
		fmt.Fprintln(conn, "STATE 1 p1@0,0:0")
		fmt.Fprintln(conn, "BYE the game session is over")
	})
	code, screen := dialPlay(t, addr, keys, false)
	if code != 0 || !strings.Contains(screen, "joined as p1") || !strings.Contains(screen, "bye: the game session is over") {
		t.Fatalf("exit %d, screen %q", code, screen)
	}
	if got := <-sent; len(got) != 0 {
		t.Fatalf("the client sent %q at the end of piped input; it should stay until the game ends", got)
	}
}

func TestClientOnATerminalQuitsAtTheEndOfInput(t *testing.T) {
	addr, sent := serveOne(t, func(conn net.Conn, in *bufio.Scanner) {
		fmt.Fprintln(conn, "WELCOME p1 16 8")
		for in.Scan() {
			if in.Text() == "QUIT" {
				fmt.Fprintln(conn, "BYE you left")
				return
			}
		}
	})
	code, screen := dialPlay(t, addr, strings.NewReader("d\n"), true)
	if code != 0 || !strings.Contains(screen, "bye: you left") {
		t.Fatalf("exit %d, screen %q", code, screen)
	}
	if got := <-sent; len(got) != 0 {
		t.Fatalf("the client sent %q after QUIT", got)
	}
}
