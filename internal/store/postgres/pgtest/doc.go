// Package pgtest gives tests a fresh PostgreSQL database of their own.
//
// Tests find PostgreSQL through MUSTER_TEST_POSTGRES, a connection URL
// whose user may create databases (CI starts a throwaway cluster and sets
// it; see .ci/run). Without it a test is skipped with a message saying how
// to run it, except under CI (CI set), where a missing database fails the
// test: a green CI must have run them.
package pgtest
