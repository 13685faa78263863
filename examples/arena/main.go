package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/amazon-gamelift/amazon-gamelift-servers-go-server-sdk/v5/model"
	"github.com/amazon-gamelift/amazon-gamelift-servers-go-server-sdk/v5/server"
)

func main() {
	port := flag.Int("port", 0, "TCP port for players (0 picks a free one)")
	idleExit := flag.Duration("idle-exit", 0, "end a game session nobody joined after this long (0: never)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log, *port, *idleExit); err != nil {
		log.Error("arena failed", "err", err)
		os.Exit(1)
	}
}

// sdkSessions checks players with the GameLift server SDK.
type sdkSessions struct{}

func (sdkSessions) Accept(playerSessionID string) error {
	return server.AcceptPlayerSession(playerSessionID)
}
func (sdkSessions) Remove(playerSessionID string) error {
	return server.RemovePlayerSession(playerSessionID)
}

func run(log *slog.Logger, port int, idleExit time.Duration) error {
	// 1. Listen first: ProcessReady must announce the port players will use.
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	port = ln.Addr().(*net.TCPAddr).Port

	// 2. Connect to Muster with what the agent put in the environment.
	if err := server.InitSDKFromEnvironment(); err != nil {
		return fmt.Errorf("InitSDK: %w", err)
	}
	game := NewGame(sdkSessions{}, log)
	// However arena ends: say goodbye to the players (removing their player
	// sessions while the SDK is still up), tell Muster (ProcessEnding), and
	// close the SDK.
	var endOnce sync.Once
	ended := make(chan struct{})
	end := func(why string) {
		endOnce.Do(func() {
			log.Info("ending", "why", why)
			ln.Close() // no new players
			game.Close("the game session is over")
			if err := server.ProcessEnding(); err != nil {
				log.Error("ProcessEnding", "err", err)
			}
			_ = server.Destroy()
			close(ended)
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go game.Run(ctx)
	go game.Serve(ctx, ln)

	// 3. Ready: Muster may now place a game session here.
	err = server.ProcessReady(server.ProcessParameters{
		Port: port,
		OnStartGameSession: func(gs model.GameSession) {
			log.Info("game session started", "id", gs.GameSessionID, "max_players", gs.MaximumPlayerSessionCount)
			game.Open(gs.MaximumPlayerSessionCount)
			if err := server.ActivateGameSession(); err != nil {
				log.Error("ActivateGameSession", "err", err)
				end("activation failed")
				return
			}
			if idleExit > 0 {
				time.AfterFunc(idleExit, func() {
					if !game.EverJoined() {
						end("nobody joined")
					}
				})
			}
		},
		OnUpdateGameSession: func(model.UpdateGameSession) {},
		OnProcessTerminate:  func() { end("Muster asked this process to terminate") },
		OnHealthCheck:       func() bool { return true },
		LogParameters:       server.LogParameters{LogPaths: []string{}},
	})
	if err != nil {
		_ = server.Destroy()
		return fmt.Errorf("ProcessReady: %w", err)
	}
	log.Info("ready for a game session", "port", port)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	select {
	case <-game.Empty():
		end("the last player left")
	case sig := <-signals:
		end("signal " + sig.String())
	case <-ended:
	}
	<-ended
	return nil
}
