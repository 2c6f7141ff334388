//go:build js

package main

import "github.com/hack-pad/safejs"

// announce shows the server's address on the example's page, in the
// element with id "addr", for a person to copy and for the browser test
// to read.
func announce(addr string) {
	doc, err := safejs.Global().Get("document")
	if err != nil || doc.IsUndefined() {
		return // Node.js: stdout says it
	}
	el, err := doc.Call("getElementById", "addr")
	if err != nil || el.IsNull() {
		return
	}
	el.Set("textContent", addr)
}
