// Package loadtest owns Muster's own load tools: a closed-loop runner that
// keeps N requests in flight for a duration and reports throughput and
// latency percentiles, and request makers for the control API in both
// codecs. `muster loadtest` drives it against a running server; benchmarks
// use it in process.
package loadtest
