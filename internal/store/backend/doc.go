// Package backend chooses and opens the store a command runs on, from one
// URL: a path or sqlite://path for the embedded SQLite store (the default,
// <data-dir>/muster.db), postgres:// or postgresql:// for PostgreSQL. It is
// the one place that knows the backends; `muster serve --store` and the
// CLI's key commands both open through it.
package backend
