// Package server owns the assembly of a running control plane: it opens the
// store, bootstraps the first operator key, builds every service with one
// clock, logger and metrics registry, mounts the adapters on one HTTP
// listener, and shuts them down in order.
package server
