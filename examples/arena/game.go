package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// Board size and tick rate.
const (
	Width    = 16
	Height   = 8
	TickRate = 100 * time.Millisecond
)

// Sessions admits and removes players. The real one asks Muster through the
// server SDK (AcceptPlayerSession, RemovePlayerSession); tests use a fake.
type Sessions interface {
	Accept(playerSessionID string) error
	Remove(playerSessionID string) error
}

// Game is one arena: the board, its players and their connections.
type Game struct {
	sessions  Sessions
	log       *slog.Logger
	empty     chan struct{}
	emptyOnce sync.Once
	conns     sync.WaitGroup // one per connection being handled

	mu         sync.Mutex
	open       bool // a game session is active: players may join
	maxPlayers int
	players    map[*player]bool
	joined     int // players ever admitted; also names them p1, p2, …
	tick       int
	changed    bool
	closed     bool
}

type player struct {
	name      string
	sessionID string
	x, y      int
	score     int
	step      byte // queued move, applied at the next tick
	conn      net.Conn
	out       chan string
	done      chan struct{} // closed when write has flushed everything
}

// NewGame returns a game that admits nobody until Open.
func NewGame(s Sessions, log *slog.Logger) *Game {
	return &Game{sessions: s, log: log, players: map[*player]bool{}, empty: make(chan struct{})}
}

// Open lets up to maxPlayers players in (0: no limit).
func (g *Game) Open(maxPlayers int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open, g.maxPlayers = true, maxPlayers
}

// Empty is closed when the last player has left (after at least one joined).
func (g *Game) Empty() <-chan struct{} { return g.empty }

// EverJoined reports whether any player was admitted.
func (g *Game) EverJoined() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.joined > 0
}

// Serve accepts players until ctx ends or ln is closed.
func (g *Game) Serve(ctx context.Context, ln net.Listener) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		g.conns.Go(func() { g.handle(conn) })
	}
}

// handle runs one connection: JOIN, then commands until QUIT or EOF.
func (g *Game) handle(conn net.Conn) {
	defer conn.Close()
	in := bufio.NewScanner(conn)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if !in.Scan() {
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	cmd, sessionID, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
	if cmd != "JOIN" || sessionID == "" {
		fmt.Fprintln(conn, "ERR the first line must be JOIN <playerSessionId>")
		return
	}
	p, err := g.join(conn, sessionID)
	if err != nil {
		g.log.Info("player refused", "player_session_id", sessionID, "err", err)
		fmt.Fprintf(conn, "ERR %s\n", oneLine(err.Error()))
		return
	}
	go p.write()
	defer func() {
		g.leave(p)
		<-p.done // let the goodbye reach the player before the connection closes
	}()
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		switch strings.ToUpper(cmd) {
		case "MOVE":
			g.queue(p, strings.ToUpper(arg))
		case "SAY":
			g.broadcast(fmt.Sprintf("CHAT %s %s", p.name, oneLine(arg)))
		case "QUIT":
			return
		default:
			p.send("ERR unknown command " + oneLine(cmd))
		}
	}
}

// join validates the player session with Muster before admitting anyone.
func (g *Game) join(conn net.Conn, sessionID string) (*player, error) {
	g.mu.Lock()
	open, full := g.open && !g.closed, g.maxPlayers > 0 && len(g.players) >= g.maxPlayers
	g.mu.Unlock()
	switch {
	case !open:
		return nil, fmt.Errorf("no game session is running here")
	case full:
		return nil, fmt.Errorf("the game is full")
	}
	// The one check that matters: is this a player session Muster reserved
	// for this game session? A forged or reused id is refused here.
	if err := g.sessions.Accept(sessionID); err != nil {
		return nil, fmt.Errorf("player session refused: %w", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.joined++
	p := &player{name: fmt.Sprintf("p%d", g.joined), sessionID: sessionID, conn: conn, out: make(chan string, 64), done: make(chan struct{})}
	p.x, p.y = g.freeCellLocked()
	g.players[p] = true
	g.changed = true
	p.send(fmt.Sprintf("WELCOME %s %d %d", p.name, Width, Height))
	g.log.Info("player joined", "player", p.name, "player_session_id", sessionID)
	return p, nil
}

func (g *Game) leave(p *player) {
	g.mu.Lock()
	if !g.players[p] {
		g.mu.Unlock()
		return
	}
	delete(g.players, p)
	close(p.out)
	g.changed = true
	left := len(g.players)
	g.mu.Unlock()
	if err := g.sessions.Remove(p.sessionID); err != nil {
		g.log.Warn("RemovePlayerSession", "player_session_id", p.sessionID, "err", err)
	}
	g.log.Info("player left", "player", p.name, "players_left", left)
	if left == 0 {
		g.emptyOnce.Do(func() { close(g.empty) })
	}
}

func (g *Game) queue(p *player, dir string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(dir) == 1 && strings.Contains("NESW", dir) {
		p.step = dir[0]
	}
}

// Run applies queued moves every tick and sends the board when it changed.
func (g *Game) Run(ctx context.Context) {
	t := time.NewTicker(TickRate)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.step()
		}
	}
}

func (g *Game) step() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tick++
	for p := range g.players {
		if p.step == 0 {
			continue
		}
		dx, dy := 0, 0
		switch p.step {
		case 'N':
			dy = -1
		case 'E':
			dx = 1
		case 'S':
			dy = 1
		case 'W':
			dx = -1
		}
		p.step = 0
		p.x, p.y = min(max(p.x+dx, 0), Width-1), min(max(p.y+dy, 0), Height-1)
		for q := range g.players {
			if q != p && q.x == p.x && q.y == p.y { // tagged!
				p.score++
				q.x, q.y = g.freeCellLocked()
			}
		}
		g.changed = true
	}
	if !g.changed {
		return
	}
	g.changed = false
	var cells []string
	for p := range g.players {
		cells = append(cells, fmt.Sprintf("%s@%d,%d:%d", p.name, p.x, p.y, p.score))
	}
	sort.Strings(cells)
	g.sendAllLocked(fmt.Sprintf("STATE %d %s", g.tick, strings.Join(cells, " ")))
}

func (g *Game) freeCellLocked() (int, int) {
	for {
		x, y := rand.IntN(Width), rand.IntN(Height)
		taken := false
		for p := range g.players {
			taken = taken || (p.x == x && p.y == y)
		}
		if !taken || len(g.players) >= Width*Height {
			return x, y
		}
	}
}

func (g *Game) broadcast(line string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sendAllLocked(line)
}

func (g *Game) sendAllLocked(line string) {
	for p := range g.players {
		p.send(line)
	}
}

// Close says goodbye to everyone, disconnects them, and waits (up to a
// few seconds) until every goodbye has been written.
func (g *Game) Close(reason string) {
	g.mu.Lock()
	g.closed = true
	for p := range g.players {
		p.send("BYE " + reason)
		_ = p.conn.SetReadDeadline(time.Now()) // ends its read loop, which removes it
	}
	g.mu.Unlock()
	done := make(chan struct{})
	go func() { g.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// send queues a line; a player too slow to keep up is disconnected.
func (p *player) send(line string) {
	select {
	case p.out <- line:
	default:
		_ = p.conn.Close()
	}
}

func (p *player) write() {
	defer close(p.done)
	w := bufio.NewWriter(p.conn)
	for line := range p.out {
		_ = p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		w.WriteString(line + "\n")
		if len(p.out) == 0 {
			if err := w.Flush(); err != nil {
				_ = p.conn.Close()
			}
		}
	}
	_ = w.Flush()
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
