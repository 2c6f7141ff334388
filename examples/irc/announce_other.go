//go:build !js

package main

// announce has no page to show the address on; stdout says it.
func announce(string) {}
