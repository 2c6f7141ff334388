// sockets.js: TCPSocket, shaped like the Direct Sockets API that Chrome
// gives Isolated Web Apps, running in any browser through wasmnet. TLS is
// the one addition, shaped like Cloudflare's connect(): secureTransport
// and startTls(). See README.md for where it departs from Direct Sockets.
//
//   import { TCPSocket } from "./sockets.js";
//   const socket = new TCPSocket("example.com", 7);
//   const { readable, writable } = await socket.opened;
import { load } from "./wasmnet.js";

const upgrade = Symbol("upgrade"); // the raw socket promise of a startTls

const transports = ["off", "on", "starttls"];

/** A TCP connection through the wasmnet bridge. */
export class TCPSocket {
  #remoteAddress;
  #remotePort;
  #options;
  #raw = null; // the runtime's socket, once open
  #state = "opening"; // opening, open, closed (or failed)
  #opened;
  #closed;
  #resolveClosed;
  #rejectClosed;
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
  #readDone = false; // the readable is closed, cancelled or errored
  #writeDone = false; // likewise the writable
  #readError = null;
  #writeError = null;
  #lastWrite = Promise.resolve(); // the write Go is taking now
  #upgraded = false; // startTls took the stream over

  /**
   * @param {string} remoteAddress a host name or an IP address
   * @param {number} remotePort
   * @param {import("./sockets.js").TCPSocketOptions} [options]
   */
  constructor(remoteAddress, remotePort, options = {}) {
    remoteAddress = String(remoteAddress);
    remotePort = Number(remotePort);
    if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535) {
      throw new TypeError(`wasmnet: the port must be an integer from 1 to 65535, not ${remotePort}`);
    }
    options = { ...options };
    const { keepAliveDelay, sendBufferSize, receiveBufferSize, dnsQueryType } = options;
    options.secureTransport ??= "off";
    if (keepAliveDelay !== undefined && !(keepAliveDelay >= 1000)) {
      throw new TypeError("wasmnet: keepAliveDelay must be at least 1000 (milliseconds)");
    }
    for (const [name, v] of [["sendBufferSize", sendBufferSize], ["receiveBufferSize", receiveBufferSize]]) {
      if (v !== undefined && !(Number.isInteger(v) && v > 0 && v <= 0xffffffff)) {
        throw new TypeError(`wasmnet: ${name} must be a positive number of bytes`);
      }
    }
    if (dnsQueryType !== undefined && dnsQueryType !== "ipv4" && dnsQueryType !== "ipv6") {
      throw new TypeError(`wasmnet: dnsQueryType must be "ipv4" or "ipv6"`);
    }
    if (!transports.includes(options.secureTransport)) {
      throw new TypeError(`wasmnet: secureTransport must be one of ${transports.join(", ")}`);
    }
    this.#remoteAddress = remoteAddress;
    this.#remotePort = remotePort;
    this.#options = options;

    this.#closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    this.#closed.catch(() => {}); // like Direct Sockets: no unhandled rejection if unobserved
    const raw =
      options[upgrade] ??
      load().then((runtime) =>
        runtime.dial(remoteAddress, remotePort, {
          receiveBufferSize,
          tls: options.secureTransport === "on" ? this.#tls(options) : undefined,
        }),
      );
    this.#opened = raw.then(
      (r) => this.#open(r),
      (err) => {
        this.#state = "closed";
        this.#rejectClosed(err);
        throw err;
      },
    );
  }

  /** Resolves once connected (and, with TLS, once the handshake is done). */
  get opened() {
    return this.#opened;
  }

  /** Settles once both streams are done: rejects if either errored. */
  get closed() {
    return this.#closed;
  }

  /**
   * Closes both streams, as Direct Sockets does: it rejects while the
   * socket is opening, or while a reader or writer holds a stream.
   */
  close() {
    if (this.#state === "opening") {
      return Promise.reject(new DOMException("wasmnet: the socket is not open yet", "InvalidStateError"));
    }
    if (this.#state === "closed" || !this.#raw) return this.#closed;
    if (this.#readable.locked || this.#writable.locked) {
      return Promise.reject(
        new DOMException("wasmnet: release the reader and the writer before close()", "InvalidStateError"),
      );
    }
    this.#readable.cancel().catch(() => {});
    this.#writable.abort().catch(() => {});
    return this.#closed;
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
    if (this.#state === "closed") throw new DOMException("wasmnet: the socket is closed", "InvalidStateError");
    this.#upgraded = true;
    const serverName = options.expectedServerHostname ?? this.#options.expectedServerHostname;
    const tls = this.#tls({ ...this.#options, expectedServerHostname: serverName });
    const raw = this.#opened.then(async () => {
      await this.#flush();
      const old = this.#raw;
      this.#giveUp();
      return old.startTls(tls);
    });
    return new TCPSocket(this.#remoteAddress, this.#remotePort, {
      ...this.#options,
      secureTransport: "on",
      [upgrade]: raw,
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
    this.#state = "open";
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
        cancel: () => this.#readFinished(null),
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
        close: () => this.#endWrites(null),
        abort: () => this.#endWrites(null),
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
    if (this.#readDone) return;
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
    if (this.#readDone) return false; // cancelled, or given up to startTls
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
      this.#readFinished(null);
      return false;
    }
    // A stream that fails to read is broken both ways.
    controller.error(chunk);
    this.#readFinished(chunk);
    if (!this.#writeDone) {
      this.#writableController.error(chunk);
      this.#writeFinished(chunk);
    }
    return false;
  }

  async #write(chunk) {
    if (!(chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk))) {
      // The rejection errors the writable: it is done.
      const err = new TypeError("wasmnet: write BufferSource chunks (an ArrayBuffer or a typed array); encode text with TextEncoder");
      this.#writeFinished(err);
      throw err;
    }
    try {
      await this.#raw.write(chunk);
    } catch (err) {
      this.#writeFinished(err);
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
    this.#writeFinished(null);
  }

  #readFinished(err) {
    if (this.#readDone) return;
    this.#readDone = true;
    this.#readError = err;
    this.#maybeClose();
  }

  #writeFinished(err) {
    if (this.#writeDone) return;
    this.#writeDone = true;
    this.#writeError = err;
    this.#maybeClose();
  }

  // #maybeClose closes the socket once both directions are done, and
  // settles closed: rejected if either stream errored.
  #maybeClose() {
    if (!this.#readDone || !this.#writeDone || this.#state === "closed") return;
    this.#state = "closed";
    const err = this.#readError ?? this.#writeError;
    this.#raw.close().then(
      () => (err ? this.#rejectClosed(err) : this.#resolveClosed()),
      (e) => this.#rejectClosed(err ?? e),
    );
  }

  // #flush waits for what the writable holds to reach Go: writes run in
  // order, so an empty write resolves after every queued one. If the page
  // holds a writer, only the write in progress can be waited for.
  async #flush() {
    if (this.#writeDone) return;
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
    this.#readDone = this.#writeDone = true;
    this.#state = "closed";
    try {
      this.#readableController.close();
      this.#readableController.byobRequest?.respond(0);
    } catch {
      // Already closed, cancelled or errored.
    }
    this.#writableController.error(
      new DOMException("wasmnet: startTls() took this socket over; write to the socket it returned", "InvalidStateError"),
    );
    this.#resolveClosed();
  }
}

/**
 * Makes TCPSocket a global, unless the browser has its own (Direct Sockets
 * in an Isolated Web App), and returns the one in effect.
 */
export function install() {
  globalThis.TCPSocket ??= TCPSocket;
  return globalThis.TCPSocket;
}
