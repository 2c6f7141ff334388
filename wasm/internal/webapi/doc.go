// Package webapi is the one place where wasmnet touches syscall/js. It
// wraps the few browser APIs the runtime needs: WebSocket, Promise and
// byte copies between JavaScript and Go, all through
// github.com/hack-pad/safejs so that a JavaScript exception becomes a Go
// error instead of a panic.
//
// Callbacks registered with JavaScript never block: they copy what they
// were given, append it to a queue and signal a channel. The Go code that
// waits does so in a select, on its own goroutine.
package webapi
