// The wasmnet package: the loader and the socket classes.
// wasm_exec.js is wasmnet.js's import; naming it here too lets the browser
// fetch it beside wasmnet.js, not after it, a round trip sooner.
import "./wasm_exec.js";
export * from "./wasmnet.js";
export * from "./sockets.js";
