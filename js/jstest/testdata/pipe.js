// pipe.js: checks of RawSocket.pipe that TCPSocket does not reach, run on
// the page by pipe_test.go.
import { load } from "/js/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

// afterData writes through Go before the socket is piped, so that the echo
// is in Go when pipe() hands the stream to JavaScript: it must come first.
// Then it writes through the handed-over writes, in pieces larger than a
// packet, half-closes, and reads to the end.
export async function afterData({ host, echoPort }) {
  const runtime = await load();
  const raw = await runtime.dial(host, echoPort);
  await raw.write(enc.encode("before the pipe\n"));
  const deadline = performance.now() + 5000;
  while ((await runtime.stats()).recvBuffered < 16 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const heldByGo = (await runtime.stats()).recvBuffered;
  const chunks = [];
  let end;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const take = (chunk) => {
    if (chunk instanceof Uint8Array) {
      chunks.push(chunk.slice());
      raw.consumed(chunk.byteLength);
      return true;
    }
    end = chunk === null ? null : `${chunk.name}: ${chunk.message}`;
    done();
    return false;
  };
  const handedOff = raw.pipe(take, { writes: true });
  if (handedOff?.data) take(handedOff.data);
  const big = new Uint8Array(200000).map((_, i) => i % 251);
  await raw.write(big);
  await raw.write(enc.encode("after\n"));
  await raw.closeWrite();
  const afterClose = await raw.write(enc.encode("too late")).then(
    () => null,
    (err) => err.name,
  );
  await finished;
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((off, c) => (all.set(c, off), off + c.length), 0);
  const head = dec.decode(all.subarray(0, 16));
  let bigOK = all.length === 16 + big.length + 6;
  for (let i = 0; bigOK && i < big.length; i++) bigOK = all[16 + i] === big[i];
  const tail = dec.decode(all.subarray(16 + big.length));
  const stats = await runtime.stats();
  await raw.close();
  return { heldByGo, handedOff: Boolean(handedOff), window: handedOff?.window ?? 0, head, bigOK, tail, end, afterClose, recvBuffered: stats.recvBuffered };
}

// writesThenTls hands a stream's reading and writing to the page, writes
// the STARTTLS line through the page's writes, reads the answer through
// the pipe, then starts TLS, which gives the stream and the page's credit
// back to Go (takeBack), and echoes 300000 bytes through Go's TLS.
export async function writesThenTls({ host, starttlsPort, ca, serverName }) {
  const runtime = await load();
  const raw = await runtime.dial(host, starttlsPort);
  let greeting = "";
  let answered;
  const answer = new Promise((resolve) => (answered = resolve));
  const take = (chunk) => {
    if (!(chunk instanceof Uint8Array)) return false;
    greeting += dec.decode(chunk);
    raw.consumed(chunk.byteLength);
    if (greeting.endsWith("\n")) answered();
    return true;
  };
  const handedOff = raw.pipe(take, { writes: true });
  await raw.write(enc.encode("STARTTLS\n"));
  await answer;
  const tls = await raw.startTls({ serverName, caCerts: ca });
  const big = new Uint8Array(300000).map((_, i) => (i * 7) % 251);
  const writing = tls.write(big).then(() => tls.closeWrite());
  let echoed = 0;
  let intact = true;
  for (;;) {
    const chunk = await tls.read();
    if (chunk === null) break;
    for (let i = 0; intact && i < chunk.length; i++) intact = chunk[i] === big[echoed + i];
    echoed += chunk.length;
  }
  await writing;
  await tls.close();
  return { handedOff: Boolean(handedOff), greeting, echoed, intact };
}

// heldTail writes through the handed-over writes in pieces that end in
// part of a packet, which the runtime holds for a next write that does not
// come: each piece must still be echoed whole, the held end sent by a task
// of its own, before anything else is written.
export async function heldTail({ host, echoPort }) {
  const runtime = await load();
  const raw = await runtime.dial(host, echoPort);
  let got = [];
  let want = 0;
  let arrived;
  const take = (chunk) => {
    if (!(chunk instanceof Uint8Array)) return false;
    got.push(chunk.slice());
    raw.consumed(chunk.byteLength);
    want -= chunk.byteLength;
    if (want <= 0) arrived();
    return true;
  };
  const handedOff = raw.pipe(take, { writes: true });
  const echoed = [];
  for (const size of [100000, 2 * 65531 + 7, 1]) {
    const piece = new Uint8Array(size).map((_, i) => (i * 13 + size) % 251);
    const back = new Promise((resolve) => (arrived = resolve));
    want = size;
    got = [];
    await raw.write(piece);
    // Not a timing: a bound on a wait that fails if the held part never goes.
    await Promise.race([back, new Promise((r) => setTimeout(r, 10000))]);
    const all = new Uint8Array(got.reduce((n, c) => n + c.length, 0));
    got.reduce((off, c) => (all.set(c, off), off + c.length), 0);
    echoed.push({ size, echoed: all.length, intact: all.length === size && all.every((v, i) => v === piece[i]) });
    if (all.length < size) break;
  }
  // A burst of writes of every size, from views at every kind of offset,
  // each resolved before the next as a WritableStream's sink does: the held
  // part of one packet is moved into line with the next write's bytes
  // where it is the smaller (Claim.place), and stays put where it is not.
  const source = new Uint8Array(1 << 20).map((_, i) => (i * 31 + 7) % 253);
  const cuts = [70000, 3, 65531, 4097, 100, 200000, 1, 65530, 9, 4096, 131072, 77];
  const offsets = [1, 4095, 0, 5, 8, 4101, 13, 64, 2, 4096, 3, 31];
  const total = cuts.reduce((n, c) => n + c, 0);
  const back = new Promise((resolve) => (arrived = resolve));
  want = total;
  got = [];
  const sent = new Uint8Array(total);
  let at = 0;
  for (const [i, n] of cuts.entries()) {
    const view = source.subarray(offsets[i], offsets[i] + n);
    sent.set(view, at);
    at += n;
    await raw.write(view);
  }
  await Promise.race([back, new Promise((r) => setTimeout(r, 10000))]);
  const all = new Uint8Array(got.reduce((n, c) => n + c.length, 0));
  got.reduce((off, c) => (all.set(c, off), off + c.length), 0);
  echoed.push({ size: total, echoed: all.length, intact: all.length === total && all.every((v, i) => v === sent[i]) });
  await raw.closeWrite();
  await raw.close();
  return { handedOff: Boolean(handedOff), echoed };
}
