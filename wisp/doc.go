// Package wisp encodes and decodes the packets of the Wisp v2 protocol and
// of the wasmnet extensions to it.
//
// Wisp multiplexes TCP and UDP streams over one WebSocket. Every binary
// WebSocket message carries exactly one packet: a one-byte type, a
// little-endian uint32 stream ID, and a payload whose layout depends on the
// type. docs/PROTOCOL.md at the root of the repository describes the format
// byte by byte, with test vectors that this package's tests check.
//
// The package is the shared vocabulary of the bridge (package bridge) and of
// the client inside WebAssembly (package wasmnet). It does no I/O and keeps
// no state: Decode validates a whole message and Packet.Append encodes one.
// Both sides build the hot DATA path on PutHeader so that a payload is read
// straight into the buffer that is later written out.
package wisp
