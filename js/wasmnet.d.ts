// Types of wasmnet.js, the loader, and of what main.wasm registers on
// globalThis.wasmnet (GoRuntime; Go: wasm/internal/jsapi). A browser test
// (js/jstest) checks that these names match the running code.

/** Options of load(). */
export interface LoadOptions {
  /** URL of main.wasm. Default: main.wasm in the directory above this module. */
  wasm?: string | URL;
  /** The bridge's WebSocket URL; relative and http(s) URLs are resolved
   * against the page. Default: /wisp/ on the page's origin. */
  bridge?: string;
  /** A capability token for the bridge, sent as a WebSocket subprotocol. */
  token?: string;
  /** URL of the default root certificates (PEM), fetched the first time a
   * TLS handshake needs them. Default: roots.pem beside this module, which
   * "make wasm" writes (Mozilla's roots). An empty string trusts only the
   * caCerts each socket passes. */
  roots?: string | URL;
}

/** Options of Runtime.dial(). */
export interface DialOptions {
  /** Receive window of the stream, in bytes: how much the bridge may send
   * ahead of reads. Rounded up to a power of two from 16 KiB to 16 MiB;
   * 2 MiB by default; each distinct size has its own WebSocket to the
   * bridge. */
  receiveBufferSize?: number;
  /** Run TLS (crypto/tls, inside WebAssembly) before resolving. */
  tls?: TLSOptions;
}

/** TLS settings for dial() and startTls(). */
export interface TLSOptions {
  /** The name the server's certificate must be valid for. Default: the
   * host dialed. */
  serverName?: string;
  /** PEM certificates to trust besides the built-in roots. */
  caCerts?: string;
}

/** The TLS connection of a socket. */
export interface TLSInfo {
  /** "TLS 1.2" or "TLS 1.3". */
  version: string;
  /** Such as "TLS_AES_128_GCM_SHA256". */
  cipherSuite: string;
  serverName: string;
  /** The negotiated ALPN protocol, or "". */
  alpn: string;
}

/** A socket of the runtime: a TCP stream through the bridge. */
export interface RawSocket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Present when the socket runs TLS. */
  readonly tls?: TLSInfo;
  /** The next bytes, at most max (default 128 KiB), or null at the end. */
  read(max?: number): Promise<Uint8Array | null>;
  /** Has the runtime push the socket's bytes to take instead, once asked
   * with resume(): it reads what has arrived (at most 128 KiB at a time)
   * and calls take with it, and reads on for as long as take returns
   * true. take gets null at the end of the stream, or the exception that
   * ended it. The socket holds take only weakly: keep it alive.
   *
   * A plain TCP socket is handed over to JavaScript instead: its data goes
   * from the WebSocket to take without crossing into Go, pipe returns
   * what the socket held (data, to come first) and its receive window,
   * take's return value is ignored, and the caller must report what it
   * has read with consumed(), which grants the window back: nothing else
   * lets the bridge send more. With writes, write() sends on the
   * WebSocket directly too. */
  pipe(
    take: (chunk: Uint8Array | null | Error) => boolean,
    options?: { writes?: boolean },
  ): { window: number; data: Uint8Array | null } | null;
  /** Asks a piped socket for more, after take returned false. */
  resume(): void;
  /** Reports n more bytes read from a socket that pipe() handed over. */
  consumed(n: number): void;
  /** Resolves once the runtime has taken the bytes. */
  write(data: BufferSource): Promise<void>;
  /** Half-close: the peer reads EOF; reading goes on. */
  closeWrite(): Promise<void>;
  close(): Promise<void>;
  /** TLS over this socket's stream, in a new socket; this one gives the
   * stream up. */
  startTls(tls?: TLSOptions): Promise<RawSocket>;
}

/** Options of Runtime.dialUdp() and Runtime.listenPacket(). */
export interface UDPOptions {
  /** Receive window of each UDP stream, in bytes, as in DialOptions: past
   * it, the bridge drops datagrams the page has not read. */
  receiveBufferSize?: number;
}

/** A connected UDP socket of the runtime: a Wisp UDP stream. */
export interface RawUDPSocket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The next datagram, whole. */
  read(): Promise<Uint8Array<ArrayBuffer>>;
  /** Sends data as one datagram (at most 65507 bytes). */
  write(data: BufferSource): Promise<void>;
  close(): Promise<void>;
}

/** A datagram read by a bound UDP socket, and who sent it. */
export interface Datagram {
  data: Uint8Array<ArrayBuffer>;
  remoteAddress: string;
  remotePort: number;
}

/** Options of RawPacketSocket.writeTo(). */
export interface WriteToOptions {
  /** For a host name: the family of the address the bridge resolves. */
  dnsQueryType?: "ipv4" | "ipv6";
}

/** A bound UDP socket of the runtime (Go: wasmnet.PacketConn). It opens
 * a UDP stream, and the bridge a socket, per address it sends to, and
 * hears only from those. */
export interface RawPacketSocket {
  /** The unspecified address: each peer has its own socket on the bridge. */
  readonly localAddress: string;
  /** 0, for the same reason. */
  readonly localPort: number;
  /** The next datagram from any address sent to. */
  readFrom(): Promise<Datagram>;
  /** Sends data as one datagram to host:port; a host name is resolved by
   * the bridge on every call. */
  writeTo(data: BufferSource, host: string, port: number, options?: WriteToOptions): Promise<void>;
  close(): Promise<void>;
}

/** A TCP listener of the runtime on the bridge: a public port or a named
 * endpoint. */
export interface RawListener {
  /** Where clients reach it: the bridge host's address, or the endpoint's
   * name. */
  readonly localAddress: string;
  readonly localPort: number;
  /** The next connection, or null once the listener is closed. */
  accept(): Promise<RawSocket | null>;
  /** Stops listening; the bridge frees the port or name at once. */
  close(): Promise<void>;
}

/** What the runtime holds, for watching memory. */
export interface Stats {
  /** Open streams. */
  streams: number;
  /** Bytes received from the bridge and not yet read. */
  recvBuffered: number;
  /** Bytes waiting to be written to the bridge, in Go or held by the page's
   * writes for a full packet. */
  sendQueued: number;
  /** Size of the Go runtime's WebAssembly memory, in bytes. */
  wasmMemory: number;
  /** Default root certificates loaded: 0 until a TLS handshake without
   * caCerts has needed them (they are fetched from roots.pem then). */
  defaultRoots: number;
}

/** What load() resolves to. */
export interface Runtime {
  /** The runtime's version. */
  readonly version: string;
  dial(host: string, port: number, options?: DialOptions): Promise<RawSocket>;
  /** A connected UDP socket to host:port. */
  dialUdp(host: string, port: number, options?: UDPOptions): Promise<RawUDPSocket>;
  /** A bound UDP socket. */
  listenPacket(options?: UDPOptions): Promise<RawPacketSocket>;
  /** Listens on the bridge: on a public port when host is an IP address
   * (port 0 or none: any port of the operator's range), or on a named
   * endpoint when host ends in ".wasmnet.internal". */
  listen(host: string, port?: number): Promise<RawListener>;
  stats(): Promise<Stats>;
}

/** Loads main.wasm once per page or Worker. A Go panic or exit, while
 * loading or later, rejects with a DOMException named "OperationError". */
export function load(options?: LoadOptions): Promise<Runtime>;

/** Socket information as Go hands it over: RawSocket's fields and an id. */
export interface GoSocketInfo {
  id: number;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  tls?: TLSInfo;
}

/** A socket that pipe() handed over to JavaScript, as Go describes it. */
export interface HandOff {
  /** The tap of the session's WebSocket, made by globalThis.__wasmnetTap. */
  tap: object;
  /** The stream's ID in the session. */
  stream: number;
  /** The stream's receive window, in bytes. */
  window: number;
  /** Bytes read and not yet granted back to the bridge. */
  owed: number;
  /** What Go held unread, to come first. */
  data: Uint8Array | null;
  /** Whether the writes were handed over too. */
  writes: boolean;
  /** The DATA packets the stream may still send, if so. */
  credit: number;
  /** Whether the bridge's CONTINUEs add to the credit (the credit
   * extension, 0xF7) rather than set it. */
  adds: boolean;
}

/** A bound UDP socket or a listener as Go hands it over. */
export interface GoLocalInfo {
  id: number;
  localAddress: string;
  localPort: number;
}

/** globalThis.wasmnet as main.wasm registers it (wasm/internal/jsapi).
 * Use load() rather than this. */
export interface GoRuntime {
  readonly version: string;
  dial(host: string, port: number, options?: DialOptions): Promise<GoSocketInfo>;
  /** On a UDP socket, one datagram; null only at the end of a TCP stream. */
  read(id: number, max?: number): Promise<Uint8Array | null>;
  /** Returns at once: an exception to throw, nothing, or a socket handed
   * over to JavaScript (see RawSocket.pipe and wasm/internal/jsapi). */
  pipe(
    id: number,
    deliver: (id: number, chunk: Uint8Array | null | Error) => boolean,
    writes?: boolean,
  ): Error | undefined | HandOff;
  resume(id: number): Error | undefined;
  /** Returns at once: gives a stream's writing back to Go with the credit
   * the page had left. */
  takeBack(id: number, credit: number): Error | undefined;
  write(id: number, data: BufferSource): Promise<void>;
  closeWrite(id: number): Promise<void>;
  /** Closes whatever id names: a socket, a bound UDP socket, a listener. */
  close(id: number): Promise<void>;
  startTls(id: number, tls?: TLSOptions): Promise<GoSocketInfo>;
  dialUdp(host: string, port: number, options?: UDPOptions): Promise<GoSocketInfo>;
  listenPacket(options?: UDPOptions): Promise<GoLocalInfo>;
  readFrom(id: number): Promise<Datagram>;
  writeTo(id: number, data: BufferSource, host: string, port: number, options?: WriteToOptions): Promise<void>;
  listen(host: string, port?: number): Promise<GoLocalInfo>;
  accept(id: number): Promise<GoSocketInfo | null>;
  stats(): Promise<Omit<Stats, "wasmMemory">>;
}
