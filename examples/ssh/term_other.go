//go:build !js

package main

// pageTerminal: there is a page only under GOOS=js.
func pageTerminal() (terminal, bool) { return nil, false }
