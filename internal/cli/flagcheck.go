package cli

import (
	"fmt"
	"io"
	"net/url"
	"strings"
)

// flagChecks collects the problems of a command line, each naming its
// flag as `--flag: value: reason`, so that one run names every bad value
// rather than the first one or a sentence about them all.
type flagChecks struct {
	problems []string
}

// check records reason for flag unless ok; value is left out when "".
func (c *flagChecks) check(ok bool, flag, value, reason string) {
	if ok {
		return
	}
	if value == "" {
		c.problems = append(c.problems, flag+": "+reason)
		return
	}
	c.problems = append(c.problems, flag+": "+value+": "+reason)
}

// add records a problem that is already a whole message.
func (c *flagChecks) add(problem string) { c.problems = append(c.problems, problem) }

// report prints each problem on its own line after the command's name and
// says whether there were any.
func (c *flagChecks) report(w io.Writer, cmd string) bool {
	for _, p := range c.problems {
		fmt.Fprintf(w, "%s: %s\n", cmd, p)
	}
	return len(c.problems) > 0
}

// checkEndpoint checks that the URL named by from (a flag, or the
// variable it came from) is one an HTTP client can reach: a value without
// a scheme would otherwise fail on every request, after any wait.
func (c *flagChecks) checkEndpoint(from, endpoint string) {
	u, err := url.Parse(endpoint)
	ok := err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	c.check(ok, from, endpoint, "must be an http:// or https:// URL")
}

// sourcedString is a string flag that remembers where its value came from
// (--name, MUSTER_NAME or "FILE: name"; Layer says which), for a check
// after parsing that must name it without echoing the value: the master
// key is a secret.
type sourcedString struct {
	name, value, from string
}

func (s *sourcedString) String() string { return s.value }

func (s *sourcedString) Set(v string) error {
	s.value, s.from = v, "--"+s.name
	return nil
}

func (s *sourcedString) setSource(from string) { s.from = from }

// source names where the value came from.
func (s *sourcedString) source() string {
	if s.from == "" {
		return "--" + s.name
	}
	return s.from
}

// sourced is a flag.Value that Layer tells where its value came from.
type sourced interface{ setSource(from string) }

// joinAnd lists names as "a", "a and b" or "a, b and c".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
