// sockets.js: TCPSocket, UDPSocket and TCPServerSocket, shaped like the
// Direct Sockets API that Chrome gives Isolated Web Apps, running in any
// browser through wasmnet. TLS is the one addition, shaped like
// Cloudflare's connect(): secureTransport and startTls(). See README.md
// for where they depart from Direct Sockets.
//
//   import { TCPSocket } from "./sockets.js";
//   const socket = new TCPSocket("example.com", 7);
//   const { readable, writable } = await socket.opened;
import { load } from "./wasmnet.js";

// adopt is the option that hands a TCPSocket a raw socket promise instead
// of dialing: the TLS socket of a startTls, or a connection accepted by a
// TCPServerSocket.
const adopt = Symbol("adopt");

const transports = ["off", "on", "starttls"];

// The names of named endpoints on the bridge (wasmnet.EndpointSuffix).
const endpointSuffix = ".wasmnet.internal";

// Lifecycle is what the three classes share: the opened and closed
// promises, the state (opening, open, closed), and closing the runtime's
// socket once each of the socket's streams is done.
class Lifecycle {
  state = "opening";
  raw = null; // the runtime's socket, once open
  opened;
  closed;
  #resolve;
  #reject;
  #pending; // the streams not yet done
  #error = null; // the first stream's error

  /**
   * @param {Promise<any>} raw the runtime's socket, to come
   * @param {(raw: any) => any} open makes the open info once it has come
   * @param {string[]} streams the streams that must end before it closes
   */
  constructor(raw, open, streams) {
    this.#pending = new Set(streams);
    this.closed = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.closed.catch(() => {}); // like Direct Sockets: no unhandled rejection if unobserved
    this.opened = raw.then(
      (r) => {
        this.raw = r;
        this.state = "open";
        return open(r);
      },
      (err) => {
        this.state = "closed";
        this.#pending.clear();
        this.#reject(err);
        throw err;
      },
    );
  }

  // close does close() as Chromium's Direct Sockets do: it rejects while
  // opening or while a stream is locked; it cancels the readable and
  // aborts the writable, if any; and it returns closed, which is all it
  // does once the socket is not open (closed, or failed to open).
  close(what, holders, readable, writable) {
    if (this.state === "opening") {
      return Promise.reject(new DOMException(`wasmnet: the ${what} is not open yet`, "InvalidStateError"));
    }
    if (this.state === "closed") return this.closed;
    if (readable.locked || writable?.locked) {
      return Promise.reject(new DOMException(`wasmnet: release the ${what}'s ${holders} before close()`, "InvalidStateError"));
    }
    readable.cancel().catch(() => {});
    writable?.abort().catch(() => {});
    return this.closed;
  }

  // done reports whether the stream has ended.
  done(stream) {
    return !this.#pending.has(stream);
  }

  // end marks a stream ended, with the error that ended it or null. Once
  // all have, it closes the runtime's socket and settles closed: rejected
  // with the first error.
  end(stream, err) {
    if (!this.#pending.delete(stream)) return;
    this.#error ??= err;
    if (this.#pending.size > 0) return;
    this.state = "closed";
    const error = this.#error;
    this.raw.close().then(
      () => (error ? this.#reject(error) : this.#resolve()),
      (e) => this.#reject(error ?? e),
    );
  }

  // giveUp ends every stream and resolves closed, leaving the runtime's
  // socket open for whoever took it over.
  giveUp() {
    this.#pending.clear();
    this.state = "closed";
    this.#resolve();
  }
}

/** A TCP connection through the wasmnet bridge. */
export class TCPSocket {
  #remoteAddress;
  #remotePort;
  #options;
  #life;
  #raw = null; // the runtime's socket, once open
  #readable = null;
  #writable = null;
  #readableController = null;
  #take = null; // takes what Go pushes (see #deliver); held here, for Go holds it weakly
  #paused = true; // Go waits for resume() before it reads on
  #handedOff = false; // the data skips Go (see raw.pipe); we count what the page reads
  #highWater = 1; // the readable's high-water mark, in bytes
  #enqueued = 0; // bytes enqueued on the readable
  #counted = 0; // bytes the page has read, as told to raw.consumed
  #writableController = null;
  #lastWrite = Promise.resolve(); // the write Go is taking now
  #upgraded = false; // startTls took the stream over

  /**
   * @param {string} remoteAddress a host name or an IP address
   * @param {number} remotePort
   * @param {import("./sockets.js").TCPSocketOptions} [options]
   */
  constructor(remoteAddress, remotePort, options = {}) {
    remoteAddress = String(remoteAddress);
    options = { ...options };
    // An adopted socket is open already; its peer's port is what it is.
    remotePort = options[adopt] ? Number(remotePort) : checkPort("the port", remotePort);
    const { keepAliveDelay, receiveBufferSize, dnsQueryType } = options;
    options.secureTransport ??= "off";
    if (keepAliveDelay !== undefined && !(keepAliveDelay >= 1000)) {
      throw new TypeError("wasmnet: keepAliveDelay must be at least 1000 (milliseconds)");
    }
    checkBufferSizes(options);
    checkDnsQueryType(dnsQueryType);
    if (!transports.includes(options.secureTransport)) {
      throw new TypeError(`wasmnet: secureTransport must be one of ${transports.join(", ")}`);
    }
    this.#remoteAddress = remoteAddress;
    this.#remotePort = remotePort;
    this.#options = options;

    const raw =
      options[adopt] ??
      load().then((runtime) =>
        runtime.dial(remoteAddress, remotePort, {
          receiveBufferSize,
          tls: options.secureTransport === "on" ? this.#tls(options) : undefined,
        }),
      );
    this.#life = new Lifecycle(raw, (r) => this.#open(r), ["read", "write"]);
  }

  /** Resolves once connected (and, with TLS, once the handshake is done). */
  get opened() {
    return this.#life.opened;
  }

  /** Settles once both streams are done: rejects with the first error. */
  get closed() {
    return this.#life.closed;
  }

  /**
   * Closes both streams, as Direct Sockets does: it rejects while the
   * socket is opening, or while a reader or writer holds a stream. Once
   * the socket is closed, or failed to open, it returns closed.
   */
  close() {
    return this.#life.close("socket", "reader and writer", this.#readable, this.#writable);
  }

  /**
   * Starts TLS on a socket made with secureTransport: "starttls", as
   * Cloudflare's startTls() does: it returns a new socket, whose opened
   * resolves once the handshake is done, and this socket gives its
   * streams up (its readable ends, its writable errors, its closed
   * resolves). Data queued on the writable is sent first.
   * @param {{ expectedServerHostname?: string }} [options]
   */
  startTls(options = {}) {
    if (this.#options.secureTransport !== "starttls") {
      throw new TypeError('wasmnet: startTls() needs a socket made with secureTransport: "starttls"');
    }
    if (this.#upgraded) throw new TypeError("wasmnet: startTls() can only be called once");
    if (this.#life.state === "closed") throw new DOMException("wasmnet: the socket is closed", "InvalidStateError");
    this.#upgraded = true;
    const serverName = options.expectedServerHostname ?? this.#options.expectedServerHostname;
    const tls = this.#tls({ ...this.#options, expectedServerHostname: serverName });
    const raw = this.#life.opened.then(async () => {
      await this.#flush();
      const old = this.#raw;
      this.#giveUp();
      return old.startTls(tls);
    });
    return new TCPSocket(this.#remoteAddress, this.#remotePort, {
      ...this.#options,
      secureTransport: "on",
      [adopt]: raw,
    });
  }

  // #tls is what Go needs for a handshake.
  #tls(options) {
    return {
      serverName: options.expectedServerHostname ?? this.#remoteAddress,
      caCerts: [options.caCerts ?? []].flat().join("\n") || undefined,
    };
  }

  #open(raw) {
    this.#raw = raw;
    this.#take = (chunk) => this.#deliver(chunk);
    // Writes skip Go too, unless startTls() may need the stream for TLS.
    const handedOff = raw.pipe(this.#take, { writes: this.#options.secureTransport === "off" });
    // Go pushes what it reads (#deliver) for as long as the stream wants
    // more, and waits for pull() when it does not. With a high-water mark
    // of one byte, Go reads at most one chunk ahead of the page: a page
    // that stops reading stops the bridge, by the stream's receive window,
    // and memory stays bounded. A stream handed to JavaScript gets its
    // data straight from the WebSocket, and the window is granted as the
    // page reads: its readable holds the window, which bounds it.
    this.#handedOff = Boolean(handedOff);
    this.#highWater = handedOff ? handedOff.window : 1;
    this.#readable = new ReadableStream(
      {
        type: "bytes",
        start: (c) => {
          this.#readableController = c;
        },
        pull: () => this.#pull(),
        cancel: () => this.#life.end("read", null),
      },
      { highWaterMark: this.#highWater },
    );
    if (handedOff?.data) this.#deliver(handedOff.data);
    const size = this.#options.sendBufferSize;
    this.#writable = new WritableStream(
      {
        start: (c) => {
          this.#writableController = c;
        },
        write: (chunk) => (this.#lastWrite = this.#write(chunk)),
        close: () => this.#endWrites(),
        abort: () => this.#endWrites(),
      },
      size ? new ByteLengthQueuingStrategy({ highWaterMark: size }) : undefined,
    );
    const info = {
      readable: this.#readable,
      writable: this.#writable,
      remoteAddress: raw.remoteAddress,
      remotePort: raw.remotePort,
      localAddress: raw.localAddress,
      localPort: raw.localPort,
    };
    if (raw.tls) info.tls = raw.tls;
    return info;
  }

  #pull() {
    if (this.#life.done("read")) return;
    if (this.#handedOff) {
      this.#count();
    } else if (this.#paused) {
      this.#paused = false;
      this.#raw.resume();
    }
  }

  // #count tells the runtime how much more the page has read: what was
  // enqueued less what the readable still holds.
  #count() {
    const read = this.#enqueued - (this.#highWater - this.#readableController.desiredSize);
    if (read > this.#counted) {
      this.#raw.consumed(read - this.#counted);
      this.#counted = read;
    }
  }

  // #deliver takes what Go read: a Uint8Array, null at the end, or the
  // exception that ended the stream. It returns whether Go should read on.
  #deliver(chunk) {
    if (this.#life.done("read")) return false; // cancelled, or given up to startTls
    const controller = this.#readableController;
    if (chunk instanceof Uint8Array) {
      this.#enqueued += chunk.byteLength;
      controller.enqueue(chunk); // which may call pull()
      if (this.#handedOff) {
        this.#count();
        return true;
      }
      this.#paused = !(controller.desiredSize > 0);
      return !this.#paused;
    }
    if (chunk === null) {
      controller.close();
      controller.byobRequest?.respond(0);
      this.#life.end("read", null);
      return false;
    }
    // A stream that fails to read is broken both ways.
    controller.error(chunk);
    this.#life.end("read", chunk);
    if (!this.#life.done("write")) {
      this.#writableController.error(chunk);
      this.#life.end("write", chunk);
    }
    return false;
  }

  async #write(chunk) {
    if (!(chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk))) {
      // The rejection errors the writable: it is done.
      const err = new TypeError("wasmnet: write BufferSource chunks (an ArrayBuffer or a typed array); encode text with TextEncoder");
      this.#life.end("write", err);
      throw err;
    }
    try {
      await this.#raw.write(chunk);
    } catch (err) {
      this.#life.end("write", err);
      throw err;
    }
  }

  // #endWrites half-closes: the remote end reads EOF, reading goes on.
  async #endWrites() {
    if (this.#upgraded) return; // startTls flushing: the stream lives on
    try {
      await this.#raw.closeWrite();
    } catch {
      // The socket failed or was closed: either way, no more writes.
    }
    this.#life.end("write", null);
  }

  // #flush waits for what the writable holds to reach Go: writes run in
  // order, so an empty write resolves after every queued one. If the page
  // holds a writer, only the write in progress can be waited for.
  async #flush() {
    if (this.#life.done("write")) return;
    if (!this.#writable.locked) {
      const writer = this.#writable.getWriter();
      await writer.write(new Uint8Array(0)).catch(() => {});
      writer.releaseLock();
    } else {
      await this.#lastWrite.catch(() => {});
    }
  }

  // #giveUp detaches the streams for startTls: the stream now belongs to
  // the TLS socket.
  #giveUp() {
    this.#life.giveUp();
    try {
      this.#readableController.close();
      this.#readableController.byobRequest?.respond(0);
    } catch {
      // Already closed, cancelled or errored.
    }
    this.#writableController.error(
      new DOMException("wasmnet: startTls() took this socket over; write to the socket it returned", "InvalidStateError"),
    );
  }
}


/**
 * A UDP socket through the wasmnet bridge, in either mode of Direct
 * Sockets: connected, to one remoteAddress and remotePort, or bound, where
 * each message names its peer. A bound socket hears only from the
 * addresses it has sent to (see README.md).
 */
export class UDPSocket {
  #bound; // bound mode: messages carry their peer's address
  #options;
  #life;
  #raw = null; // the runtime's socket, once open
  #readable = null;
  #writable = null;
  #readableController = null;
  #writableController = null;

  /** @param {import("./sockets.js").UDPSocketOptions} options */
  constructor(options = {}) {
    options = { ...options };
    const { remoteAddress, remotePort, localAddress, localPort, dnsQueryType, ipv6Only, receiveBufferSize } = options;
    for (const name of ["multicastTimeToLive", "multicastLoopback", "multicastAllowAddressSharing"]) {
      if (options[name] !== undefined) {
        throw new DOMException(`wasmnet: ${name}: multicast does not pass through the bridge`, "NotAllowedError");
      }
    }
    if ((remoteAddress === undefined) !== (remotePort === undefined)) {
      throw new TypeError("wasmnet: give both remoteAddress and remotePort (connected mode), or neither");
    }
    const connected = remoteAddress !== undefined;
    if (localPort !== undefined && localAddress === undefined) {
      throw new TypeError("wasmnet: localPort needs localAddress");
    }
    if (localAddress !== undefined) {
      if (connected) {
        throw new TypeError("wasmnet: a UDPSocket is connected (remoteAddress) or bound (localAddress), not both");
      }
      if (!isIP(String(localAddress))) throw new TypeError(`wasmnet: localAddress must be an IP address, not ${localAddress}`);
    } else if (!connected) {
      throw new TypeError("wasmnet: give remoteAddress and remotePort (connected mode) or localAddress (bound mode)");
    }
    if (connected) {
      options.remoteAddress = String(remoteAddress);
      options.remotePort = checkPort("remotePort", remotePort);
    }
    if (localPort !== undefined) options.localPort = checkPort("localPort", localPort);
    if (dnsQueryType !== undefined && !connected) {
      throw new TypeError("wasmnet: dnsQueryType is for connected mode; a bound socket takes it in each message");
    }
    checkDnsQueryType(dnsQueryType);
    if (ipv6Only !== undefined && (connected || localAddress !== "::")) {
      throw new TypeError('wasmnet: ipv6Only is for bound mode, with localAddress "::"');
    }
    checkBufferSizes(options);
    this.#bound = !connected;
    this.#options = options;

    const raw = load().then((runtime) => {
      if (connected) return runtime.dialUdp(options.remoteAddress, options.remotePort, { receiveBufferSize });
      if (localPort !== undefined) {
        // The bridge opens a socket per peer, each on a port it picks:
        // there is no one port to bind, and a program that waits on one
        // would wait for ever.
        throw new DOMException(
          "wasmnet: a bound UDPSocket cannot choose its local port: the bridge opens a socket for each peer, on a port of its choosing; leave localPort out",
          "NotSupportedError",
        );
      }
      return runtime.listenPacket({ receiveBufferSize });
    });
    this.#life = new Lifecycle(raw, (r) => this.#open(r), ["read", "write"]);
  }

  /** Resolves once the socket is open. */
  get opened() {
    return this.#life.opened;
  }

  /** Settles once both streams are done: rejects with the first error. */
  get closed() {
    return this.#life.closed;
  }

  /**
   * Closes both streams, as Direct Sockets does: it rejects while the
   * socket is opening, or while a reader or writer holds a stream. Once
   * the socket is closed, or failed to open, it returns closed.
   */
  close() {
    return this.#life.close("socket", "reader and writer", this.#readable, this.#writable);
  }

  #open(raw) {
    this.#raw = raw;
    this.#readable = new ReadableStream(
      {
        start: (c) => {
          this.#readableController = c;
        },
        // A datagram is taken from Go only when the page reads: those it
        // does not read wait in Go, bounded by the receive window, past
        // which the bridge drops them, as a full socket buffer would.
        pull: (c) => this.#pull(c),
        cancel: () => this.#life.end("read", null),
      },
      { highWaterMark: 0 },
    );
    const size = this.#options.sendBufferSize;
    this.#writable = new WritableStream(
      {
        start: (c) => {
          this.#writableController = c;
        },
        write: (message) => this.#write(message),
        // UDP has no half-close: closing the writable only ends writing.
        close: () => this.#life.end("write", null),
        abort: () => this.#life.end("write", null),
      },
      size ? { highWaterMark: size, size: (m) => m?.data?.byteLength ?? 0 } : undefined,
    );
    const info = { readable: this.#readable, writable: this.#writable };
    if (!this.#bound) {
      info.remoteAddress = raw.remoteAddress;
      info.remotePort = raw.remotePort;
    }
    info.localAddress = raw.localAddress;
    info.localPort = raw.localPort;
    return info;
  }

  async #pull(controller) {
    let message;
    try {
      if (this.#bound) {
        message = await this.#raw.readFrom();
      } else {
        const data = await this.#raw.read();
        message = data && { data };
      }
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (this.#life.done("read")) return; // cancelled while Go was reading
    if (!message) {
      controller.close();
      this.#life.end("read", null);
      return;
    }
    controller.enqueue(message);
  }

  async #write(message) {
    try {
      const { data, remoteAddress, remotePort, dnsQueryType } = this.#message(message);
      if (this.#bound) {
        await this.#raw.writeTo(data, remoteAddress, remotePort, dnsQueryType ? { dnsQueryType } : undefined);
      } else {
        await this.#raw.write(data);
      }
    } catch (err) {
      // The rejection errors the writable: it is done.
      this.#life.end("write", err);
      throw err;
    }
  }

  // #message checks a chunk of the writable as Direct Sockets does.
  #message(message) {
    if (message === null || typeof message !== "object") {
      throw new TypeError("wasmnet: write UDPMessage chunks: { data }, and remoteAddress and remotePort in bound mode");
    }
    const { data, remoteAddress, remotePort, dnsQueryType } = message;
    if (!(data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
      throw new TypeError("wasmnet: a UDPMessage's data must be a BufferSource (an ArrayBuffer or a typed array); encode text with TextEncoder");
    }
    if (!this.#bound) {
      if (remoteAddress !== undefined || remotePort !== undefined || dnsQueryType !== undefined) {
        throw new TypeError("wasmnet: a connected UDPSocket sends to its own remote address: leave remoteAddress, remotePort and dnsQueryType out");
      }
      return { data };
    }
    if (remoteAddress === undefined || remotePort === undefined) {
      throw new TypeError("wasmnet: a bound UDPSocket needs remoteAddress and remotePort in each message");
    }
    checkDnsQueryType(dnsQueryType);
    return { data, remoteAddress: String(remoteAddress), remotePort: checkPort("remotePort", remotePort), dnsQueryType };
  }

  // #fail: a socket that fails to read is broken both ways.
  #fail(err) {
    if (!this.#life.done("read")) {
      this.#readableController.error(err);
      this.#life.end("read", err);
    }
    if (!this.#life.done("write")) {
      this.#writableController.error(err);
      this.#life.end("write", err);
    }
  }
}

/**
 * A TCP listener through the wasmnet bridge: a public port of the bridge
 * host, from the range its operator opened, or a named endpoint under
 * .wasmnet.internal that other pages reach with a TCPSocket. Its readable
 * yields a TCPSocket, already open, for each connection.
 */
export class TCPServerSocket {
  #life;
  #raw = null; // the runtime's listener, once open
  #readable = null;

  /**
   * @param {string} localAddress an IP address for a public port of the
   *   bridge (which binds its own address whatever it is), or a name
   *   under .wasmnet.internal for a named endpoint
   * @param {import("./sockets.js").TCPServerSocketOptions} [options]
   */
  constructor(localAddress, options = {}) {
    localAddress = String(localAddress);
    const { localPort, backlog, ipv6Only } = options ?? {};
    const endpoint = isEndpoint(localAddress);
    if (!endpoint && !isIP(localAddress)) {
      throw new TypeError(
        `wasmnet: localAddress must be an IP address, or a name under ${endpointSuffix.slice(1)} for a named endpoint, not ${localAddress}`,
      );
    }
    const port = localPort === undefined ? 0 : checkPort("localPort", localPort);
    if (endpoint && port === 0) throw new TypeError("wasmnet: a named endpoint needs a localPort");
    if (backlog !== undefined && !(Number.isInteger(backlog) && backlog > 0 && backlog <= 0xffffffff)) {
      throw new TypeError("wasmnet: backlog must be a positive integer");
    }
    if (ipv6Only && localAddress !== "::") throw new TypeError('wasmnet: ipv6Only needs localAddress "::"');

    const raw = load().then((runtime) => runtime.listen(localAddress, port));
    this.#life = new Lifecycle(raw, (r) => this.#open(r), ["accept"]);
  }

  /** Resolves once the bridge listens. */
  get opened() {
    return this.#life.opened;
  }

  /** Resolves once the listener is closed; rejects if accepting failed. */
  get closed() {
    return this.#life.closed;
  }

  /**
   * Stops listening: the bridge frees the port or name at once, and
   * closed resolves once it has been told. Sockets already accepted stay
   * open. As in Direct Sockets, it rejects while opening, or while a
   * reader holds the readable; once closed, or failed to open, it returns
   * closed.
   */
  close() {
    return this.#life.close("server socket", "reader", this.#readable);
  }

  #open(raw) {
    this.#raw = raw;
    this.#readable = new ReadableStream(
      {
        // A connection is taken from Go only when the page reads; the
        // others wait in Go's backlog (64), past which the bridge
        // refuses them.
        pull: (c) => this.#accept(c),
        cancel: () => this.#life.end("accept", null),
      },
      { highWaterMark: 0 },
    );
    return { readable: this.#readable, localAddress: raw.localAddress, localPort: raw.localPort };
  }

  async #accept(controller) {
    let raw;
    try {
      raw = await this.#raw.accept();
    } catch (err) {
      if (!this.#life.done("accept")) {
        controller.error(err);
        this.#life.end("accept", err);
      }
      return;
    }
    if (this.#life.done("accept")) {
      raw?.close().catch(() => {}); // closed while Go was accepting
      return;
    }
    if (raw === null) {
      controller.close();
      this.#life.end("accept", null);
      return;
    }
    controller.enqueue(new TCPSocket(raw.remoteAddress, raw.remotePort, { [adopt]: Promise.resolve(raw) }));
  }
}

/**
 * Makes TCPSocket, UDPSocket and TCPServerSocket globals, each unless the
 * browser has its own (Direct Sockets in an Isolated Web App), and returns
 * the three in effect.
 */
export function install() {
  globalThis.TCPSocket ??= TCPSocket;
  globalThis.UDPSocket ??= UDPSocket;
  globalThis.TCPServerSocket ??= TCPServerSocket;
  const { TCPSocket: tcp, UDPSocket: udp, TCPServerSocket: server } = globalThis;
  return { TCPSocket: tcp, UDPSocket: udp, TCPServerSocket: server };
}

// checkPort returns v as a port number, 1 to 65535, or throws. Direct
// Sockets' WebIDL would wrap a number out of range modulo 2^16 instead.
function checkPort(name, v) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new TypeError(`wasmnet: ${name} must be an integer from 1 to 65535, not ${v}`);
  }
  return n;
}

function checkBufferSizes({ sendBufferSize, receiveBufferSize }) {
  for (const [name, v] of [["sendBufferSize", sendBufferSize], ["receiveBufferSize", receiveBufferSize]]) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0 && v <= 0xffffffff)) {
      throw new TypeError(`wasmnet: ${name} must be a positive number of bytes`);
    }
  }
}

function checkDnsQueryType(v) {
  if (v !== undefined && v !== "ipv4" && v !== "ipv6") {
    throw new TypeError(`wasmnet: dnsQueryType must be "ipv4" or "ipv6"`);
  }
}

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

// isIP reports whether s is an IPv4 address in dotted form or an IPv6
// address; the URL parser knows the IPv6 forms.
function isIP(s) {
  if (ipv4.test(s)) return true;
  if (!s.includes(":")) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

// isEndpoint reports whether s names an endpoint on the bridge.
function isEndpoint(s) {
  const name = s.toLowerCase().replace(/\.$/, "");
  return name.endsWith(endpointSuffix) && name.length > endpointSuffix.length;
}
