// transfers.js: the bulk transfers that TestFigures measures (through
// checks.js's throughput, on the page and in a Worker) and TestProfile
// profiles, one at a time. Each resolves to {bytes, ms, stats}: what
// arrived, how long it took, and the runtime's stats() afterwards.
//
//   tcpDown: a TCPSocket reads size bytes from the source;
//   tcpUp:   a TCPSocket writes size bytes to the sink, which answers its count;
//   wsDown:  a plain WebSocket to the same host reads size bytes;
//   wsUp:    a plain WebSocket writes size bytes, and the server answers its count;
//   tlsEcho: a TCPSocket with TLS echoes a quarter of size (Go's crypto/tls
//            in wasm, both ways); bytes is what came back;
//   sendCost: times small ws.send calls during a download (SENDCOST=1).
import { load, TCPSocket } from "/js/index.js";

async function stats() {
  return (await load()).stats();
}

// readAll reads reader to its end, or until it has n bytes, and returns
// how many it read.
async function readAll(reader, n = Infinity) {
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) break;
    got += value.length;
  }
  return got;
}

// readN reads exactly n bytes.
export async function readN(reader, n) {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended after ${got} of ${n} bytes`);
    const take = Math.min(value.length, n - got);
    out.set(value.subarray(0, take), got);
    got += take;
    if (take < value.length) throw new Error("read past the end of what was expected");
  }
  return out;
}

// writeAll writes size bytes in 64 KiB chunks, as fast as writer takes them.
async function writeAll(writer, size) {
  const chunk = new Uint8Array(64 << 10);
  for (let sent = 0; sent < size; sent += chunk.length) {
    await writer.ready;
    writer.write(chunk);
  }
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
  const bytes = await readAll(reader);
  const ms = performance.now() - t0;
  await writer.close();
  reader.releaseLock();
  writer.releaseLock();
  await socket.closed;
  return { bytes, ms, stats: await stats() };
}

export async function tcpUp({ host, sinkPort, size }) {
  const socket = new TCPSocket(host, sinkPort);
  const { readable, writable } = await socket.opened;
  const writer = writable.getWriter();
  const t0 = performance.now();
  await writeAll(writer, size);
  await writer.close();
  // The sink answers the count it read, as 8 bytes, once the writes end.
  const reader = readable.getReader();
  const answer = await readN(reader, 8);
  const ms = performance.now() - t0;
  await reader.read(); // the end, so that the socket closes
  reader.releaseLock();
  writer.releaseLock();
  await socket.closed;
  return { bytes: Number(new DataView(answer.buffer).getBigUint64(0)), ms, stats: await stats() };
}

export async function wsDown({ wsURL, size }) {
  const ws = new WebSocket(`${wsURL}/source?n=${size}`);
  ws.binaryType = "arraybuffer";
  const t0 = performance.now();
  const bytes = await new Promise((resolve, reject) => {
    let n = 0;
    ws.onmessage = (ev) => {
      n += ev.data.byteLength;
      if (n >= size) resolve(n);
    };
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  const ms = performance.now() - t0;
  ws.close();
  return { bytes, ms };
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
    ws.onmessage = (ev) => resolve(Number(ev.data)); // a text message
  });
  for (let sent = 0; sent < size; sent += chunk.length) {
    while (ws.bufferedAmount > 4 << 20) await new Promise((r) => setTimeout(r, 1));
    ws.send(chunk);
  }
  const bytes = await answered;
  const ms = performance.now() - t0;
  ws.close();
  return { bytes, ms };
}

export async function tlsEcho({ host, tlsPort, ca, serverName, size }) {
  const total = size / 4;
  const socket = new TCPSocket(host, tlsPort, { secureTransport: "on", expectedServerHostname: serverName, caCerts: ca });
  const { readable, writable } = await socket.opened;
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const t0 = performance.now();
  const reading = readAll(reader, total);
  await writeAll(writer, total);
  const bytes = await reading;
  const ms = performance.now() - t0;
  await writer.close();
  await reader.read(); // the end, so that the socket closes
  reader.releaseLock();
  writer.releaseLock();
  await socket.closed;
  return { bytes, ms, stats: await stats() };
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
