// Package host runs WebAssembly programs built for GOOS=wasip1 in wazero,
// headless, and connects their wasmnet sockets to a real bridge.
//
// A guest that imports package wasmnet finds its bridge through the host:
// the host sets WASMNET_PIPE=1, feeds the guest's stdin and reads its
// stdout as a framed pipe (package wasm/internal/pipe), and relays each
// session the guest opens to a WebSocket of its own. The guest's Dial,
// Conn and deadlines are the same code that runs in a browser; only the
// transport differs.
//
//	wasm, _ := os.ReadFile("prog.wasm") // GOOS=wasip1 GOARCH=wasm go build -o prog.wasm
//	err := host.Run(ctx, wasm, host.Config{
//		Bridge: "ws://127.0.0.1:8080/wisp/",
//		Output: os.Stderr,
//	})
//
// Caveats:
//   - fd 1 carries the pipe, so the guest's os.Stdout is redirected to
//     fd 2: everything the guest prints arrives on Config.Output.
//   - Compiled code is cached on disk (Config.CacheDir), so the second run
//     of a module starts in milliseconds instead of a second or more.
//   - The guest may open sessions to any URL it names; the host trusts its
//     guest. The bridge's policy still applies.
package host
