// wasmnet.js loads main.wasm, the Go runtime that opens sockets through a
// wasmnet bridge, and hands out its sockets.
//
//   import { load } from "./js/wasmnet.js";
//   const wasmnet = await load({ bridge: "ws://localhost:8080/wisp/" });
//   const sock = await wasmnet.dial("127.0.0.1", 17007);
//   await sock.write(new TextEncoder().encode("hi"));
//   const reply = await sock.read();  // Uint8Array, or null at the end
//
// It works on a page and in a module Worker. wasm_exec.js beside it is Go's
// own glue, copied from $(go env GOROOT)/lib/wasm by "make wasm".
import "./wasm_exec.js";

let loading = null;

/**
 * Loads main.wasm once and resolves to the runtime's primitives
 * (globalThis.wasmnet). A Go panic or exit during start-up rejects.
 */
export function load(options = {}) {
  loading ??= start(options).catch((err) => {
    loading = null;
    throw err;
  });
  return loading;
}

async function start({ wasm = new URL("../main.wasm", import.meta.url), bridge } = {}) {
  const go = new globalThis.Go();
  if (bridge) {
    go.env = { ...go.env, WASMNET_BRIDGE: new URL(bridge, globalThis.location?.href).href.replace(/^http/, "ws") };
  }
  const ready = new Promise((resolve) => {
    globalThis.__wasmnetReady = resolve;
  });
  const response = fetch(wasm);
  let instance;
  try {
    ({ instance } = await WebAssembly.instantiateStreaming(response, go.importObject));
  } catch (err) {
    throw new Error(`wasmnet: cannot load ${wasm}: ${err.message}`);
  }
  // go.run settles only when the Go program ends, which for main.wasm is
  // always a failure: a panic or an exit.
  const ended = go.run(instance).then(() => {
    throw new Error(`wasmnet: the Go runtime exited (code ${go.exitCode ?? "unknown"})`);
  });
  await Promise.race([ready, ended]);
  delete globalThis.__wasmnetReady;
  const api = globalThis.wasmnet;
  ended.catch((err) => {
    api.failure = err;
    console.error(err);
  });
  return api;
}
