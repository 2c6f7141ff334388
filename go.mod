module github.com/wasmnet/wasmnet

go 1.26.8

require (
	github.com/coder/websocket v1.8.15
	golang.org/x/net v0.62.0
)

require (
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6 // indirect
	github.com/emersion/go-smtp v0.25.1 // indirect
	github.com/hack-pad/safejs v0.1.0 // indirect
	github.com/miekg/dns v1.1.73 // indirect
	github.com/tetratelabs/wazero v1.12.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
