package ids

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/google/uuid"
)

// UUID returns a version 7 UUID (RFC 9562): 48 bits of Unix milliseconds,
// a sub-millisecond sequence and 62 random bits.
func UUID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Hex returns 32 hex digits: 48 bits of Unix milliseconds, then 80 random
// bits. It is for ids that a holder presents as proof, such as a player
// session id a game server checks: 80 bits cannot be guessed.
func Hex() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}
