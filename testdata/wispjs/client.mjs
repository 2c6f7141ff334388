#!/usr/bin/env node
// Interop check: the real wisp-js client talks to a Wisp server (normally
// the wasmnet bridge) and round-trips data through a TCP echo server.
//
//   node client.mjs <wisp-url> <host> <port> [--bytes N] [--streams N]
//                   [--max-chunk N] [--timeout-ms N]
//
// Each stream sends N deterministic bytes in DATA packets of varying size
// (at most --max-chunk bytes each), collects the echo and checks it byte for
// byte. It prints one JSON line on stdout and exits 0 on success, 1 on a
// failed check, 2 on timeout. wisp-js's own warnings go to stderr.
//
// wisp-js in Node takes its WebSocket from the "ws" package
// (src/compat.mjs), so no global WebSocket is needed.

import { client as wisp } from "@mercuryworkshop/wisp-js/client";

const usage = "usage: node client.mjs <wisp-url> <host> <port> [--bytes N] [--streams N] [--max-chunk N] [--timeout-ms N]";

function parseArgs(argv) {
  const pos = [];
  const opt = { bytes: 1 << 20, streams: 1, maxChunk: 64 << 10, timeoutMs: 60000 };
  const names = { "--bytes": "bytes", "--streams": "streams", "--max-chunk": "maxChunk", "--timeout-ms": "timeoutMs" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a in names) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      opt[names[a]] = v;
    } else if (a.startsWith("--")) {
      throw new Error(`unknown option ${a}`);
    } else {
      pos.push(a);
    }
  }
  if (pos.length !== 3) throw new Error(usage);
  const port = Number(pos[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port ${pos[2]}`);
  if (opt.streams < 1 || opt.maxChunk < 1) throw new Error("--streams and --max-chunk must be at least 1");
  return { url: pos[0], host: pos[1], port, ...opt };
}

// pattern returns n deterministic bytes (xorshift32), different per seed, so
// lost, duplicated or reordered data cannot go unnoticed.
function pattern(n, seed) {
  const out = new Uint8Array(n);
  let x = (Math.imul(seed + 1, 0x9e3779b1) ^ 0xa5a5a5a5) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// chunkSizes cuts n bytes into DATA payloads of varying size, including
// 1-byte and maximum-size ones.
function chunkSizes(n, max) {
  const cycle = [max, 1, 1500, max, 4096, 777, Math.max(1, max >> 1)];
  const sizes = [];
  for (let off = 0, i = 0; off < n; i++) {
    const s = Math.min(cycle[i % cycle.length], max, n - off);
    sizes.push(s);
    off += s;
  }
  return sizes;
}

let finished = false;
function finish(code, result) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(result) + "\n");
  if (code !== 0) process.stderr.write(`client.mjs: FAIL: ${result.error}\n`);
  process.exit(code);
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  finish(1, { ok: false, error: String(e.message || e) });
}

const started = Date.now();
const timer = setTimeout(() => {
  finish(2, { ok: false, error: `timed out after ${args.timeoutMs} ms`, progress: streams.map((s) => s.received) });
}, args.timeoutMs);

const streams = [];
let conn;
try {
  conn = new wisp.ClientConnection(args.url);
} catch (e) {
  finish(1, { ok: false, error: `ClientConnection: ${e.message || e}` });
}

conn.onerror = () => finish(1, { ok: false, error: `WebSocket error connecting to ${args.url}` });
conn.onclose = () => finish(1, { ok: false, error: "WebSocket closed before all streams finished" });

conn.onopen = () => {
  let done = 0;
  for (let i = 0; i < args.streams; i++) {
    const st = { index: i, expected: pattern(args.bytes, i), received: 0, closed: false };
    streams.push(st);

    const stream = conn.create_stream(args.host, args.port); // TCP
    stream.onmessage = (data) => {
      if (st.closed) return;
      const end = st.received + data.length;
      if (end > args.bytes) {
        return finish(1, { ok: false, error: `stream ${i}: received ${end} bytes, sent only ${args.bytes}` });
      }
      for (let j = 0; j < data.length; j++) {
        if (data[j] !== st.expected[st.received + j]) {
          return finish(1, { ok: false, error: `stream ${i}: byte ${st.received + j} is ${data[j]}, want ${st.expected[st.received + j]}` });
        }
      }
      st.received = end;
      if (st.received === args.bytes) {
        st.closed = true;
        // wisp-js's ClientStream.close() defaults to reason 0x01 (unknown);
        // this is a normal close, so say so.
        stream.close(0x02);
        if (++done === args.streams) succeed();
      }
    };
    stream.onclose = (reason) => {
      if (st.closed) return;
      st.closed = true;
      finish(1, {
        ok: false,
        error: `stream ${i}: server closed it with reason 0x${reason.toString(16).padStart(2, "0")} after ${st.received} of ${args.bytes} bytes`,
      });
    };

    // wisp-js holds back what its credit does not cover and sends it as
    // CONTINUE packets arrive.
    let off = 0;
    for (const size of chunkSizes(args.bytes, args.maxChunk)) {
      stream.send(st.expected.subarray(off, off + size));
      off += size;
    }
  }
  if (args.bytes === 0) {
    for (const st of streams) st.closed = true;
    succeed();
  }
};

function succeed() {
  clearTimeout(timer);
  const result = {
    ok: true,
    streams: args.streams,
    bytes: args.bytes,
    ms: Date.now() - started,
    wisp_version: conn.wisp_version,
    info_received: conn.info_received,
    initial_credit: conn.max_buffer_size,
    server_extensions: Object.keys(conn.server_exts).map(Number),
  };
  conn.onclose = () => {};
  conn.close();
  finish(0, result);
}
