// Package natstest runs a real NATS server with JetStream inside a test
// process, for tests of Muster's NATS bus and of replicas that use it.
package natstest
