// wasmnet.js loads main.wasm, the Go runtime that opens sockets through a
// wasmnet bridge, and wraps what it registers (globalThis.wasmnet) into
// socket objects. Most code wants TCPSocket, UDPSocket and TCPServerSocket
// from ./sockets.js instead, which are built on this.
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
  const key = JSON.stringify([String(options.wasm ?? ""), options.bridge ?? "", options.token ?? "", String(options.roots ?? "")]);
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

async function start({
  wasm = new URL("../main.wasm", import.meta.url),
  bridge,
  token,
  roots = new URL("./roots.pem", import.meta.url),
} = {}) {
  go = new globalThis.Go();
  const env = {};
  if (bridge) env.WASMNET_BRIDGE = new URL(bridge, globalThis.location?.href).href.replace(/^http/, "ws");
  if (token) env.WASMNET_TOKEN = token;
  // Fetched by Go only when a TLS handshake needs the default roots.
  if (roots) env.WASMNET_ROOTS = new URL(roots, globalThis.location?.href).href;
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
  for (const claim of claims.values()) claim.release();
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
  const claim = claims.get(id);
  if (!(chunk instanceof Uint8Array) || !take) pipes.delete(id);
  if (claim && chunk !== null && !(chunk instanceof Uint8Array)) claim.end();
  if (claim && chunk instanceof Uint8Array) {
    // Data that reached Go anyway: Go grants it back itself.
    claim.unread += chunk.length;
    claim.owed -= chunk.length;
  }
  const more = take ? take(chunk) : false;
  return claim ? true : more;
}

// sync runs fn, a call into Go that returns at once: its value, or an
// exception, which it throws.
function sync(fn) {
  if (failure) throw failure;
  const v = fn();
  if (go.exited) {
    try {
      die();
    } catch {}
    throw failure;
  }
  if (v instanceof Error) throw v;
  return v;
}

// The tap. Go calls __wasmnetTap(ws, toGo) for each WebSocket it opens to
// the bridge (wasm/internal/webapi), and lets it set onmessage. The tap
// passes every message on to Go's handler, toGo, except the DATA of TCP
// streams that Go handed to JavaScript (wasmnet.Conn.HandOff): those go
// from the WebSocket straight to the socket's reader, without crossing
// into Go and back, and the page grants the window back itself (Claim).
// Copying every chunk into Go and out again, and the calls across, made a
// download a quarter as fast as a plain WebSocket.
const HEADER = 5; // a Wisp packet's type (1 byte) and stream ID (u32 LE)
const DATA = 0x02;
const CONTINUE = 0x03;
const CLOSE = 0x04;
const WINDOW = 0xf0;
// The page's DATA packets are at most 64 KiB in all, header included,
// though the bridge takes 64 KiB of payload (internal/buffer.MaxPayload):
// Chromium sends a message of up to 64 KiB as one WebSocket frame, and
// cuts a larger one wherever its buffer to the network process happens to
// end (services/network/websocket.cc), which cost an upload a quarter of
// its pace in frames and reassembly.
const PACKET = 64 << 10;
const MAX_DATA = PACKET - HEADER;
// Chromium copies between typed arrays 10 to 30 times slower when the
// destination lies a few bytes past the source modulo 4096 (64 KiB from
// offset 0 to offset 5 or 8: 22 to 60 µs, against 2 to offset 0 or 64),
// as with the 4K aliasing of memmove on x86; buffers this large start on
// a page boundary. So a packet starts where its payload has the offset of
// the page's bytes modulo ALIGN (Claim.place), and frame buffers have ALIGN
// bytes to spare.
const ALIGN = 4096;
// soon runs f in a task of its own: at once, once the current task is done,
// where the browser has scheduler.postTask; else after setTimeout's delay.
const soon = globalThis.scheduler?.postTask ? (f) => scheduler.postTask(f) : (f) => setTimeout(f);
globalThis.__wasmnetTap = (ws, toGo) => {
  // scratch frames the DATA packets of handed-over writes (with room to
  // align them: Claim.place): send() copies
  // what it is given at once (as the WebSocket API says it must), so one
  // buffer serves every packet, and a write costs no allocation.
  const scratch = new Uint8Array(PACKET + ALIGN);
  const tap = {
    ws,
    streams: new Map(), // stream ID → Claim
    high: 1 << 20,
    progress: [],
    scratch,
  };
  ws.onmessage = (ev) => {
    const data = ev.data; // an ArrayBuffer, or a string, which Go refuses
    if (tap.streams.size > 0 && data.byteLength > HEADER) {
      const h = new Uint8Array(data, 0, HEADER);
      const claim = tap.streams.get((h[1] | (h[2] << 8) | (h[3] << 16) | (h[4] << 24)) >>> 0);
      if (claim) {
        if (h[0] === DATA) return claim.data(new Uint8Array(data, HEADER));
        claim.control(h[0], data);
        // Go handles the stream's other packets too, but not its credit
        // once the page writes: Go writes no more DATA on it, and a call
        // into Go per CONTINUE cost the upload its pace.
        if (h[0] === CONTINUE && claim.writes) return;
      }
    }
    toGo(ev);
  };
  ws.addEventListener("close", () => {
    for (const claim of tap.streams.values()) claim.control(CLOSE);
  });
  return tap;
};

// room waits until the tap's WebSocket has room in its buffer, as Go's
// WebSocket.Write does (wasm/internal/webapi), with the same adaptive
// high-water mark: a browser's WebSocket never pushes back by itself, so
// it polls, with a timer; a CONTINUE on any stream of the session, which
// says the bridge has written a good part of what it was sent, ends a
// wait early.
async function room(tap) {
  for (let waited = false; ; waited = true) {
    if (tap.ws.readyState !== WebSocket.OPEN) return; // its buffer never drains now
    const n = tap.ws.bufferedAmount;
    if (waited && n === 0) tap.high = Math.min(2 * tap.high, 8 << 20);
    else if (waited && n > (tap.high * 3) / 4) tap.high = Math.max(tap.high / 2, 256 << 10);
    if (n < tap.high) return;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 1);
      tap.progress.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

// bytes views a BufferSource as a Uint8Array.
function bytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("wasmnet: write() takes a BufferSource (an ArrayBuffer or a view of one)");
}

// Claims of streams handed to JavaScript, by socket ID.
const claims = new Map();

// A Claim keeps the books of a stream handed to JavaScript: what the
// bridge sent and the page has not read, and what the page read and was
// not yet granted back. It grants a quarter of the window at a time, as Go
// does (docs/PROTOCOL.md). With writes, it also sends the stream's DATA,
// within the credit.
class Claim {
  constructor(api, id, { tap, stream, window, owed, data, writes, credit, adds }) {
    this.api = api;
    this.id = id;
    this.tap = tap;
    this.stream = stream;
    this.window = window;
    this.unread = data?.length ?? 0;
    this.owed = owed;
    this.writes = writes;
    this.credit = credit;
    this.adds = adds; // CONTINUE adds to the credit (the credit extension) rather than setting it
    this.over = false; // no more writes here: the stream or the session ended, or closeWrite
    this.waiting = []; // resolve functions of writes waiting for credit
    this.own = null; // the stream's own packet buffer, once it held a partial packet
    this.held = 0; // bytes of a partial packet held in own, not yet sent
    this.start = 0; // where the packet being framed starts in its frame buffer (place)
    this.flushSoon = false; // a task of its own will send the held packet
    tap.streams.set(stream, this);
    claims.set(id, this);
  }

  // control sees a packet of the stream that Go handles too, just before
  // Go does; CLOSE also when the WebSocket closes.
  control(type, data) {
    if (type === CONTINUE && data.byteLength === HEADER + 4) {
      const n = new DataView(data).getUint32(HEADER, true);
      this.credit = this.adds ? this.credit + n : n;
      this.wakeWriters();
      for (const wake of this.tap.progress.splice(0)) wake();
    } else if (type === CLOSE) {
      // The bridge may give the stream's ID to another stream now.
      if (this.tap.streams.get(this.stream) === this) this.tap.streams.delete(this.stream);
      this.end();
    }
  }

  // end sends later writes to Go, which fails them as the stream failed
  // there, or whose closeWrite() it was.
  end() {
    this.over = true;
    this.wakeWriters();
  }

  wakeWriters() {
    for (const wake of this.waiting.splice(0)) wake();
  }

  // write sends data as DATA packets, as Go's Conn.Write would: within the
  // credit, and while the WebSocket has room. What the stream cannot take
  // any more goes to Go, which fails it as the stream failed.
  //
  // Packets are full: a write of a burst (one that fills a packet, or
  // follows one whose end is still held) keeps its last, partial packet
  // for the next write to fill, until the current task ends (hold).
  // A lone small write goes at once.
  //
  // It resolves once its data is framed and the stream could take more at
  // once: so a page that waits for each write (a WritableStream's sink
  // writes one chunk at a time) hands over the next chunk when it can be
  // framed straight from the page's buffer. Only a write that has to wait
  // first keeps a copy, as the page may reuse its buffer once it has
  // called write(); copying every chunk, a 64 KiB allocation each, cost an
  // upload a quarter of the renderer's time.
  async write(data) {
    let b = bytes(data);
    const burst = this.held > 0 || b.length >= MAX_DATA;
    for (let copied = false; b.length > 0; ) {
      if (this.gone()) {
        this.held = 0; // lost with the stream, as Go's write will report
        return call(() => this.api.write(this.id, b));
      }
      const n = Math.min(b.length, MAX_DATA - this.held);
      if (burst && n === b.length && this.held + n < MAX_DATA) {
        this.hold(b);
        break;
      }
      if (!this.ready()) {
        if (!copied) {
          b = b.slice();
          copied = true;
        }
        await this.room();
        continue;
      }
      this.frame().set(n === b.length ? b : b.subarray(0, n), this.place(b));
      this.held += n;
      this.send();
      b = b.subarray(n);
    }
    if (!this.ready() && !this.gone()) await this.room();
  }

  // gone reports whether the page can no longer send on the stream.
  gone() {
    return this.over || claims.get(this.id) !== this || this.tap.ws.readyState !== WebSocket.OPEN;
  }

  // ready reports whether a DATA packet may go now.
  ready() {
    return this.credit > 0 && this.tap.ws.bufferedAmount < this.tap.high;
  }

  // room waits for credit, or for room in the WebSocket's buffer; or until
  // the stream or the session ends.
  room() {
    return this.credit === 0 ? new Promise((resolve) => this.waiting.push(resolve)) : room(this.tap);
  }

  // frame is the buffer the next packet is framed in: the tap's scratch,
  // or the stream's own once it has held a partial packet.
  frame() {
    return this.own ?? this.tap.scratch;
  }

  // place returns where in the frame buffer b's bytes go, after what is
  // held. A new packet starts where its payload is in line with b (ALIGN);
  // one that holds bytes moves them into line with b, if they are fewer.
  // Only the copy's speed depends on it.
  place(b) {
    const at = this.start + HEADER + this.held;
    if (this.held === 0) {
      this.start = (b.byteOffset - HEADER) & (ALIGN - 1);
    } else if (((at - b.byteOffset) & (ALIGN - 1)) !== 0 && this.held <= b.length) {
      const start = (b.byteOffset - HEADER - this.held) & (ALIGN - 1);
      this.frame().copyWithin(start + HEADER, this.start + HEADER, at);
      this.start = start;
    }
    return this.start + HEADER + this.held;
  }

  // hold keeps b, which does not fill the packet, for the next write, or
  // for a task of its own.
  hold(b) {
    this.own ??= new Uint8Array(PACKET + ALIGN);
    this.own.set(b, this.place(b));
    this.held += b.length;
    if (!this.flushSoon) {
      this.flushSoon = true;
      soon(() => {
        this.flushSoon = false;
        this.flush();
      });
    }
  }

  // send sends the framed packet.
  send() {
    const f = this.frame();
    const s = this.start;
    f[s] = DATA;
    f[s + 1] = this.stream & 0xff;
    f[s + 2] = (this.stream >>> 8) & 0xff;
    f[s + 3] = (this.stream >>> 16) & 0xff;
    f[s + 4] = this.stream >>> 24;
    this.tap.ws.send(f.subarray(s, s + HEADER + this.held));
    this.held = 0;
    this.credit--;
  }

  // flush sends the held packet once it may go; a stream that ends first
  // loses it.
  async flush() {
    while (this.held > 0 && !this.gone()) {
      if (this.ready()) this.send();
      else await this.room();
    }
    this.held = 0;
  }

  // data takes a DATA payload off the WebSocket.
  data(chunk) {
    const take = pipes.get(this.id)?.deref();
    this.unread += chunk.length;
    if (this.unread + this.owed > this.window) {
      // The bridge broke the window it agreed to (Go fails the session).
      if (this.tap.streams.get(this.stream) === this) this.tap.streams.delete(this.stream);
      this.end();
      pipes.delete(this.id);
      take?.(new DOMException("wasmnet: the bridge sent more than the stream's receive window", "NetworkError"));
      return;
    }
    take?.(chunk);
  }

  // read counts n bytes the page has read.
  read(n) {
    this.unread -= n;
    this.owed += n;
    if (this.owed >= this.window / 4) this.grant();
  }

  // grant returns what the page has read to the bridge's window.
  grant() {
    if (this.owed <= 0 || this.tap.streams.get(this.stream) !== this) return;
    const p = new Uint8Array(HEADER + 4);
    const v = new DataView(p.buffer);
    p[0] = WINDOW;
    v.setUint32(1, this.stream, true);
    v.setUint32(HEADER, this.owed, true);
    this.owed = 0;
    try {
      this.tap.ws.send(p);
    } catch {
      // The session is gone; Go fails the stream.
    }
  }

  // release gives the stream back to Go, or lets it go; with grant (the
  // stream goes back to Go), what the page read, and what it will now
  // never read, goes back to the bridge first, so that Go starts with the
  // whole window, and so does the credit the page has left.
  release(grant = false) {
    // The held packet goes now if it has credit, however full the
    // WebSocket's buffer is: there is no later for it.
    if (this.held > 0 && this.credit > 0 && !this.gone()) this.send();
    this.held = 0;
    if (grant) {
      this.owed += this.unread;
      this.unread = 0;
      this.grant();
    }
    if (this.tap.streams.get(this.stream) === this) this.tap.streams.delete(this.stream);
    claims.delete(this.id);
    this.end();
    if (grant && this.writes && !failure) {
      // Go writes the stream again, and kept no books of its credit
      // while the page wrote.
      try {
        sync(() => this.api.takeBack(this.id, this.credit));
      } catch {
        // The runtime is gone; the stream with it.
      }
    }
  }
}

// Sockets and listeners that are dropped without close() are closed when
// collected, so that Go does not keep their streams for ever.
let finalizer = null;

// runtime wraps what Go registered into the object load() resolves to.
function runtime(api, memory) {
  finalizer ??= new FinalizationRegistry((id) => {
    claims.get(id)?.release();
    if (!failure) api.close(id).catch(() => {});
  });
  // handle makes the object for what Go handed over as info: its fields,
  // the methods methods(id) makes, and close().
  const handle = (info, methods) => {
    const { id, ...fields } = info;
    const obj = {
      ...fields,
      ...methods(id, () => finalizer.unregister(obj)),
      close: () => {
        finalizer.unregister(obj);
        claims.get(id)?.release();
        return call(() => api.close(id));
      },
    };
    finalizer.register(obj, id, obj);
    return obj;
  };
  const socket = (info) =>
    handle(info, (id, forget) => ({
      read: (max) => call(() => api.read(id, max)),
      pipe: (take, options) => {
        pipes.set(id, new WeakRef(take));
        const handedOff = sync(() => api.pipe(id, deliver, Boolean(options?.writes)));
        if (!handedOff) return null;
        new Claim(api, id, handedOff);
        // Go's pipe now waits only for the end. Not before the caller has
        // its readable, which the end may come to at once.
        queueMicrotask(() => {
          if (!failure) api.resume(id);
        });
        return { window: handedOff.window, data: handedOff.data };
      },
      resume: () => sync(() => api.resume(id)),
      consumed: (n) => claims.get(id)?.read(n),
      write: (data) => {
        const claim = claims.get(id);
        return claim?.writes ? claim.write(data) : call(() => api.write(id, data));
      },
      closeWrite: async () => {
        await claims.get(id)?.flush();
        claims.get(id)?.end(); // FIN goes after what was sent, and writes after it fail
        return call(() => api.closeWrite(id));
      },
      startTls: async (tls) => {
        forget();
        await claims.get(id)?.flush();
        claims.get(id)?.release(true); // TLS reads the stream in Go from here on
        return call(() => api.startTls(id, tls)).then(socket);
      },
    }));
  const udpSocket = (info) =>
    handle(info, (id) => ({
      read: () => call(() => api.read(id)),
      write: (data) => call(() => api.write(id, data)),
    }));
  const packetSocket = (info) =>
    handle(info, (id) => ({
      readFrom: () => call(() => api.readFrom(id)),
      writeTo: (data, host, port, options) => call(() => api.writeTo(id, data, host, port, options)),
    }));
  const listener = (info) =>
    handle(info, (id) => ({
      accept: () => call(() => api.accept(id)).then((s) => s && socket(s)),
    }));
  return Object.freeze({
    version: api.version,
    dial: (host, port, options) => call(() => api.dial(host, port, options)).then(socket),
    dialUdp: (host, port, options) => call(() => api.dialUdp(host, port, options)).then(udpSocket),
    listenPacket: (options) => call(() => api.listenPacket(options)).then(packetSocket),
    listen: (host, port) => call(() => api.listen(host, port)).then(listener),
    stats: () =>
      call(() => api.stats()).then((s) => {
        for (const claim of claims.values()) {
          s.recvBuffered += claim.unread;
          s.sendQueued += claim.held;
        }
        return { ...s, wasmMemory: memory.buffer.byteLength };
      }),
  });
}
