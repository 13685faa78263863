package beacon

import (
	"encoding/binary"
	"errors"
)

// Magic opens every beacon datagram.
const Magic = "MSTR"

// Version is the only protocol version.
const Version byte = 1

// Message types.
const (
	TypePing byte = 0x01
	TypePong byte = 0x02
)

// Size is the length of a beacon datagram. Longer datagrams are accepted
// (the extra bytes are ignored, for future versions) but the answer is
// always Size bytes.
const Size = 14

// Message is one decoded datagram.
type Message struct {
	Type  byte
	Nonce uint64
}

// ErrMalformed reports a datagram that is not a version-1 beacon message.
var ErrMalformed = errors.New("beacon: malformed datagram")

// Append appends the wire form of m to b.
func (m Message) Append(b []byte) []byte {
	b = append(b, Magic...)
	b = append(b, Version, m.Type)
	return binary.BigEndian.AppendUint64(b, m.Nonce)
}

// Parse decodes a datagram. It fails with ErrMalformed when the datagram is
// shorter than Size, does not start with Magic, or has another version.
func Parse(b []byte) (Message, error) {
	if len(b) < Size || string(b[:4]) != Magic || b[4] != Version {
		return Message{}, ErrMalformed
	}
	return Message{Type: b[5], Nonce: binary.BigEndian.Uint64(b[6:14])}, nil
}
