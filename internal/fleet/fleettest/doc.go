// Package fleettest builds the fleet service on real parts (SQLite in a
// test's temporary directory, a fake clock) for the tests of the packages
// built on it, with one fleet and one registered compute ready to use.
package fleettest
