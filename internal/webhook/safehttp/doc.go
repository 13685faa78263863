// Package safehttp is the HTTP client for requests Muster makes to URLs its
// operators and studios give it (webhook subscriptions and hooks): it
// checks their URLs when they are registered (CheckURL) and refuses
// destinations inside the control plane's own network when connecting.
//
// The check runs at connection time, on the address the dialer is about to
// connect to (net.Dialer.Control), after name resolution, so a name that
// resolves to a public address when a subscription is created and to
// 127.0.0.1 later (DNS rebinding) is refused all the same.
//
// Refused always: unspecified, broadcast, multicast and link-local
// addresses, the cloud metadata services (169.254.169.254, fd00:ec2::254
// and Alibaba Cloud's 100.100.100.200), NAT64 and IPv4-mapped forms of refused IPv4 addresses,
// and the control plane's own listeners (Config.Own, Config.Listening).
// Refused unless Config.AllowPrivate: loopback, private networks (RFC 1918,
// RFC 4193) and shared address space (RFC 6598).
//
// The client follows no redirects (the 3xx answer is returned as it is, so
// a public receiver cannot bounce a request inward), uses no proxy from
// the environment (a proxy would connect on its behalf, past the check),
// and speaks only http and https.
package safehttp
