package wasmnet_test

// env names the bridge and the services a test reaches through it. Native
// tests start them in-process; tests inside wasm get them from the host
// test that runs them.
type env struct {
	Bridge string // WebSocket URL of the bridge
	Echo   string // echo server
	Pair   string // pairing server (services.Pair)
}
