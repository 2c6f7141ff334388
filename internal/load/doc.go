// Package load drives a bridge with many sessions and streams through the
// native wasmnet client, and reads what a bridge process costs from
// /proc. The bridge's load tests (bridge/load_test.go) and the bench
// harness (bench/) share it, so that the figures of one are the figures
// of the other.
package load
