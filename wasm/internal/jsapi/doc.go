// Package jsapi is the face that main.wasm shows to JavaScript: a small
// set of primitives on globalThis.wasmnet that the ES modules in js/ build
// the Direct-Sockets-shaped classes on. Every function that waits returns
// a Promise settled from a goroutine.
//
// The shape is documented, for the JavaScript side, in js/wasmnet.d.ts.
package jsapi
