package secret

import "errors"

// ErrNoBox is returned by Stored.Reveal for a sealed secret when there is
// no Box to open it with.
var ErrNoBox = errors.New("secret: the secret is sealed and there is no master key to open it")

// Stored is a secret as a service keeps it in its records: sealed under the
// service's Box, or in plain text when the service runs without one (tests,
// a throwaway data directory). Exactly one of the two is set.
type Stored struct {
	Sealed string `json:"sealed,omitempty"`
	Plain  string `json:"plain,omitempty"`
}

// Keep returns plaintext as a record keeps it: sealed under box, bound to
// context (see Box.Seal), or plain when box is nil.
func Keep(box *Box, plaintext, context string) Stored {
	if box == nil {
		return Stored{Plain: plaintext}
	}
	return Stored{Sealed: box.Seal(plaintext, context)}
}

// Reveal returns the plaintext of s, opening it under box with the context
// it was kept with. A sealed secret without a box is ErrNoBox.
func (s Stored) Reveal(box *Box, context string) (string, error) {
	if s.Sealed == "" {
		return s.Plain, nil
	}
	if box == nil {
		return "", ErrNoBox
	}
	return box.Open(s.Sealed, context)
}
