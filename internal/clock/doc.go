// Package clock owns the notion of time for every Muster service.
//
// Nothing outside package main calls time.Now, time.Sleep or time.After
// directly: services take a Clock so that timeouts, expansions and TTLs can be
// driven by a Fake in tests without sleeping. Fake.Advance returns after the
// AfterFunc callbacks it fired have returned, so a callback must not call
// Advance itself nor wait for the test's next step; work a callback starts
// on a goroutine of its own is not waited for (see Fake).
package clock
