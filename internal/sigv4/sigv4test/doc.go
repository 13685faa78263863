// Package sigv4test holds what tests of SigV4 and its callers share: an
// in-memory key store (Keys) and a request signed as the AWS SDK for Go
// signs it (Sign).
package sigv4test
