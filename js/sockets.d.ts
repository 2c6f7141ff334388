// Types of sockets.js: TCPSocket, UDPSocket and TCPServerSocket, as in
// Direct Sockets, with TLS shaped like Cloudflare's connect().

import type { TLSInfo } from "./wasmnet.js";

/** Options of new TCPSocket(): Direct Sockets' TCPSocketOptions, and TLS. */
export interface TCPSocketOptions {
  /** Accepted. The bridge's sockets always have TCP_NODELAY set. */
  noDelay?: boolean;
  /** Checked (at least 1000 ms), not applied: the bridge's sockets keep
   * its own keep-alive setting. */
  keepAliveDelay?: number;
  /** High-water mark, in bytes, of the writable's queue. */
  sendBufferSize?: number;
  /** The stream's receive window at the bridge: see DialOptions. */
  receiveBufferSize?: number;
  /** Checked, not applied: the bridge resolves names and picks the family. */
  dnsQueryType?: "ipv4" | "ipv6";
  /** "on": TLS from the start; "starttls": plain until startTls(). Default "off". */
  secureTransport?: "off" | "on" | "starttls";
  /** The name the certificate must be valid for. Default: remoteAddress. */
  expectedServerHostname?: string;
  /** PEM certificates to trust besides the default roots (Mozilla's, see
   * LoadOptions.roots), for private CAs. */
  caCerts?: string | string[];
}

/** What opened resolves to. */
export interface TCPSocketOpenInfo {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<BufferSource>;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  /** Present on a TLS socket (a wasmnet addition). */
  tls?: TLSInfo;
}

/** Options of startTls(), as in Cloudflare's. */
export interface TLSSocketOptions {
  expectedServerHostname?: string;
}

export class TCPSocket {
  constructor(remoteAddress: string, remotePort: number, options?: TCPSocketOptions);
  readonly opened: Promise<TCPSocketOpenInfo>;
  readonly closed: Promise<void>;
  close(): Promise<void>;
  /** Upgrades a socket made with secureTransport "starttls"; returns the
   * TLS socket. */
  startTls(options?: TLSSocketOptions): TCPSocket;
}

/** What both modes of new UDPSocket() take. */
export interface UDPSocketCommonOptions {
  /** High-water mark, in bytes of data, of the writable's queue. */
  sendBufferSize?: number;
  /** The receive window of each UDP stream at the bridge: past it, the
   * bridge drops datagrams the page has not read. */
  receiveBufferSize?: number;
  /** Multicast does not pass through the bridge: any of these throws a
   * NotAllowedError, as Direct Sockets does without the permission. */
  multicastTimeToLive?: number;
  multicastLoopback?: boolean;
  multicastAllowAddressSharing?: boolean;
}

/** Connected mode: every datagram goes to, and comes from, one peer. */
export interface UDPSocketConnectedOptions extends UDPSocketCommonOptions {
  /** A host name or an IP address. */
  remoteAddress: string;
  remotePort: number;
  /** Checked, not applied: the bridge resolves and picks the family. */
  dnsQueryType?: "ipv4" | "ipv6";
  localAddress?: never;
  localPort?: never;
  ipv6Only?: never;
}

/** Bound mode: each message names its peer. */
export interface UDPSocketBoundOptions extends UDPSocketCommonOptions {
  /** An IP address, checked and not applied: the bridge opens a socket
   * per peer, on an address and port of its own. */
  localAddress: string;
  /** Not supported: opened rejects with a NotSupportedError, since the
   * bridge chooses each socket's port. */
  localPort?: number;
  /** Only with localAddress "::"; checked, not applied. */
  ipv6Only?: boolean;
  remoteAddress?: never;
  remotePort?: never;
  dnsQueryType?: never;
}

/** Options of new UDPSocket(): Direct Sockets' UDPSocketOptions, in one
 * mode or the other. */
export type UDPSocketOptions = UDPSocketConnectedOptions | UDPSocketBoundOptions;

/** A datagram, as the readable yields it and the writable takes it. In
 * connected mode only data is set; in bound mode the readable sets the
 * sender's address and the writable needs the destination's. */
export interface UDPMessage {
  /** What the readable yields is always a Uint8Array. */
  data: BufferSource;
  remoteAddress?: string;
  remotePort?: number;
  /** Bound mode, writing to a host name: the family the bridge resolves. */
  dnsQueryType?: "ipv4" | "ipv6";
}

/** A UDPMessage as the readable yields it. */
export interface UDPReceivedMessage extends UDPMessage {
  data: Uint8Array<ArrayBuffer>;
}

/** What UDPSocket's opened resolves to. */
export interface UDPSocketOpenInfo {
  readable: ReadableStream<UDPReceivedMessage>;
  writable: WritableStream<UDPMessage>;
  /** Connected mode: the peer's resolved address. */
  remoteAddress?: string;
  remotePort?: number;
  /** Connected mode: the bridge's socket. Bound mode: the unspecified
   * address and 0, as the bridge has a socket per peer. */
  localAddress: string;
  localPort: number;
}

export class UDPSocket {
  constructor(options: UDPSocketOptions);
  readonly opened: Promise<UDPSocketOpenInfo>;
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Options of new TCPServerSocket(): Direct Sockets'
 * TCPServerSocketOptions. */
export interface TCPServerSocketOptions {
  /** A public port of the operator's range; none takes any of it. A
   * named endpoint needs one. */
  localPort?: number;
  /** Checked, not applied: the runtime holds up to 64 connections the
   * page has not taken. */
  backlog?: number;
  /** Only with localAddress "::"; checked, not applied. */
  ipv6Only?: boolean;
}

/** What TCPServerSocket's opened resolves to. */
export interface TCPServerSocketOpenInfo {
  /** Yields a TCPSocket, already open, for each connection. */
  readable: ReadableStream<TCPSocket>;
  /** Where clients reach the listener: the bridge host's address, or the
   * endpoint's name. */
  localAddress: string;
  localPort: number;
}

export class TCPServerSocket {
  /** localAddress is an IP address for a public port of the bridge, or a
   * name under ".wasmnet.internal" for a named endpoint. */
  constructor(localAddress: string, options?: TCPServerSocketOptions);
  readonly opened: Promise<TCPServerSocketOpenInfo>;
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** The socket classes in effect after install(). */
export interface InstalledSockets {
  TCPSocket: typeof TCPSocket;
  UDPSocket: typeof UDPSocket;
  TCPServerSocket: typeof TCPServerSocket;
}

/** Makes TCPSocket, UDPSocket and TCPServerSocket globals, each unless
 * the browser has a native one, and returns those in effect. */
export function install(): InstalledSockets;
