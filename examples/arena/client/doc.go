// Command client is a terminal client for the arena example game server.
//
//	go run ./examples/arena/client IP PORT PLAYER_SESSION_ID
//
// IP, PORT and PLAYER_SESSION_ID come from CreatePlayerSession (or a
// matchmaking ticket's connection info). Type w, a, s or d (north, west,
// south, east; n and e also move north and east) and Enter to move,
// "say <text>" to chat, "quit" to leave.
// The board is redrawn after every change; you are the "@". Ctrl-D quits
// at a terminal; with keys from a pipe or a file the player stays until the
// game ends. The exit status is 1 when the game server refused the player.
package main
