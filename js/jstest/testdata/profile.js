// profile.js: the bulk transfers that profile_test.go profiles, one at a
// time, on the page: tcpDown reads size bytes from the source, tcpUp writes
// size bytes to the sink, tlsEcho echoes a quarter of size through TLS (Go's
// crypto/tls in wasm; PROFILE_PARTS=tlsEcho), and wsDown and wsUp do what
// the first two do over a plain WebSocket. Each resolves to {bytes, ms}.
import { load, TCPSocket } from "/js/index.js";

async function stats() {
  return (await load()).stats();
}

export async function tcpDown({ host, sourcePort, size, receiveBufferSize }) {
  const socket = new TCPSocket(host, sourcePort, receiveBufferSize ? { receiveBufferSize } : {});
  const { readable, writable } = await socket.opened;
  const writer = writable.getWriter();
  const count = new DataView(new ArrayBuffer(8));
  count.setBigUint64(0, BigInt(size));
  const t0 = performance.now();
  await writer.write(count.buffer);
  const reader = readable.getReader();
  let n = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    n += value.length;
  }
  const ms = performance.now() - t0;
  await writer.close();
  reader.releaseLock();
  writer.releaseLock();
  await socket.closed;
  return { bytes: n, ms, stats: await stats() };
}

export async function tcpUp({ host, sinkPort, size }) {
  const socket = new TCPSocket(host, sinkPort);
  const { readable, writable } = await socket.opened;
  const writer = writable.getWriter();
  const chunk = new Uint8Array(64 << 10);
  const t0 = performance.now();
  for (let sent = 0; sent < size; sent += chunk.length) {
    await writer.ready;
    writer.write(chunk);
  }
  await writer.close();
  const reader = readable.getReader();
  const chunks = [];
  let got = 0;
  while (got < 8) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
  }
  const ms = performance.now() - t0;
  await reader.read();
  reader.releaseLock();
  writer.releaseLock();
  await socket.closed;
  return { bytes: size, ms, stats: await stats() };
}

export async function wsDown({ wsURL, size }) {
  const ws = new WebSocket(`${wsURL}/source?n=${size}`);
  ws.binaryType = "arraybuffer";
  const t0 = performance.now();
  const n = await new Promise((resolve, reject) => {
    let n = 0;
    ws.onmessage = (ev) => {
      n += ev.data.byteLength;
      if (n >= size) resolve(n);
    };
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  const ms = performance.now() - t0;
  ws.close();
  return { bytes: n, ms };
}

export async function wsUp({ wsURL, size }) {
  const ws = new WebSocket(`${wsURL}/sink?n=${size}`);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  const chunk = new Uint8Array(64 << 10);
  const t0 = performance.now();
  const answered = new Promise((resolve) => {
    ws.onmessage = (ev) => resolve(Number(ev.data));
  });
  for (let sent = 0; sent < size; sent += chunk.length) {
    while (ws.bufferedAmount > 4 << 20) await new Promise((r) => setTimeout(r, 1));
    ws.send(chunk);
  }
  const n = await answered;
  const ms = performance.now() - t0;
  ws.close();
  return { bytes: n, ms };
}

// sendCost times small ws.send calls made while a download runs, as the
// runtime sends WINDOW packets.
export async function sendCost({ wsURL, size }) {
  const ws = new WebSocket(`${wsURL}/source?n=${size}`);
  ws.binaryType = "arraybuffer";
  let sendMs = 0, sends = 0;
  const t0 = performance.now();
  const n = await new Promise((resolve, reject) => {
    let n = 0, k = 0;
    ws.onmessage = (ev) => {
      n += ev.data.byteLength;
      if (++k % 2 === 0) {
        const t = performance.now();
        ws.send(new Uint8Array(9));
        sendMs += performance.now() - t;
        sends++;
      }
      if (n >= size) resolve(n);
    };
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  const ms = performance.now() - t0;
  ws.close();
  return { bytes: n, ms, stats: { sends, sendMs } };
}

// tlsEcho echoes size / 4 bytes through a TCPSocket with TLS: Go does the
// crypto both ways.
export async function tlsEcho({ host, tlsPort, ca, serverName, size }) {
  const total = size / 4;
  const socket = new TCPSocket(host, tlsPort, { secureTransport: "on", expectedServerHostname: serverName, caCerts: ca });
  const { readable, writable } = await socket.opened;
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const chunk = new Uint8Array(64 << 10);
  const t0 = performance.now();
  const reading = (async () => {
    let n = 0;
    while (n < total) {
      const { value, done } = await reader.read();
      if (done) break;
      n += value.length;
    }
    return n;
  })();
  for (let sent = 0; sent < total; sent += chunk.length) {
    await writer.ready;
    writer.write(chunk);
  }
  const n = await reading;
  const ms = performance.now() - t0;
  await writer.close();
  await reader.read();
  reader.releaseLock();
  writer.releaseLock();
  await socket.closed;
  return { bytes: n, ms, stats: await stats() };
}
