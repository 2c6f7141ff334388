// The checks of the JS API, run by the Go tests in ../ on a page and in a
// module Worker alike. Each takes the configuration the test made (ports,
// the CA, URLs) and returns what it saw, for Go to judge; expected errors
// are returned, not thrown.
import { load, TCPServerSocket, TCPSocket, UDPSocket } from "/js/index.js";
import * as transfers from "./transfers.js";
import { readN } from "./transfers.js";

/** Runs check name and resolves to {ok: result} or {error}. */
export async function run(name, cfg) {
  try {
    if (cfg.crashMode) globalThis.crashMode = cfg.crashMode;
    // Start the runtime with the case's options; the check's own load()
    // and TCPSocket calls then share it.
    if (cfg.load) load(cfg.load).catch(() => {});
    if (!checks[name]) throw new Error(`no check ${name}`);
    return { ok: await checks[name](cfg) };
  } catch (err) {
    return { error: errorInfo(err) };
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function errorInfo(err) {
  return {
    name: err?.name,
    message: String(err?.message ?? err),
    domException: err instanceof DOMException,
    stack: err?.stack,
  };
}

// settled returns what p settled with: {value} or {error}.
async function settled(p, ms = 20000) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return { value: await Promise.race([p, timeout]) };
  } catch (err) {
    return { error: errorInfo(err) };
  } finally {
    clearTimeout(timer);
  }
}

// pattern is services.Pattern: xorshift32 bytes, from a fixed seed, so that
// Go can check a digest without the data crossing back.
function pattern(n) {
  const b = new Uint8Array(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

async function sha256(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// readLine reads up to a newline, a byte at a time from the reader's chunks.
async function readLine(reader, carry = { buf: new Uint8Array(0) }) {
  for (;;) {
    const nl = carry.buf.indexOf(10);
    if (nl >= 0) {
      const line = dec.decode(carry.buf.subarray(0, nl));
      carry.buf = carry.buf.slice(nl + 1);
      return line;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before a line: ${dec.decode(carry.buf)}`);
    const b = new Uint8Array(carry.buf.length + value.length);
    b.set(carry.buf);
    b.set(value, carry.buf.length);
    carry.buf = b;
  }
}

// dnsQuery encodes a DNS query for an A record of name, with id, by hand.
function dnsQuery(id, name) {
  const labels = name.split(".").filter(Boolean);
  const q = new Uint8Array(12 + labels.reduce((n, l) => n + 1 + l.length, 1) + 4);
  const v = new DataView(q.buffer);
  v.setUint16(0, id);
  v.setUint16(2, 0x0100); // recursion desired
  v.setUint16(4, 1); // one question
  let off = 12;
  for (const l of labels) {
    q[off++] = l.length;
    q.set(enc.encode(l), off);
    off += l.length;
  }
  q[off++] = 0;
  v.setUint16(off, 1); // A
  v.setUint16(off + 2, 1); // IN
  return q;
}

// dnsAnswer decodes what the checks need of a DNS response: its id, its
// rcode and the addresses of its A records.
function dnsAnswer(b) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const skipName = (off) => {
    for (;;) {
      if (off >= b.length) throw new Error("the DNS response ends inside a name");
      const len = b[off];
      if (len === 0) return off + 1;
      if ((len & 0xc0) === 0xc0) return off + 2; // a pointer ends the name
      off += 1 + len;
    }
  };
  let off = 12;
  for (let i = 0; i < v.getUint16(4); i++) off = skipName(off) + 4;
  const addresses = [];
  for (let i = 0; i < v.getUint16(6); i++) {
    off = skipName(off);
    const type = v.getUint16(off); // a DataView read past the end throws
    const rdlength = v.getUint16(off + 8);
    if (type === 1 && rdlength === 4) addresses.push([...b.subarray(off + 10, off + 14)].join("."));
    off += 10 + rdlength;
  }
  return { id: v.getUint16(0), rcode: v.getUint16(2) & 0xf, addresses };
}

// fill is n bytes that depend on seed, so that datagrams differ.
function fill(n, seed) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255;
  return b;
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// construct reports how new Class(...args) throws, or null.
function construct(Class, ...args) {
  try {
    new Class(...args);
    return null;
  } catch (err) {
    return errorInfo(err);
  }
}

const checks = {
  // echo sends size bytes of the pattern through the echo server, in
  // writes of mixed sizes while reading, half-closes, and reads to the end.
  async echo({ host, echoPort, size }) {
    const started = performance.now();
    const socket = new TCPSocket(host, echoPort, { noDelay: true });
    const { readable, writable, remoteAddress, remotePort, localAddress, localPort } = await socket.opened;
    const data = pattern(size);
    const writer = writable.getWriter();
    const reader = readable.getReader();
    const writing = (async () => {
      const sizes = [1, 7, 1000, 4096, 65536, 100000, 16384, 300000];
      for (let off = 0, i = 0; off < size; i++) {
        const n = Math.min(sizes[i % sizes.length], size - off);
        await writer.write(data.subarray(off, off + n));
        off += n;
      }
      await writer.close();
    })();
    const got = new Uint8Array(size);
    let n = 0;
    let reads = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (n + value.length > size) throw new Error(`echo sent more than ${size} bytes`);
      got.set(value, n);
      n += value.length;
      reads++;
    }
    await writing;
    reader.releaseLock();
    writer.releaseLock();
    const closed = await settled(socket.closed);
    return {
      received: n,
      reads,
      digest: await sha256(got),
      closed,
      remoteAddress,
      remotePort,
      localAddress,
      localPort,
      ms: performance.now() - started,
    };
  },

  // errors opens sockets that must fail, and says how each did.
  async errors({ host, forbiddenPort, refusedPort, echoPort }) {
    const forbidden = new TCPSocket(host, forbiddenPort);
    const refused = new TCPSocket(host, refusedPort);
    const opening = new TCPSocket(host, echoPort);
    const closeWhileOpening = await settled(opening.close());
    await opening.opened;
    let badPort = null;
    try {
      new TCPSocket(host, 70000);
    } catch (err) {
      badPort = errorInfo(err);
    }
    let badChunk = null;
    {
      const { writable, readable } = await opening.opened;
      const writer = writable.getWriter();
      badChunk = (await settled(writer.write("text, not bytes"))).error;
      writer.releaseLock();
      const reader = readable.getReader();
      badChunk.lockedClose = (await settled(opening.close())).error;
      reader.releaseLock();
      await settled(opening.close()); // rejects: the writable errored
    }
    return {
      forbidden: (await settled(forbidden.opened)).error,
      forbiddenClosed: (await settled(forbidden.closed)).error,
      closeFailed: (await settled(forbidden.close())).error,
      refused: (await settled(refused.opened)).error,
      closeWhileOpening: closeWhileOpening.error,
      badPort,
      badChunk,
    };
  },

  // closing checks close(): it cancels and aborts, settles closed, and
  // the server sees the connection end.
  async closing({ host, echoPort }) {
    const socket = new TCPSocket(host, echoPort);
    const { readable, writable } = await socket.opened;
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write(enc.encode("ping\n"));
    const line = await readLine(reader);
    reader.releaseLock();
    writer.releaseLock();
    const close = await settled(socket.close());
    const closed = await settled(socket.closed);
    const again = await settled(socket.close());
    const stats = await (await load()).stats();
    return { line, close, closed, again, stats };
  },

  // tlsOn connects with secureTransport "on" to a TLS echo server.
  async tlsOn({ host, tlsPort, ca, serverName }) {
    const socket = new TCPSocket(host, tlsPort, { secureTransport: "on", expectedServerHostname: serverName, caCerts: ca });
    const info = await socket.opened;
    const writer = info.writable.getWriter();
    const reader = info.readable.getReader();
    await writer.write(enc.encode("over tls\n"));
    const line = await readLine(reader);
    reader.releaseLock();
    writer.releaseLock();
    await socket.close();
    return { tls: info.tls, line };
  },

  // defaultRoots opens a TLS socket without caCerts, once the runtime's
  // stats say no default roots are loaded yet: the handshake loads them,
  // and the server's certificate, from the test CA, is not among them.
  async defaultRoots({ host, tlsPort, serverName }) {
    const runtime = await load();
    const before = (await runtime.stats()).defaultRoots;
    const socket = new TCPSocket(host, tlsPort, { secureTransport: "on", expectedServerHostname: serverName });
    const opened = await settled(socket.opened);
    const after = (await runtime.stats()).defaultRoots;
    return { before, after, error: opened.error };
  },

  // startTls speaks the STARTTLS echo server's protocol: STARTTLS, GO,
  // then TLS with the given expected name; an echo proves the new socket.
  async startTls({ host, starttlsPort, ca, expect, withCA = true }) {
    const socket = new TCPSocket(host, starttlsPort, { secureTransport: "starttls", caCerts: withCA ? ca : undefined });
    const plain = await socket.opened;
    let writer = plain.writable.getWriter();
    let reader = plain.readable.getReader();
    await writer.write(enc.encode("STARTTLS\n"));
    const go = await readLine(reader);
    writer.releaseLock();
    reader.releaseLock();
    const secure = socket.startTls({ expectedServerHostname: expect });
    let again = null;
    try {
      socket.startTls();
    } catch (err) {
      again = errorInfo(err);
    }
    const opened = await settled(secure.opened);
    const oldClosed = await settled(socket.closed);
    const oldWrite = await settled(plain.writable.getWriter().write(enc.encode("x")));
    const oldRead = await settled(plain.readable.getReader().read());
    if (opened.error) {
      return { go, again, error: opened.error, closed: (await settled(secure.closed)).error, oldClosed };
    }
    writer = opened.value.writable.getWriter();
    reader = opened.value.readable.getReader();
    await writer.write(enc.encode("secret\n"));
    const line = await readLine(reader);
    await writer.close();
    const end = await reader.read();
    reader.releaseLock();
    writer.releaseLock();
    return {
      go,
      again,
      tls: opened.value.tls,
      line,
      end: end.done,
      closed: await settled(secure.closed),
      oldClosed,
      oldWrite: oldWrite.error,
      oldRead: oldRead.value,
    };
  },

  // stopReading reads an endless source a while, stops reading, and
  // reports what the server sent and what the tab holds: when it stopped
  // reading; once the server's count has not moved for quiet ms, or after
  // at most limit ms (settled says which); and hold ms later. Then it reads
  // again, to show that the stream was alive all along.
  async stopReading({ host, sourcePort, sentURL, first, quiet, limit, hold, after, receiveBufferSize }) {
    const sent = async () => (await (await fetch(sentURL, { cache: "no-store" })).json()).sent;
    const heap = () => globalThis.performance?.memory?.usedJSHeapSize ?? null;
    const runtime = await load();
    const expected = pattern(65536); // the source repeats the pattern's first 64 KiB
    const base = await sent(); // what the source sent to earlier connections
    const socket = new TCPSocket(host, sourcePort, receiveBufferSize ? { receiveBufferSize } : {});
    const { readable, writable } = await socket.opened;
    const writer = writable.getWriter();
    await writer.write(new Uint8Array(8)); // a count of 0: send for ever
    const reader = readable.getReader();
    let offset = 0;
    let mismatches = 0;
    const consume = async (n) => {
      for (let got = 0; got < n; ) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the source ended");
        for (let i = 0; i < value.length; i++) {
          if (value[i] !== expected[(offset + i) % 65536]) mismatches++;
        }
        offset += value.length;
        got += value.length;
      }
    };
    await consume(first);
    const stopped = { sent: await sent(), stats: await runtime.stats(), heap: heap(), read: offset };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    let settled = false;
    for (let last = stopped.sent, since = Date.now(), start = since; Date.now() - start < limit; ) {
      await sleep(100);
      const now = await sent();
      if (now !== last) {
        [last, since] = [now, Date.now()];
      } else if (Date.now() - since >= quiet) {
        settled = true;
        break;
      }
    }
    const mid = { sent: await sent(), stats: await runtime.stats(), heap: heap() };
    await sleep(hold);
    const end = { sent: await sent(), stats: await runtime.stats(), heap: heap() };
    // Read what was in flight, then after bytes more, which the server
    // can only have sent once the page read again.
    await consume(end.sent - base - offset + after);
    const resumed = { sent: await sent(), read: offset };
    reader.releaseLock();
    writer.releaseLock();
    await socket.close();
    for (const s of [stopped, mid, end, resumed]) s.sent -= base;
    return { stopped, mid, end, resumed, mismatches, settled };
  },

  // types lists what Go registered and what the runtime's objects have,
  // for the test to compare with wasmnet.d.ts.
  async types({ host, echoPort, udpEchoPort }) {
    const runtime = await load();
    const raw = await runtime.dial(host, echoPort);
    const udp = await runtime.dialUdp(host, udpEchoPort);
    const packets = await runtime.listenPacket();
    await packets.writeTo(enc.encode("types"), host, udpEchoPort);
    const datagram = await packets.readFrom();
    const listener = await runtime.listen("0.0.0.0");
    const keys = (o) => Object.keys(o).sort();
    const out = {
      global: keys(globalThis.wasmnet),
      runtime: keys(runtime),
      socket: keys(raw),
      stats: keys(await runtime.stats()),
      udpSocket: keys(udp),
      packetSocket: keys(packets),
      datagram: keys(datagram),
      listener: keys(listener),
    };
    await Promise.all([raw.close(), udp.close(), packets.close(), listener.close()]);
    return out;
  },

  // udpDns asks the DNS server for an A record over a connected UDPSocket,
  // with a query encoded by hand.
  async udpDns({ host, dnsPort }) {
    const socket = new UDPSocket({ remoteAddress: host, remotePort: dnsPort });
    const info = await socket.opened;
    const writer = info.writable.getWriter();
    const reader = info.readable.getReader();
    const id = 0x4a17;
    await writer.write({ data: dnsQuery(id, "wasmnet.test") });
    const { value } = await reader.read();
    reader.releaseLock();
    writer.releaseLock();
    const answer = dnsAnswer(value.data);
    const close = await settled(socket.close());
    return {
      ...answer,
      wantId: id,
      dataType: value.data.constructor.name,
      fields: Object.keys(value).sort(),
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
      localAddress: info.localAddress,
      localPort: info.localPort,
      close,
      closed: await settled(socket.closed),
    };
  },

  // udpEcho sends datagrams of many sizes, one at a time, through the UDP
  // echo server on a connected socket: each must come back whole and
  // alone. Then one too large for UDP.
  async udpEcho({ host, udpEchoPort, sizes }) {
    const socket = new UDPSocket({ remoteAddress: host, remotePort: udpEchoPort });
    const { readable, writable } = await socket.opened;
    const writer = writable.getWriter();
    const reader = readable.getReader();
    const echoed = [];
    for (const [i, n] of sizes.entries()) {
      const sent = fill(n, i);
      // An ArrayBuffer, a typed array and a DataView are all BufferSources.
      const data = [sent, sent.buffer, new DataView(sent.buffer)][i % 3];
      await writer.write({ data });
      const got = await settled(reader.read());
      const bytes = got.value?.value?.data;
      echoed.push({ sent: n, got: bytes?.length ?? -1, same: !!bytes && same(bytes, sent), error: got.error });
    }
    const tooLarge = (await settled(writer.write({ data: new Uint8Array(65508) }))).error;
    reader.releaseLock();
    writer.releaseLock();
    await readable.cancel(); // the writable failed; now both are done
    return { echoed, tooLarge, closed: await settled(socket.closed) };
  },

  // udpBound sends from one bound socket to both echo servers, by
  // address and by name, and reports who answered what.
  async udpBound({ host, udpEchoPort, udpEcho2Port }) {
    const socket = new UDPSocket({ localAddress: "0.0.0.0" });
    const info = await socket.opened;
    const writer = info.writable.getWriter();
    const reader = info.readable.getReader();
    const replies = [];
    const receive = async () => {
      const { value } = (await settled(reader.read())).value ?? {};
      if (value) replies.push({ text: dec.decode(value.data), remoteAddress: value.remoteAddress, remotePort: value.remotePort });
    };
    await writer.write({ data: enc.encode("one"), remoteAddress: host, remotePort: udpEchoPort });
    await writer.write({ data: enc.encode("two"), remoteAddress: host, remotePort: udpEcho2Port });
    await receive();
    await receive();
    // A name, resolved by the bridge.
    await writer.write({ data: enc.encode("three"), remoteAddress: "localhost", remotePort: udpEcho2Port, dnsQueryType: "ipv4" });
    await receive();
    reader.releaseLock();
    writer.releaseLock();
    return {
      replies,
      keys: Object.keys(info).sort(),
      localAddress: info.localAddress,
      localPort: info.localPort,
      close: await settled(socket.close()),
      closed: await settled(socket.closed),
    };
  },

  // udpErrors makes UDPSockets that must fail, and says how each did.
  async udpErrors({ host, forbiddenPort, udpEchoPort }) {
    const out = {};
    const forbidden = new UDPSocket({ remoteAddress: host, remotePort: forbiddenPort });
    out.forbidden = (await settled(forbidden.opened)).error;
    out.forbiddenClosed = (await settled(forbidden.closed)).error;
    out.closeFailed = (await settled(forbidden.close())).error;

    const bound = new UDPSocket({ localAddress: "0.0.0.0" });
    out.closeWhileOpening = (await settled(bound.close())).error;
    const { writable, readable } = await bound.opened;
    let writer = writable.getWriter();
    out.boundForbidden = (await settled(writer.write({ data: enc.encode("x"), remoteAddress: host, remotePort: forbiddenPort }))).error;
    writer.releaseLock();
    await readable.cancel();
    out.boundForbiddenClosed = (await settled(bound.closed)).error;

    const boundNoPeer = new UDPSocket({ localAddress: "0.0.0.0" });
    writer = (await boundNoPeer.opened).writable.getWriter();
    out.boundNoPeer = (await settled(writer.write({ data: enc.encode("x") }))).error;
    writer.releaseLock();
    await settled(boundNoPeer.close()); // rejects: the writable errored

    const connected = new UDPSocket({ remoteAddress: host, remotePort: udpEchoPort });
    writer = (await connected.opened).writable.getWriter();
    out.connectedWithPeer = (await settled(writer.write({ data: enc.encode("x"), remoteAddress: host, remotePort: udpEchoPort }))).error;
    writer.releaseLock();
    await settled(connected.close());

    const withPort = new UDPSocket({ localAddress: "0.0.0.0", localPort: 40000 });
    out.localPort = (await settled(withPort.opened)).error;

    out.noMode = construct(UDPSocket, {});
    out.halfRemote = construct(UDPSocket, { remoteAddress: host });
    out.bothModes = construct(UDPSocket, { remoteAddress: host, remotePort: 53, localAddress: "0.0.0.0" });
    out.localName = construct(UDPSocket, { localAddress: "example.com" });
    out.zeroLocalPort = construct(UDPSocket, { localAddress: "0.0.0.0", localPort: 0 });
    out.boundDnsQueryType = construct(UDPSocket, { localAddress: "0.0.0.0", dnsQueryType: "ipv4" });
    out.ipv6OnlyV4 = construct(UDPSocket, { localAddress: "0.0.0.0", ipv6Only: true });
    out.multicast = construct(UDPSocket, { localAddress: "0.0.0.0", multicastLoopback: true });
    out.zeroBuffer = construct(UDPSocket, { remoteAddress: host, remotePort: 53, receiveBufferSize: 0 });
    out.badChunk = null;
    {
      const socket = new UDPSocket({ remoteAddress: host, remotePort: udpEchoPort });
      const w = (await socket.opened).writable.getWriter();
      out.badChunk = (await settled(w.write({ data: "text, not bytes" }))).error;
      w.releaseLock();
      await settled(socket.close());
    }
    const v6 = new UDPSocket({ localAddress: "::", ipv6Only: true });
    out.ipv6Only = (await settled(v6.opened)).error ?? null;
    await settled(v6.close());
    return out;
  },

  // serverPublic listens on a public port of the bridge, has a native
  // client on the host connect and send, echoes what it reads, then
  // closes, takes the same port again, and tries ports it may not have.
  async serverPublic({ clientURL, size }) {
    const server = new TCPServerSocket("0.0.0.0");
    const closeWhileOpening = (await settled(server.close())).error;
    const { readable, localAddress, localPort } = await server.opened;
    const reply = await fetch(`${clientURL}?port=${localPort}&size=${size}`, { cache: "no-store" });
    if (!reply.ok) throw new Error(`the native client failed: ${await reply.text()}`);
    const { client } = await reply.json();
    const accepts = readable.getReader();
    const { value: socket } = await accepts.read();
    const info = await socket.opened;
    const reader = info.readable.getReader();
    const writer = info.writable.getWriter();
    const got = new Uint8Array(size);
    let n = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (n + value.length > size) throw new Error(`the client sent more than ${size} bytes`);
      got.set(value, n);
      n += value.length;
      await writer.write(value);
    }
    await writer.close();
    reader.releaseLock();
    writer.releaseLock();
    const socketClosed = await settled(socket.closed);
    const lockedClose = (await settled(server.close())).error;
    accepts.releaseLock();
    const close = await settled(server.close());
    const closed = await settled(server.closed);

    // The port is free again at once: the same page can take it.
    const again = new TCPServerSocket("0.0.0.0", { localPort });
    const reopened = await settled(again.opened);
    const inUse = (await settled(new TCPServerSocket("0.0.0.0", { localPort }).opened)).error;
    await settled(again.close());
    return {
      localAddress,
      localPort,
      client,
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
      received: n,
      digest: await sha256(got),
      socketClosed,
      closeWhileOpening,
      lockedClose,
      close,
      closed,
      reopened: reopened.error ? { error: reopened.error } : { localPort: reopened.value.localPort },
      inUse,
    };
  },

  // serverErrors makes TCPServerSockets that must fail.
  async serverErrors({ outsidePort, listenHigh }) {
    const outside = new TCPServerSocket("0.0.0.0", { localPort: outsidePort });
    return {
      outside: (await settled(outside.opened)).error,
      closeFailed: (await settled(outside.close())).error,
      above: (await settled(new TCPServerSocket("::", { localPort: listenHigh + 1 }).opened)).error,
      name: construct(TCPServerSocket, "example.com", { localPort: 8080 }),
      endpointNoPort: construct(TCPServerSocket, "chat.wasmnet.internal"),
      zeroPort: construct(TCPServerSocket, "0.0.0.0", { localPort: 0 }),
      zeroBacklog: construct(TCPServerSocket, "0.0.0.0", { backlog: 0 }),
      ipv6OnlyV4: construct(TCPServerSocket, "0.0.0.0", { ipv6Only: true }),
      nobody: (await settled(new TCPSocket("nobody.wasmnet.internal", 80).opened)).error,
    };
  },

  // endpointServe listens on a named endpoint and, in the background,
  // echoes one connection; endpointResult reports how that went.
  async endpointServe({ name, port }) {
    const server = new TCPServerSocket(name, { localPort: port });
    const { readable, localAddress, localPort } = await server.opened;
    globalThis.endpointTask = (async () => {
      const accepts = readable.getReader();
      const { value: socket } = await accepts.read();
      accepts.releaseLock();
      const info = await socket.opened;
      const reader = info.readable.getReader();
      const writer = info.writable.getWriter();
      let echoed = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        echoed += value.length;
        await writer.write(value);
      }
      await writer.close();
      reader.releaseLock();
      writer.releaseLock();
      return { echoed, remoteAddress: info.remoteAddress, socketClosed: await settled(socket.closed), close: await settled(server.close()) };
    })();
    return { localAddress, localPort };
  },

  async endpointResult() {
    const task = globalThis.endpointTask;
    delete globalThis.endpointTask;
    return settled(task);
  },

  // endpointDial connects to a named endpoint, maybe another page's, sends
  // size bytes of the pattern while reading, half-closes and reads to the
  // end.
  async endpointDial({ name, port, size }) {
    const socket = new TCPSocket(name, port);
    const { readable, writable } = await socket.opened;
    const writer = writable.getWriter();
    const reader = readable.getReader();
    const data = pattern(size);
    const writing = (async () => {
      for (let off = 0; off < size; off += 50000) await writer.write(data.subarray(off, off + 50000));
      await writer.close();
    })();
    const got = new Uint8Array(size);
    let n = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (n + value.length > size) throw new Error(`the endpoint sent more than ${size} bytes`);
      got.set(value, n);
      n += value.length;
    }
    await writing;
    reader.releaseLock();
    writer.releaseLock();
    return { received: n, digest: await sha256(got), closed: await settled(socket.closed) };
  },

  // openAll opens one socket of each kind and reports how each opened.
  async openAll({ host, udpEchoPort }) {
    const result = async (socket) => {
      const opened = await settled(socket.opened);
      if (opened.value) await socket.close();
      return opened.error ? { error: opened.error } : { ok: true };
    };
    return {
      udp: await result(new UDPSocket({ remoteAddress: host, remotePort: udpEchoPort })),
      bound: await result(new UDPSocket({ localAddress: "0.0.0.0" })),
      server: await result(new TCPServerSocket("0.0.0.0")),
    };
  },

  // dialOnly opens a socket and reports how opened settled.
  async dialOnly({ host, echoPort }) {
    const socket = new TCPSocket(host, echoPort);
    const opened = await settled(socket.opened);
    if (opened.value) await socket.close();
    return { opened: opened.error ? { error: opened.error } : { ok: true } };
  },

  // loadFails reports how load() rejects.
  async loadFails() {
    return { load: (await settled(load())).error };
  },

  // crashLater: a socket opening when the runtime dies must fail, and so
  // must everything after.
  async crashLater({ host, echoPort }) {
    const runtime = await load();
    const socket = new TCPSocket(host, echoPort);
    await new Promise((r) => setTimeout(r, 100));
    globalThis.crashNow();
    const opened = await settled(socket.opened, 5000);
    const closed = await settled(socket.closed, 5000);
    const later = await settled(new TCPSocket(host, echoPort).opened, 5000);
    const stats = await settled(runtime.stats(), 5000);
    const reload = await settled(load(), 5000);
    return { opened: opened.error, closed: closed.error, later: later.error, stats: stats.error, reload };
  },

  // udpFigures measures a connected UDPSocket through the UDP echo
  // server, for the figures; it asserts nothing. Round trips are one
  // datagram at a time; a burst sends count datagrams while reading, and
  // stops reading once the echoes stop coming for idleMs (UDP may drop).
  async udpFigures({ host, udpEchoPort, echoPort, rounds, count, size, idleMs }) {
    // What a call into Go costs that does no I/O.
    const runtime = await load();
    let t0 = performance.now();
    for (let i = 0; i < rounds; i++) await runtime.stats();
    const callUs = ((performance.now() - t0) * 1000) / rounds;

    const socket = new UDPSocket({ remoteAddress: host, remotePort: udpEchoPort });
    const { readable, writable } = await socket.opened;
    const writer = writable.getWriter();
    const reader = readable.getReader();
    const small = new Uint8Array(64);
    t0 = performance.now();
    for (let i = 0; i < rounds; i++) {
      await writer.write({ data: small });
      await reader.read();
    }
    const rttUs = ((performance.now() - t0) * 1000) / rounds;

    // The same round trips over a TCPSocket, to compare.
    let tcpRttUs;
    {
      const tcp = new TCPSocket(host, echoPort);
      const info = await tcp.opened;
      const w = info.writable.getWriter();
      const r = info.readable.getReader();
      t0 = performance.now();
      for (let i = 0; i < rounds; i++) {
        await w.write(small);
        for (let got = 0; got < small.length; ) got += (await r.read()).value.length;
      }
      tcpRttUs = ((performance.now() - t0) * 1000) / rounds;
      w.releaseLock();
      r.releaseLock();
      await tcp.close();
    }

    const data = new Uint8Array(size);
    let received = 0;
    let last = performance.now();
    t0 = last;
    const reading = (async () => {
      for (;;) {
        const idle = new Promise((r) => setTimeout(() => r(null), idleMs));
        const got = await Promise.race([reader.read(), idle]);
        if (!got) return;
        received++;
        last = performance.now();
        if (received === count) return;
      }
    })();
    for (let i = 0; i < count; i++) {
      await writer.ready;
      writer.write({ data });
    }
    await reading;
    const ms = last - t0;
    reader.releaseLock();
    writer.releaseLock();
    await readable.cancel().catch(() => {});
    await settled(socket.close());
    return { callUs, rttUs, tcpRttUs, sent: count, received, mibps: (received * size) / (1 << 20) / (ms / 1000) };
  },

  // throughput measures a TCPSocket and a plain WebSocket to the same
  // host, both ways, and a TLS echo, for the figures (transfers.js); it
  // asserts nothing. tlsEcho's bytes are four times what it echoed, so
  // that every part moves size bytes; its rate counts them one way.
  async throughput(cfg) {
    const rate = (ms, bytes) => Math.round((bytes / (1 << 20) / (ms / 1000)) * 10) / 10;
    const out = {};
    for (const part of ["tcpDown", "tcpUp", "wsDown", "wsUp", "tlsEcho"]) {
      const { bytes, ms } = await transfers[part](cfg);
      out[part] = { bytes: part === "tlsEcho" ? bytes * 4 : bytes, mibps: rate(ms, bytes) };
    }
    return out;
  },
};
