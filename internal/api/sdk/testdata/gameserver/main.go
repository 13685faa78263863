// Command gameserver is a test game server built on the official GameLift
// Go server SDK v5.4.0. It starts from the GAMELIFT_SDK_* environment,
// calls ProcessReady, reports every SDK callback as a JSON line on stdout,
// and runs SDK calls that the test writes as JSON lines on stdin.
//
// Environment: GS_PORT (ProcessReady port, default 7777), GS_NO_ACTIVATE=1
// (do not activate game sessions), GS_END_ON_TERMINATE=1 (ProcessEnding,
// Destroy and exit on TerminateProcess).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amazon-gamelift/amazon-gamelift-servers-go-server-sdk/v5/model"
	"github.com/amazon-gamelift/amazon-gamelift-servers-go-server-sdk/v5/model/request"
	"github.com/amazon-gamelift/amazon-gamelift-servers-go-server-sdk/v5/server"
)

var outMu sync.Mutex

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type logger struct{}

func (logger) Debugf(string, ...any)     {}
func (logger) Warnf(string, ...any)      {}
func (logger) Errorf(f string, a ...any) { fmt.Fprintf(os.Stderr, "ERROR "+f+"\n", a...) }

// healthPattern is the answers OnHealthCheck gives: a pattern of t and f,
// repeated, set by the "health" command; empty means always healthy.
type healthPattern struct {
	mu      sync.Mutex
	pattern string
	i       int
}

func (h *healthPattern) set(p string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pattern, h.i = p, 0
}

func (h *healthPattern) next() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pattern == "" {
		return true
	}
	ok := h.pattern[h.i%len(h.pattern)] == 't'
	h.i++
	return ok
}

var health healthPattern

type command struct {
	Op     string   `json:"op"`
	ID     string   `json:"id"`
	IDs    []string `json:"ids"`
	Conc   int      `json:"conc"`
	Policy string   `json:"policy"`
	Status string   `json:"status"`
}

func main() {
	server.SetLoggerInterface(logger{})
	if err := server.InitSDKFromEnvironment(); err != nil {
		emit(map[string]any{"event": "init", "err": err.Error()})
		os.Exit(2)
	}
	emit(map[string]any{"event": "init"})
	port, _ := strconv.Atoi(os.Getenv("GS_PORT"))
	if port == 0 {
		port = 7777
	}
	var healthChecks atomic.Int64
	err := server.ProcessReady(server.ProcessParameters{
		Port: port,
		OnStartGameSession: func(gs model.GameSession) {
			emit(map[string]any{"event": "start", "gameSessionId": gs.GameSessionID, "name": gs.Name, "props": gs.GameProperties,
				"max": gs.MaximumPlayerSessionCount, "port": gs.Port, "ip": gs.IPAddress, "data": gs.GameSessionData})
			if os.Getenv("GS_NO_ACTIVATE") == "1" {
				return
			}
			err := server.ActivateGameSession()
			emit(map[string]any{"event": "activated", "err": errString(err), "at": time.Now().UnixNano()})
		},
		OnUpdateGameSession: func(u model.UpdateGameSession) {
			emit(map[string]any{"event": "update", "reason": u.UpdateReason, "ticket": u.BackfillTicketID})
		},
		OnProcessTerminate: func() {
			t, err := server.GetTerminationTime()
			emit(map[string]any{"event": "terminate", "time": t, "err": errString(err)})
			if os.Getenv("GS_END_ON_TERMINATE") == "1" {
				err := server.ProcessEnding()
				emit(map[string]any{"event": "ended", "err": errString(err)})
				server.Destroy()
				os.Exit(0)
			}
		},
		OnHealthCheck: func() bool {
			n := healthChecks.Add(1)
			healthy := health.next()
			answer := "t"
			if !healthy {
				answer = "f"
			}
			emit(map[string]any{"event": "health", "n": n, "answer": answer})
			return healthy
		},
		LogParameters: server.LogParameters{LogPaths: []string{"logs/gameserver.log"}},
	})
	emit(map[string]any{"event": "ready", "err": errString(err)})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var c command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			emit(map[string]any{"op": "?", "err": err.Error()})
			continue
		}
		run(c)
	}
}

func run(c command) {
	out := map[string]any{"op": c.Op, "id": c.ID}
	var err error
	switch c.Op {
	case "accept":
		err = server.AcceptPlayerSession(c.ID)
	case "remove":
		err = server.RemovePlayerSession(c.ID)
	case "policy":
		var p model.PlayerSessionCreationPolicy
		p.ToPlayerSessionPolicy(c.Policy)
		err = server.UpdatePlayerSessionCreationPolicy(p)
	case "describe":
		req := request.NewDescribePlayerSessions()
		req.GameSessionID, _ = server.GetGameSessionID()
		req.PlayerSessionStatusFilter = c.Status
		var res any
		res, err = server.DescribePlayerSessions(req)
		out["result"] = res
	case "gsid":
		out["result"], err = server.GetGameSessionID()
	case "backfill":
		gs, _ := server.GetGameSessionID()
		_, err = server.StartMatchBackfill(request.NewStartMatchBackfill(gs, "arn:aws:gamelift:mu-local-1:000000000000:matchmakingconfiguration/cfg",
			[]model.Player{{PlayerID: "p1", Team: "red"}}))
	case "cert":
		_, err = server.GetComputeCertificate()
	case "role":
		req := request.NewGetFleetRoleCredentials()
		req.RoleArn = "arn:aws:iam::000000000000:role/r"
		_, err = server.GetFleetRoleCredentials(req)
	case "health":
		health.set(c.Status)
	case "end":
		err = server.ProcessEnding()
	case "exit":
		server.Destroy()
		os.Exit(0)
	case "acceptmany":
		// Accept every id with c.Conc goroutines and report the time taken.
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range max(c.Conc, 1) {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(c.IDs) {
						return
					}
					if server.AcceptPlayerSession(c.IDs[i]) != nil {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		out["elapsedNs"] = time.Since(start).Nanoseconds()
		out["failed"] = failed.Load()
	default:
		err = fmt.Errorf("unknown op %q", c.Op)
	}
	out["err"] = errString(err)
	emit(out)
}
