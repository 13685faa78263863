package flexmatch

import (
	"fmt"
	"strings"
)

// scanner is the reading position of a hand-written parser over one string
// (expressions, compound statements): the text, the index of the next byte,
// and the first error met, as a reason.
type scanner struct {
	s   string
	i   int
	err string
}

// failf keeps the first error; later ones follow from it and are dropped.
func (c *scanner) failf(format string, args ...any) {
	if c.err == "" {
		c.err = fmt.Sprintf(format, args...)
	}
}

// ws skips white space.
func (c *scanner) ws() {
	for c.i < len(c.s) && strings.IndexByte(" \t\r\n", c.s[c.i]) >= 0 {
		c.i++
	}
}

// unexpected names the byte under the scanner and where it stands.
func (c *scanner) unexpected() string {
	return fmt.Sprintf("unexpected %q at character %d", c.s[c.i:c.i+1], c.i+1)
}

// end returns the reason a whole parse failed: the first error, or text
// left over after what was parsed ("" when neither).
func (c *scanner) end() string {
	if c.err != "" {
		return c.err
	}
	c.ws()
	if c.i < len(c.s) {
		return c.unexpected()
	}
	return ""
}
