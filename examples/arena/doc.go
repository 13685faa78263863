// Command arena is an example game server for Muster, built on the official
// GameLift Go server SDK (github.com/amazon-gamelift/amazon-gamelift-servers-go-server-sdk/v5).
// It is documentation by example: read main.go for the SDK lifecycle and
// game.go for the game.
//
// Lifecycle: the host agent (`muster agent`) starts arena with the
// GAMELIFT_SDK_* environment, so server.InitSDKFromEnvironment() connects to
// Muster. Arena listens on a free TCP port, passes it to ProcessReady, and
// waits. When Muster places a game session on it (OnStartGameSession) it
// calls ActivateGameSession and lets players in. Each player's first line must
// name a player session; arena checks it with AcceptPlayerSession and refuses
// the player if Muster says no. A player who leaves is removed with
// RemovePlayerSession; when the last one has left, the game session is over:
// arena calls ProcessEnding and exits, and the agent starts a fresh process.
// TerminateProcess (the host is draining) and SIGTERM end it the same way.
//
// The game: players move on a small grid; stepping onto another player tags
// them (a point for you; they reappear elsewhere). The server is authoritative
// and runs at 10 ticks a second.
//
// Protocol: TCP, one line of UTF-8 text per message.
//
//	client → server
//	  JOIN <playerSessionId>      first line, exactly once
//	  MOVE N|E|S|W                queue one step, applied at the next tick
//	  SAY <text>                  chat to everyone
//	  QUIT                        leave
//	server → client
//	  WELCOME <you> <width> <height>
//	  STATE <tick> <name>@<x>,<y>:<score> ...   after every tick that changed something
//	  CHAT <name> <text>
//	  ERR <reason>                the connection then closes (e.g. a refused JOIN)
//	  BYE <reason>
//
// Flags: --port (0, the default, picks a free port) and --idle-exit (end the
// game session this long after it started if nobody ever joins; 0 waits
// forever). Play with examples/arena/client.
package main
