// wasmnet.js loads main.wasm, the Go runtime that opens sockets through a
// wasmnet bridge, and wraps what it registers (globalThis.wasmnet) into
// socket objects. Most code wants TCPSocket from ./sockets.js instead,
// which is built on this.
//
//   import { load } from "./wasmnet.js";
//   const runtime = await load({ bridge: "wss://bridge.example/wisp/" });
//   const sock = await runtime.dial("example.com", 25);
//   const greeting = await sock.read(); // Uint8Array, or null at the end
//
// It works on a page and in a module Worker. wasm_exec.js beside it is
// Go's own glue, copied from $(go env GOROOT)/lib/wasm by "make wasm".
import "./wasm_exec.js";

let loading = null; // the promise of the runtime, once load() was called
let loadedWith = null; // the options it was called with
let go = null; // the Go instance, to see whether it exited
let exitCode = null; // the code it exited with
let failure = null; // why the runtime died, once it has
const pending = new Set(); // reject functions of calls into Go not yet settled
// The functions that take each piped socket's data, by socket id, held
// weakly: the socket holds its own, so a dropped socket can still be
// collected (and closed by the finalizer below).
const pipes = new Map();

// The Go runtime prints a panic to fd 2 before it exits; keep the tail so
// that the error can say what happened.
let stderrTail = "";
{
  const fs = globalThis.fs;
  const writeSync = fs.writeSync;
  const decoder = new TextDecoder();
  fs.writeSync = function (fd, buf) {
    if (fd === 2) stderrTail = (stderrTail + decoder.decode(buf)).slice(-4096);
    return writeSync.call(this, fd, buf);
  };
}

/**
 * Loads main.wasm once per page or Worker and resolves to the runtime.
 * Later calls return the same runtime; calling again with other options
 * rejects. A Go panic or exit while loading rejects, and once the runtime
 * has died, so does every later call.
 */
export function load(options = {}) {
  if (failure) return Promise.reject(failure);
  const key = JSON.stringify([String(options.wasm ?? ""), options.bridge ?? "", options.token ?? ""]);
  if (loading && loadedWith !== key && Object.keys(options).length > 0) {
    return Promise.reject(new TypeError("wasmnet: load() was already called with other options"));
  }
  if (!loading) {
    loadedWith = key;
    loading = start(options).catch((err) => {
      loading = loadedWith = null;
      throw err;
    });
  }
  return loading;
}

async function start({ wasm = new URL("../main.wasm", import.meta.url), bridge, token } = {}) {
  go = new globalThis.Go();
  const env = {};
  if (bridge) env.WASMNET_BRIDGE = new URL(bridge, globalThis.location?.href).href.replace(/^http/, "ws");
  if (token) env.WASMNET_TOKEN = token;
  go.env = env;
  go.exit = (code) => {
    exitCode = code;
  };

  const ready = new Promise((resolve) => {
    globalThis.__wasmnetReady = resolve;
  });
  let instance;
  try {
    const response = await fetch(wasm);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    ({ instance } = await WebAssembly.instantiateStreaming(response, go.importObject));
  } catch (err) {
    throw new DOMException(`wasmnet: cannot load ${wasm}: ${err.message}`, "NetworkError");
  }
  // go.run settles only when the Go program ends, which for main.wasm is
  // always a failure: a panic or an exit.
  const ended = go.run(instance).then(die);
  await Promise.race([ready, ended]);
  delete globalThis.__wasmnetReady;
  if (failure) throw failure;
  return runtime(globalThis.wasmnet, instance.exports.mem);
}

// die records that the Go runtime has ended, rejects every call into it
// that is still waiting, so that nothing hangs on a dead runtime, and
// throws the error.
function die() {
  if (!failure) {
    const panic = stderrTail.match(/^(?:panic|fatal error): .*$/m)?.[0];
    const what = panic ? `crashed: ${panic}` : `exited with code ${exitCode ?? "unknown"}`;
    failure = new DOMException(`wasmnet: the Go runtime ${what}; reload to start it again`, "OperationError");
    console.error(failure.message);
  }
  for (const reject of pending) reject(failure);
  pending.clear();
  for (const ref of pipes.values()) ref.deref()?.(failure);
  pipes.clear();
  throw failure;
}

// call runs fn, a call into Go that returns a Promise, and settles with
// it, or with the runtime's failure if the runtime dies first.
function call(fn) {
  if (failure) return Promise.reject(failure);
  return new Promise((resolve, reject) => {
    pending.add(reject);
    let p;
    try {
      p = fn();
    } catch (err) {
      if (!go.exited) {
        pending.delete(reject);
        reject(err);
        return;
      }
    }
    // A panic during the call ends the runtime before fn returns.
    if (go.exited) {
      try {
        die();
      } catch {}
      return;
    }
    Promise.resolve(p).then(
      (v) => {
        pending.delete(reject);
        resolve(v);
      },
      (err) => {
        pending.delete(reject);
        reject(err);
      },
    );
  });
}

// deliver is what Go calls with a piped socket's data: a Uint8Array, or
// null or an exception at the end. It returns whether to go on.
function deliver(id, chunk) {
  const take = pipes.get(id)?.deref();
  if (!(chunk instanceof Uint8Array) || !take) pipes.delete(id);
  return take ? take(chunk) : false;
}

// sync runs fn, a call into Go that returns at once: nothing, or an
// exception to throw.
function sync(fn) {
  if (failure) throw failure;
  const err = fn();
  if (go.exited) {
    try {
      die();
    } catch {}
    throw failure;
  }
  if (err) throw err;
}

// Sockets that are dropped without close() are closed when collected, so
// that Go does not keep their streams for ever.
let finalizer = null;

// runtime wraps what Go registered into the object load() resolves to.
function runtime(api, memory) {
  finalizer ??= new FinalizationRegistry((id) => {
    if (!failure) api.close(id).catch(() => {});
  });
  const socket = (info) => {
    const { id, ...fields } = info;
    const sock = {
      ...fields,
      read: (max) => call(() => api.read(id, max)),
      pipe: (take) => {
        pipes.set(id, new WeakRef(take));
        sync(() => api.pipe(id, deliver));
      },
      resume: () => sync(() => api.resume(id)),
      write: (data) => call(() => api.write(id, data)),
      closeWrite: () => call(() => api.closeWrite(id)),
      close: () => {
        finalizer.unregister(sock);
        return call(() => api.close(id));
      },
      startTls: (tls) => {
        finalizer.unregister(sock);
        return call(() => api.startTls(id, tls)).then(socket);
      },
    };
    finalizer.register(sock, id, sock);
    return sock;
  };
  return Object.freeze({
    version: api.version,
    dial: (host, port, options) => call(() => api.dial(host, port, options)).then(socket),
    stats: () => call(() => api.stats()).then((s) => ({ ...s, wasmMemory: memory.buffer.byteLength })),
  });
}
