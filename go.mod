module github.com/wasmnet/wasmnet

go 1.26.8

require (
	github.com/coder/websocket v1.8.15
	golang.org/x/net v0.62.0
)
