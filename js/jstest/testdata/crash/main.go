//go:build js && wasm

// Command crash stands in for main.wasm in the loader's tests and dies on
// purpose, as globalThis.crashMode says: "panic" and "exit" while
// starting; "later" after registering an API whose calls never settle,
// when the page calls globalThis.crashNow(). It is a test fixture, so it
// uses syscall/js directly.
package main

import (
	"os"
	"syscall/js"
)

func main() {
	switch js.Global().Get("crashMode").String() {
	case "panic":
		panic("boom at start")
	case "exit":
		os.Exit(3)
	case "later":
		never := js.FuncOf(func(js.Value, []js.Value) any {
			return js.Global().Get("Promise").New(js.FuncOf(func(js.Value, []js.Value) any { return nil }))
		})
		api := js.Global().Get("Object").New()
		api.Set("version", "crash")
		for _, name := range []string{"dial", "read", "write", "closeWrite", "close", "startTls", "stats"} {
			api.Set(name, never)
		}
		js.Global().Set("wasmnet", api)
		die := make(chan struct{})
		js.Global().Set("crashNow", js.FuncOf(func(js.Value, []js.Value) any {
			close(die)
			return nil
		}))
		js.Global().Call("__wasmnetReady")
		<-die
		panic("boom later")
	}
	select {}
}
