// Package faultstore wraps a store.Store to inject the faults a service
// must survive: a commit that fails (nothing written), a connection lost
// after a commit (written, but the caller is told it failed — it must not
// do the work twice when it retries), and a commit held back while the
// test looks at what the service does meanwhile. Faults are armed for the
// Nth Update from now, so a test decides exactly which write suffers.
package faultstore
